"""Writing entitlement state changes: the row and its event, always together.

Every change updates ``entitlements`` and then copies the resulting state into an
``entitlement_events`` row in the same statement set, so the event history always agrees with
the current row. Expiry (R46, P7, P11) and program extension (R45) are set-based.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, literal, select, update

from pointflex.bootstrap import Runtime
from pointflex.domain.entitlements import EventKind, Status, TerminationMode
from pointflex.domain.programs import follow_program_expiry
from pointflex.services.context import SYSTEM, Actor
from pointflex.store.sql import chunks
from pointflex.store.tables import entitlement_events, entitlements, programs

E = entitlements


def record_events(
    conn: Connection,
    serials: Sequence[str],
    kind: EventKind,
    at: datetime,
    actor: Actor,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one event per serial carrying the entitlement's state as it now is."""
    for part in chunks(serials):
        source = select(
            E.c.serial,
            literal(at, entitlement_events.c.at.type),
            literal(kind.value),
            E.c.status,
            E.c.config_id,
            E.c.program_serial,
            E.c.account_id,
            E.c.end_at,
            literal(actor.name),
            literal(actor.request_id),
            literal(detail, entitlement_events.c.detail.type),
        ).where(E.c.serial.in_(part))
        conn.execute(
            insert(entitlement_events).from_select(
                [
                    "serial",
                    "at",
                    "kind",
                    "status",
                    "config_id",
                    "program_serial",
                    "account_id",
                    "end_at",
                    "actor",
                    "request_id",
                    "detail",
                ],
                source,
            )
        )


def apply_expiry(
    rt: Runtime,
    conn: Connection,
    until: datetime,
    *,
    program_serial: str | None = None,
) -> int:
    """Mark EXPIRED every entitlement whose expiry instant is at or before ``until``.

    The event carries the expiry instant itself, not the time the job ran, so the history (and
    the accrual) sees the entitlement active exactly until then. A handful of statements
    whatever the number of programs: the expiry job runs every minute over all of them.
    """
    query = select(programs.c.serial, programs.c.end_date, programs.c.timezone)
    if program_serial is not None:
        query = query.where(programs.c.serial == program_serial)
    grace = rt.settings.program_grace_days
    follow_due = {
        serial: instant
        for serial, end_date, tz in conn.execute(query).all()
        if (instant := follow_program_expiry(end_date, tz, grace)) <= until
    }
    by_instant: dict[datetime, list[str]] = {}
    for serial, instant in _user_defined_ends(conn, until, program_serial):
        by_instant.setdefault(instant, []).append(serial)
    for part in chunks(sorted(follow_due)):
        for serial, program in _following(conn, part):
            by_instant.setdefault(follow_due[program], []).append(serial)
    for instant, serials in by_instant.items():
        for part in chunks(serials):
            conn.execute(
                update(E)
                .where(E.c.serial.in_(part))
                .values(status=Status.EXPIRED.value, changed_at=instant)
            )
        record_events(conn, serials, EventKind.EXPIRED, instant, SYSTEM)
    return sum(len(serials) for serials in by_instant.values())


_LIVE = (E.c.status != Status.EXPIRED.value, E.c.removed_at.is_(None))


def _user_defined_ends(
    conn: Connection, until: datetime, program_serial: str | None
) -> Sequence[Any]:
    """(serial, end) of User Defined entitlements ended by ``until``: the partial index on
    live User Defined ends holds just these candidates (a separate query from the Follow
    Program one, rather than an OR, so that it is used)."""
    query = select(E.c.serial, E.c.end_at).where(
        *_LIVE,
        E.c.termination_mode == TerminationMode.USER_DEFINED.value,
        E.c.end_at <= until,
    )
    if program_serial is not None:
        query = query.where(E.c.program_serial == program_serial)
    return conn.execute(query).all()


def _following(conn: Connection, program_serials: Sequence[str]) -> Sequence[Any]:
    """(serial, program) of live Follow Program entitlements of these programs."""
    return conn.execute(
        select(E.c.serial, E.c.program_serial).where(
            *_LIVE,
            E.c.termination_mode == TerminationMode.FOLLOW_PROGRAM.value,
            E.c.program_serial.in_(program_serials),
        )
    ).all()


def follow_program_end(conn: Connection, actor: Actor, program: Any, now: datetime) -> None:
    """Follow Program entitlements take the program's (new) end date (R45)."""
    serials = list(
        conn.execute(
            select(E.c.serial).where(
                E.c.program_serial == program.serial,
                E.c.termination_mode == TerminationMode.FOLLOW_PROGRAM.value,
                E.c.status != Status.EXPIRED.value,
            )
        ).scalars()
    )
    for part in chunks(serials):
        conn.execute(update(E).where(E.c.serial.in_(part)).values(end_at=program.end_at))
    record_events(
        conn, serials, EventKind.END_DATE_CHANGED, now, actor, {"reason": "program extended"}
    )
