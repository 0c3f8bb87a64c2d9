"""Changing entitlements: update, stop, reactivate, new token, remove (R47–R53)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, update

from pointflex.bootstrap import Runtime
from pointflex.domain import entitlements as rules
from pointflex.domain.configs import Config
from pointflex.domain.ends import RequestedEnd
from pointflex.domain.entitlements import (
    EventKind,
    Selection,
    Status,
    TokenStatus,
)
from pointflex.domain.programs import Program
from pointflex.errors import (
    InvalidInput,
    PointflexError,
    WrongProductType,
)
from pointflex.services.configs.configurations import visible_config
from pointflex.services.context import Actor, audit, audit_many, write
from pointflex.services.entitlements.creation import refuse_if_suspended
from pointflex.services.entitlements.fields import check_description, normalise_folder
from pointflex.services.entitlements.lifecycle import record_events
from pointflex.services.entitlements.views import (
    Entitlement,
    ProgramFacts,
    load_records,
    status_as_shown,
)
from pointflex.services.points.programs import load_program
from pointflex.store.sql import chunks
from pointflex.store.tables import entitlements
from pointflex.store.tokens import new_token

E = entitlements


def update_entitlement(
    rt: Runtime,
    actor: Actor,
    serial: str,
    *,
    config_id: int | None = None,
    description: str | None = None,
    end: RequestedEnd | None = None,
    folder_path: str | None = None,
) -> Entitlement:
    """Change configuration, description, end date or folder; current values are a no-op (R47)."""
    actor.require_write()
    with write(rt) as conn:
        (before,) = load_records(rt, conn, actor, [serial], for_update=True)
        now = rt.now()  # read under the lock, so events follow the commit order
        _apply_update(
            rt,
            conn,
            actor,
            before,
            config_id=config_id,
            description=description,
            end=end,
            folder_path=folder_path,
            now=now,
        )
        return load_records(rt, conn, actor, [serial])[0]


def _apply_update(
    rt: Runtime,
    conn: Connection,
    actor: Actor,
    before: Entitlement,
    *,
    config_id: int | None,
    description: str | None,
    end: RequestedEnd | None,
    folder_path: str | None,
    now: datetime,
) -> None:
    program = load_program(conn, before.program_serial)
    new_end = None
    tz = program.timezone
    if end is not None and not end.names(before.end_at, before.termination_mode, tz):
        resolved = end.resolve(tz, now, program.end_at)
        if resolved != (before.end_at, before.termination_mode):
            new_end = resolved
    new_config = None
    if config_id is not None and config_id != before.config_id:
        new_config = _target_config(rt, conn, actor, before, config_id)
    new_text = None if description is None else check_description(description)
    if new_text == before.description:
        new_text = None
    new_folder = None if folder_path is None else normalise_folder(folder_path)
    if new_folder == before.folder_path:
        new_folder = None
    if new_end is None and new_config is None and new_text is None and new_folder is None:
        return
    rules.check_update(before.view(), changes_end_date=new_end is not None)
    if new_config is not None:
        _write(
            conn,
            actor,
            before.serial,
            EventKind.CONFIG_CHANGED,
            now,
            values={"config_id": new_config.id, "changed_at": now},
            detail={"fromConfigId": before.config_id},
        )
    if new_end is not None:
        _write(
            conn,
            actor,
            before.serial,
            EventKind.END_DATE_CHANGED,
            now,
            values={"end_at": new_end[0], "termination_mode": new_end[1].value},
        )
    if new_text is not None or new_folder is not None:
        values = {
            k: v
            for k, v in (("description", new_text), ("folder_path", new_folder))
            if v is not None
        }
        _write(conn, actor, before.serial, EventKind.DESCRIPTION_CHANGED, now, values=values)
    audit(
        conn,
        actor,
        now,
        "entitlement.update",
        "entitlement",
        before.serial,
        account_id=before.account_id,
        before={
            "configId": before.config_id,
            "description": before.description,
            "endAt": before.end_at.isoformat(),
            "folderPath": before.folder_path,
        },
        after={
            "configId": new_config.id if new_config else before.config_id,
            "description": before.description if new_text is None else new_text,
            "endAt": (new_end[0] if new_end else before.end_at).isoformat(),
            "folderPath": new_folder or before.folder_path,
        },
    )


def _target_config(
    rt: Runtime, conn: Connection, actor: Actor, current: Entitlement, config_id: int
) -> Config:
    """Another configuration for the entitlement: same product type, program, account (R51)."""
    config = visible_config(conn, actor, config_id)
    if config.product_type_id != current.product_type_id:
        raise WrongProductType(
            f"configuration {config_id} is product type {config.product_type_id}; "
            f"{current.serial} needs product type {current.product_type_id}"
        )
    if config.program_serial != current.program_serial:
        raise WrongProductType(f"configuration {config_id} belongs to another program")
    if config.account_id != current.account_id:
        raise WrongProductType(
            f"configuration {config_id} belongs to account {config.account_id}; "
            "use a transfer to move entitlements between accounts"
        )
    return config


def _write(
    conn: Connection,
    actor: Actor,
    serial: str,
    kind: EventKind,
    now: datetime,
    *,
    values: dict[str, Any],
    detail: dict[str, Any] | None = None,
) -> None:
    conn.execute(update(E).where(E.c.serial == serial).values(**values))
    record_events(conn, [serial], kind, now, actor, detail)


@dataclass(frozen=True)
class Outcome:
    """The result of an action on one serial of a bulk request."""

    serial: str
    entitlement: Entitlement | None
    error: PointflexError | None

    @property
    def ok(self) -> bool:
        return self.error is None


def stop(rt: Runtime, actor: Actor, serials: Sequence[str]) -> list[Outcome]:
    """Stop: the day of the stop is still charged, nothing after it (R15, R50, P2)."""
    return _change_status(rt, actor, serials, Status.STOPPED, None)


def reactivate(
    rt: Runtime, actor: Actor, serials: Sequence[str], end: RequestedEnd | None = None
) -> list[Outcome]:
    """Reactivate STOPPED entitlements, charged from today (R16); optional end date (R48)."""
    return _change_status(rt, actor, serials, Status.ACTIVE, end)


def _change_status(
    rt: Runtime,
    actor: Actor,
    serials: Sequence[str],
    target: Status,
    end: RequestedEnd | None,
) -> list[Outcome]:
    """One transaction for the whole selection; each serial succeeds or says why not.

    A selection of several product types is refused as a whole (R60).
    """
    actor.require_write()
    if not serials:
        raise InvalidInput("name at least one serial number")
    rt.settings.selection_limits.check(Selection.STATUS, len(serials))
    with write(rt) as conn:
        return change_status_in(rt, conn, actor, serials, target, end)


def change_status_in(
    rt: Runtime,
    conn: Connection,
    actor: Actor,
    serials: Sequence[str],
    target: Status,
    end: RequestedEnd | None,
) -> list[Outcome]:
    """``_change_status`` within the caller's transaction (bulk actions resolve it there)."""
    facts = ProgramFacts(rt, rt.now())
    records = load_records(rt, conn, actor, serials, for_update=True, facts=facts)
    now = facts.now = rt.now()  # read under the lock, so events follow the commit order
    rules.check_same_product_type(r.view() for r in records)
    outcomes: list[Outcome] = []
    changed: list[str] = []
    for record in records:
        try:
            _check_status_change(rt, facts.program(conn, record.program_serial), record, target)
            if target is Status.ACTIVE and end is not None:
                # Checked now so a bad date fails this serial before anything changes.
                program = facts.program(conn, record.program_serial)
                end.resolve(program.timezone, now, program.end_at)
        except PointflexError as exc:
            outcomes.append(Outcome(record.serial, record, exc))
            continue
        changed.append(record.serial)
        outcomes.append(Outcome(record.serial, None, None))
    _set_status(conn, actor, changed, target, now)
    if target is Status.ACTIVE and end is not None and changed:
        # The termination mode chosen on reactivation (R48) applies to the now ACTIVE row.
        for record in load_records(rt, conn, actor, changed):
            _apply_update(
                rt,
                conn,
                actor,
                record,
                config_id=None,
                description=None,
                end=end,
                folder_path=None,
                now=now,
            )
        fresh = {r.serial: r for r in load_records(rt, conn, actor, changed)}
    else:
        # Only the status moved: the new record follows from the old one, no reload.
        moved = set(changed)
        fresh = {
            r.serial: _with_status(facts, conn, r, target) for r in records if r.serial in moved
        }
    action = "entitlement.stop" if target is Status.STOPPED else "entitlement.reactivate"
    audit_many(
        conn,
        actor,
        now,
        action,
        (
            {
                "object_type": "entitlement",
                "object_id": r.serial,
                "account_id": r.account_id,
                "before": {"status": r.status.value},
                "after": {"status": target.value},
            }
            for r in records
            if r.serial in fresh
        ),
    )
    return [o if o.error else Outcome(o.serial, fresh[o.serial], None) for o in outcomes]


def _with_status(
    facts: ProgramFacts, conn: Connection, record: Entitlement, stored: Status
) -> Entitlement:
    program = facts.program(conn, record.program_serial)
    shown = status_as_shown(facts, program, stored, record.termination_mode, record.end_at)
    return replace(record, stored_status=stored, status=shown)


def _check_status_change(
    rt: Runtime, program: Program, record: Entitlement, target: Status
) -> None:
    if target is Status.STOPPED:
        rules.check_stop(record.view())
        return
    rules.check_reactivate(record.view())
    refuse_if_suspended(rt, program)


def _set_status(
    conn: Connection, actor: Actor, serials: Sequence[str], target: Status, now: datetime
) -> None:
    for part in chunks(serials):
        conn.execute(
            update(E).where(E.c.serial.in_(part)).values(status=target.value, changed_at=now)
        )
    kind = EventKind.STOPPED if target is Status.STOPPED else EventKind.REACTIVATED
    record_events(conn, serials, kind, now, actor)


def regenerate_token(rt: Runtime, actor: Actor, serial: str) -> Entitlement:
    """A new NOTUSED token; the old one can never be redeemed again (R32, R34)."""
    actor.require_write()
    with write(rt) as conn:
        (record,) = load_records(rt, conn, actor, [serial], for_update=True)
        now = rt.now()  # read under the lock, so events follow the commit order
        rules.check_regenerate_token(record.view())
        token = new_token()
        _write(
            conn,
            actor,
            serial,
            EventKind.TOKEN_REGENERATED,
            now,
            values={
                "token_enc": rt.vault.encrypt(token, serial),
                "token_hash": rt.vault.lookup_hash(token),
                "token_status": TokenStatus.NOTUSED.value,
            },
        )
        audit(
            conn,
            actor,
            now,
            "entitlement.regenerate_token",
            "entitlement",
            serial,
            account_id=record.account_id,
            before={"tokenStatus": record.token_status},
            after={"tokenStatus": TokenStatus.NOTUSED.value},
        )
        return load_records(rt, conn, actor, [serial])[0]


def remove_hardware(rt: Runtime, actor: Actor, serials: Sequence[str]) -> list[str]:
    """Remove STOPPED/EXPIRED hardware from management, all or nothing; history stays (R41)."""
    actor.require_write()
    wanted = [s.strip().upper() for s in serials if s and s.strip()]
    rt.settings.selection_limits.check(Selection.REMOVE, len(wanted))
    with write(rt) as conn:
        return remove_in(rt, conn, actor, wanted)


def remove_in(rt: Runtime, conn: Connection, actor: Actor, wanted: list[str]) -> list[str]:
    """``remove_hardware`` within the caller's transaction (bulk actions resolve it there)."""
    records = load_records(rt, conn, actor, wanted, for_update=True)
    now = rt.now()  # read under the lock, so events follow the commit order
    rules.check_removable([r.view() for r in records])
    rules.check_same_product_type(r.view() for r in records)  # R60: one product type
    for part in chunks(wanted):
        conn.execute(update(E).where(E.c.serial.in_(part)).values(removed_at=now))
    record_events(conn, wanted, EventKind.REMOVED, now, actor)
    rows = (
        {
            "object_type": "entitlement",
            "object_id": r.serial,
            "account_id": r.account_id,
            "before": {"status": r.status.value},
            "after": {"removed": True},
        }
        for r in records
    )
    audit_many(conn, actor, now, "entitlement.remove", rows)
    return wanted
