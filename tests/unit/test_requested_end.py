"""What an end date means: parsed once, resolved in the program's zone (R42–R48, P11)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pointflex.domain.dates import day_start, format_wire
from pointflex.domain.ends import FOLLOW_PROGRAM, RequestedEnd
from pointflex.domain.entitlements import TerminationMode
from pointflex.errors import InvalidDate

LA, PARIS = "America/Los_Angeles", "Europe/Paris"
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
PROGRAM_END = datetime(2027, 1, 1, 8, 0, tzinfo=UTC)
FOLLOW, USER = TerminationMode.FOLLOW_PROGRAM, TerminationMode.USER_DEFINED


@pytest.mark.parametrize("text", [None, "", "   "])
def test_nothing_written_is_no_requested_end(text: str | None) -> None:
    assert RequestedEnd.parse(text) is None


def test_a_day_is_midnight_in_each_programs_own_zone() -> None:
    end = RequestedEnd.parse("2026-06-01")
    assert end is not None
    assert end.instant(LA) == day_start(date(2026, 6, 1), LA)
    assert end.instant(PARIS) == day_start(date(2026, 6, 1), PARIS)
    assert end.instant(LA) != end.instant(PARIS)


def test_a_wall_time_is_local_time_in_the_programs_zone() -> None:
    end = RequestedEnd.parse("2026-06-01 10:30:00")
    assert end is not None
    assert format_wire(end.instant(PARIS), PARIS) == "2026-06-01 10:30:00"
    assert format_wire(end.instant(LA), LA) == "2026-06-01 10:30:00"


def test_a_written_offset_is_the_same_instant_in_every_zone() -> None:
    end = RequestedEnd.parse("2026-06-01T10:30:00+02:00")
    assert end is not None
    assert end.instant(LA) == end.instant(PARIS) == datetime(2026, 6, 1, 8, 30, tzinfo=UTC)


def test_the_portals_day_equals_the_same_day_written_by_a_client() -> None:
    assert RequestedEnd.on_day(date(2026, 6, 1)) == RequestedEnd.parse("2026-06-01")


def test_a_bad_date_is_refused_when_parsed() -> None:
    with pytest.raises(InvalidDate):
        RequestedEnd.parse("2026-02-30")


def test_follow_program_resolves_to_the_program_end() -> None:
    assert FOLLOW_PROGRAM.follows_program
    assert FOLLOW_PROGRAM.resolve(LA, NOW, PROGRAM_END) == (PROGRAM_END, FOLLOW)


def test_a_user_defined_end_after_the_program_end_is_refused_R44() -> None:
    end = RequestedEnd.parse("2027-01-02")
    assert end is not None
    with pytest.raises(InvalidDate):
        end.resolve(LA, NOW, PROGRAM_END)


def test_the_shown_end_sent_back_is_no_change() -> None:
    shown = datetime(2026, 9, 1, 17, 45, tzinfo=UTC)
    echoed = RequestedEnd.parse(format_wire(shown, PARIS))
    assert echoed is not None
    assert echoed.names(shown, FOLLOW, PARIS)
    assert echoed.names(shown, USER, PARIS)


def test_the_day_of_a_user_defined_end_written_without_time_is_no_change() -> None:
    shown = day_start(date(2026, 9, 1), PARIS) + timedelta(hours=17)  # 17:00 in Paris
    assert RequestedEnd.on_day(date(2026, 9, 1)).names(shown, USER, PARIS)
    assert not RequestedEnd.on_day(date(2026, 9, 2)).names(shown, USER, PARIS)


def test_the_day_of_a_follow_program_end_is_a_change_unless_it_is_the_end_itself() -> None:
    # Choosing User Defined on the day a Follow Program entitlement already ends at 00:00
    # names that end: nothing changes; any other time of that day does.
    program_end = day_start(date(2026, 9, 1), PARIS)
    assert RequestedEnd.on_day(date(2026, 9, 1)).names(program_end, FOLLOW, PARIS)
    later = RequestedEnd.parse("2026-09-01 06:00")
    assert later is not None
    assert not later.names(program_end, FOLLOW, PARIS)


def test_follow_program_names_only_a_follow_program_end() -> None:
    assert FOLLOW_PROGRAM.names(PROGRAM_END, FOLLOW, LA)
    assert not FOLLOW_PROGRAM.names(PROGRAM_END, USER, LA)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1)))
def test_a_known_instant_resolves_to_itself_in_any_zone(naive: datetime) -> None:
    instant = naive.replace(tzinfo=UTC)
    end = RequestedEnd.at(instant)
    assert end.instant(LA) == end.instant(PARIS) == instant
