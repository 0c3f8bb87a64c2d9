"""Tokens at rest: AES-GCM encrypted for display and export, HMAC-SHA256 for look-up.

FortiFlex shows tokens in lists and exports, so they must be recoverable; a database dump
alone must not reveal them. Redemption looks a token up by its keyed hash, never by
decrypting rows.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

if TYPE_CHECKING:
    from pointflex.store.token_batch import TokenBatchDecryptor

NONCE_BYTES = 12
TOKEN_HEX_CHARS = 20
_TOKEN_ENCRYPTION = b"pointflex token encryption"
_TOKEN_LOOKUP = b"pointflex token lookup"


def new_token() -> str:
    """20 upper-case hex characters from a cryptographic source (P10)."""
    return secrets.token_hex(TOKEN_HEX_CHARS // 2).upper()


MIN_SECRET_BYTES = 32  # AES-256 and HMAC-SHA256 keys are derived from it


class TokenVault:
    def __init__(self, master_secret: bytes) -> None:
        if len(master_secret) < MIN_SECRET_BYTES:
            raise ValueError(f"the master secret must hold at least {MIN_SECRET_BYTES} bytes")
        self._master = master_secret
        self._encryption_key = _derive(master_secret, _TOKEN_ENCRYPTION)
        self._aead = AESGCM(self._encryption_key)
        self._hash_key = _derive(master_secret, _TOKEN_LOOKUP)

    def encrypt(self, token: str, serial: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        # The serial is bound as associated data: a ciphertext copied to another row fails.
        return nonce + self._aead.encrypt(nonce, token.encode(), serial.encode())

    def decrypt(self, blob: bytes | None, serial: str) -> str | None:
        if blob is None:
            return None
        nonce, sealed = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
        return self._aead.decrypt(nonce, sealed, serial.encode()).decode()

    def batch_decryptor(self) -> TokenBatchDecryptor:
        """A decryptor for exports that opens a whole batch at once (display only)."""
        from pointflex.store.token_batch import TokenBatchDecryptor

        return TokenBatchDecryptor(self._encryption_key)

    def derive_key(self, purpose: bytes) -> bytes:
        """A 32-byte key for another secret at rest (e.g. signing keys), never a token key.

        Each purpose gets its own key, so a ciphertext of one kind can never be opened as
        another; the master secret itself never leaves the vault.
        """
        if purpose in (_TOKEN_ENCRYPTION, _TOKEN_LOOKUP):
            raise ValueError("that purpose belongs to the token keys")
        return _derive(self._master, purpose)

    def lookup_hash(self, token: str) -> str:
        normalised = token.strip().upper().encode()
        return hmac.new(self._hash_key, normalised, hashlib.sha256).hexdigest()


def _derive(master: bytes, purpose: bytes) -> bytes:
    return hmac.new(master, purpose, hashlib.sha256).digest()


def load_or_create_secret(configured: str, data_dir: Path) -> bytes:
    """The configured secret, else ``data_dir/secret.key``, created on first start (0600)."""
    if configured:
        return hashlib.sha256(configured.encode()).digest()
    path = data_dir / "secret.key"
    data_dir.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    secret = secrets.token_bytes(32)
    draft = data_dir / f".secret.key.{os.getpid()}"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret.hex())
    try:
        # link() fails if another process published its key first; then that one wins.
        os.link(draft, path)
    except FileExistsError:
        secret = bytes.fromhex(path.read_text().strip())
    finally:
        draft.unlink()
    return secret
