"""Ed25519 signing keys: created on first use, rotated on demand, published for ever.

Storage: ``signing_keys`` holds each key's public half in clear and its private half sealed with
AES-GCM under a key derived from the installation's master secret (the key id is bound as
associated data, so a sealed key copied to another row does not open).

Concurrency: a unique partial index allows one active key per algorithm. Two processes that
start at once on an empty table both try to insert a first key; one insert fails on the index
and that process re-reads the winner's key. A rotation retires the active key and inserts the
new one in one transaction, with the same fall-back.

Caching (the choice): signing happens on every validation, so a process keeps the active key
it loaded (decrypted) in memory and only re-reads which key is active once
``signing_key_cache_seconds`` (10 s) have passed: one small indexed read, no decryption when
the key has not changed. A rotation made by this process takes effect at once; one made
elsewhere (``pointflex keys rotate`` runs in its own process) within that time. Signing a
few more answers with the just-retired key is harmless: retired keys stay published, so those
answers still verify.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from pointflex.bootstrap import PerRuntime, Runtime
from pointflex.store.tables import signing_keys
from pointflex.store.transactions import read_transaction, write_transaction
from pointflex_verify import ALGORITHM, b64url_encode, signed_message

K = signing_keys
NONCE_BYTES = 12
_PURPOSE = b"pointflex signing key encryption"
_ATTEMPTS = 5  # a lost race is retried; more than a few in a row means something is wrong


@dataclass(frozen=True)
class PublicKey:
    kid: str
    public_key: bytes
    created_at: datetime
    retired_at: datetime | None

    def document(self) -> dict[str, Any]:
        """One entry of ``keys.json`` (docs/licence-protocol.md, Keys)."""
        return {
            "kid": self.kid,
            "algorithm": ALGORITHM,
            "publicKey": b64url_encode(self.public_key),
            "createdAt": instant(self.created_at),
            "retiredAt": None if self.retired_at is None else instant(self.retired_at),
        }


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: Ed25519PrivateKey

    def sign(self, context: bytes, payload: Mapping[str, Any]) -> dict[str, Any]:
        """The signed document ``{"payload", "kid", "sig"}`` over ``context`` and ``payload``."""
        signature = self.private.sign(signed_message(context, payload))
        return {"payload": dict(payload), "kid": self.kid, "sig": b64url_encode(signature)}


def instant(value: datetime) -> str:
    """The protocol's only time format: ``2026-11-27T10:00:00Z``."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


class KeyRing:
    """The signing keys of one runtime (one per process); thread-safe."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._box = AESGCM(rt.vault.derive_key(_PURPOSE))
        self._lock = threading.Lock()
        self._by_kid: dict[str, SigningKey] = {}
        self._active: SigningKey | None = None
        self._checked_at = 0.0

    # ------------------------------------------------------------------ use

    def active(self) -> SigningKey:
        """The key to sign with now; created if the installation has none yet."""
        ttl = self._rt.settings.signing_key_cache_seconds
        with self._lock:
            if self._active is not None and time.monotonic() - self._checked_at < ttl:
                return self._active
        found = self._load_active()
        with self._lock:
            self._active, self._checked_at = found, time.monotonic()
        return found

    def public_keys(self) -> list[PublicKey]:
        """Every key, active and retired, oldest first (what ``keys.json`` publishes)."""
        self.active()  # an installation always publishes at least its first key
        with read_transaction(self._rt.engine) as conn:
            # Oldest first; of keys made in the same instant, the retired one first.
            order = (K.c.created_at, K.c.retired_at.is_(None), K.c.kid)
            rows = conn.execute(select(K).order_by(*order)).all()
        return [_public(row) for row in rows]

    def rotate(self) -> PublicKey:
        """Retire the active key and make a new one; returns the new key."""
        for _ in range(_ATTEMPTS):
            try:
                with write_transaction(self._rt.engine) as conn:
                    now = self._rt.now()
                    conn.execute(update(K).where(K.c.retired_at.is_(None)).values(retired_at=now))
                    created = self._insert(conn, now)
            except IntegrityError:
                continue  # a concurrent rotation won; rotate on top of its key
            self._forget()
            return created
        raise RuntimeError("could not rotate the signing key: too many concurrent rotations")

    # ------------------------------------------------------------------ storage

    def _load_active(self) -> SigningKey:
        for _ in range(_ATTEMPTS):
            with read_transaction(self._rt.engine) as conn:
                row = conn.execute(
                    select(K).where(K.c.algorithm == ALGORITHM, K.c.retired_at.is_(None))
                ).first()
            if row is not None:
                return self._open(row)
            try:
                with write_transaction(self._rt.engine) as conn:
                    # Re-checked under the write lock: on SQLite another process may have
                    # written the first key between the read above and this transaction.
                    exists = conn.execute(
                        select(K.c.kid).where(K.c.algorithm == ALGORITHM, K.c.retired_at.is_(None))
                    ).first()
                    if exists is None:
                        self._insert(conn, self._rt.now())
            except IntegrityError:
                pass  # another process created the first key at the same moment: read it
        raise RuntimeError("could not load or create the signing key")

    def _insert(self, conn: Connection, now: datetime) -> PublicKey:
        private = Ed25519PrivateKey.generate()
        kid = f"k-{now:%Y%m%d}-{secrets.token_hex(3)}"
        public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        nonce = os.urandom(NONCE_BYTES)
        raw = private.private_bytes_raw()
        sealed = nonce + self._box.encrypt(nonce, raw, kid.encode())
        conn.execute(
            insert(K).values(
                kid=kid,
                algorithm=ALGORITHM,
                public_key=public,
                private_key_enc=sealed,
                created_at=now,
                retired_at=None,
            )
        )
        return PublicKey(kid, public, now, None)

    def _open(self, row: Any) -> SigningKey:
        with self._lock:
            known = self._by_kid.get(row.kid)
        if known is not None:
            return known
        blob: bytes = row.private_key_enc
        raw = self._box.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], row.kid.encode())
        key = SigningKey(row.kid, Ed25519PrivateKey.from_private_bytes(raw))
        with self._lock:
            self._by_kid[row.kid] = key
        return key

    def _forget(self) -> None:
        with self._lock:
            self._active = None


def _public(row: Any) -> PublicKey:
    return PublicKey(row.kid, bytes(row.public_key), row.created_at, row.retired_at)


# The key ring of a runtime, created on first use (one per process).
keyring: PerRuntime[KeyRing] = PerRuntime(KeyRing)
