"""Offline checks of pointflex licences and validation answers.

A product embeds this module to decide, without trusting the network, whether a licence or a
validation answer really comes from its pointflex server. It depends only on the
``cryptography`` package and the standard library, never on the server's code; the server
imports it to produce exactly the bytes this module checks.

Wire form of every signed document (``docs/licence-protocol.md``)::

    {"payload": {...}, "kid": "<key id>", "sig": "<base64url Ed25519 signature>"}

The signature covers ``CONTEXT + b"\\n" + canonical_bytes(payload)``, where the context names
the kind of document, so a licence can never pass as an answer or the other way round.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

LICENCE_CONTEXT = b"pointflex-licence-v1"
ANSWER_CONTEXT = b"pointflex-answer-v1"
ALGORITHM = "Ed25519"
ED25519_KEY_BYTES = 32
PROTOCOL_VERSION = 1

VERDICTS = frozenset({"VALID", "STOPPED", "EXPIRED", "SUPERSEDED", "DUPLICATE", "UNKNOWN"})

__all__ = [
    "ALGORITHM",
    "ANSWER_CONTEXT",
    "LICENCE_CONTEXT",
    "PROTOCOL_VERSION",
    "VERDICTS",
    "KeySet",
    "VerificationError",
    "b64url_decode",
    "b64url_encode",
    "canonical_bytes",
    "parse_instant",
    "signed_message",
    "verify_answer",
    "verify_licence",
]


class VerificationError(Exception):
    """The document is not genuine, not for this instance or this request, or malformed."""


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


# The base64url alphabet without padding, as the protocol writes it. The standard decoder
# silently drops any other character, accepts padding and ignores the unused low bits of the
# last character, which would let one signature or key be spelled many ways: only the one
# spelling b64url_encode gives is accepted.
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def b64url_decode(text: str) -> bytes:
    if not isinstance(text, str) or _B64URL.fullmatch(text) is None:
        raise VerificationError("not base64url")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise VerificationError("not base64url") from exc
    if b64url_encode(raw) != text:
        raise VerificationError("not base64url in its canonical form (no padding, no stray bits)")
    return raw


def canonical_bytes(payload: Mapping[str, Any]) -> bytes:
    """The one byte form of a payload: sorted keys, no spaces, UTF-8, integers only.

    Floats are refused because two JSON libraries may print the same float differently; the
    protocol carries amounts and sizes as integers or strings.
    """
    _refuse_floats(payload)
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def signed_message(context: bytes, payload: Mapping[str, Any]) -> bytes:
    return context + b"\n" + canonical_bytes(payload)


def parse_instant(text: str) -> datetime:
    """``2026-11-27T10:00:00Z`` (the protocol's only time format) as an aware UTC datetime."""
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (TypeError, ValueError) as exc:
        raise VerificationError(f"bad instant {text!r}") from exc


@dataclass(frozen=True)
class KeySet:
    """Public keys by key id, as published at ``/.well-known/pointflex/keys.json``."""

    keys: Mapping[str, Ed25519PublicKey]

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> KeySet:
        found: dict[str, Ed25519PublicKey] = {}
        if not isinstance(document, Mapping):  # it comes from the network: check, not trust
            raise VerificationError("a key document is a JSON object")
        entries = document.get("keys")
        if not isinstance(entries, list):
            raise VerificationError("a key document holds a list under 'keys'")
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("algorithm") != ALGORITHM:
                continue  # unknown algorithms are ignored, not trusted
            kid = entry.get("kid")
            if not isinstance(kid, str) or not kid:
                raise VerificationError("an Ed25519 key has no key id")
            raw = b64url_decode(str(entry.get("publicKey", "")))
            if len(raw) != ED25519_KEY_BYTES:
                raise VerificationError(f"key {kid!r} is not a 32-byte Ed25519 key")
            found[kid] = Ed25519PublicKey.from_public_bytes(raw)
        return cls(found)

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, Ed25519PublicKey]]) -> KeySet:
        return cls(dict(pairs))

    def get(self, kid: str) -> Ed25519PublicKey:
        try:
            return self.keys[kid]
        except KeyError:
            raise VerificationError(f"unknown key id {kid!r}") from None


def verify_licence(
    document: Mapping[str, Any],
    keys: KeySet,
    *,
    instance_id: str | None = None,
    nonce: str | None = None,
) -> dict[str, Any]:
    """The licence payload if ``document`` is a genuine licence (for this instance/request)."""
    payload = _verify(document, keys, LICENCE_CONTEXT, "licence")
    _expect(payload, "instanceId", instance_id)
    _expect(payload, "nonce", nonce)
    return payload


def verify_answer(
    document: Mapping[str, Any],
    keys: KeySet,
    *,
    nonce: str,
    instance_id: str | None = None,
    licence_id: str | None = None,
) -> dict[str, Any]:
    """The answer payload if ``document`` is a genuine answer to the request that sent ``nonce``.

    The nonce is required: an answer recorded earlier (a replay) carries another nonce.
    """
    payload = _verify(document, keys, ANSWER_CONTEXT, "answer")
    _expect(payload, "nonce", nonce)
    _expect(payload, "instanceId", instance_id)
    _expect(payload, "licenceId", licence_id)
    verdict = payload.get("verdict")
    if not isinstance(verdict, str) or verdict not in VERDICTS:  # a list is unhashable
        raise VerificationError(f"unknown verdict {payload.get('verdict')!r}")
    return payload


def _verify(document: Mapping[str, Any], keys: KeySet, context: bytes, kind: str) -> dict[str, Any]:
    if not isinstance(document, Mapping):
        raise VerificationError("a signed document is a JSON object")
    payload, kid, sig = document.get("payload"), document.get("kid"), document.get("sig")
    if not isinstance(payload, dict) or not isinstance(kid, str) or not isinstance(sig, str):
        raise VerificationError("a signed document holds 'payload', 'kid' and 'sig'")
    try:
        keys.get(kid).verify(b64url_decode(sig), signed_message(context, payload))
    except InvalidSignature:
        raise VerificationError(f"the {kind}'s signature does not verify") from None
    except (TypeError, ValueError, RecursionError) as exc:  # RecursionError: absurd nesting
        raise VerificationError(f"the {kind} cannot be encoded canonically: {exc}") from exc
    # Checked after the signature, so these fields are known to come from the server.
    if payload.get("type") != kind or payload.get("version") != PROTOCOL_VERSION:
        raise VerificationError(f"not a version {PROTOCOL_VERSION} {kind}")
    if payload.get("kid") != kid:
        raise VerificationError("the key id outside the payload differs from the one inside")
    return payload


def _expect(payload: Mapping[str, Any], field: str, wanted: str | None) -> None:
    if wanted is not None and payload.get(field) != wanted:
        raise VerificationError(f"{field} is {payload.get(field)!r}, expected {wanted!r}")


def _refuse_floats(value: Any) -> None:
    if isinstance(value, float):
        raise ValueError("floats are not allowed in signed payloads")
    if isinstance(value, Mapping):
        for item in value.values():
            _refuse_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _refuse_floats(item)
