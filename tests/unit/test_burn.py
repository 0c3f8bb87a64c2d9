"""The dashboard's arithmetic: burn rate, days of points left, grace wording and alerts."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from pointflex.domain.burn import (
    AlertKind,
    ProgramFacts,
    alerts,
    burn_rate,
    daily_series,
    days_left,
    grace_label,
)
from pointflex.domain.programs import GraceState, ProgramKind

D = Decimal
MAR_1 = date(2026, 3, 1)
NO_GRACE = GraceState(negative=False, program_expired=False, suspended=False)


def by_day(start: date, values: list[str]) -> dict[date, Decimal]:
    return {start + timedelta(days=i): D(v) for i, v in enumerate(values)}


def test_burn_rate_is_the_average_of_the_last_seven_complete_days() -> None:
    points = by_day(date(2026, 2, 20), ["1000", "7", "7", "7", "7", "14", "14", "14", "0"])
    # The last complete day is 2026-02-27 (the 8th value): 7, 7, 7, 7, 14, 14, 14 → 70 / 7.
    assert burn_rate(points, date(2026, 2, 27), date(2026, 1, 1)) == D("10.00")


def test_days_without_a_charge_count_as_zero_in_the_average() -> None:
    points = {MAR_1: D("70")}
    assert burn_rate(points, MAR_1, date(2026, 1, 1)) == D("10.00")


def test_a_program_younger_than_the_window_averages_over_its_own_days() -> None:
    points = by_day(date(2026, 2, 27), ["9", "9", "12"])
    assert burn_rate(points, MAR_1, date(2026, 2, 27)) == D("10.00")


def test_no_day_charged_yet_means_no_burn() -> None:
    assert burn_rate({}, None, date(2026, 1, 1)) == D("0.00")
    assert burn_rate({}, date(2025, 12, 31), date(2026, 1, 1)) == D("0.00")


def test_burn_rate_rounds_to_the_cent() -> None:
    week = by_day(date(2026, 2, 23), ["10"] * 6 + ["11"])
    assert burn_rate(week, MAR_1, date(2026, 1, 1)) == D("10.14")
    assert burn_rate({MAR_1: D("10")}, MAR_1, date(2026, 1, 1)) == D("1.43")


@pytest.mark.parametrize(
    ("balance", "burn", "left"),
    [
        ("1000", "30", "33.3"),
        ("1000", "0", None),
        ("0", "30", "0.0"),
        ("-50", "30", "0.0"),
        ("29.99", "1", "29.9"),
    ],
)
def test_days_left_is_the_balance_over_the_burn_rounded_down(
    balance: str, burn: str, left: str | None
) -> None:
    assert days_left(D(balance), D(burn)) == (None if left is None else D(left))


def test_daily_series_fills_missing_days_with_zero() -> None:
    series = daily_series({date(2026, 2, 27): D("5")}, date(2026, 2, 26), date(2026, 2, 28))
    assert series == [
        (date(2026, 2, 26), D("0.00")),
        (date(2026, 2, 27), D("5")),
        (date(2026, 2, 28), D("0.00")),
    ]
    assert daily_series({}, MAR_1, MAR_1 - timedelta(days=1)) == []


def facts(**overrides: object) -> ProgramFacts:
    values: dict[str, object] = {
        "kind": ProgramKind.PREPAID,
        "balance": D("10000"),
        "days_left": D("200"),
        "grace": NO_GRACE,
        "negative_since": None,
        "end_date": date(2027, 1, 1),
        "today": date(2026, 3, 2),
        "program_grace_days": 30,
        "negative_grace_days": 90,
        **overrides,
    }
    return ProgramFacts(**values)  # type: ignore[arg-type]


def kinds(f: ProgramFacts) -> list[AlertKind]:
    return [a.kind for a in alerts(f)]


def test_a_healthy_program_has_no_alert() -> None:
    assert alerts(facts()) == []
    assert grace_label(facts()) == "none"


def test_low_balance_below_thirty_days_of_burn() -> None:
    assert kinds(facts(days_left=D("29.9"))) == [AlertKind.LOW_BALANCE]
    assert kinds(facts(days_left=D("30.0"))) == []
    assert "about 12 days" in alerts(facts(days_left=D("12.7")))[0].message


def test_negative_balance_in_grace_since_the_daily_run_flagged_it_R55() -> None:
    grace = GraceState(negative=True, program_expired=False, suspended=False)
    f = facts(balance=D("-120.50"), days_left=D("0"), grace=grace, negative_since=MAR_1)
    assert kinds(f) == [AlertKind.NEGATIVE, AlertKind.IN_GRACE]
    assert "-120.50" in alerts(f)[0].message
    assert grace_label(f) == "negative balance since 2026-03-01, suspension on 2026-05-30"


def test_negative_balance_before_the_daily_run_is_already_an_alert() -> None:
    assert kinds(facts(balance=D("-1"), days_left=D("0"))) == [AlertKind.NEGATIVE]


def test_suspension_after_ninety_days_negative_P7() -> None:
    grace = GraceState(negative=True, program_expired=False, suspended=True)
    f = facts(balance=D("-5"), days_left=D("0"), grace=grace, negative_since=date(2025, 12, 1))
    assert kinds(f) == [AlertKind.SUSPENDED, AlertKind.NEGATIVE]
    assert grace_label(f).startswith("suspended")


def test_program_ending_within_thirty_days_is_announced() -> None:
    assert kinds(facts(end_date=date(2026, 4, 1))) == [AlertKind.ENDING]
    assert "in 30 days" in alerts(facts(end_date=date(2026, 4, 1)))[0].message
    assert kinds(facts(end_date=date(2026, 4, 2))) == []


def test_an_ended_program_is_in_grace_with_its_expiry_date_R57() -> None:
    grace = GraceState(negative=False, program_expired=True, suspended=False)
    f = facts(grace=grace, end_date=date(2026, 2, 20))
    assert kinds(f) == [AlertKind.IN_GRACE]
    assert grace_label(f) == "program ended 2026-02-20, entitlements expire 2026-03-22"


def test_postpaid_programs_have_no_balance_alerts() -> None:
    f = facts(kind=ProgramKind.POSTPAID, balance=None, days_left=None)
    assert alerts(f) == []
