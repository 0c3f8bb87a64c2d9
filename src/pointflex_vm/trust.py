"""Deciding whether a licence or an answer really comes from the server, for this request.

The VM keeps the server's key document (cached in its state) and fetches it again only when a
document names a key id it does not know — after a key rotation. Everything else is
``pointflex_verify``; the few extra checks here concern fields the VM relies on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pointflex_verify import KeySet, VerificationError, verify_answer, verify_licence
from pointflex_vm.licence import VALID, Terms, terms_of


@dataclass(frozen=True)
class Answer:
    verdict: str
    reason: str | None
    terms: Terms | None  # only with VALID


class KeyCache:
    def __init__(
        self, document: dict[str, Any] | None, fetch: Callable[[], dict[str, Any]]
    ) -> None:
        self.document = document
        self._fetch = fetch

    def keys_for(self, signed: Mapping[str, Any]) -> KeySet:
        keys = self._cached()
        kid = signed.get("kid")
        if isinstance(kid, str) and kid not in keys.keys:
            fresh = self._fetch()
            keys = KeySet.from_document(fresh)  # refused documents are never cached
            self.document = fresh
        return keys

    def _cached(self) -> KeySet:
        if self.document is None:
            return KeySet({})
        try:
            return KeySet.from_document(self.document)
        except VerificationError:
            return KeySet({})  # a damaged cache is as good as none: fetch again


def check_licence(
    document: dict[str, Any], cache: KeyCache, *, instance_id: str, nonce: str
) -> tuple[dict[str, Any], Terms]:
    """A licence just received: genuine, for this instance, answering this activation."""
    return licence_terms(document, cache.keys_for(document), instance_id=instance_id, nonce=nonce)


def check_answer(
    document: dict[str, Any],
    cache: KeyCache,
    *,
    nonce: str,
    instance_id: str,
    licence_id: str,
    serial_number: str,
) -> Answer:
    """An answer just received: genuine, answering this request about this licence."""
    _, answer = answer_of(
        document,
        cache.keys_for(document),
        nonce=nonce,
        instance_id=instance_id,
        licence_id=licence_id,
        serial_number=serial_number,
    )
    return answer


def licence_terms(
    document: Mapping[str, Any], keys: KeySet, *, nonce: str, instance_id: str | None = None
) -> tuple[dict[str, Any], Terms]:
    """The payload and grant of a genuine licence (also used to re-check the stored one)."""
    payload = verify_licence(document, keys, instance_id=instance_id, nonce=nonce)
    for name in ("licenceId", "serialNumber"):
        if not isinstance(payload.get(name), str) or not payload[name]:
            raise VerificationError(f"the licence has no {name}")
    return payload, terms_of(payload)


def answer_of(
    document: Mapping[str, Any],
    keys: KeySet,
    *,
    nonce: str,
    licence_id: str,
    serial_number: str,
    instance_id: str | None = None,
) -> tuple[dict[str, Any], Answer]:
    """The payload and meaning of a genuine answer (also used to re-check stored answers)."""
    payload = verify_answer(
        document, keys, nonce=nonce, instance_id=instance_id, licence_id=licence_id
    )
    if payload.get("serialNumber") != serial_number:
        raise VerificationError(
            f"serialNumber is {payload.get('serialNumber')!r}, expected {serial_number!r}"
        )
    verdict = str(payload["verdict"])
    reason = payload.get("reason")
    terms = terms_of(payload) if verdict == VALID else None
    return payload, Answer(verdict, reason if isinstance(reason, str) else None, terms)
