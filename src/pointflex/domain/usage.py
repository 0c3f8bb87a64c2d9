"""Where the points went: consumption reports and the monthly statement's arithmetic (R5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from pointflex.domain.money import to_points
from pointflex.domain.programs import ProgramKind


class GroupBy(StrEnum):
    DAY = "day"
    ENTITLEMENT = "entitlement"
    CONFIGURATION = "configuration"


@dataclass(frozen=True)
class ReportRow:
    key: str
    label: str
    entitlements: int
    points: Decimal


@dataclass(frozen=True)
class Statement:
    program_serial: str
    kind: ProgramKind
    month: date
    opening: Decimal
    credits: Decimal
    consumption: Decimal
    closing: Decimal
    by_configuration: list[ReportRow]


def month_bounds(month: date) -> tuple[date, date]:
    """The first and the last day of ``month``'s month."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


@dataclass(frozen=True)
class MonthFigures:
    """What a statement is made of, as read: credits before and in the month, consumption
    before it, and the month's consumption by configuration."""

    credited_before: Decimal
    credited_in: Decimal
    consumed_before: Decimal
    by_configuration: list[ReportRow]


def statement(serial: str, kind: ProgramKind, month: date, figures: MonthFigures) -> Statement:
    """Opening + credits − consumption = closing. A postpaid program has no balance: its
    opening and closing are the consumption invoiced before and up to the month, negated."""
    used = sum((r.points for r in figures.by_configuration), Decimal("0.00"))
    opening = to_points(figures.credited_before - figures.consumed_before)
    closing = opening + figures.credited_in - used
    first = month.replace(day=1)
    rows = figures.by_configuration
    return Statement(serial, kind, first, opening, figures.credited_in, used, closing, rows)
