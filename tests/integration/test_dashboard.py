"""The dashboard's figures against the database: balance, month to date, burn rate, days
left, the 90-day series, alerts, and what a member account's user sees (R65)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import func, select

from pointflex.bootstrap import Runtime
from pointflex.clock import ManualClock
from pointflex.domain.burn import AlertKind
from pointflex.domain.money import CENT
from pointflex.domain.programs import ProgramKind
from pointflex.services.context import Actor, read
from pointflex.services.points.dashboard import CHART_DAYS, ProgramDashboard, dashboard
from pointflex.store.tables import consumption, point_ledger
from tests.builders import OPERATOR, world
from tests.history import History, build_history, leave_days_of_points


def consumed(
    rt: Runtime, serial: str, start: date, end: date, accounts: list[int] | None = None
) -> Decimal:
    query = select(func.coalesce(func.sum(consumption.c.points), 0)).where(
        consumption.c.program_serial == serial,
        consumption.c.day >= start,
        consumption.c.day <= end,
    )
    if accounts is not None:
        query = query.where(consumption.c.account_id.in_(accounts))
    with read(rt) as conn:
        return Decimal(conn.execute(query).scalar_one()).quantize(CENT)


def credited(rt: Runtime, serial: str) -> Decimal:
    with read(rt) as conn:
        total = conn.execute(
            select(func.coalesce(func.sum(point_ledger.c.points), 0)).where(
                point_ledger.c.program_serial == serial
            )
        ).scalar_one()
    return Decimal(total).quantize(CENT)


def card(cards: list[ProgramDashboard], serial: str) -> ProgramDashboard:
    return next(c for c in cards if c.serial == serial)


def test_prepaid_figures_match_the_ledger_and_the_consumption(
    rt: Runtime, clock: ManualClock
) -> None:
    h = build_history(rt, clock)
    yesterday = h.today - timedelta(days=1)
    p = card(dashboard(rt, OPERATOR), h.world.prepaid)
    assert p.kind is ProgramKind.PREPAID
    assert p.last_complete == yesterday
    everything = consumed(rt, h.world.prepaid, date(2000, 1, 1), yesterday)
    assert everything > 0
    assert p.balance == credited(rt, h.world.prepaid) - everything
    week = consumed(rt, h.world.prepaid, yesterday - timedelta(days=6), yesterday)
    assert p.burn_per_day == (week / 7).quantize(CENT)
    assert p.days_left == (p.balance / p.burn_per_day).quantize(Decimal("0.1"), ROUND_DOWN)
    month = consumed(rt, h.world.prepaid, h.today.replace(day=1), yesterday)
    assert p.month_to_date == month
    assert p.alerts == []
    assert p.grace == "none"
    assert not p.in_grace


def test_the_chart_holds_ninety_days_ending_yesterday(rt: Runtime, clock: ManualClock) -> None:
    h = build_history(rt, clock)
    yesterday = h.today - timedelta(days=1)
    p = card(dashboard(rt, OPERATOR), h.world.prepaid)
    days = [d for d, _ in p.daily]
    assert len(days) == CHART_DAYS
    assert days[0] == yesterday - timedelta(days=CHART_DAYS - 1)
    assert days[-1] == yesterday
    assert days == sorted(set(days))
    assert p.chart_total == consumed(rt, h.world.prepaid, days[0], yesterday)
    for day, points in p.daily[-10:]:
        assert points == consumed(rt, h.world.prepaid, day, day)


def test_postpaid_shows_month_to_date_and_burn_but_no_balance(
    rt: Runtime, clock: ManualClock
) -> None:
    h = build_history(rt, clock)
    yesterday = h.today - timedelta(days=1)
    p = card(dashboard(rt, OPERATOR), h.world.postpaid)
    assert p.kind is ProgramKind.POSTPAID
    assert p.balance is None
    assert p.days_left is None
    assert p.month_to_date == consumed(rt, h.world.postpaid, h.today.replace(day=1), yesterday)
    week = consumed(rt, h.world.postpaid, yesterday - timedelta(days=6), yesterday)
    assert p.burn_per_day == (week / 7).quantize(CENT) > 0


def test_a_member_account_user_sees_only_its_own_consumption_R65(
    rt: Runtime, clock: ManualClock
) -> None:
    h = build_history(rt, clock)
    yesterday = h.today - timedelta(days=1)
    member = Actor("member", frozenset({h.world.member}))
    cards = dashboard(rt, member)
    assert {c.serial for c in cards} == {h.world.prepaid, h.world.postpaid}
    p = card(cards, h.world.prepaid)
    start = yesterday - timedelta(days=CHART_DAYS - 1)
    own = consumed(rt, h.world.prepaid, start, yesterday, [h.world.member])
    assert 0 < own < consumed(rt, h.world.prepaid, start, yesterday)
    assert p.chart_total == own
    week = consumed(rt, h.world.prepaid, yesterday - timedelta(days=6), yesterday, [h.world.member])
    assert p.burn_per_day == (week / 7).quantize(CENT)
    # The balance is the program's, as programs/points shows it to anyone who sees the program.
    assert p.balance == card(dashboard(rt, OPERATOR), h.world.prepaid).balance


def test_other_organisations_see_none_of_it_R63(rt: Runtime, clock: ManualClock) -> None:
    build_history(rt, clock, days=10)
    other = world(rt)
    stranger = Actor("stranger", frozenset({other.root, other.member}))
    assert {c.serial for c in dashboard(rt, stranger)} == {other.prepaid, other.postpaid}


def test_low_and_negative_balances_raise_alerts(rt: Runtime, clock: ManualClock) -> None:
    h: History = build_history(rt, clock)
    burn = card(dashboard(rt, OPERATOR), h.world.prepaid).burn_per_day
    leave_days_of_points(rt, h.world.prepaid, 12, burn)
    p = card(dashboard(rt, OPERATOR), h.world.prepaid)
    assert p.days_left is not None
    assert Decimal(11) <= p.days_left <= Decimal(12)
    assert [a.kind for a in p.alerts] == [AlertKind.LOW_BALANCE]
    leave_days_of_points(rt, h.world.prepaid, -3, burn)
    p = card(dashboard(rt, OPERATOR), h.world.prepaid)
    assert p.balance is not None
    assert p.balance < 0
    assert p.days_left == Decimal("0.0")
    assert [a.kind for a in p.alerts] == [AlertKind.NEGATIVE]


def test_a_program_ending_soon_is_announced(rt: Runtime, clock: ManualClock) -> None:
    h = build_history(rt, clock, days=20, ends_in_days=10)
    for serial in (h.world.prepaid, h.world.postpaid):
        p = card(dashboard(rt, OPERATOR), serial)
        assert AlertKind.ENDING in [a.kind for a in p.alerts]


def test_a_new_program_without_charged_days_shows_zeros(rt: Runtime) -> None:
    w = world(rt, start=date(2026, 3, 2), end=date(2027, 3, 2))
    p = card(dashboard(rt, OPERATOR), w.prepaid)
    assert p.last_complete is None
    assert p.burn_per_day == 0
    assert p.days_left is None
    assert p.balance == 0
    assert p.chart_total == 0
    assert len(p.daily) == CHART_DAYS
