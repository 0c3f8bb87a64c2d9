"""The pure forecast projection (domain/forecast.py): change points, zero date, shortfall."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from pointflex.domain.forecast import (
    Group,
    RateSchedule,
    Segment,
    Situation,
    cost_between,
    project,
    run_out,
    segments,
)
from pointflex.domain.programs import ProgramKind

TODAY = date(2026, 3, 10)
END = date(2027, 1, 1)
A, B = 1, 2
FLAT = {A: RateSchedule.flat(Decimal("6.39")), B: RateSchedule.flat(Decimal("12.91"))}


def situation(
    groups: list[Group],
    *,
    balance: Decimal | None = Decimal("1000.00"),
    rates: dict[int, RateSchedule] | None = None,
    kind: ProgramKind = ProgramKind.PREPAID,
    end: date = END,
    horizon: int = 3 * 365,
) -> Situation:
    return Situation(
        kind=kind,
        today=TODAY,
        first_day=TODAY,
        program_end=end,
        balance=balance,
        observed_burn=Decimal("5.00"),
        groups=groups,
        rates=rates or FLAT,
        horizon_days=horizon,
    )


def cost_on(found: list[Segment], day: date) -> Decimal:
    return next(s.per_day for s in found if s.first <= day < s.stop)


def test_an_end_date_lowers_the_burn_from_that_day_on() -> None:
    stop = TODAY + timedelta(days=5)
    found = segments(situation([Group(A, 3, TODAY), Group(A, 2, TODAY, stop)]))
    assert cost_on(found, stop - timedelta(days=1)) == Decimal("6.39") * 5
    assert cost_on(found, stop) == Decimal("6.39") * 3
    assert found[-1].stop == END


def test_a_future_price_version_changes_the_rate_from_its_effective_date() -> None:
    effective = date(2026, 4, 1)
    rates = {
        A: RateSchedule.of([(date.min, Decimal("6.39")), (effective, Decimal("7.00"))]),
        B: FLAT[B],
    }
    found = segments(situation([Group(A, 4, TODAY), Group(B, 1, TODAY)], rates=rates))
    assert cost_on(found, date(2026, 3, 31)) == Decimal("6.39") * 4 + Decimal("12.91")
    assert cost_on(found, effective) == Decimal("7.00") * 4 + Decimal("12.91")


def test_a_scheduled_activation_adds_its_cost_from_its_start_date() -> None:
    start = TODAY + timedelta(days=20)
    found = segments(situation([Group(A, 1, TODAY), Group(B, 2, start)]))
    assert cost_on(found, start - timedelta(days=1)) == Decimal("6.39")
    assert cost_on(found, start) == Decimal("6.39") + 2 * Decimal("12.91")


def test_the_zero_date_is_exact_to_the_day() -> None:
    # 100 points at 10 a day: days 0..9 leave 90, 80, ..., 0: the tenth day empties it.
    rates = {A: RateSchedule.flat(Decimal("10.00"))}
    exact = project(situation([Group(A, 1, TODAY)], balance=Decimal("100.00"), rates=rates))
    assert exact.zero_date == TODAY + timedelta(days=9)
    assert exact.days_left == Decimal("10.0")
    # 105 points: the eleventh day takes it to -5.
    over = project(situation([Group(A, 1, TODAY)], balance=Decimal("105.00"), rates=rates))
    assert over.zero_date == TODAY + timedelta(days=10)
    assert over.days_left == Decimal("10.5")


def test_the_zero_date_accounts_for_a_cheaper_stretch_after_an_end_date() -> None:
    rates = {A: RateSchedule.flat(Decimal("10.00"))}
    stop = TODAY + timedelta(days=5)  # 2 a day for 5 days (100), then 1 a day
    groups = [Group(A, 1, TODAY), Group(A, 1, TODAY, stop)]
    found = project(situation(groups, balance=Decimal("130.00"), rates=rates))
    # 100 spent by the end of day 4; 30 more lasts days 5, 6, 7: day 7 empties it.
    assert found.zero_date == TODAY + timedelta(days=7)
    assert found.days_left == Decimal("8.0")


def test_a_balance_that_outlasts_the_program_never_reaches_zero() -> None:
    found = project(situation([Group(A, 1, TODAY)], balance=Decimal("1000000.00")))
    assert found.zero_date is None
    assert found.days_left is None
    assert found.shortfall == Decimal("0.00")
    assert found.to_end == Decimal("6.39") * (END - TODAY).days


def test_the_shortfall_is_what_is_missing_to_reach_the_program_end() -> None:
    found = project(situation([Group(B, 1, TODAY)], balance=Decimal("1000.00")))
    needed = Decimal("12.91") * (END - TODAY).days
    assert found.shortfall == needed - Decimal("1000.00")
    assert found.burn_today == Decimal("12.91")


def test_a_negative_balance_is_already_at_zero() -> None:
    found = project(situation([Group(A, 1, TODAY)], balance=Decimal("-5.00")))
    assert found.zero_date == TODAY
    assert found.days_left == Decimal("0.0")


def test_the_program_end_stops_the_walk() -> None:
    end = TODAY + timedelta(days=30)
    found = project(situation([Group(A, 1, TODAY), Group(B, 1, end + timedelta(days=3))], end=end))
    assert found.walk_end == end
    assert not found.capped
    assert found.segments[-1].stop == end
    assert found.to_end == Decimal("6.39") * 30  # the activation after the end costs nothing


def test_the_horizon_caps_a_long_program() -> None:
    found = project(situation([Group(A, 1, TODAY)], end=date(2040, 1, 1), horizon=100))
    assert found.capped
    assert found.walk_end == TODAY + timedelta(days=100)
    assert found.to_end == Decimal("6.39") * 100


def test_postpaid_projects_the_month_and_the_term_without_a_zero_date() -> None:
    found = project(situation([Group(A, 2, TODAY)], balance=None, kind=ProgramKind.POSTPAID))
    assert found.zero_date is None
    assert found.days_left is None
    assert found.shortfall is None
    # 10 March to 31 March inclusive: 22 days.
    assert found.to_month_end == Decimal("6.39") * 2 * 22
    assert found.to_end == Decimal("6.39") * 2 * (END - TODAY).days


def test_nothing_running_costs_nothing() -> None:
    found = project(situation([]))
    assert found.burn_today == Decimal("0.00")
    assert found.zero_date is None
    assert found.shortfall == Decimal("0.00")


def test_segments_are_few_however_long_the_walk() -> None:
    groups = [Group(A, 1, TODAY, TODAY + timedelta(days=n)) for n in range(1, 200, 50)]
    found = segments(situation(groups, end=date(2029, 1, 1)))
    assert len(found) == 5  # four stops, then nothing running
    assert found[-1].per_day == Decimal("0")


def test_a_rate_schedule_needs_at_least_one_rate() -> None:
    with pytest.raises(ValueError, match="at least one rate"):
        RateSchedule.of([])


def test_a_rate_schedule_is_ordered_and_its_first_rate_covers_earlier_days() -> None:
    later, earlier = date(2026, 6, 1), date(2026, 4, 1)
    rates = RateSchedule.of([(later, Decimal("8.00")), (earlier, Decimal("7.00"))])
    assert rates.starts == (earlier, later)
    assert rates.on(date(2026, 1, 1)) == Decimal("7.00")
    assert rates.on(earlier) == Decimal("7.00")
    assert rates.on(later) == Decimal("8.00")


def test_a_segment_costs_only_its_days_before_the_given_day() -> None:
    seg = Segment(TODAY, TODAY + timedelta(days=10), Decimal("2.50"))
    assert seg.days == 10
    assert seg.cost_until(TODAY - timedelta(days=3)) == Decimal("0")  # before it starts
    assert seg.cost_until(TODAY + timedelta(days=4)) == Decimal("2.50") * 4
    assert seg.cost_until(TODAY + timedelta(days=40)) == Decimal("2.50") * 10  # past its stop


def test_a_program_that_has_ended_projects_nothing() -> None:
    ended = situation([Group(A, 3, TODAY)], end=TODAY)
    assert segments(ended) == []
    found = project(ended)
    assert found.segments == ()
    assert found.burn_today == Decimal("0.00")
    assert found.to_end == Decimal("0.00")
    assert found.to_month_end == Decimal("0.00")
    # Nothing left to charge: the balance never runs out and nothing is missing.
    assert found.zero_date is None
    assert found.days_left is None
    assert found.shortfall == Decimal("0.00")


def test_nothing_runs_out_before_the_first_segment() -> None:
    assert run_out(Decimal("10.00"), []) is None
    assert run_out(Decimal("-1.00"), []) is None


def test_a_change_that_leaves_the_daily_cost_unchanged_does_not_split_the_segment() -> None:
    # One entitlement ends the day another of the same configuration starts.
    swap = TODAY + timedelta(days=7)
    found = segments(situation([Group(A, 1, TODAY, swap), Group(A, 1, swap)]))
    assert found == [Segment(TODAY, END, Decimal("6.39"))]


def test_a_price_change_of_a_configuration_not_yet_running_does_not_split_the_segment() -> None:
    effective, start = TODAY + timedelta(days=3), TODAY + timedelta(days=10)
    rates = {
        A: FLAT[A],
        B: RateSchedule.of([(date.min, Decimal("12.91")), (effective, Decimal("14.00"))]),
    }
    found = segments(situation([Group(A, 1, TODAY), Group(B, 1, start)], rates=rates))
    assert found == [
        Segment(TODAY, start, Decimal("6.39")),
        Segment(start, END, Decimal("6.39") + Decimal("14.00")),
    ]


def test_the_month_projection_leaves_out_what_starts_after_the_month() -> None:
    start = date(2026, 4, 15)
    found = project(situation([Group(A, 1, TODAY), Group(B, 1, start)]))
    assert found.to_month_end == Decimal("6.39") * 22  # 10 to 31 March
    assert (
        found.to_end == Decimal("6.39") * (END - TODAY).days + Decimal("12.91") * (END - start).days
    )


def test_the_cost_between_two_days_counts_only_the_segments_inside() -> None:
    found = [
        Segment(TODAY, TODAY + timedelta(days=5), Decimal("1.00")),
        Segment(TODAY + timedelta(days=5), TODAY + timedelta(days=10), Decimal("3.00")),
    ]
    assert cost_between(found, TODAY, TODAY + timedelta(days=5)) == Decimal("5.00")
    assert cost_between(found, TODAY + timedelta(days=4), TODAY + timedelta(days=6)) == Decimal(
        "4.00"
    )
    assert cost_between(found, TODAY + timedelta(days=10), TODAY + timedelta(days=20)) == 0
