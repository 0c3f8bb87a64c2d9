"""The signed documents: licence and validation answer payloads (docs/licence-protocol.md).

Payloads are built here and only here, so their shape is in one place; signing uses
``pointflex_verify.signed_message`` (through :class:`~pointflex.signing.keys.SigningKey`), so
what the server signs is byte for byte what instances verify. Values are integers, strings,
null, lists and objects only: the canonical form refuses floats.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pointflex.domain.catalog import Catalog, ParamValue
from pointflex.domain.licensing import Judgement, Verdict
from pointflex.signing.keys import SigningKey, instant
from pointflex_verify import ANSWER_CONTEXT, LICENCE_CONTEXT, PROTOCOL_VERSION

CPU_PARAMETER = "CPU"  # the catalogue's name of the vCPU-count parameter, on every VM product


def sizing(
    catalog: Catalog, product_type_id: int, values: Mapping[int, ParamValue]
) -> dict[str, Any]:
    """``{"vcpus", "parameters"}``: the configuration in v2 wire form and its vCPU count."""
    key = (id(catalog), product_type_id, tuple(sorted(values.items())))
    # Cached: every validation of a configuration asks the same question and configurations
    # are few. Keyed by the values themselves, so a configuration change is a new key; the
    # catalogue is keyed by identity (hashing it would walk all of it) and kept in the entry so
    # that a recycled id() can never match.
    cached = _SIZING.get(key)
    if cached is None or cached[0] is not catalog:
        if len(_SIZING) >= _SIZING_MAX:
            _SIZING.clear()
        cached = _SIZING[key] = (catalog, *_compute(catalog, product_type_id, values))
    _, vcpus, parameters = cached
    # Fresh dicts each time: the payload is handed on, and the cache must not change.
    return {"vcpus": vcpus, "parameters": [dict(p) for p in parameters]}


_SIZING_MAX = 4096
_SIZING: dict[
    tuple[int, int, tuple[tuple[int, ParamValue], ...]],
    tuple[Catalog, int | None, tuple[dict[str, Any], ...]],
] = {}


def _compute(
    catalog: Catalog, product_type_id: int, values: Mapping[int, ParamValue]
) -> tuple[int | None, tuple[dict[str, Any], ...]]:
    vcpus: int | None = None
    for spec in catalog.product(product_type_id).parameters:
        if spec.name == CPU_PARAMETER:
            value = values.get(spec.id, spec.default)
            vcpus = int(value) if isinstance(value, str) and value.isdigit() else None
            break
    return vcpus, tuple(catalog.to_wire(product_type_id, values))


@dataclass(frozen=True)
class LicenceFacts:
    licence_id: str
    serial: str
    account_id: int
    instance_id: str
    product_type_id: int
    product_name: str
    sizing: dict[str, Any]
    issued_at: datetime
    expires_at: datetime | None


def licence_document(
    key: SigningKey, facts: LicenceFacts, *, nonce: str, interval: int
) -> dict[str, Any]:
    payload = {
        "type": "licence",
        "version": PROTOCOL_VERSION,
        "kid": key.kid,
        "nonce": nonce,
        "licenceId": facts.licence_id,
        "serialNumber": facts.serial,
        "accountId": facts.account_id,
        "instanceId": facts.instance_id,
        "productType": {"id": facts.product_type_id, "name": facts.product_name},
        "sizing": facts.sizing,
        "issuedAt": instant(facts.issued_at),
        "expiresAt": None if facts.expires_at is None else instant(facts.expires_at),
        "validationIntervalSeconds": interval,
    }
    return key.sign(LICENCE_CONTEXT, payload)


@dataclass(frozen=True)
class AnswerFacts:
    judgement: Judgement
    licence_id: str | None
    serial: str
    instance_id: str
    checked_at: datetime
    sizing: dict[str, Any] | None
    expires_at: datetime | None


def answer_document(
    key: SigningKey, facts: AnswerFacts, *, nonce: str, interval: int
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "answer",
        "version": PROTOCOL_VERSION,
        "kid": key.kid,
        "nonce": nonce,
        "verdict": facts.judgement.verdict.value,
        "reason": facts.judgement.reason,
        "licenceId": facts.licence_id,
        "serialNumber": facts.serial,
        "instanceId": facts.instance_id,
        "checkedAt": instant(facts.checked_at),
        "expiresAt": None if facts.expires_at is None else instant(facts.expires_at),
        "validationIntervalSeconds": interval,
    }
    # "sizing is present only with VALID": absent, not null, for every other verdict.
    if facts.judgement.verdict is Verdict.VALID and facts.sizing is not None:
        payload["sizing"] = facts.sizing
    return key.sign(ANSWER_CONTEXT, payload)
