"""Forecasts: days of points left, the zero date and the shortfall to the program end.

Set-based: whatever the number of programs, a forecast reads a handful of aggregate queries
(balances, recent daily totals, the charged population grouped by program, configuration and
end instant, scheduled activations grouped likewise, the configurations' parameters) and
hands each program's groups to the pure projection (domain/forecast.py).

The forecast is about a program's balance, so it covers the whole program even for a user who
sees only some of its organisation's accounts (like the dashboard's balance).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, and_, case, func, not_, null, select, true
from sqlalchemy.sql.elements import ColumnElement

from pointflex.bootstrap import Runtime
from pointflex.domain import burn
from pointflex.domain import forecast as fc
from pointflex.domain.dates import day_start, local_day
from pointflex.domain.entitlements import Status, TerminationMode
from pointflex.domain.money import to_points
from pointflex.domain.pricing import PriceBook
from pointflex.domain.programs import Program, ProgramKind
from pointflex.services.context import Actor, read
from pointflex.services.points.prices import price_book
from pointflex.services.points.programs import visible_program, visible_programs
from pointflex.store.queries.configs import values_from_json
from pointflex.store.tables import (
    accrual_runs,
    configurations,
    entitlements,
    point_ledger,
    scheduled_activations,
)

E = entitlements
SA = scheduled_activations
SCHEDULED = "SCHEDULED"


@dataclass(frozen=True)
class Forecast:
    program_serial: str
    kind: ProgramKind
    account_id: int
    start_date: date
    end_date: date
    today: date
    last_complete: date | None  # the balance and the observed burn are as of this day's end
    balance: Decimal | None  # prepaid only
    month_to_date: Decimal  # charged this month through last_complete
    charged: int  # entitlements charged today (ACTIVE as shown)
    scheduled: int  # hardware activations still to come
    projection: fc.Projection

    @property
    def burn_today(self) -> Decimal:
        return self.projection.burn_today

    @property
    def days_left(self) -> Decimal | None:
        return self.projection.days_left

    @property
    def zero_date(self) -> date | None:
        return self.projection.zero_date

    @property
    def shortfall(self) -> Decimal | None:
        return self.projection.shortfall

    @property
    def month_total(self) -> Decimal:
        """This month's consumption: charged so far plus the projection of its other days."""
        return self.month_to_date + self.projection.to_month_end

    def to_json(self) -> dict[str, Any]:
        p = self.projection

        def money(value: Decimal | None) -> str | None:
            return None if value is None else f"{value:.2f}"

        return {
            "programSerialNumber": self.program_serial,
            "kind": self.kind.value,
            "accountId": self.account_id,
            "startDate": self.start_date.isoformat(),
            "endDate": self.end_date.isoformat(),
            "today": self.today.isoformat(),
            "lastCharged": None if self.last_complete is None else self.last_complete.isoformat(),
            "balance": money(self.balance),
            "chargedEntitlements": self.charged,
            "scheduledActivations": self.scheduled,
            "burnPerDay": money(p.burn_today),
            "observedBurnPerDay": money(p.observed_burn),
            "daysLeft": None if p.days_left is None else str(p.days_left),
            "zeroDate": None if p.zero_date is None else p.zero_date.isoformat(),
            "shortfallToEnd": money(p.shortfall),
            "monthToDate": money(self.month_to_date),
            "projectedRestOfMonth": money(p.to_month_end),
            "projectedMonthTotal": money(self.month_total),
            "projectedToEnd": money(p.to_end),
            "projectedUntil": p.walk_end.isoformat(),
            "horizonCapped": p.capped,
        }


def forecast(rt: Runtime, actor: Actor, program_serial: str) -> Forecast:
    """The forecast of one program the actor sees."""
    with read(rt) as conn:
        program = visible_program(conn, actor, program_serial.strip().upper())
        return _forecasts(rt, conn, [program], whole=False)[0]


def forecast_all(rt: Runtime, actor: Actor) -> list[Forecast]:
    """The forecast of every program the actor sees, in serial order."""
    with read(rt) as conn:
        found = visible_programs(conn, actor)
        return _forecasts(rt, conn, found, whole=actor.account_ids is None)


def _forecasts(
    rt: Runtime, conn: Connection, found: list[Program], *, whole: bool
) -> list[Forecast]:
    """``whole``: the programs are every program, so no query needs a program filter."""
    if not found:
        return []
    now = rt.now()
    serials = [p.serial for p in found]

    def only(column: Any) -> ColumnElement[bool]:
        return true() if whole else column.in_(serials)

    todays = {p.serial: local_day(now, p.timezone) for p in found}
    credited = dict(
        conn.execute(
            select(point_ledger.c.program_serial, func.sum(point_ledger.c.points))
            .where(only(point_ledger.c.program_serial))
            .group_by(point_ledger.c.program_serial)
        ).all()
    )
    runs = conn.execute(
        select(
            accrual_runs.c.program_serial,
            func.sum(accrual_runs.c.points),
            func.max(accrual_runs.c.day),
        )
        .where(only(accrual_runs.c.program_serial))
        .group_by(accrual_runs.c.program_serial)
    ).all()
    consumed = {r[0]: Decimal(r[1]) for r in runs}
    last = {r[0]: r[2] for r in runs}
    recent = _recent_days(conn, found, todays, last, only)
    population = _population(conn, now, only)
    scheduled = _scheduled(conn, only)
    book = price_book(conn)
    config_ids = {g.config_id for gs in (*population.values(), *scheduled.values()) for g in gs}
    rates = _rates(conn, book, config_ids)
    result: list[Forecast] = []
    for p in found:
        balance = None
        if p.kind is ProgramKind.PREPAID:
            balance = to_points(Decimal(credited.get(p.serial, 0)) - consumed.get(p.serial, 0))
        result.append(
            _one(
                p,
                todays[p.serial],
                last.get(p.serial),
                balance,
                by_day=recent.get(p.serial, {}),
                running=population.get(p.serial, []),
                planned=scheduled.get(p.serial, []),
                rates=rates,
            )
        )
    return result


def _one(
    p: Program,
    today: date,
    last: date | None,
    balance: Decimal | None,
    *,
    by_day: dict[date, Decimal],
    running: list[_Row],
    planned: list[_Row],
    rates: dict[int, fc.RateSchedule],
) -> Forecast:
    first_day = p.start_date if last is None else last + timedelta(days=1)
    groups = [
        fc.Group(r.config_id, r.count, first_day, _stop_day(r.end_at, p.timezone)) for r in running
    ] + [fc.Group(r.config_id, r.count, r.first or first_day, r.stop) for r in planned]
    situation = fc.Situation(
        kind=p.kind,
        today=today,
        first_day=first_day,
        program_end=p.end_date,
        balance=balance,
        observed_burn=burn.burn_rate(by_day, last, p.start_date),
        groups=groups,
        rates=rates,
    )
    month_start = today.replace(day=1)
    month = sum((v for d, v in by_day.items() if d >= month_start), burn.ZERO)
    return Forecast(
        program_serial=p.serial,
        kind=p.kind,
        account_id=p.account_id,
        start_date=p.start_date,
        end_date=p.end_date,
        today=today,
        last_complete=last,
        balance=balance,
        month_to_date=to_points(month),
        charged=sum(r.count for r in running),
        scheduled=sum(r.count for r in planned),
        projection=fc.project(situation),
    )


def _recent_days(
    conn: Connection,
    found: list[Program],
    todays: dict[str, date],
    last: dict[str, date],
    only: Any,
) -> dict[str, dict[date, Decimal]]:
    """Daily totals for the burn window and the current month of every program: one query."""
    starts = [todays[p.serial].replace(day=1) for p in found]
    starts += [d - timedelta(days=burn.BURN_WINDOW_DAYS - 1) for d in last.values()]
    rows = conn.execute(
        select(accrual_runs.c.program_serial, accrual_runs.c.day, accrual_runs.c.points).where(
            only(accrual_runs.c.program_serial), accrual_runs.c.day >= min(starts)
        )
    ).all()
    found_days: dict[str, dict[date, Decimal]] = defaultdict(dict)
    for serial, day, points in rows:
        found_days[serial][day] = to_points(points)
    return found_days


@dataclass(frozen=True)
class _Row:
    config_id: int
    count: int
    end_at: datetime | None = None  # running: a User Defined end instant
    first: date | None = None  # scheduled: the start date
    stop: date | None = None  # scheduled: the end date (not charged, P11)


def _population(conn: Connection, now: datetime, only: Any) -> dict[str, list[_Row]]:
    """Entitlements charged today, ACTIVE as shown (P11: a passed end instant is EXPIRED even
    before the expiry job ran), grouped by program, configuration and User Defined end."""
    user_defined = E.c.termination_mode == TerminationMode.USER_DEFINED.value
    end = case((user_defined, E.c.end_at), else_=null()).label("end")
    rows = conn.execute(
        select(E.c.program_serial, E.c.config_id, end, func.count().label("n"))
        .where(
            only(E.c.program_serial),
            E.c.status == Status.ACTIVE.value,
            not_(and_(user_defined, E.c.end_at <= now)),
        )
        .group_by(E.c.program_serial, E.c.config_id, end)
    ).all()
    grouped: dict[str, list[_Row]] = defaultdict(list)
    for serial, config_id, end_at, n in rows:
        grouped[serial].append(_Row(int(config_id), int(n), end_at=end_at))
    return grouped


def _scheduled(conn: Connection, only: Any) -> dict[str, list[_Row]]:
    """Hardware serials to be created on a future start date, grouped likewise."""
    rows = conn.execute(
        select(SA.c.program_serial, SA.c.config_id, SA.c.start_date, SA.c.end_date, func.count())
        .where(only(SA.c.program_serial), SA.c.state == SCHEDULED)
        .group_by(SA.c.program_serial, SA.c.config_id, SA.c.start_date, SA.c.end_date)
    ).all()
    grouped: dict[str, list[_Row]] = defaultdict(list)
    for serial, config_id, first, stop, n in rows:
        grouped[serial].append(_Row(int(config_id), int(n), first=first, stop=stop))
    return grouped


def _rates(conn: Connection, book: PriceBook, ids: Iterable[int]) -> dict[int, fc.RateSchedule]:
    """Each configuration's rate under every dated price list (R20, R21): its step function."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(
        select(
            configurations.c.id, configurations.c.product_type_id, configurations.c.parameters
        ).where(configurations.c.id.in_(wanted))
    ).all()
    schedules: dict[int, fc.RateSchedule] = {}
    for config_id, product, parameters in rows:
        values = values_from_json(parameters)
        book.catalog.product(product)
        steps = [
            (date.min if index == 0 else pl.effective, pl.rate(product, values))
            for index, pl in enumerate(book.lists)
        ]
        schedules[int(config_id)] = fc.RateSchedule.of(steps)
    return schedules


def _stop_day(end_at: datetime | None, tz: str) -> date | None:
    """The first day no longer charged: a day is charged if any moment of it is before the end
    instant, so an end at 00:00 stops on that day and one later in a day on the next."""
    if end_at is None:
        return None
    return _stop_cached(end_at, tz)


@lru_cache(maxsize=4096)
def _stop_cached(end_at: datetime, tz: str) -> date:
    day = local_day(end_at, tz)
    return day if day_start(day, tz) == end_at else day + timedelta(days=1)
