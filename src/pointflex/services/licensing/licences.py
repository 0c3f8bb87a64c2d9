"""The licence service: token activation (R24–R26, R31–R33, P3) and validation (P4).

``activate`` redeems a token for an instance and returns a signed licence. Redemption is one
transaction: the token becomes USED, a PENDING entitlement ACTIVE, earlier licences of the
serial superseded and the licence row written together, or nothing happens (P3). The
entitlement row is locked first, so two activations of one token at once are serialised: the
second sees the first's licence and is answered as a retry (same instance) or refused.

``validate`` lives in :mod:`pointflex.services.licensing.validation` and is re-exported here.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from pointflex.bootstrap import Runtime
from pointflex.domain import licensing as rules
from pointflex.domain.entitlements import Status
from pointflex.errors import InvalidInput, InvalidState, NotFound, PointflexError
from pointflex.services.configs.configurations import load_config
from pointflex.services.context import SYSTEM, Actor, audit, write
from pointflex.services.entitlements.creation import refuse_if_suspended
from pointflex.services.entitlements.transfers import check_redeemable, locked_token_serial, redeem
from pointflex.services.entitlements.views import Entitlement, load_records
from pointflex.services.licensing import guard as licence_guard
from pointflex.services.licensing.validation import instance_actor, validate
from pointflex.services.points.programs import load_program
from pointflex.signing.keys import keyring
from pointflex.signing.licences import LicenceFacts, licence_document, sizing
from pointflex.store.tables import licences

__all__ = ["activate", "validate"]

L = licences
MAX_HARDWARE_VCPUS = 4096
MAX_ADDRESS = 64  # the auth_failures.client_address column


class _UnknownToken(Exception):
    """Raised inside the transaction so that it rolls back before the failure is recorded."""


def activate(  # noqa: PLR0917 — the activate request's fields, in protocol order
    rt: Runtime,
    token: str,
    instance_id: str,
    product_version: str | None,
    hardware_vcpus: int | None,
    nonce: str,
    client_address: str,
    *,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Redeem ``token`` for ``instance_id``; the signed licence document (docs §activate)."""
    token = rules.check_token(token)
    instance_id = rules.check_instance_id(instance_id)
    product_version = rules.check_product_version(product_version)
    nonce = rules.check_nonce(nonce)
    if hardware_vcpus is not None and not 1 <= hardware_vcpus <= MAX_HARDWARE_VCPUS:
        raise InvalidInput(f"hardwareVcpus must be between 1 and {MAX_HARDWARE_VCPUS}")
    address = (client_address or "")[:MAX_ADDRESS]
    actor = instance_actor(instance_id, request_id)
    now = rt.now()
    licence_guard.check(rt, address, now)
    # The key is loaded before the transaction: creating the very first key is a transaction
    # of its own, which on SQLite could not start while this one holds the write lock.
    key = keyring(rt).active()
    request = {
        "instanceId": instance_id,
        "productVersion": product_version,
        "hardwareVcpus": hardware_vcpus,
        "clientAddress": address,
    }
    record: Entitlement | None = None
    try:
        with write(rt) as conn:
            serial = locked_token_serial(rt, conn, token)
            if serial is None:
                raise _UnknownToken
            (record,) = load_records(rt, conn, SYSTEM, [serial], for_update=True)
            now = rt.now()  # read under the lock, so events follow the commit order
            held = conn.execute(
                select(L).where(L.c.token_hash == rt.vault.lookup_hash(token))
            ).first()
            if held is not None:
                facts = _reissue(rt, conn, record, held, instance_id)
                action = "licence.reissue"
            else:
                facts = _issue(rt, conn, actor, record, token, request=request, now=now)
                action = "licence.activate"
            document = licence_document(
                key, facts, nonce=nonce, interval=rt.settings.licence_validation_interval_seconds
            )
            after = {"licenceId": facts.licence_id, "serialNumber": record.serial, **request}
            audit(
                conn,
                actor,
                now,
                action,
                "licence",
                facts.licence_id,
                account_id=facts.account_id,
                after=after,
            )
            return document
    except _UnknownToken:
        licence_guard.record_failure(rt, address, now)
        _audit_refusal(rt, actor, now, None, "unknown token", request)
        raise NotFound("token not found or no longer valid") from None
    except PointflexError as exc:
        _audit_refusal(rt, actor, now, record, exc.message, request)
        raise


def _issue(
    rt: Runtime,
    conn: Connection,
    actor: Actor,
    record: Entitlement,
    token: str,
    *,
    request: dict[str, Any],
    now: datetime,
) -> LicenceFacts:
    """First redemption of the token: redeem it, supersede older licences, write this one."""
    check_redeemable(record)
    # P7: a suspended account starts nothing new; redeeming would start charging a PENDING VM.
    refuse_if_suspended(rt, load_program(conn, record.program_serial))
    licence_id = f"lic_{secrets.token_hex(16)}"
    redeem(conn, actor, record, now)
    # R33: the instances holding licences from earlier tokens fail their next validation.
    conn.execute(
        update(L)
        .where(L.c.serial == record.serial, L.c.superseded_at.is_(None))
        .values(superseded_at=now, superseded_by=licence_id)
    )
    conn.execute(
        insert(L).values(
            licence_id=licence_id,
            serial=record.serial,
            account_id=record.account_id,
            instance_id=request["instanceId"],
            token_hash=rt.vault.lookup_hash(token),
            product_version=request["productVersion"],
            hardware_vcpus=request["hardwareVcpus"],
            issued_at=now,
        )
    )
    return _facts(rt, conn, record, licence_id, request["instanceId"], now)


def _reissue(
    rt: Runtime, conn: Connection, record: Entitlement, held: Any, instance_id: str
) -> LicenceFacts:
    """The token was redeemed before: the same instance gets its licence again (P3)."""
    if held.instance_id != instance_id:
        raise InvalidState("token has already been used by another instance")
    if held.superseded_at is not None or record.status not in (
        Status.ACTIVE,
        Status.GRACE_PERIOD,
    ):
        shown = "superseded" if held.superseded_at is not None else record.status.value
        raise InvalidState(f"entitlement {record.serial} is {shown}")
    return _facts(rt, conn, record, held.licence_id, instance_id, held.issued_at)


def _facts(
    rt: Runtime,
    conn: Connection,
    record: Entitlement,
    licence_id: str,
    instance_id: str,
    issued_at: datetime,
) -> LicenceFacts:
    config = load_config(conn, record.config_id)
    product = rt.catalog.product(record.product_type_id)
    return LicenceFacts(
        licence_id=licence_id,
        serial=record.serial,
        account_id=record.account_id,
        instance_id=instance_id,
        product_type_id=product.id,
        product_name=product.name,
        sizing=sizing(rt.catalog, product.id, config.values),
        issued_at=issued_at,
        expires_at=record.end_at,
    )


def _audit_refusal(
    rt: Runtime,
    actor: Actor,
    now: datetime,
    record: Entitlement | None,
    reason: str,
    request: dict[str, Any],
) -> None:
    """Refusals are audited too, in their own transaction (the activation's rolled back)."""
    with write(rt) as conn:
        audit(
            conn,
            actor,
            now,
            "licence.activate_refused",
            "entitlement" if record else "token",
            record.serial if record else "unknown",
            account_id=record.account_id if record else None,
            after={"reason": reason, **request},
        )
