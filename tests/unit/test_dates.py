"""Days, instants and FortiFlex wire dates (spec §7, R11, P11)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pointflex.domain.dates import (
    PACIFIC,
    WIRE_FORMAT,
    DayWindow,
    add_years,
    day_start,
    day_window,
    format_wire,
    local_day,
    parse_wire_datetime,
    parse_wire_day,
    utc,
    zone,
)
from pointflex.errors import InvalidDate, InvalidInput

LA = ZoneInfo(PACIFIC)
HOUR = timedelta(hours=1)
SPRING_FORWARD = date(2026, 3, 8)  # 02:00 PST -> 03:00 PDT
FALL_BACK = date(2026, 11, 1)  # 02:00 PDT -> 01:00 PST
WIRE_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")

TIME_ZONES = [
    PACIFIC,
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Kiritimati",
    "America/St_Johns",
]

instants = st.datetimes(
    min_value=datetime(1950, 1, 1),
    max_value=datetime(2150, 12, 31),
    timezones=st.sampled_from([UTC, LA, ZoneInfo("Asia/Kathmandu"), ZoneInfo("Europe/Paris")]),
)
whole_second_utc = st.datetimes(
    min_value=datetime(1950, 1, 1), max_value=datetime(2150, 12, 31), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))


def at_utc(  # noqa: PLR0917 — datetime's own positional order, on purpose
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


# --- accepted input formats (spec §7) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # date only: 00:00 Pacific (PDT, UTC-7, in May)
        ("2026-05-31", at_utc(2026, 5, 31, 7, 0, 0)),
        # date and time to the second, space or T
        ("2026-05-31 13:45:30", at_utc(2026, 5, 31, 20, 45, 30)),
        ("2026-05-31T13:45:30", at_utc(2026, 5, 31, 20, 45, 30)),
        # to the minute
        ("2026-05-31T13:45", at_utc(2026, 5, 31, 20, 45, 0)),
        ("2026-05-31 13:45", at_utc(2026, 5, 31, 20, 45, 0)),
        # to the hour
        ("2026-05-31T13", at_utc(2026, 5, 31, 20, 0, 0)),
        ("2026-05-31 13", at_utc(2026, 5, 31, 20, 0, 0)),
    ],
)
def test_naive_input_formats_of_spec_7_are_pacific_local_time(
    text: str, expected: datetime
) -> None:
    assert parse_wire_datetime(text) == expected


@pytest.mark.parametrize(
    ("text", "microsecond"),
    [
        ("2026-05-31T13:45:30.5", 500_000),
        ("2026-05-31 13:45:30.25", 250_000),
        ("2026-05-31T13:45:30.000001", 1),
        ("2026-05-31T13:45:30.123456", 123_456),
        ("2026-05-31T13:45:30.123", 123_000),
        # more than microsecond precision: extra digits are dropped, not rounded
        ("2026-05-31T13:45:30.1234569", 123_456),
        ("2026-05-31T13:45:30.999999999", 999_999),
    ],
)
def test_fractional_seconds_are_accepted_to_nanosecond_digits(text: str, microsecond: int) -> None:
    assert parse_wire_datetime(text) == at_utc(2026, 5, 31, 20, 45, 30).replace(
        microsecond=microsecond
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-31T13:45:30Z", at_utc(2026, 5, 31, 13, 45, 30)),
        ("2026-05-31 13:45:30Z", at_utc(2026, 5, 31, 13, 45, 30)),
        ("2026-05-31T13:45:30.5Z", at_utc(2026, 5, 31, 13, 45, 30, 500_000)),
        ("2026-05-31T13:45Z", at_utc(2026, 5, 31, 13, 45, 0)),
        ("2026-05-31T13:45:30+00:00", at_utc(2026, 5, 31, 13, 45, 30)),
        ("2026-05-31T13:45:30-00:00", at_utc(2026, 5, 31, 13, 45, 30)),
        ("2026-05-31T13:45:30+02:00", at_utc(2026, 5, 31, 11, 45, 30)),
        ("2026-05-31T13:45:30-07:00", at_utc(2026, 5, 31, 20, 45, 30)),
        ("2026-05-31T13:45:30+05:30", at_utc(2026, 5, 31, 8, 15, 30)),
        ("2026-05-31T13:45:30+0530", at_utc(2026, 5, 31, 8, 15, 30)),
        ("2026-05-31T13:45:30-03:30", at_utc(2026, 5, 31, 17, 15, 30)),
        ("2026-05-31T13:45:30.25+01:00", at_utc(2026, 5, 31, 12, 45, 30, 250_000)),
        # offsets that move the instant to another UTC day
        ("2026-05-31T23:30:00-08:00", at_utc(2026, 6, 1, 7, 30, 0)),
        ("2026-06-01T01:00:00+14:00", at_utc(2026, 5, 31, 11, 0, 0)),
    ],
)
def test_zulu_and_offset_inputs_are_converted_to_the_instant_they_name(
    text: str, expected: datetime
) -> None:
    assert parse_wire_datetime(text) == expected


def test_zone_qualified_input_ignores_the_default_time_zone() -> None:
    text = "2026-05-31T13:45:30+02:00"
    assert parse_wire_datetime(text, "Asia/Tokyo") == parse_wire_datetime(text, PACIFIC)


def test_naive_input_is_pst_in_winter_and_pdt_in_summer() -> None:
    assert parse_wire_datetime("2026-01-15 12:00:00") == at_utc(2026, 1, 15, 20, 0, 0)
    assert parse_wire_datetime("2026-07-15 12:00:00") == at_utc(2026, 7, 15, 19, 0, 0)


def test_naive_input_uses_the_given_time_zone() -> None:
    assert parse_wire_datetime("2026-07-15 12:00:00", "Europe/Paris") == at_utc(2026, 7, 15, 10)
    assert parse_wire_datetime("2026-07-15", "UTC") == at_utc(2026, 7, 15)


def test_parsed_instants_are_aware_utc() -> None:
    for text in ("2026-05-31", "2026-05-31T13:45:30+02:00", "2026-05-31T13:45:30Z"):
        parsed = parse_wire_datetime(text)
        assert parsed.tzinfo is UTC
        assert parsed.utcoffset() == timedelta(0)


def test_surrounding_whitespace_is_ignored() -> None:
    assert parse_wire_datetime("  2026-05-31 13:45:30\n") == at_utc(2026, 5, 31, 20, 45, 30)


def test_leap_day_is_a_valid_date() -> None:
    assert parse_wire_datetime("2028-02-29") == at_utc(2028, 2, 29, 8)


def test_date_only_means_midnight_at_the_start_of_that_pacific_day_P11() -> None:
    parsed = parse_wire_datetime("2026-01-10")
    assert parsed == day_start(date(2026, 1, 10), PACIFIC)
    assert local_day(parsed, PACIFIC) == date(2026, 1, 10)
    assert local_day(parsed - timedelta(microseconds=1), PACIFIC) == date(2026, 1, 9)


def test_naive_time_in_the_spring_forward_gap_still_lands_on_that_day() -> None:
    # 02:30 does not exist on 8 March 2026 in Los Angeles; it must not raise or change day.
    parsed = parse_wire_datetime("2026-03-08 02:30:00")
    window = day_window(SPRING_FORWARD, PACIFIC)
    assert window.start <= parsed < window.end


def test_naive_time_in_the_repeated_fall_back_hour_is_one_of_its_two_instants() -> None:
    parsed = parse_wire_datetime("2026-11-01 01:30:00")
    assert parsed in (at_utc(2026, 11, 1, 8, 30), at_utc(2026, 11, 1, 9, 30))
    assert format_wire(parsed) == "2026-11-01 01:30:00"


# --- refused input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "tomorrow",
        "2026/05/31",
        "31-05-2026",
        "05/31/2026",
        "2026-5-31",
        "2026-05-1",
        "20260531",
        "26-05-31",
        "2026-05-31T",
        "2026-05-31T1",
        "2026-05-31T13:4",
        "2026-05-31T13:45:3",
        "2026-05-31T13:45:30.",
        "2026-05-31T13:45:30.1234567890",
        "2026-05-31T13.5",
        "2026-05-31T13:45.5",
        "2026-05-31X13:45:30",
        "2026-05-31  13:45:30",
        "2026-05-31Z",
        "2026-05-31T13:45:30 Z",
        "2026-05-31T13:45:30PST",
        "2026-05-31T13:45:30+2",
        "2026-05-31T13:45:30+02:0",
        "2026-05-31T13:45:30+02:00:00",
        "2026-05-31T13:45:30Z+02:00",
        "2026-05-31T13:45:30 extra",
        "+2026-05-31",
        "12026-05-31",
    ],
)
def test_unsupported_formats_raise_invalid_date(text: str) -> None:
    with pytest.raises(InvalidDate) as caught:
        parse_wire_datetime(text)
    assert caught.value.code == 1003
    assert "supported format" in caught.value.message


@pytest.mark.parametrize(
    "text",
    [
        "2026-02-30",
        "2026-02-29",
        "2026-13-01",
        "2026-00-10",
        "2026-04-31",
        "2026-05-00",
        "0000-01-01",
        "2026-05-31T24:00:00",
        "2026-05-31T25",
        "2026-05-31T23:60",
        "2026-05-31T23:59:60",
        "2026-05-31T99:99:99Z",
    ],
)
def test_impossible_calendar_dates_and_times_raise_invalid_date(text: str) -> None:
    with pytest.raises(InvalidDate) as caught:
        parse_wire_datetime(text)
    assert "valid calendar date" in caught.value.message


@pytest.mark.parametrize(
    "text",
    [
        "2026-05-31T13:45:30+24:00",
        "2026-05-31T13:45:30+05:60",
        "2026-05-31T13:45:30-99:99",
    ],
)
def test_out_of_range_utc_offsets_raise_invalid_date(text: str) -> None:
    """RFC 3339 offsets are hours 00-23 and minutes 00-59 (spec §7: full RFC 3339)."""
    with pytest.raises(InvalidDate):
        parse_wire_datetime(text)


@pytest.mark.parametrize(
    "text",
    [
        "2026-05-31T\u0661\u0663",  # Arabic-Indic digits for the hour
        "2026-05-31T13:\u0664\u0665",  # ... and for the minute
    ],
)
def test_non_ascii_digits_raise_invalid_date(text: str) -> None:
    with pytest.raises(InvalidDate):
        parse_wire_datetime(text)


def test_invalid_date_is_an_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        parse_wire_datetime("not a date")


# --- parse_wire_day ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2026-05-31",
        "2026-05-31 00:00:00",
        "2026-05-31T23:59:59",
        "2026-05-31T23:59:59.999Z",
        "2026-05-31T13",
        " 2026-05-31 ",
    ],
)
def test_day_is_the_written_calendar_date(text: str) -> None:
    assert parse_wire_day(text) == date(2026, 5, 31)


@pytest.mark.parametrize("text", ["2026/05/31", "", "31.05.2026", "2026-05-31T1"])
def test_day_in_an_unsupported_format_raises_invalid_date(text: str) -> None:
    with pytest.raises(InvalidDate):
        parse_wire_day(text)


@pytest.mark.parametrize("text", ["2026-02-30", "2025-02-29", "2026-13-01"])
def test_impossible_day_raises_invalid_date(text: str) -> None:
    with pytest.raises(InvalidDate):
        parse_wire_day(text)


@pytest.mark.parametrize(
    "text", ["2026-05-31T25:00:00", "2026-05-31T10:99", "2026-05-31T23:00:00+99:00"]
)
def test_day_with_an_impossible_time_part_raises_invalid_date(text: str) -> None:
    """Invalid dates raise InvalidDate (spec §7); an impossible time must not be ignored."""
    with pytest.raises(InvalidDate):
        parse_wire_day(text)


# --- wire output ------------------------------------------------------------------------------


def test_format_wire_is_naive_pacific_with_a_space_and_seconds() -> None:
    assert format_wire(at_utc(2026, 1, 15, 20, 0, 5)) == "2026-01-15 12:00:05"
    assert format_wire(at_utc(2026, 7, 15, 19, 0, 5)) == "2026-07-15 12:00:05"
    assert WIRE_FORMAT == "%Y-%m-%d %H:%M:%S"


def test_format_wire_of_none_is_none() -> None:
    assert format_wire(None) is None


def test_format_wire_has_no_zone_suffix_no_t_and_no_fraction() -> None:
    text = format_wire(at_utc(2026, 5, 31, 13, 45, 30, 999_999))
    assert text is not None
    assert WIRE_RE.match(text)
    # fractions are truncated, never rounded up into the next second
    assert text == "2026-05-31 06:45:30"


def test_format_wire_shows_the_local_day_across_utc_midnight() -> None:
    assert format_wire(at_utc(2026, 6, 1, 3, 0, 0)) == "2026-05-31 20:00:00"


def test_format_wire_takes_naive_values_as_utc() -> None:
    assert format_wire(datetime(2026, 1, 15, 20, 0, 0)) == "2026-01-15 12:00:00"


def test_format_wire_accepts_instants_in_any_zone() -> None:
    paris = datetime(2026, 7, 15, 21, 0, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert format_wire(paris) == "2026-07-15 12:00:00"


def test_format_wire_in_another_time_zone() -> None:
    assert format_wire(at_utc(2026, 7, 15, 10), "Europe/Paris") == "2026-07-15 12:00:00"


def test_format_wire_around_spring_forward() -> None:
    assert format_wire(at_utc(2026, 3, 8, 9, 59, 59)) == "2026-03-08 01:59:59"
    assert format_wire(at_utc(2026, 3, 8, 10, 0, 0)) == "2026-03-08 03:00:00"


@given(whole_second_utc)
def test_format_then_parse_round_trips_whole_seconds(instant: datetime) -> None:
    # The naive wire form cannot tell the two 01:xx hours of a fall-back day apart.
    assume(instant.astimezone(LA).fold == 0)
    text = format_wire(instant)
    assert text is not None
    assert WIRE_RE.match(text)
    assert parse_wire_datetime(text) == instant


@given(whole_second_utc)
def test_utc_rfc3339_text_round_trips_for_every_instant(instant: datetime) -> None:
    assert parse_wire_datetime(instant.strftime("%Y-%m-%dT%H:%M:%SZ")) == instant
    offset = instant.astimezone(LA).strftime("%Y-%m-%dT%H:%M:%S%z")
    assert parse_wire_datetime(offset) == instant


@given(st.datetimes(min_value=datetime(1950, 1, 1), max_value=datetime(2150, 12, 31)))
def test_parse_then_format_round_trips_naive_pacific_text(naive: datetime) -> None:
    naive = naive.replace(microsecond=0)
    local = naive.replace(tzinfo=LA)
    # skip local times that do not exist (the spring-forward gap)
    assume(local.astimezone(UTC).astimezone(LA).replace(tzinfo=None) == naive)
    text = naive.strftime(WIRE_FORMAT)
    assert format_wire(parse_wire_datetime(text)) == text


# --- days and day windows (R11) ---------------------------------------------------------------


def test_ordinary_day_window_is_24_hours_from_pacific_midnight() -> None:
    window = day_window(date(2026, 1, 15), PACIFIC)
    assert window == DayWindow(date(2026, 1, 15), at_utc(2026, 1, 15, 8), at_utc(2026, 1, 16, 8))
    summer = day_window(date(2026, 7, 15), PACIFIC)
    assert summer.start == at_utc(2026, 7, 15, 7)
    assert summer.end - summer.start == timedelta(hours=24)


def test_day_window_is_23_hours_on_spring_forward() -> None:
    window = day_window(SPRING_FORWARD, PACIFIC)
    assert window.start == at_utc(2026, 3, 8, 8)  # 00:00 PST
    assert window.end == at_utc(2026, 3, 9, 7)  # 00:00 PDT
    assert window.end - window.start == timedelta(hours=23)


def test_day_window_is_25_hours_on_fall_back() -> None:
    window = day_window(FALL_BACK, PACIFIC)
    assert window.start == at_utc(2026, 11, 1, 7)  # 00:00 PDT
    assert window.end == at_utc(2026, 11, 2, 8)  # 00:00 PST
    assert window.end - window.start == timedelta(hours=25)


def test_a_pacific_year_has_exactly_one_23_hour_and_one_25_hour_day() -> None:
    lengths: dict[timedelta, list[date]] = {}
    day = date(2026, 1, 1)
    while day.year == 2026:
        window = day_window(day, PACIFIC)
        lengths.setdefault(window.end - window.start, []).append(day)
        day += timedelta(days=1)
    assert lengths[timedelta(hours=23)] == [SPRING_FORWARD]
    assert lengths[timedelta(hours=25)] == [FALL_BACK]
    assert len(lengths[timedelta(hours=24)]) == 363


def test_day_window_bounds_are_aware_utc() -> None:
    window = day_window(date(2026, 5, 31), PACIFIC)
    assert window.start.utcoffset() == timedelta(0)
    assert window.end.utcoffset() == timedelta(0)
    assert window.day == date(2026, 5, 31)


def test_day_window_is_half_open() -> None:
    window = day_window(FALL_BACK, PACIFIC)
    assert local_day(window.start, PACIFIC) == FALL_BACK
    assert local_day(window.end - timedelta(microseconds=1), PACIFIC) == FALL_BACK
    assert local_day(window.end, PACIFIC) == FALL_BACK + timedelta(days=1)


def test_day_window_in_other_time_zones() -> None:
    assert day_window(date(2026, 5, 31), "UTC").start == at_utc(2026, 5, 31)
    paris = day_window(date(2026, 3, 29), "Europe/Paris")  # EU spring forward
    assert paris.start == at_utc(2026, 3, 28, 23)
    assert paris.end - paris.start == timedelta(hours=23)


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "", "../etc/passwd"])
def test_unknown_time_zone_is_invalid_input(name: str) -> None:
    with pytest.raises(InvalidInput):
        day_window(date(2026, 5, 31), name)
    with pytest.raises(InvalidInput):
        zone(name)


def test_zone_is_cached() -> None:
    assert zone(PACIFIC) is zone(PACIFIC)
    assert zone(PACIFIC).key == PACIFIC


@given(instants, st.sampled_from(TIME_ZONES))
def test_any_aware_instant_lies_inside_the_window_of_its_local_day(
    instant: datetime, tz: str
) -> None:
    window = day_window(local_day(instant, tz), tz)
    assert window.start <= instant < window.end


@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2150, 12, 30)))
def test_consecutive_day_windows_tile_time_without_gaps(day: date) -> None:
    today = day_window(day, PACIFIC)
    tomorrow = day_window(day + timedelta(days=1), PACIFIC)
    assert today.end == tomorrow.start
    assert timedelta(hours=23) <= today.end - today.start <= timedelta(hours=25)


# --- local_day --------------------------------------------------------------------------------


def test_local_day_changes_at_pacific_midnight_in_winter() -> None:
    assert local_day(at_utc(2026, 1, 2, 7, 59, 59), PACIFIC) == date(2026, 1, 1)
    assert local_day(at_utc(2026, 1, 2, 8, 0, 0), PACIFIC) == date(2026, 1, 2)


def test_local_day_changes_at_pacific_midnight_in_summer() -> None:
    assert local_day(at_utc(2026, 7, 2, 6, 59, 59, 999_999), PACIFIC) == date(2026, 7, 1)
    assert local_day(at_utc(2026, 7, 2, 7, 0, 0), PACIFIC) == date(2026, 7, 2)


def test_local_day_is_not_the_utc_day() -> None:
    # 03:00 UTC on 1 June is 20:00 on 31 May in Los Angeles
    assert local_day(at_utc(2026, 6, 1, 3), PACIFIC) == date(2026, 5, 31)
    assert local_day(at_utc(2026, 6, 1, 3), "UTC") == date(2026, 6, 1)


def test_local_day_of_a_naive_value_takes_it_as_utc() -> None:
    assert local_day(datetime(2026, 1, 2, 7, 59), PACIFIC) == date(2026, 1, 1)


def test_local_day_of_an_aware_local_value() -> None:
    assert local_day(datetime(2026, 1, 1, 23, 59, tzinfo=LA), PACIFIC) == date(2026, 1, 1)


def test_local_day_during_the_repeated_fall_back_hour() -> None:
    # both 01:30 PDT and 01:30 PST are on 1 November
    assert local_day(at_utc(2026, 11, 1, 8, 30), PACIFIC) == FALL_BACK
    assert local_day(at_utc(2026, 11, 1, 9, 30), PACIFIC) == FALL_BACK


# --- utc, add_years ---------------------------------------------------------------------------


def test_utc_tags_naive_values_and_converts_aware_ones() -> None:
    assert utc(datetime(2026, 1, 1, 12)) == at_utc(2026, 1, 1, 12)
    assert utc(datetime(2026, 1, 1, 12)).tzinfo is UTC
    converted = utc(datetime(2026, 1, 1, 12, tzinfo=LA))
    assert converted == at_utc(2026, 1, 1, 20)
    assert converted.tzinfo is UTC


@pytest.mark.parametrize(
    ("start", "years", "expected"),
    [
        (date(2026, 3, 2), 1, date(2027, 3, 2)),
        (date(2026, 3, 2), 3, date(2029, 3, 2)),
        (date(2024, 2, 29), 1, date(2025, 2, 28)),
        (date(2024, 2, 29), 4, date(2028, 2, 29)),
        (date(2024, 2, 29), -1, date(2023, 2, 28)),
        (date(2026, 12, 31), 1, date(2027, 12, 31)),
        (date(2026, 3, 2), 0, date(2026, 3, 2)),
    ],
)
def test_add_years_keeps_the_calendar_date_or_falls_back_to_28_february(
    start: date, years: int, expected: date
) -> None:
    assert add_years(start, years) == expected
