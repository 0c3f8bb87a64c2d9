"""Tokens at rest: encryption bound to the serial, keyed look-up hash, new tokens (P10, R31)."""

from __future__ import annotations

import hashlib
import hmac
import re
import stat
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import given
from hypothesis import strategies as st

from pointflex.store.tokens import (
    NONCE_BYTES,
    TOKEN_HEX_CHARS,
    TokenVault,
    load_or_create_secret,
    new_token,
)

SECRET = b"s" * 32
OTHER_SECRET = b"o" * 32
SERIAL = "FGVMMLTM26000001"
OTHER_SERIAL = "FGVMMLTM26000002"
TOKEN = "0123456789ABCDEF0123"
TOKEN_RE = re.compile(r"^[0-9A-F]{20}$")

tokens = st.text(alphabet="0123456789ABCDEF", min_size=20, max_size=20)
serials = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=20)


@pytest.fixture
def vault() -> TokenVault:
    return TokenVault(SECRET)


# --- new tokens (P10) -------------------------------------------------------------------------


def test_new_token_is_20_upper_case_hex_characters_P10() -> None:
    assert TOKEN_HEX_CHARS == 20
    for _ in range(50):
        assert TOKEN_RE.match(new_token())


def test_new_tokens_are_random_P10() -> None:
    made = {new_token() for _ in range(500)}
    assert len(made) == 500
    # every position takes several values: not a counter or a fixed pattern
    for position in range(20):
        assert len({t[position] for t in made}) > 4


# --- encryption -------------------------------------------------------------------------------


def test_master_secret_must_hold_at_least_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        TokenVault(b"x" * 31)
    TokenVault(b"x" * 32)
    TokenVault(b"x" * 64)


def test_encrypt_then_decrypt_round_trips(vault: TokenVault) -> None:
    blob = vault.encrypt(TOKEN, SERIAL)
    assert vault.decrypt(blob, SERIAL) == TOKEN


@given(tokens, serials)
def test_round_trip_for_any_token_and_serial(token: str, serial: str) -> None:
    vault = TokenVault(SECRET)
    assert vault.decrypt(vault.encrypt(token, serial), serial) == token


def test_a_new_vault_with_the_same_secret_decrypts_old_ciphertexts(vault: TokenVault) -> None:
    blob = vault.encrypt(TOKEN, SERIAL)
    assert TokenVault(SECRET).decrypt(blob, SERIAL) == TOKEN


def test_decrypt_of_nothing_is_nothing(vault: TokenVault) -> None:
    assert vault.decrypt(None, SERIAL) is None


def test_ciphertext_does_not_contain_the_token(vault: TokenVault) -> None:
    blob = vault.encrypt(TOKEN, SERIAL)
    assert TOKEN.encode() not in blob
    assert TOKEN.lower().encode() not in blob
    # 12-byte nonce + 20 bytes of ciphertext + 16-byte tag
    assert len(blob) == NONCE_BYTES + len(TOKEN) + 16


def test_each_encryption_uses_a_fresh_nonce(vault: TokenVault) -> None:
    first = vault.encrypt(TOKEN, SERIAL)
    second = vault.encrypt(TOKEN, SERIAL)
    assert first != second
    assert first[:NONCE_BYTES] != second[:NONCE_BYTES]
    assert vault.decrypt(first, SERIAL) == vault.decrypt(second, SERIAL) == TOKEN


def test_ciphertext_moved_to_another_serial_fails_to_decrypt(vault: TokenVault) -> None:
    """The serial is bound as associated data: a token copied to another row is useless."""
    blob = vault.encrypt(TOKEN, SERIAL)
    with pytest.raises(InvalidTag):
        vault.decrypt(blob, OTHER_SERIAL)


def test_serial_binding_is_exact_including_case(vault: TokenVault) -> None:
    blob = vault.encrypt(TOKEN, SERIAL)
    with pytest.raises(InvalidTag):
        vault.decrypt(blob, SERIAL.lower())
    with pytest.raises(InvalidTag):
        vault.decrypt(blob, SERIAL + " ")


def test_ciphertext_from_another_secret_fails_to_decrypt(vault: TokenVault) -> None:
    blob = TokenVault(OTHER_SECRET).encrypt(TOKEN, SERIAL)
    with pytest.raises(InvalidTag):
        vault.decrypt(blob, SERIAL)


@pytest.mark.parametrize("position", [0, NONCE_BYTES - 1, NONCE_BYTES, -1])
def test_tampered_ciphertext_fails_to_decrypt(vault: TokenVault, position: int) -> None:
    blob = bytearray(vault.encrypt(TOKEN, SERIAL))
    blob[position] ^= 0x01
    with pytest.raises(InvalidTag):
        vault.decrypt(bytes(blob), SERIAL)


def test_truncated_ciphertext_fails_to_decrypt(vault: TokenVault) -> None:
    blob = vault.encrypt(TOKEN, SERIAL)
    with pytest.raises(InvalidTag):
        vault.decrypt(blob[:-1], SERIAL)


# --- look-up hash -----------------------------------------------------------------------------


def test_lookup_hash_is_stable(vault: TokenVault) -> None:
    assert vault.lookup_hash(TOKEN) == vault.lookup_hash(TOKEN)
    assert TokenVault(SECRET).lookup_hash(TOKEN) == vault.lookup_hash(TOKEN)


def test_lookup_hash_is_hex_sha256(vault: TokenVault) -> None:
    digest = vault.lookup_hash(TOKEN)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)


def test_lookup_hash_is_case_insensitive(vault: TokenVault) -> None:
    assert vault.lookup_hash(TOKEN.lower()) == vault.lookup_hash(TOKEN)
    assert vault.lookup_hash("0123456789abcDEF0123") == vault.lookup_hash(TOKEN)


def test_lookup_hash_ignores_surrounding_whitespace(vault: TokenVault) -> None:
    assert vault.lookup_hash(f"  {TOKEN}\n") == vault.lookup_hash(TOKEN)


def test_lookup_hash_tells_different_tokens_apart(vault: TokenVault) -> None:
    assert vault.lookup_hash(TOKEN) != vault.lookup_hash("0123456789ABCDEF0124")


def test_lookup_hash_is_keyed_not_a_plain_hash(vault: TokenVault) -> None:
    digest = vault.lookup_hash(TOKEN)
    assert digest != hashlib.sha256(TOKEN.encode()).hexdigest()
    assert digest != hmac.new(SECRET, TOKEN.encode(), hashlib.sha256).hexdigest()


def test_different_secrets_give_different_lookup_hashes(vault: TokenVault) -> None:
    assert TokenVault(OTHER_SECRET).lookup_hash(TOKEN) != vault.lookup_hash(TOKEN)


@given(tokens)
def test_lookup_hash_of_any_token_matches_its_lower_case_form(token: str) -> None:
    vault = TokenVault(SECRET)
    assert vault.lookup_hash(token) == vault.lookup_hash(token.lower())
    assert vault.lookup_hash(token) != TokenVault(OTHER_SECRET).lookup_hash(token)


# --- master secret ----------------------------------------------------------------------------


def test_configured_secret_is_hashed_to_32_bytes(tmp_path: Path) -> None:
    secret = load_or_create_secret("my configured secret", tmp_path / "data")
    assert secret == hashlib.sha256(b"my configured secret").digest()
    assert len(secret) == 32
    assert not (tmp_path / "data").exists()


def test_secret_file_is_created_once_private_and_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = load_or_create_secret("", data_dir)
    assert len(first) == 32
    key = data_dir / "secret.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert bytes.fromhex(key.read_text().strip()) == first
    assert load_or_create_secret("", data_dir) == first
    assert sorted(p.name for p in data_dir.iterdir()) == ["secret.key"]
    TokenVault(first)  # long enough for the vault


def test_secret_files_in_different_data_dirs_differ(tmp_path: Path) -> None:
    assert load_or_create_secret("", tmp_path / "a") != load_or_create_secret("", tmp_path / "b")
