"""Decrypting many tokens at once, for display (exports).

:class:`~pointflex.store.tokens.TokenVault` seals a token as ``nonce(12) || ciphertext || tag(16)``
with AES-GCM. With a 12-byte nonce GCM encrypts in CTR mode: the plaintext is XORed with
``AES_k(nonce || counter)`` for counter 2, 3, ... (counter 1 masks the tag). The keystream of a
whole batch is therefore ONE AES-ECB pass over every counter block, and big-integer masks,
shifts and one XOR lay out the counter blocks and recover every plaintext: a handful of C calls
per batch instead of one AEAD call per row.

The tag is NOT checked here, so this is for showing tokens only, never for trusting them:
redemption looks tokens up by keyed hash and never decrypts. Callers check the key on a token
against ``TokenVault.decrypt``, which does check the tag.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from pointflex.store.tokens import NONCE_BYTES

TAG_BYTES = 16
BLOCK = 16
FIRST_COUNTER = 2  # GCM uses counter 1 for the tag mask; the plaintext starts at 2


class TokenBatchDecryptor:
    """Decrypts batches of sealed tokens; one per export (it is not thread-safe)."""

    def __init__(self, key: bytes) -> None:
        # ECB keeps no state between blocks: one encryptor serves every batch.
        # Not ECB encryption of data: AES on counter blocks, the keystream of AES-GCM's CTR part.
        self._ecb = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305 — see above
        self._layout: _Layout | None = None  # batches mostly share one shape: keep the last

    def decrypt_many(self, blobs: Sequence[bytes | None]) -> list[str | None]:
        """Plaintexts of sealed tokens, in order (None stays None), without tag checks."""
        if None not in blobs:
            sealed = cast(Sequence[bytes], blobs)
            sizes = set(map(len, sealed))
            if len(sizes) == 1:  # the usual batch: every token sealed to the same length
                return [
                    text.decode() for text in self.decrypt_packed(b"".join(sealed), sizes.pop())
                ]
        result: list[str | None] = [None] * len(blobs)
        groups: dict[int, tuple[list[int], list[bytes]]] = {}
        for index, blob in enumerate(blobs):
            if blob is not None:
                indexes, members = groups.setdefault(len(blob), ([], []))
                indexes.append(index)
                members.append(blob)
        for size, (indexes, members) in groups.items():
            plain = self.decrypt_packed(b"".join(members), size)
            for index, text in zip(indexes, plain, strict=True):
                result[index] = text.decode()
        return result

    def decrypt_packed(self, packed: bytes, size: int) -> list[bytes]:
        """Plaintext bytes of the sealed tokens of ``size`` bytes each laid end to end in
        ``packed``. Sizes that are a multiple of 16 (20-character tokens: 48) need no work
        per row but the final slicing."""
        length = size - NONCE_BYTES - TAG_BYTES
        if length < 0 or len(packed) % size:
            raise ValueError(f"not sealed tokens of {size} bytes each")
        rows = len(packed) // size
        if length == 0 or rows == 0:
            return [b""] * rows
        layout = self._layout_for(size, rows)
        if layout.stride != size:  # give every row whole blocks: pad it at the front
            pad = bytes(layout.stride - size)
            packed = b"".join([pad + packed[at : at + size] for at in range(0, len(packed), size)])
        blobs = int.from_bytes(packed, "big")
        stream = self._ecb.update(layout.counters(blobs))
        plain = layout.plaintexts(blobs, int.from_bytes(stream, "big"))
        at, stride = layout.text_at, layout.stride
        return [plain[start : start + length] for start in range(at, len(plain), stride)]

    def _layout_for(self, size: int, rows: int) -> _Layout:
        if self._layout is None or (self._layout.size, self._layout.rows) != (size, rows):
            self._layout = _Layout(size, rows)
        return self._layout


class _Layout:
    """Where bytes sit when each row of a batch fills ``stride`` bytes (whole AES blocks).

    A row as packed: ``padding | nonce | ciphertext | tag``. Its counter blocks:
    ``nonce|c2, nonce|c3, ...`` then zero blocks, so that encrypting every row at once puts
    each row's keystream at its start. Integer arithmetic on the whole batch replaces slicing
    row by row (big-endian: a right shift by n bytes moves bytes n places towards the end);
    masks clear what a shift would carry into the next row.
    """

    def __init__(self, size: int, rows: int) -> None:
        self.size, self.rows = size, rows
        self.length = size - NONCE_BYTES - TAG_BYTES
        self.blocks = -(-self.length // BLOCK)
        self.stride = -(-size // BLOCK) * BLOCK
        self.nonce_at = self.stride - size
        self.text_at = self.nonce_at + NONCE_BYTES
        self.nonce_mask = self._row_mask(0, NONCE_BYTES)
        self.text_mask = self._row_mask(self.text_at, self.length)
        ladder = b"".join(
            bytes(NONCE_BYTES) + (FIRST_COUNTER + n).to_bytes(4, "big") for n in range(self.blocks)
        )
        self.ladder = self._repeat(ladder + bytes(self.stride - len(ladder)))

    def _repeat(self, row: bytes) -> int:
        return int.from_bytes(row * self.rows, "big")

    def _row_mask(self, start: int, count: int) -> int:
        """Selects bytes [start, start + count) of every row."""
        return self._repeat(bytes(start) + b"\xff" * count + bytes(self.stride - start - count))

    def counters(self, blobs: int) -> bytes:
        nonces = (blobs << (self.nonce_at * 8)) & self.nonce_mask
        value = self.ladder
        for n in range(self.blocks):
            value |= nonces >> (n * BLOCK * 8)
        return value.to_bytes(self.rows * self.stride, "big")

    def plaintexts(self, blobs: int, stream: int) -> bytes:
        mixed = (blobs ^ (stream >> (self.text_at * 8))) & self.text_mask
        return mixed.to_bytes(self.rows * self.stride, "big")
