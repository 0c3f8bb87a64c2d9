"""Transfers between accounts of one organisation (R66, Q10) and token redemption (R26, R31)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, select, update

from pointflex.bootstrap import Runtime
from pointflex.domain.configs import Config
from pointflex.domain.entitlements import EventKind, Selection, Status, TokenStatus
from pointflex.errors import InvalidInput, InvalidState, NotFound, WrongProductType
from pointflex.services.access.accounts import get_account
from pointflex.services.configs.configurations import add_config, load_config, visible_config
from pointflex.services.context import Actor, audit, audit_many, write
from pointflex.services.entitlements.lifecycle import record_events
from pointflex.services.entitlements.views import Entitlement, load_records
from pointflex.services.points.programs import visible_program
from pointflex.store.sql import chunks
from pointflex.store.tables import entitlements
from pointflex.store.unit_of_work import on_connection

E = entitlements


def transfer(
    rt: Runtime,
    actor: Actor,
    *,
    serials: Sequence[str],
    target_account_id: int,
    source_account_id: int | None = None,
    source_config_id: int | None = None,
    target_config_id: int | None = None,
    source_program_serial: str | None = None,
) -> list[Entitlement]:
    """Move serials to another account of the same organisation, keeping their history.

    The sources named (account, configuration, program) are checked on the locked rows, in
    the transaction that moves them.
    """
    actor.require_write()
    wanted = [s.strip().upper() for s in serials if s and s.strip()]
    if not wanted:
        raise InvalidInput("serialNumbers must name at least one serial")
    rt.settings.selection_limits.check(Selection.TRANSFER, len(wanted))
    actor.require_account(target_account_id)
    with write(rt) as conn:
        records = load_records(rt, conn, actor, wanted, for_update=True)
        now = rt.now()  # read under the lock, so events follow the commit order
        program = (
            None
            if source_program_serial is None
            else visible_program(conn, actor, source_program_serial).serial
        )
        _check_sources(records, source_account_id, source_config_id, program)
        target = get_account(conn, target_account_id)
        for record in records:
            if get_account(conn, record.account_id).organization_id != target.organization_id:
                raise InvalidInput(
                    f"{record.serial} belongs to another organisation than account "
                    f"{target_account_id}; transfers stay within one organisation"
                )
            if record.status is Status.EXPIRED or record.removed_at is not None:
                raise InvalidState(f"{record.serial} is no longer managed and cannot move")
        moves = _target_configs(rt, conn, actor, records, target_account_id, target_config_id)
        for config_id, serials_to_move in moves.items():
            config = load_config(conn, config_id)
            for part in chunks(serials_to_move):
                conn.execute(
                    update(E)
                    .where(E.c.serial.in_(part))
                    .values(account_id=target_account_id, config_id=config.id, changed_at=now)
                )
            record_events(
                conn,
                serials_to_move,
                EventKind.TRANSFERRED,
                now,
                actor,
                {"toAccountId": target_account_id, "toConfigId": config.id},
            )
        audit_many(
            conn,
            actor,
            now,
            "entitlement.transfer",
            (
                {
                    "object_type": "entitlement",
                    "object_id": r.serial,
                    "account_id": r.account_id,
                    "before": {"accountId": r.account_id, "configId": r.config_id},
                    "after": {"accountId": target_account_id},
                }
                for r in records
            ),
        )
        return load_records(rt, conn, actor, wanted)


def _check_sources(
    records: Sequence[Entitlement],
    account_id: int | None,
    config_id: int | None,
    program_serial: str | None,
) -> None:
    for record in records:
        if program_serial is not None and record.program_serial != program_serial:
            raise InvalidInput(f"{record.serial} is not in program {program_serial}")
        if account_id is not None and record.account_id != account_id:
            raise InvalidInput(f"{record.serial} is not in source account {account_id}")
        if config_id is not None and record.config_id != config_id:
            raise InvalidInput(f"{record.serial} is not on source configuration {config_id}")


def _target_configs(
    rt: Runtime,
    conn: Connection,
    actor: Actor,
    records: Sequence[Entitlement],
    target_account_id: int,
    target_config_id: int | None,
) -> dict[int, list[str]]:
    """Target configuration per serial: the one given, else a matching or new one (Q10)."""
    moves: dict[int, list[str]] = {}
    for record in records:
        if target_config_id is not None:
            config = visible_config(conn, actor, target_config_id)
            _check_target(config, record, target_account_id)
        else:
            config = _matching_config(rt, conn, actor, record, target_account_id)
        moves.setdefault(config.id, []).append(record.serial)
    return moves


def _check_target(config: Config, record: Entitlement, target_account_id: int) -> None:
    if config.account_id != target_account_id:
        raise InvalidInput(f"configuration {config.id} is not in account {target_account_id}")
    if config.product_type_id != record.product_type_id:
        raise WrongProductType(
            f"configuration {config.id} is product type {config.product_type_id}, "
            f"{record.serial} is {record.product_type_id}"
        )
    if config.program_serial != record.program_serial:
        raise WrongProductType(f"configuration {config.id} belongs to another program")


def _matching_config(
    rt: Runtime, conn: Connection, actor: Actor, record: Entitlement, target_account_id: int
) -> Config:
    """The target account's configuration with the same product and values, made if needed."""
    uow = on_connection(conn)
    source = load_config(conn, record.config_id)
    for candidate in uow.configs.of_program(source.program_serial, [target_account_id]):
        if (
            candidate.product_type_id == source.product_type_id
            and candidate.values == source.values
        ):
            return candidate
    # No twin in the target account: make one in this same transaction.
    owner = (source.program_serial, target_account_id)
    return add_config(
        uow,
        actor,
        rt.now(),
        owner,
        name=source.name,
        product_type_id=source.product_type_id,
        values=source.values,
    )


def mark_token_used(rt: Runtime, token: str) -> Entitlement:
    """A VM redeemed ``token``: PENDING becomes ACTIVE, the token becomes USED (R26, R31, P6).

    Redemption without a licence (the demo and tests use it); the licence service redeems
    through :func:`redeem` inside its own transaction, together with the licence row (P3).
    """
    from pointflex.services.context import SYSTEM

    with write(rt) as conn:
        serial = locked_token_serial(rt, conn, token)
        if serial is None:
            raise NotFound("token not found or no longer valid")
        (record,) = load_records(rt, conn, SYSTEM, [serial], for_update=True)
        now = rt.now()  # read under the lock, so events follow the commit order
        check_redeemable(record)
        redeem(conn, SYSTEM, record, now)
        return load_records(rt, conn, SYSTEM, [serial])[0]


def locked_token_serial(rt: Runtime, conn: Connection, token: str) -> str | None:
    """The serial whose current token is ``token``, its row locked for this transaction.

    Looked up by keyed hash, never by decrypting rows. On PostgreSQL the lock waits for a
    concurrent redemption or regeneration and then re-checks the hash, so a token replaced
    meanwhile is not found.
    """
    found: str | None = conn.execute(
        select(E.c.serial).where(E.c.token_hash == rt.vault.lookup_hash(token)).with_for_update()
    ).scalar()
    return found


def check_redeemable(record: Entitlement) -> None:
    """A NOTUSED token of a live entitlement (R31); STOPPED and EXPIRED ones are refused."""
    if record.token_status == TokenStatus.USED.value:
        raise InvalidState("token has already been used")
    if record.status not in (Status.PENDING, Status.ACTIVE, Status.GRACE_PERIOD):
        raise InvalidState(f"entitlement {record.serial} is {record.status}")


def redeem(conn: Connection, actor: Actor, record: Entitlement, now: datetime) -> None:
    """Mark the token USED and a PENDING entitlement ACTIVE, with its event and audit row.

    Part of the caller's transaction; the caller holds the row lock and has checked
    :func:`check_redeemable`.
    """
    serial = record.serial
    values: dict[str, object] = {"token_status": TokenStatus.USED.value}
    if record.status is Status.PENDING:
        values.update(status=Status.ACTIVE.value, changed_at=now)
    conn.execute(update(E).where(E.c.serial == serial).values(**values))
    record_events(conn, [serial], EventKind.ACTIVATED, now, actor, {"tokenRedeemed": True})
    audit(
        conn,
        actor,
        now,
        "entitlement.token_redeemed",
        "entitlement",
        serial,
        account_id=record.account_id,
        before={"status": record.status.value},
        after={
            "status": Status.ACTIVE.value
            if record.status is Status.PENDING
            else record.status.value,
            "tokenStatus": TokenStatus.USED.value,
        },
    )
