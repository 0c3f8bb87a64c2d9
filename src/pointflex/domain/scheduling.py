"""Scheduled hardware activation (R38, R39, R59): when a scheduled serial is due, and which
start and end dates may be scheduled at all. Pure: dates and instants come in."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from pointflex.domain.dates import zone
from pointflex.errors import InvalidDate

ACTIVATION_TIME = time(3, 0)  # R39: 03:00 in the program's time zone on the start date


def activation_instant(start: date, tz: str) -> datetime:
    """03:00 local wall time on ``start``, as a UTC instant (03:00 exists on DST days: the
    switch happens at 02:00)."""
    return datetime.combine(start, ACTIVATION_TIME, tzinfo=zone(tz)).astimezone(UTC)


def is_due(start: date, tz: str, now: datetime) -> bool:
    return now >= activation_instant(start, tz)


def check_schedule(start: date, end: date | None, today: date, program_end: date) -> None:
    """R39: a start in the future, before the program end and unlike the end date.

    A start of today is refused: its 03:00 may already have passed, and a device wanted today
    can be created immediately.
    """
    if start <= today:
        raise InvalidDate("startDate must be later than today; use immediate creation instead")
    if start >= program_end:
        raise InvalidDate("startDate must be before the program end date")
    if end is not None and end == start:
        raise InvalidDate("startDate and endDate must differ")
    if end is not None and end < start:
        raise InvalidDate("endDate must be after startDate")
    if end is not None and end > program_end:
        raise InvalidDate("endDate must not be later than the program end date")
