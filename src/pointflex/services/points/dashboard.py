"""The portal's dashboard: per visible program, its balance or month-to-date use, burn rate,
days of points left, grace status, alerts, and points per day for the chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Connection, func, select

from pointflex.bootstrap import Runtime
from pointflex.domain import burn
from pointflex.domain.dates import local_day
from pointflex.domain.money import to_points
from pointflex.domain.programs import Program, ProgramKind
from pointflex.services.access.accounts import get_account, organization_accounts
from pointflex.services.context import Actor, read
from pointflex.services.points.programs import list_programs
from pointflex.store.tables import accrual_runs, consumption
from pointflex.store.unit_of_work import on_connection

CHART_DAYS = 90


@dataclass(frozen=True)
class ProgramDashboard:
    serial: str
    kind: ProgramKind
    account_id: int
    account_name: str
    start_date: date
    end_date: date
    balance: Decimal | None  # prepaid only (R4)
    month_to_date: Decimal  # points charged this month, through ``last_complete``
    burn_per_day: Decimal
    days_left: Decimal | None  # prepaid with a burn only
    grace: str
    in_grace: bool
    alerts: list[burn.Alert]
    last_complete: date | None  # the latest day charged: the figures are as of its end
    daily: list[tuple[date, Decimal]]  # CHART_DAYS days ending yesterday

    @property
    def chart_total(self) -> Decimal:
        return sum((points for _, points in self.daily), burn.ZERO)


def dashboard(rt: Runtime, actor: Actor) -> list[ProgramDashboard]:
    """The dashboard of every program the actor sees."""
    visible = list_programs(rt, actor)
    with read(rt) as conn:
        return [_program_dashboard(rt, conn, actor, program) for program in visible]


def _program_dashboard(
    rt: Runtime, conn: Connection, actor: Actor, program: Program
) -> ProgramDashboard:
    now = rt.now()
    today = local_day(now, program.timezone)
    yesterday = today - timedelta(days=1)
    last = _last_complete(conn, program.serial, yesterday)
    chart_start = yesterday - timedelta(days=CHART_DAYS - 1)
    start = chart_start if last is None else min(chart_start, last - timedelta(days=6))
    by_day = _points_by_day(conn, actor, program, start, yesterday)
    month_start = today.replace(day=1)
    month = sum((p for d, p in by_day.items() if month_start <= d <= yesterday), burn.ZERO)
    rate = burn.burn_rate(by_day, last, program.start_date)
    prepaid = program.kind is ProgramKind.PREPAID
    balance = on_connection(conn).programs.balance(program.serial) if prepaid else None
    left = None if balance is None else burn.days_left(balance, rate)
    negative_grace = rt.settings.negative_grace_days
    facts = burn.ProgramFacts(
        kind=program.kind,
        balance=balance,
        days_left=left,
        grace=program.grace(now, timedelta(days=negative_grace)),
        negative_since=program.negative_since,
        end_date=program.end_date,
        today=today,
        program_grace_days=rt.settings.program_grace_days,
        negative_grace_days=negative_grace,
    )
    return ProgramDashboard(
        serial=program.serial,
        kind=program.kind,
        account_id=program.account_id,
        account_name=get_account(conn, program.account_id).name,
        start_date=program.start_date,
        end_date=program.end_date,
        balance=balance,
        month_to_date=month,
        burn_per_day=rate,
        days_left=left,
        grace=burn.grace_label(facts),
        in_grace=facts.grace.in_grace,
        alerts=burn.alerts(facts),
        last_complete=last,
        daily=burn.daily_series(by_day, chart_start, yesterday),
    )


def _last_complete(conn: Connection, serial: str, yesterday: date) -> date | None:
    found: date | None = conn.execute(
        select(func.max(accrual_runs.c.day)).where(
            accrual_runs.c.program_serial == serial, accrual_runs.c.day <= yesterday
        )
    ).scalar()
    return found


def _points_by_day(
    conn: Connection, actor: Actor, program: Program, start: date, end: date
) -> dict[date, Decimal]:
    """Points charged per day to the accounts of the program the actor sees.

    An actor who sees the whole organisation reads the per-day totals of the accrual
    (``accrual_runs``: one row a day); one scoped to some member accounts only sums their own
    consumption rows (R65), which costs a scan of the program's days.
    """
    org = get_account(conn, program.account_id).organization_id
    members = set(organization_accounts(conn, org))
    if actor.account_ids is None or members <= actor.account_ids:
        rows = conn.execute(
            select(accrual_runs.c.day, accrual_runs.c.points).where(
                accrual_runs.c.program_serial == program.serial,
                accrual_runs.c.day >= start,
                accrual_runs.c.day <= end,
            )
        ).all()
    else:
        c = consumption.c
        rows = conn.execute(
            select(c.day, func.sum(c.points))
            .where(
                c.program_serial == program.serial,
                c.day >= start,
                c.day <= end,
                c.account_id.in_(sorted(members & actor.account_ids)),
            )
            .group_by(c.day)
        ).all()
    return {day: to_points(points) for day, points in rows}
