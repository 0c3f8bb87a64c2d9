"""Programs: serials, point packs, terms, grace periods, anniversaries and roll-over.

R6, R7, R9, R55–R57, P7, P10.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pointflex.domain.dates import PACIFIC, day_start
from pointflex.domain.programs import (
    PACK_SIZES,
    ROLLOVER_LATE_DAY,
    SERIAL_PREFIX,
    GraceState,
    Program,
    ProgramKind,
    anniversaries,
    check_pack_size,
    check_program_serial,
    check_term,
    end_instant,
    grace_state,
    new_program_serial,
    rollover_forfeit,
)
from pointflex.errors import InvalidInput

YEAR_START = date(2026, 3, 2)
DAY_180 = YEAR_START + timedelta(days=ROLLOVER_LATE_DAY - 1)  # day 1 is YEAR_START itself
NEGATIVE_GRACE = timedelta(days=90)
PROGRAM_END = end_instant(date(2027, 3, 2), PACIFIC)
NOW = datetime(2026, 6, 1, 18, 0, tzinfo=UTC)


def d(text: str) -> Decimal:
    return Decimal(text)


# --- program serials (R6, P10) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "prefix"), [(ProgramKind.PREPAID, "ELAVMR"), (ProgramKind.POSTPAID, "ELAVMS")]
)
def test_new_program_serial_is_prefix_and_ten_digits_P10(kind: ProgramKind, prefix: str) -> None:
    serial = new_program_serial(kind)
    assert len(serial) == 16
    assert serial.startswith(prefix)
    assert SERIAL_PREFIX[kind] == prefix
    assert serial[6:].isdigit()
    assert serial[6:].isascii()
    check_program_serial(serial)


def test_new_program_serials_are_random_P10() -> None:
    serials = {new_program_serial(ProgramKind.PREPAID) for _ in range(200)}
    assert len(serials) == 200
    # every digit position varies
    for position in range(6, 16):
        assert len({s[position] for s in serials}) > 1


@pytest.mark.parametrize(
    "serial",
    [
        "ELAVMR0000000001",
        "ELAVMS1234567890",
        "ELAVMX12345678AB",  # R6: the letter after ELAVM is data, not behaviour
        "ELAVM12345678901",
    ],
)
def test_program_serial_of_16_characters_starting_with_elavm_is_accepted_R6(serial: str) -> None:
    check_program_serial(serial)


@pytest.mark.parametrize(
    "serial",
    [
        "",
        "ELAVMR000000001",  # 15
        "ELAVMR00000000001",  # 17
        "FLAVMR0000000001",
        "elavmr0000000001",
        "ElAVMR0000000001",
        "ELAVMR-000000001",
        "ELAVMR 000000001",
        " ELAVMR000000001",
        "XELAVMR000000001",
        "FGVMMLTM26000001",
    ],
)
def test_malformed_program_serial_is_refused_R6(serial: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_program_serial(serial)
    assert caught.value.code == 1001
    assert "ELAVM" in caught.value.message


@given(st.text(alphabet=string.ascii_uppercase + string.digits, min_size=11, max_size=11))
def test_any_ascii_alphanumeric_tail_after_elavm_is_accepted_R6(tail: str) -> None:
    check_program_serial("ELAVM" + tail)


# --- point packs (R7) -------------------------------------------------------------------------


@pytest.mark.parametrize("points", [10_000, 50_000])
def test_packs_of_10k_or_50k_points_are_accepted_R7(points: int) -> None:
    assert points in PACK_SIZES
    check_pack_size(points)


@pytest.mark.parametrize(
    "points", [0, -10_000, 1, 5_000, 9_999, 10_001, 20_000, 49_999, 60_000, 100_000]
)
def test_other_pack_sizes_are_refused_R7(points: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_pack_size(points)
    assert "10,000 or 50,000" in caught.value.message


def test_pack_sizes_are_exactly_10k_and_50k_R7() -> None:
    assert PACK_SIZES == (10_000, 50_000)


# --- terms and end instant --------------------------------------------------------------------


def test_term_with_end_after_start_is_accepted() -> None:
    check_term(date(2026, 3, 2), date(2026, 3, 3))
    check_term(date(2026, 3, 2), date(2031, 3, 2))


@pytest.mark.parametrize("end", [date(2026, 3, 2), date(2026, 3, 1), date(2025, 3, 2)])
def test_term_ending_on_or_before_its_start_is_refused(end: date) -> None:
    with pytest.raises(InvalidInput):
        check_term(date(2026, 3, 2), end)


def test_program_ends_at_pacific_midnight_of_its_end_date_P11() -> None:
    assert end_instant(date(2027, 3, 2), PACIFIC) == datetime(2027, 3, 2, 8, tzinfo=UTC)
    assert end_instant(date(2027, 7, 2), PACIFIC) == datetime(2027, 7, 2, 7, tzinfo=UTC)
    assert end_instant(date(2027, 7, 2), "UTC") == datetime(2027, 7, 2, tzinfo=UTC)
    assert end_instant(date(2026, 3, 8), PACIFIC) == day_start(date(2026, 3, 8), PACIFIC)


# --- grace periods (R55–R57, P7) --------------------------------------------------------------


def test_no_grace_while_balance_not_negative_and_program_running() -> None:
    state = grace_state(None, PROGRAM_END, NOW, NOW.date(), NEGATIVE_GRACE)
    assert state == GraceState(negative=False, program_expired=False, suspended=False)
    assert not state.in_grace


def test_negative_balance_puts_the_program_in_grace_R55() -> None:
    state = grace_state(date(2026, 5, 1), PROGRAM_END, NOW, date(2026, 6, 1), NEGATIVE_GRACE)
    assert state.negative
    assert state.in_grace
    assert not state.suspended
    assert not state.program_expired


def test_negative_balance_for_89_days_is_not_yet_suspended_P7() -> None:
    since = date(2026, 3, 1)
    state = grace_state(since, PROGRAM_END, NOW, since + timedelta(days=89), NEGATIVE_GRACE)
    assert not state.suspended


def test_account_is_suspended_after_90_days_of_negative_balance_P7_R56() -> None:
    since = date(2026, 3, 1)
    state = grace_state(since, PROGRAM_END, NOW, since + timedelta(days=90), NEGATIVE_GRACE)
    assert state.suspended
    assert state.negative
    assert state.in_grace
    later = grace_state(since, PROGRAM_END, NOW, since + timedelta(days=400), NEGATIVE_GRACE)
    assert later.suspended


def test_suspension_counts_pacific_days_not_the_instant_now_P7() -> None:
    since = date(2026, 3, 1)
    # ``now`` far in the future does not matter: only ``today`` does
    state = grace_state(
        since, PROGRAM_END, NOW + timedelta(days=500), since + timedelta(days=10), NEGATIVE_GRACE
    )
    assert not state.suspended


def test_no_suspension_without_negative_balance_P7() -> None:
    state = grace_state(None, PROGRAM_END, NOW, date(2030, 1, 1), NEGATIVE_GRACE)
    assert not state.suspended
    assert not state.negative


def test_zero_day_negative_grace_suspends_the_same_day() -> None:
    since = date(2026, 5, 1)
    assert grace_state(since, PROGRAM_END, NOW, since, timedelta(0)).suspended


def test_program_expiry_puts_the_program_in_grace_at_its_end_instant_R57() -> None:
    before = grace_state(
        None, PROGRAM_END, PROGRAM_END - timedelta(microseconds=1), date(2027, 3, 1), NEGATIVE_GRACE
    )
    assert not before.program_expired
    assert not before.in_grace
    at_end = grace_state(None, PROGRAM_END, PROGRAM_END, date(2027, 3, 2), NEGATIVE_GRACE)
    assert at_end.program_expired
    assert at_end.in_grace
    assert not at_end.negative
    assert not at_end.suspended


def test_both_grace_causes_at_once_R55_R57() -> None:
    state = grace_state(
        date(2027, 1, 1),
        PROGRAM_END,
        PROGRAM_END + timedelta(days=1),
        date(2027, 3, 3),
        NEGATIVE_GRACE,
    )
    assert state.negative
    assert state.program_expired
    assert state.in_grace
    assert not state.suspended


@pytest.mark.parametrize(
    ("negative", "expired", "in_grace"),
    [(False, False, False), (True, False, True), (False, True, True), (True, True, True)],
)
def test_in_grace_is_negative_or_program_expired_R58(
    negative: bool, expired: bool, in_grace: bool
) -> None:
    assert GraceState(negative, expired, suspended=False).in_grace is in_grace


# --- anniversaries (R9) -----------------------------------------------------------------------


def test_one_year_program_has_no_anniversary_inside_its_term_R9() -> None:
    assert anniversaries(date(2026, 3, 2), date(2027, 3, 2)) == []


def test_program_shorter_than_a_year_has_no_anniversary() -> None:
    assert anniversaries(date(2026, 3, 2), date(2026, 12, 31)) == []


def test_three_year_program_has_two_anniversaries_R9() -> None:
    assert anniversaries(date(2026, 3, 2), date(2029, 3, 2)) == [
        date(2027, 3, 2),
        date(2028, 3, 2),
    ]


def test_anniversary_one_day_before_the_end_is_inside_the_term() -> None:
    assert anniversaries(date(2026, 3, 2), date(2027, 3, 3)) == [date(2027, 3, 2)]


def test_anniversaries_of_a_29_february_start_fall_on_28_february_except_in_leap_years() -> None:
    assert anniversaries(date(2024, 2, 29), date(2029, 3, 1)) == [
        date(2025, 2, 28),
        date(2026, 2, 28),
        date(2027, 2, 28),
        date(2028, 2, 29),
        date(2029, 2, 28),
    ]


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
    st.integers(min_value=1, max_value=365 * 6),
)
def test_anniversaries_lie_strictly_inside_the_term_one_year_apart(start: date, days: int) -> None:
    end = start + timedelta(days=days)
    found = anniversaries(start, end)
    assert all(start < day < end for day in found)
    assert found == sorted(set(found))
    assert [day.year for day in found] == list(range(start.year + 1, start.year + 1 + len(found)))
    assert all(day.month == start.month for day in found)
    # no anniversary is missing at the end
    next_year = start.year + len(found) + 1
    try:
        following = start.replace(year=next_year)
    except ValueError:
        following = start.replace(year=next_year, day=28)
    assert following >= end


# --- roll-over (R9) ---------------------------------------------------------------------------


@pytest.mark.parametrize("balance", ["0", "0.00", "-0.01", "-5000"])
def test_no_forfeit_when_the_balance_is_zero_or_negative_R9_R8(balance: str) -> None:
    credits = [(YEAR_START, d("10000")), (DAY_180, d("10000"))]
    forfeit = rollover_forfeit(d(balance), YEAR_START, credits)
    assert forfeit == 0
    assert str(forfeit) == "0.00"


def test_only_early_points_carry_over_at_half_R9() -> None:
    forfeit = rollover_forfeit(d("8000"), YEAR_START, [(YEAR_START, d("10000"))])
    assert forfeit == d("4000.00")


def test_no_credits_in_the_year_means_everything_left_is_early_R9() -> None:
    assert rollover_forfeit(d("3000"), YEAR_START, []) == d("1500.00")


def test_only_late_points_carry_over_in_full_R9() -> None:
    late = YEAR_START + timedelta(days=250)
    assert rollover_forfeit(d("8000"), YEAR_START, [(late, d("10000"))]) == d("0.00")


def test_rollover_keeps_late_points_in_full_and_half_of_early_points_R9() -> None:
    credits = [
        (YEAR_START, d("10000")),
        (YEAR_START + timedelta(days=250), d("10000")),
    ]
    # 15,000 left: 10,000 late points carry in full, 5,000 early points carry at 50 %
    assert rollover_forfeit(d("15000"), YEAR_START, credits) == d("2500.00")


def test_rollover_with_several_late_packs_R9() -> None:
    credits = [
        (YEAR_START + timedelta(days=10), d("50000")),
        (YEAR_START + timedelta(days=200), d("10000")),
        (YEAR_START + timedelta(days=300), d("10000")),
    ]
    assert rollover_forfeit(d("30000"), YEAR_START, credits) == d("5000.00")
    assert rollover_forfeit(d("20000"), YEAR_START, credits) == d("0.00")
    assert rollover_forfeit(d("12000"), YEAR_START, credits) == d("0.00")


def test_points_added_on_day_180_carry_over_in_full_R9() -> None:
    assert date(2026, 8, 28) == DAY_180
    assert rollover_forfeit(d("10000"), YEAR_START, [(DAY_180, d("10000"))]) == d("0.00")


def test_points_added_on_day_179_are_early_R9() -> None:
    day_179 = DAY_180 - timedelta(days=1)
    assert rollover_forfeit(d("10000"), YEAR_START, [(day_179, d("10000"))]) == d("5000.00")


def test_negative_late_adjustments_do_not_count_as_late_points_R9() -> None:
    credits = [(YEAR_START + timedelta(days=250), d("-500"))]
    assert rollover_forfeit(d("1000"), YEAR_START, credits) == d("500.00")


@pytest.mark.parametrize(
    ("balance", "forfeit"),
    [
        ("0.03", "0.01"),  # 0.015 carried rounds up to 0.02
        ("0.01", "0.00"),
        ("1234.57", "617.28"),
        ("100.01", "50.00"),
        ("99.99", "49.99"),
        ("6.39", "3.19"),
    ],
)
def test_early_half_is_rounded_to_cents_in_the_customers_favour_R9_P9(
    balance: str, forfeit: str
) -> None:
    result = rollover_forfeit(d(balance), YEAR_START, [(YEAR_START, d("10000"))])
    assert result == d(forfeit)
    assert result.as_tuple().exponent == -2


def test_forfeit_has_two_decimal_places() -> None:
    result = rollover_forfeit(d("8000"), YEAR_START, [(YEAR_START, d("10000"))])
    assert str(result) == "4000.00"


def test_rollover_accepts_a_one_shot_iterable_of_credits() -> None:
    def credits() -> Iterator[tuple[date, Decimal]]:
        yield (YEAR_START, d("10000"))
        yield (YEAR_START + timedelta(days=250), d("10000"))

    assert rollover_forfeit(d("15000"), YEAR_START, credits()) == d("2500.00")


cents = st.integers(min_value=-(10**9), max_value=10**9).map(lambda c: Decimal(c) / 100)
credit_lists = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=364).map(lambda n: YEAR_START + timedelta(days=n)),
        st.sampled_from([d("10000"), d("50000")]),
    ),
    max_size=6,
)


@given(cents, credit_lists)
def test_rollover_forfeit_is_between_zero_and_half_the_balance_R9(
    balance: Decimal, credits: list[tuple[date, Decimal]]
) -> None:
    forfeit = rollover_forfeit(balance, YEAR_START, credits)
    assert forfeit >= 0
    assert forfeit <= max(balance, Decimal(0)) / 2
    assert forfeit.as_tuple().exponent == -2
    late = sum((p for day, p in credits if day >= DAY_180), Decimal(0))
    if balance > 0:
        # whatever is carried keeps every late point still held
        assert balance - forfeit >= min(balance, late)
        # and at least half of the rest
        assert forfeit <= (balance - min(balance, late)) / 2


def stored_program(negative_since: date | None) -> Program:
    return Program(
        serial="ELAVMR0000000001",
        account_id=1,
        kind=ProgramKind.PREPAID,
        start_date=date(2026, 3, 2),
        end_date=date(2027, 3, 2),
        timezone=PACIFIC,
        has_support_coverage=False,
        negative_since=negative_since,
    )


def test_a_stored_program_ends_at_midnight_of_its_end_date_in_its_zone() -> None:
    assert stored_program(None).end_at == datetime(2027, 3, 2, 8, tzinfo=UTC)  # 00:00 PST


def test_a_stored_program_counts_its_negative_grace_in_its_own_days() -> None:
    program = stored_program(date(2026, 5, 1))
    # Day 90 begins at 00:00 Pacific on 30 July; 05:00 UTC is still 29 July there.
    before = program.grace(datetime(2026, 7, 30, 5, tzinfo=UTC), NEGATIVE_GRACE)
    assert before == GraceState(negative=True, program_expired=False, suspended=False)
    after = program.grace(datetime(2026, 7, 30, 8, tzinfo=UTC), NEGATIVE_GRACE)
    assert after == GraceState(negative=True, program_expired=False, suspended=True)


def test_a_stored_program_is_expired_from_its_end_instant() -> None:
    program = stored_program(None)
    assert not program.grace(program.end_at - timedelta(seconds=1), NEGATIVE_GRACE).in_grace
    assert program.grace(program.end_at, NEGATIVE_GRACE) == GraceState(
        negative=False, program_expired=True, suspended=False
    )
