"""Licence validation (docs/licence-protocol.md, validate): the hot path of the licence service.

Every instance calls it every ``licence_validation_interval_seconds``, so it costs one indexed
read and one insert: the licence is read by primary key joined to its entitlement,
configuration and program (everything the verdict and the sizing need), and the call is
recorded with one ``audit_log`` INSERT in the same transaction. The shown status (EXPIRED from
the end instant on, before the expiry job has run, P11) is computed from that one row with the
domain's rules, not by the entitlement read model, which would read the program again.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select

from pointflex.bootstrap import Runtime
from pointflex.domain import licensing as rules
from pointflex.domain.catalog import FormFactor
from pointflex.domain.entitlements import Status, TerminationMode, expiry_instant, shown_status
from pointflex.domain.licensing import UNKNOWN, Judgement, Verdict
from pointflex.domain.programs import end_instant
from pointflex.errors import InvalidInput
from pointflex.services.context import Actor, audit, write
from pointflex.signing.keys import keyring
from pointflex.signing.licences import AnswerFacts, answer_document, sizing
from pointflex.store.queries.configs import values_from_json
from pointflex.store.tables import configurations, entitlements, licences, programs

L, E, C, P = licences, entitlements, configurations, programs
MAX_SERIAL = 40  # the entitlements.serial column
MAX_LICENCE_ID = 40  # the licences.licence_id column

_ENTITLEMENT = (
    E.c.serial,
    E.c.account_id,
    E.c.status,
    E.c.termination_mode,
    E.c.end_at,
    E.c.removed_at,
    E.c.product_type_id,
    C.c.parameters,
    P.c.end_date,
    P.c.timezone,
)
_JOINED = E.join(C, C.c.id == E.c.config_id).join(P, P.c.serial == E.c.program_serial)
# Built once: the statements are the same on every call, only the bound value changes.
_BY_LICENCE = (
    select(L.c.serial.label("licence_serial"), L.c.instance_id, L.c.superseded_at, *_ENTITLEMENT)
    .select_from(L.join(_JOINED, E.c.serial == L.c.serial))
    .where(L.c.licence_id == bindparam("licence_id"))
)
_HARDWARE = (
    select(*_ENTITLEMENT)
    .select_from(_JOINED)
    .where(E.c.serial == bindparam("serial"), E.c.form_factor == FormFactor.HARDWARE.value)
)


def instance_actor(instance_id: str, request_id: str | None) -> Actor:
    """The instance as the audit trail names it (P13: who)."""
    return Actor(
        name=f"instance:{instance_id}"[:200],
        account_ids=frozenset(),
        can_write=False,
        is_admin=False,
        request_id=request_id or uuid.uuid4().hex,
    )


def validate(  # noqa: PLR0917 — the validate request's fields, in protocol order
    rt: Runtime,
    licence_id: str | None,
    serial: str,
    instance_id: str,
    nonce: str,
    product_version: str | None = None,
    client_address: str = "",
    *,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The signed answer for a licence (or, without ``licence_id``, a hardware serial)."""
    serial = _check_serial(serial)
    licence_id = _check_licence_id(licence_id)
    instance_id = rules.check_instance_id(instance_id)
    nonce = rules.check_nonce(nonce)
    product_version = rules.check_product_version(product_version)
    key = keyring(rt).active()
    now = rt.now()
    with write(rt) as conn:
        if licence_id is not None:
            row = conn.execute(_BY_LICENCE, {"licence_id": licence_id}).first()
            if row is not None and row.licence_serial != serial:
                row = None  # a licence of another serial is no licence of this one
        else:
            row = conn.execute(_HARDWARE, {"serial": serial}).first()
        judgement = _judge(rt, row, licence_id, instance_id, now)
        audit(
            conn,
            instance_actor(instance_id, request_id),
            now,
            "licence.validate",
            "licence" if licence_id else "entitlement",
            licence_id or serial,
            account_id=None if row is None else row.account_id,
            after={
                "verdict": judgement.verdict.value,
                "reason": judgement.reason,
                "serialNumber": serial,
                "productVersion": product_version,
                "clientAddress": client_address[:64],
            },
        )
    facts = AnswerFacts(
        judgement=judgement,
        licence_id=licence_id,
        serial=serial,
        instance_id=instance_id,
        checked_at=now,
        sizing=_sizing(rt, row) if judgement.verdict is Verdict.VALID else None,
        expires_at=None if row is None else row.end_at,
    )
    return answer_document(
        key, facts, nonce=nonce, interval=rt.settings.licence_validation_interval_seconds
    )


def _judge(
    rt: Runtime, row: Any, licence_id: str | None, instance_id: str, now: datetime
) -> Judgement:
    if row is None:
        return UNKNOWN
    status = _shown_status(rt, row, now)
    removed = row.removed_at is not None
    if licence_id is None:
        return rules.entitlement_verdict(status, removed)
    return rules.licence_verdict(
        holder_instance=row.instance_id,
        asking_instance=instance_id,
        superseded=row.superseded_at is not None,
        status=status,
        removed=removed,
    )


def _shown_status(rt: Runtime, row: Any, now: datetime) -> Status:
    """The status reads show: EXPIRED from the expiry instant on (P11).

    GRACE_PERIOD is left out: it answers VALID exactly like ACTIVE.
    """
    expires = expiry_instant(
        row.end_at,
        TerminationMode(row.termination_mode),
        end_instant(row.end_date, row.timezone),
        timedelta(days=rt.settings.program_grace_days),
        row.timezone,
    )
    return shown_status(Status(row.status), now, expires, program_in_grace=False)


def _sizing(rt: Runtime, row: Any) -> dict[str, Any]:
    return sizing(rt.catalog, row.product_type_id, values_from_json(row.parameters))


def _check_serial(serial: str) -> str:
    if not isinstance(serial, str) or not serial.strip() or len(serial.strip()) > MAX_SERIAL:
        raise InvalidInput(f"serialNumber must be 1 to {MAX_SERIAL} characters")
    return serial.strip().upper()


def _check_licence_id(licence_id: str | None) -> str | None:
    if licence_id is None or not licence_id.strip():
        return None  # hardware devices hold no licence
    if len(licence_id.strip()) > MAX_LICENCE_ID:
        raise InvalidInput(f"licenceId must be at most {MAX_LICENCE_ID} characters")
    return licence_id.strip()
