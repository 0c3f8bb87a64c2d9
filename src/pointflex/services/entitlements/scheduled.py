"""Hardware serials created at 03:00 program time on a start date (R38, R39, R59).

Scheduling checks everything creation would (scope, a hardware configuration that is enabled,
a program not suspended, well-formed serials not already managed or scheduled) so that the
night's job rarely refuses anything. The job creates each due group together with marking its
rows DONE in one transaction: a crash leaves both or neither, and a re-run never creates a
serial twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, insert, select, update

from pointflex.bootstrap import Runtime
from pointflex.domain import scheduling
from pointflex.domain.catalog import FormFactor
from pointflex.domain.dates import local_day
from pointflex.domain.ends import FOLLOW_PROGRAM, RequestedEnd
from pointflex.domain.entitlements import Selection
from pointflex.domain.programs import Program
from pointflex.errors import Duplicate, NotFound, PointflexError
from pointflex.services.context import Actor, audit, read, write
from pointflex.services.entitlements.creation import (
    check_hardware_serials,
    creation_target,
    insert_hardware,
)
from pointflex.services.entitlements.fields import check_description, normalise_folder
from pointflex.services.points.programs import load_program
from pointflex.store.tables import configurations, entitlements, scheduled_activations

S = scheduled_activations
SCHEDULED, DONE, FAILED, CANCELLED = "SCHEDULED", "DONE", "FAILED", "CANCELLED"


@dataclass(frozen=True)
class ScheduledActivation:
    id: int
    program_serial: str
    config_id: int
    serial: str
    start_date: date
    end_date: date | None
    description: str
    folder_path: str
    state: str
    detail: str
    created_by: str
    created_at: datetime
    processed_at: datetime | None


def _from_row(row: Any) -> ScheduledActivation:
    return ScheduledActivation(**row._mapping)


def schedule_hardware(
    rt: Runtime,
    actor: Actor,
    *,
    config_id: int,
    serials: Sequence[str],
    start_date: date,
    end_date: date | None = None,
    description: str | None = None,
    folder_path: str | None = None,
) -> list[ScheduledActivation]:
    """Schedule up to 1,000 device serials for activation on ``start_date`` (R38, R39)."""
    actor.require_write()
    wanted = check_hardware_serials(serials, rt.settings.selection_limits, Selection.SCHEDULE)
    text, folder = check_description(description), normalise_folder(folder_path)
    now = rt.now()
    with write(rt) as conn:
        config, program = creation_target(rt, conn, actor, config_id, FormFactor.HARDWARE)
        today = local_day(now, program.timezone)
        scheduling.check_schedule(start_date, end_date, today, program.end_date)
        _refuse_known(conn, wanted)
        rows = [
            {
                "program_serial": program.serial,
                "config_id": config.id,
                "serial": serial,
                "start_date": start_date,
                "end_date": end_date,
                "description": text,
                "folder_path": folder,
                "state": SCHEDULED,
                "detail": "",
                "created_by": actor.name,
                "created_at": now,
            }
            for serial in wanted
        ]
        conn.execute(insert(S), rows)
        audit(
            conn,
            actor,
            now,
            "entitlements.schedule_hardware",
            "configuration",
            config.id,
            account_id=config.account_id,
            after={
                "serials": wanted,
                "startDate": start_date.isoformat(),
                "endDate": None if end_date is None else end_date.isoformat(),
            },
        )
        found = conn.execute(
            select(S).where(S.c.serial.in_(wanted), S.c.state == SCHEDULED).order_by(S.c.id)
        ).all()
    return [_from_row(r) for r in found]


def _refuse_known(conn: Connection, wanted: Sequence[str]) -> None:
    live = (
        conn.execute(
            select(entitlements.c.serial).where(
                entitlements.c.serial.in_(wanted), entitlements.c.removed_at.is_(None)
            )
        )
        .scalars()
        .all()
    )
    if live:
        raise Duplicate(f"already managed: {', '.join(sorted(live)[:5])}")
    waiting = (
        conn.execute(select(S.c.serial).where(S.c.serial.in_(wanted), S.c.state == SCHEDULED))
        .scalars()
        .all()
    )
    if waiting:
        raise Duplicate(f"already scheduled: {', '.join(sorted(waiting)[:5])}")


def _in_scope(query: Select[Any], actor: Actor) -> Select[Any]:
    """Only the rows of configurations the actor's accounts own (as ``visible_config``)."""
    query = query.join(configurations, configurations.c.id == S.c.config_id)
    if actor.account_ids is not None:
        query = query.where(configurations.c.account_id.in_(sorted(actor.account_ids)))
    return query


def list_scheduled(
    rt: Runtime, actor: Actor, *, state: str | None = None
) -> list[ScheduledActivation]:
    query = _in_scope(select(S), actor).order_by(S.c.start_date, S.c.serial)
    if state is not None:
        query = query.where(S.c.state == state.upper())
    with read(rt) as conn:
        return [_from_row(r) for r in conn.execute(query).all()]


def cancel(rt: Runtime, actor: Actor, serials: Sequence[str]) -> int:
    """Cancel scheduled serials the actor can see; returns how many were cancelled."""
    actor.require_write()
    wanted = [s.strip().upper() for s in serials if s.strip()]
    now = rt.now()
    with write(rt) as conn:
        query = select(S.c.id, S.c.serial).where(S.c.serial.in_(wanted), S.c.state == SCHEDULED)
        mine = conn.execute(_in_scope(query, actor)).all()
        missing = sorted(set(wanted) - {r.serial for r in mine})
        if missing:
            raise NotFound(f"not scheduled: {', '.join(missing[:5])}")
        conn.execute(
            update(S)
            .where(S.c.id.in_([r.id for r in mine]))
            .values(state=CANCELLED, processed_at=now, detail=f"cancelled by {actor.name}")
        )
        for row in mine:
            audit(conn, actor, now, "entitlements.cancel_schedule", "entitlement", row.serial)
    return len(mine)


# --------------------------------------------------------------------------- the nightly job


@dataclass
class ActivationSummary:
    created: int = 0
    failed: int = 0
    waiting_for_grace: int = 0

    def __str__(self) -> str:
        return (
            f"{self.created} created, {self.failed} failed, "
            f"{self.waiting_for_grace} waiting while their program is in grace"
        )


def activate_due(rt: Runtime) -> ActivationSummary:
    """Create every scheduled serial whose 03:00 has come (R39); skip programs in grace (R59).

    A serial whose program is in grace stays SCHEDULED and is created at the first run after
    the grace ends; one the program can no longer take (ended, configuration disabled, serial
    meanwhile added by hand) is marked FAILED with the reason.
    """
    now, summary = rt.now(), ActivationSummary()
    # The latest calendar day anywhere on Earth (UTC+14) bounds every program's today.
    latest_today = local_day(now, "Etc/GMT-14")
    with rt.engine.connect() as conn:
        rows = conn.execute(
            select(S).where(S.c.state == SCHEDULED, S.c.start_date <= latest_today)
        ).all()
    # Serials scheduled together share everything but the serial: one group, one creation.
    groups: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    for row in rows:
        key = (row.program_serial, row.config_id, row.start_date, row.end_date, row.created_at)
        groups[key].append(row)
    for (program_serial, config_id, start, end, _), members in groups.items():
        with rt.engine.connect() as conn:
            program = load_program(conn, program_serial)
        if not scheduling.is_due(start, program.timezone, now):
            continue
        grace = program.grace(now, timedelta(days=rt.settings.negative_grace_days))
        if grace.negative and not grace.program_expired:
            summary.waiting_for_grace += len(members)
            continue
        _activate_group(rt, program, config_id, end, members, summary)
    return summary


def _activate_group(
    rt: Runtime,
    program: Program,
    config_id: int,
    end: date | None,
    members: list[Any],
    summary: ActivationSummary,
) -> None:
    wanted = FOLLOW_PROGRAM if end is None else RequestedEnd.on_day(end)
    try:
        _create(rt, config_id, wanted, members)
        summary.created += len(members)
        return
    except PointflexError:
        pass  # one bad serial must not hold back the others: retry them one by one
    for member in members:
        try:
            _create(rt, config_id, wanted, [member])
            summary.created += 1
        except PointflexError as exc:
            _fail(rt, member, str(exc))
            summary.failed += 1


def _create(rt: Runtime, config_id: int, end: RequestedEnd, members: list[Any]) -> None:
    actor = Actor(name=f"scheduled:{members[0].created_by}")
    with write(rt) as conn:
        serials = [m.serial for m in members]
        for start in range(0, len(serials), rt.settings.max_serials_per_request):
            part = serials[start : start + rt.settings.max_serials_per_request]
            first = members[0]
            insert_hardware(
                rt,
                conn,
                actor,
                config_id,
                part,
                end,
                text=first.description,
                folder=first.folder_path,
            )
        conn.execute(
            update(S)
            .where(S.c.id.in_([m.id for m in members]), S.c.state == SCHEDULED)
            .values(state=DONE, processed_at=rt.now(), detail="created")
        )


def _fail(rt: Runtime, member: Any, reason: str) -> None:
    with write(rt) as conn:
        conn.execute(
            update(S)
            .where(S.c.id == member.id, S.c.state == SCHEDULED)
            .values(state=FAILED, processed_at=rt.now(), detail=reason[:500])
        )
