"""The daily accrual: one row per (entitlement, day) charged, set-based and idempotent.

For each program and each completed day (in the program's time zone):

1. claim the day in ``accrual_runs`` (a second runner blocks on the key, then skips);
2. apply expiries that fall before the day's end, so the history has the EXPIRED events;
3. compute each configuration's rate for the day in Python (a few rows per configuration);
4. charge, in two INSERT … SELECT statements: entitlements whose status and configuration did
   not change since the day began straight from their current row (the fast path), the others
   from their event history at the highest rate in effect while ACTIVE (R12–R18);
5. total the day, update the negative-balance grace (R55) and, on an anniversary, the
   roll-over (R9).

Each (program, day) is one transaction: a crash leaves either the whole day or nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    func,
    insert,
    select,
    update,
)

from pointflex.bootstrap import Runtime
from pointflex.domain.accrual import ConfigVersion, day_rate
from pointflex.domain.dates import DayWindow, day_window, local_day
from pointflex.domain.money import to_points
from pointflex.domain.programs import (
    LedgerKind,
    Program,
    ProgramKind,
    anniversaries,
    rollover_forfeit,
)
from pointflex.errors import AccrualNotDue, NotFound
from pointflex.services.context import write
from pointflex.services.entitlements.lifecycle import apply_expiry
from pointflex.services.points.prices import price_book
from pointflex.services.points.programs import load_program
from pointflex.store.charges import Charged, charge_changed, charge_unchanged
from pointflex.store.queries.configs import values_from_json
from pointflex.store.sql import insert_ignoring_conflicts
from pointflex.store.tables import (
    accrual_runs,
    config_day_rates,
    config_versions,
    configurations,
    consumption,
    entitlement_events,
    entitlements,
    point_ledger,
    programs,
)

E = entitlements
EV = entitlement_events


@dataclass(frozen=True)
class DayResult:
    program_serial: str
    day: date
    points: Decimal
    entitlements: int
    skipped: bool  # already accrued by an earlier or concurrent run


ProgressFn = Callable[[DayResult], None]


def last_due_day(program: Program, now: datetime) -> date:
    """The latest day that has ended in the program's time zone."""
    return local_day(now, program.timezone) - timedelta(days=1)


def accrue_through(
    rt: Runtime,
    through: date,
    *,
    program_serial: str | None = None,
    progress: ProgressFn | None = None,
) -> list[DayResult]:
    """Accrue every day not yet accrued up to ``through`` for each (or one) program."""
    with rt.engine.connect() as conn:
        query = select(programs.c.serial).order_by(programs.c.serial)
        if program_serial is not None:
            query = query.where(programs.c.serial == program_serial)
        serials = list(conn.execute(query).scalars())
    if program_serial is not None and not serials:
        raise NotFound(f"program {program_serial} not found")
    results: list[DayResult] = []
    for serial in serials:
        for day in pending_days(rt, serial, through):
            result = accrue_day(rt, serial, day)
            results.append(result)
            if progress is not None:
                progress(result)
    return results


def pending_days(rt: Runtime, program_serial: str, through: date) -> list[date]:
    """Days of a program still to accrue, oldest first, refusing days not yet over."""
    with rt.engine.connect() as conn:
        program = load_program(conn, program_serial)
        last = conn.execute(
            select(func.max(accrual_runs.c.day)).where(
                accrual_runs.c.program_serial == program_serial
            )
        ).scalar()
    due = last_due_day(program, rt.now())
    if through > due:
        raise AccrualNotDue(
            f"{through.isoformat()} has not ended yet in {program.timezone}; "
            f"the latest day that can be accrued is {due.isoformat()}"
        )
    return days_to_accrue(
        program.start_date, program.end_date, rt.settings.program_grace_days, last, through
    )


def days_to_accrue(
    start: date, end: date, grace_days: int, last_accrued: date | None, through: date
) -> list[date]:
    """The days after ``last_accrued`` up to ``through``, within the program's term.

    Nothing is charged after the program's expiry grace: no need to run those days.
    """
    final = end + timedelta(days=grace_days)
    day = start if last_accrued is None else last_accrued + timedelta(days=1)
    days: list[date] = []
    while day <= min(through, final):
        days.append(day)
        day += timedelta(days=1)
    return days


def accrue_due(rt: Runtime) -> list[DayResult]:
    """Every program's ended days not yet accrued (the scheduled job).

    One query finds each program's last accrued day, so a run with nothing due costs one
    statement whatever the number of programs.
    """
    last = (
        select(accrual_runs.c.program_serial, func.max(accrual_runs.c.day).label("day"))
        .group_by(accrual_runs.c.program_serial)
        .subquery()
    )
    query = (
        select(
            programs.c.serial,
            programs.c.timezone,
            programs.c.start_date,
            programs.c.end_date,
            last.c.day,
        )
        .outerjoin(last, last.c.program_serial == programs.c.serial)
        .order_by(programs.c.serial)
    )
    with rt.engine.connect() as conn:
        rows = conn.execute(query).all()
    now, grace = rt.now(), rt.settings.program_grace_days
    results: list[DayResult] = []
    for serial, tz, start, end, last_day in rows:
        through = local_day(now, tz) - timedelta(days=1)
        for day in days_to_accrue(start, end, grace, last_day, through):
            results.append(accrue_day(rt, serial, day))
    return results


def accrue_day(rt: Runtime, program_serial: str, day: date) -> DayResult:
    """Accrue one program day in one transaction; a day already accrued is left alone."""
    with write(rt) as conn:
        program = load_program(conn, program_serial)
        window = day_window(day, program.timezone)
        if window.end > rt.now():
            raise AccrualNotDue(f"{day.isoformat()} has not ended yet in {program.timezone}")
        _require_previous_day(conn, program, day)
        if not _claim(conn, program_serial, day, rt.now()):
            return DayResult(program_serial, day, Decimal("0.00"), 0, skipped=True)
        apply_expiry(rt, conn, window.end, program_serial=program_serial)
        rates = _store_config_rates(rt, conn, program, window)
        charged = [
            charge_unchanged(conn, program_serial, window, rates),
            charge_changed(conn, program_serial, window),
        ]
        points, count = _close_day(conn, program_serial, day, rt.now(), charged)
        if program.kind is ProgramKind.PREPAID:
            _settle_prepaid(conn, program, day)
        return DayResult(program_serial, day, points, count, skipped=False)


def _require_previous_day(conn: Connection, program: Program, day: date) -> None:
    """Days are accrued in order: balances, grace and roll-over depend on the days before."""
    if day <= program.start_date:
        return
    previous = conn.execute(
        select(accrual_runs.c.day).where(
            accrual_runs.c.program_serial == program.serial,
            accrual_runs.c.day == day - timedelta(days=1),
        )
    ).first()
    if previous is None:
        raise AccrualNotDue(
            f"{(day - timedelta(days=1)).isoformat()} of program {program.serial} has not been "
            "accrued yet; accrue the days in order (accrue_through does)"
        )


def _claim(conn: Connection, program_serial: str, day: date, now: datetime) -> bool:
    """Insert the day's run row first: a concurrent runner waits on it, then finds it taken."""
    claimed = conn.execute(
        insert_ignoring_conflicts(conn, accrual_runs)
        .values(
            program_serial=program_serial,
            day=day,
            points=Decimal("0"),
            entitlements=0,
            completed_at=now,
        )
        .returning(accrual_runs.c.day)
    ).first()
    return claimed is not None


def _store_config_rates(
    rt: Runtime, conn: Connection, program: Program, window: DayWindow
) -> dict[int, Decimal]:
    """Rate per configuration of the program for the day (R18, R20, R21), stored and returned."""
    book = price_book(conn)
    versions: dict[int, list[ConfigVersion]] = {}
    rows = conn.execute(
        select(
            config_versions.c.config_id,
            config_versions.c.valid_from,
            config_versions.c.parameters,
            configurations.c.product_type_id,
        )
        .join(configurations, configurations.c.id == config_versions.c.config_id)
        .where(
            configurations.c.program_serial == program.serial,
            config_versions.c.valid_from < window.end,
        )
        .order_by(config_versions.c.config_id, config_versions.c.valid_from, config_versions.c.id)
    ).all()
    for config_id, valid_from, parameters, product_type_id in rows:
        versions.setdefault(config_id, []).append(
            ConfigVersion(valid_from, product_type_id, values_from_json(parameters))
        )
    payload: list[dict[str, Any]] = []
    for config_id, history in versions.items():
        rate = day_rate(history, window, lambda p, v: book.rate(p, v, window.day))
        if rate is not None:
            payload.append({"config_id": config_id, "day": window.day, "points": rate})
    if payload:
        conn.execute(insert_ignoring_conflicts(conn, config_day_rates), payload)
    return {int(r["config_id"]): r["points"] for r in payload}


def _close_day(
    conn: Connection, program_serial: str, day: date, now: datetime, charged: list[Charged]
) -> tuple[Decimal, int]:
    known = [c for c in charged if c is not None]
    if len(known) == len(charged):
        count, points = sum(c[0] for c in known), sum((c[1] for c in known), Decimal(0))
    else:
        points, count = conn.execute(
            select(func.coalesce(func.sum(consumption.c.points), 0), func.count()).where(
                consumption.c.program_serial == program_serial, consumption.c.day == day
            )
        ).one()
    total = to_points(points)
    conn.execute(
        update(accrual_runs)
        .where(accrual_runs.c.program_serial == program_serial, accrual_runs.c.day == day)
        .values(points=total, entitlements=int(count), completed_at=now)
    )
    return total, int(count)


def _settle_prepaid(conn: Connection, program: Program, day: date) -> None:
    """Roll-over at an anniversary (R9), then the negative-balance grace flag (R55, R58)."""
    next_day = day + timedelta(days=1)
    if next_day in anniversaries(program.start_date, program.end_date):
        _roll_over(conn, program, next_day)
    balance = _balance_through(conn, program.serial, day)
    if balance < 0 and program.negative_since is None:
        conn.execute(
            update(programs)
            .where(programs.c.serial == program.serial)
            .values(negative_since=next_day)
        )
    elif balance >= 0 and program.negative_since is not None:
        conn.execute(
            update(programs).where(programs.c.serial == program.serial).values(negative_since=None)
        )


def _balance_through(conn: Connection, serial: str, day: date) -> Decimal:
    credited = conn.execute(
        select(func.coalesce(func.sum(point_ledger.c.points), 0)).where(
            point_ledger.c.program_serial == serial, point_ledger.c.day <= day
        )
    ).scalar_one()
    consumed = conn.execute(
        select(func.coalesce(func.sum(accrual_runs.c.points), 0)).where(
            accrual_runs.c.program_serial == serial, accrual_runs.c.day <= day
        )
    ).scalar_one()
    return to_points(Decimal(credited) - Decimal(consumed))


def _roll_over(conn: Connection, program: Program, anniversary: date) -> None:
    starts = [program.start_date, *anniversaries(program.start_date, program.end_date)]
    year_start = starts[starts.index(anniversary) - 1]
    balance = _balance_through(conn, program.serial, anniversary - timedelta(days=1))
    credits = conn.execute(
        select(point_ledger.c.day, point_ledger.c.points).where(
            point_ledger.c.program_serial == program.serial,
            point_ledger.c.day >= year_start,
            point_ledger.c.day < anniversary,
            point_ledger.c.kind == LedgerKind.PACK.value,
        )
    ).all()
    forfeit = rollover_forfeit(balance, year_start, [(d, p) for d, p in credits])
    if forfeit > 0:
        conn.execute(
            insert(point_ledger).values(
                program_serial=program.serial,
                day=anniversary,
                kind=LedgerKind.ROLLOVER_FORFEIT.value,
                points=-forfeit,
                reference=f"rollover {anniversary.isoformat()}",
                note="R9: points held before day 180 of the program year carry over at 50 %",
                created_at=datetime.combine(anniversary, time.min, tzinfo=UTC),
                created_by="system",
            )
        )
