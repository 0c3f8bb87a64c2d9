"""Days, instants and FortiFlex date formats.

Instants are timezone-aware UTC datetimes everywhere inside pointflex. A *day* is a calendar
day in a program's billing time zone (R11); its bounds are computed with zoneinfo so that DST
days are 23 or 25 hours long.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pointflex.errors import InvalidDate, InvalidInput

PACIFIC = "America/Los_Angeles"
WIRE_FORMAT = "%Y-%m-%d %H:%M:%S"
# A UTC offset is at most 23:59.
_LAST_HOUR, _LAST_MINUTE = 23, 59

# The FortiFlex family of accepted inputs (spec §7): date only, or date and time to the hour,
# minute or second, separated by 'T' or a space, optional fraction, optional zone.
_DATE_RE = re.compile(
    r"^(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"(?:[T ](?P<hour>[0-9]{2})(?::(?P<minute>[0-9]{2})"
    r"(?::(?P<second>[0-9]{2})(?:\.(?P<frac>[0-9]{1,9}))?)?)?"
    r"(?P<zone>Z|[+-][0-9]{2}:?[0-9]{2})?)?$",
    re.ASCII,
)


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"unknown time zone {name!r}") from exc


def utc(value: datetime) -> datetime:
    """Return an aware UTC instant; naive values are taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def local_day(instant: datetime, tz: str) -> date:
    """The calendar day in ``tz`` that contains ``instant``."""
    return utc(instant).astimezone(zone(tz)).date()


def day_start(day: date, tz: str) -> datetime:
    """00:00 of ``day`` in ``tz``, as a UTC instant."""
    return datetime.combine(day, time.min, tzinfo=zone(tz)).astimezone(UTC)


@dataclass(frozen=True)
class DayWindow:
    """The half-open interval [start, end) of one calendar day, in UTC."""

    day: date
    start: datetime
    end: datetime


def day_window(day: date, tz: str) -> DayWindow:
    return DayWindow(day, day_start(day, tz), day_start(day + timedelta(days=1), tz))


@dataclass(frozen=True)
class WrittenDate:
    """A FortiFlex input date as written: wall time, and its UTC offset when one was given."""

    wall: datetime  # naive
    offset: timedelta | None
    day_only: bool  # no time part was written

    def instant(self, tz: str) -> datetime:
        """The UTC instant; a wall time without an offset is local time in ``tz``."""
        if self.offset is None:
            return self.wall.replace(tzinfo=zone(tz)).astimezone(UTC)
        return (self.wall - self.offset).replace(tzinfo=UTC)


def parse_written_date(text: str) -> WrittenDate:
    """Parse any FortiFlex input format (spec §7) without deciding its time zone yet."""
    match = _DATE_RE.match(text.strip())
    if match is None:
        raise InvalidDate(f"date {text!r} is not in a supported format (e.g. 2026-05-31)")
    try:
        base = date.fromisoformat(match["date"])
        frac = (match["frac"] or "0").ljust(6, "0")[:6]
        naive = datetime.combine(
            base,
            time(
                int(match["hour"] or 0),
                int(match["minute"] or 0),
                int(match["second"] or 0),
                int(frac),
            ),
        )
    except ValueError as exc:
        raise InvalidDate(f"date {text!r} is not a valid calendar date") from exc
    return WrittenDate(naive, _offset(text, match["zone"]), match["hour"] is None)


def _offset(text: str, zone_text: str | None) -> timedelta | None:
    if zone_text is None:
        return None
    if zone_text == "Z":
        return timedelta(0)
    sign = 1 if zone_text[0] == "+" else -1
    digits = zone_text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > _LAST_HOUR or minutes > _LAST_MINUTE:
        raise InvalidDate(f"date {text!r} has an impossible UTC offset")
    return sign * timedelta(hours=hours, minutes=minutes)


def parse_wire_datetime(text: str, tz: str = PACIFIC) -> datetime:
    """Parse any FortiFlex input format; naive values are local time in ``tz``."""
    return parse_written_date(text).instant(tz)


def parse_wire_day(text: str) -> date:
    """Parse a date that names a day (``entitlements/points`` ranges).

    A time part is allowed (clients send full timestamps) and must be valid, but the day is
    the calendar date as written.
    """
    parse_wire_datetime(text)
    return date.fromisoformat(text.strip()[:10])


def format_wire(instant: datetime | None, tz: str = PACIFIC) -> str | None:
    """Naive local time in ``tz``, ``YYYY-MM-DD HH:MM:SS`` (spec §7, Q9)."""
    if instant is None:
        return None
    return _format_wire(instant, tz)


@lru_cache(maxsize=1024)
def _format_wire(instant: datetime, tz: str) -> str:
    # Lists repeat the same few start and end instants thousands of times; kept small so
    # that long exports do not hold on to memory (tests/integration/test_exports.py).
    return utc(instant).astimezone(zone(tz)).strftime(WIRE_FORMAT)


def add_years(day: date, years: int) -> date:
    """Same calendar date ``years`` later; 29 February becomes 28 February when needed."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
