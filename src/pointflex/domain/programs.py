"""Programs, point packs, grace periods and the prepaid roll-over (R1–R9, R55–R58, P7, P10)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from pointflex.domain.dates import add_years, day_start, local_day
from pointflex.domain.money import to_points, to_points_half_up
from pointflex.errors import InvalidInput

PACK_SIZES: tuple[int, ...] = (10_000, 50_000)  # R7
ROLLOVER_LATE_DAY = 180  # R9: points added on or after day 180 of a program year carry in full
ROLLOVER_EARLY_SHARE = Decimal("0.5")


class ProgramKind(StrEnum):
    PREPAID = "PREPAID"
    POSTPAID = "POSTPAID"


class LedgerKind(StrEnum):
    PACK = "PACK"
    ADJUSTMENT = "ADJUSTMENT"
    ROLLOVER_FORFEIT = "ROLLOVER_FORFEIT"


SERIAL_PREFIX = {ProgramKind.PREPAID: "ELAVMR", ProgramKind.POSTPAID: "ELAVMS"}
PROGRAM_SERIAL_LENGTH = 16  # the prefix and ten digits


def new_program_serial(kind: ProgramKind) -> str:
    """``ELAVMR``/``ELAVMS`` and ten random digits (P10); the prefix is data, not behaviour (R6)."""
    return SERIAL_PREFIX[kind] + "".join(secrets.choice("0123456789") for _ in range(10))


def check_program_serial(serial: str) -> None:
    if (
        len(serial) != PROGRAM_SERIAL_LENGTH
        or not serial.startswith("ELAVM")
        or not serial.isalnum()
    ):
        raise InvalidInput(f"program serial {serial!r} must be 16 characters starting with ELAVM")


def check_pack_size(points: int) -> None:
    if points not in PACK_SIZES:
        sizes = " or ".join(f"{size:,}" for size in PACK_SIZES)
        raise InvalidInput(f"point packs hold {sizes} points, not {points:,}")


def check_term(start: date, end: date) -> None:
    if end <= start:
        raise InvalidInput("a program's end date must be after its start date")


def end_instant(end_date: date, tz: str) -> datetime:
    """A program ends at 00:00 of its end date in its time zone (as P11 for entitlements)."""
    return day_start(end_date, tz)


def follow_program_expiry(end_date: date, tz: str, grace_days: int) -> datetime:
    """When Follow Program entitlements expire: midnight ``grace_days`` calendar days after
    the program's end, in its time zone (P7) — not a fixed number of hours, across DST."""
    return day_start(end_date + timedelta(days=grace_days), tz)


@dataclass(frozen=True)
class GraceState:
    negative: bool  # R55: prepaid balance below zero
    program_expired: bool  # R57
    suspended: bool  # P7: 90 days of negative balance

    @property
    def in_grace(self) -> bool:
        return self.negative or self.program_expired


def grace_state(
    negative_since: date | None,
    program_end: datetime,
    now: datetime,
    today: date,
    negative_grace: timedelta,
) -> GraceState:
    negative = negative_since is not None
    suspended = negative_since is not None and today >= negative_since + negative_grace
    return GraceState(negative, now >= program_end, suspended)


def anniversaries(start: date, end: date) -> list[date]:
    """Registration anniversaries strictly inside the program term (R9)."""
    found: list[date] = []
    years = 1
    while (day := add_years(start, years)) < end:
        found.append(day)
        years += 1
    return found


def rollover_forfeit(
    balance: Decimal, year_start: date, credits: Iterable[tuple[date, Decimal]]
) -> Decimal:
    """Points lost at an anniversary (R9), as a non-negative amount.

    ``balance`` is the balance at the end of the program year; ``credits`` are the points added
    during it. Consumption is taken from the oldest points first, so what remains unused is
    the late points first: up to the late credits it carries in full, the rest at 50 %.
    """
    if balance <= 0:
        return Decimal("0.00")
    late_cutoff = year_start + timedelta(days=ROLLOVER_LATE_DAY - 1)
    late = sum((points for day, points in credits if day >= late_cutoff), Decimal("0"))
    late_kept = min(balance, max(late, Decimal("0")))
    early_left = balance - late_kept
    carried = late_kept + to_points_half_up(early_left * ROLLOVER_EARLY_SHARE)
    return to_points(balance - carried)


@dataclass(frozen=True)
class Program:
    """A program of points registered to an account (R1–R9), as stored."""

    serial: str
    account_id: int
    kind: ProgramKind
    start_date: date
    end_date: date
    timezone: str
    has_support_coverage: bool
    negative_since: date | None

    @property
    def end_at(self) -> datetime:
        return end_instant(self.end_date, self.timezone)

    def grace(self, now: datetime, negative_grace: timedelta) -> GraceState:
        today = local_day(now, self.timezone)
        return grace_state(self.negative_since, self.end_at, now, today, negative_grace)
