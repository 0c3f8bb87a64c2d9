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
    the accrual) sees the entitlement active exactly until then.
    """
    query = select(programs.c.serial, programs.c.end_date, programs.c.timezone)
    if program_serial is not None:
        query = query.where(programs.c.serial == program_serial)
    expired = 0
    for serial, end_date, tz in conn.execute(query).all():
        follow_expiry = follow_program_expiry(end_date, tz, rt.settings.program_grace_days)
        expired += _expire_program(conn, serial, follow_expiry, until)
    return expired


def _expire_program(
    conn: Connection, program_serial: str, follow_expiry: datetime, until: datetime
) -> int:
    live = [
        E.c.program_serial == program_serial,
        E.c.status != Status.EXPIRED.value,
        E.c.removed_at.is_(None),
    ]
    # Two queries rather than one OR: the first can use the partial index on User Defined ends.
    rows = conn.execute(
        select(E.c.serial, E.c.end_at).where(
            *live,
            E.c.termination_mode == TerminationMode.USER_DEFINED.value,
            E.c.end_at <= until,
        )
    ).all()
    by_instant: dict[datetime, list[str]] = {}
    for serial, end_at in rows:
        by_instant.setdefault(end_at, []).append(serial)
    if follow_expiry <= until:
        following = conn.execute(
            select(E.c.serial).where(
                *live, E.c.termination_mode == TerminationMode.FOLLOW_PROGRAM.value
            )
        ).scalars()
        by_instant.setdefault(follow_expiry, []).extend(following)
    for instant, serials in by_instant.items():
        for part in chunks(serials):
            conn.execute(
                update(E)
                .where(E.c.serial.in_(part))
                .values(status=Status.EXPIRED.value, changed_at=instant)
            )
        record_events(conn, serials, EventKind.EXPIRED, instant, SYSTEM)
    return sum(len(serials) for serials in by_instant.values())


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
