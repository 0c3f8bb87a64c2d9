"""Scheduled hardware activation rules (R38, R39): due at 03:00 program time on the start
date; which start and end dates can be scheduled."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from pointflex.domain.scheduling import activation_instant, check_schedule, is_due
from pointflex.errors import InvalidDate

LA = "America/Los_Angeles"
TODAY = date(2026, 6, 1)
PROGRAM_END = date(2027, 1, 1)


def test_activation_is_at_three_in_the_morning_program_time() -> None:
    assert activation_instant(date(2026, 6, 10), LA) == datetime(2026, 6, 10, 10, 0, tzinfo=UTC)
    assert activation_instant(date(2026, 12, 10), LA) == datetime(2026, 12, 10, 11, 0, tzinfo=UTC)


def test_activation_on_a_daylight_saving_day_is_still_at_three_local() -> None:
    # 8 March 2026: clocks jump from 02:00 to 03:00 in Los Angeles; 03:00 is PDT (UTC-7).
    assert activation_instant(date(2026, 3, 8), LA) == datetime(2026, 3, 8, 10, 0, tzinfo=UTC)


def test_a_serial_is_due_from_three_oclock_on_its_start_date_not_a_minute_earlier() -> None:
    start = date(2026, 6, 10)
    assert not is_due(start, LA, datetime(2026, 6, 10, 9, 59, tzinfo=UTC))
    assert is_due(start, LA, datetime(2026, 6, 10, 10, 0, tzinfo=UTC))
    assert is_due(start, LA, datetime(2026, 6, 12, 0, 0, tzinfo=UTC))


@pytest.mark.parametrize("start", [TODAY, date(2026, 5, 31)])
def test_a_start_of_today_or_earlier_is_refused(start: date) -> None:
    with pytest.raises(InvalidDate, match="later than today"):
        check_schedule(start, None, TODAY, PROGRAM_END)


def test_a_start_on_or_after_the_program_end_is_refused() -> None:
    for start in (PROGRAM_END, date(2027, 2, 1)):
        with pytest.raises(InvalidDate, match="before the program end"):
            check_schedule(start, None, TODAY, PROGRAM_END)


def test_start_and_end_must_differ_and_be_in_order() -> None:
    start = date(2026, 7, 1)
    with pytest.raises(InvalidDate, match="must differ"):
        check_schedule(start, start, TODAY, PROGRAM_END)
    with pytest.raises(InvalidDate, match="after startDate"):
        check_schedule(start, date(2026, 6, 20), TODAY, PROGRAM_END)
    with pytest.raises(InvalidDate, match="not be later than the program end"):
        check_schedule(start, date(2027, 3, 1), TODAY, PROGRAM_END)


def test_a_future_start_before_the_program_end_is_accepted() -> None:
    check_schedule(date(2026, 6, 2), None, TODAY, PROGRAM_END)
    check_schedule(date(2026, 6, 2), PROGRAM_END, TODAY, PROGRAM_END)
