"""How fast a program burns its points and what deserves a warning (the dashboard's figures).

Pure: daily totals, balances, dates and grace facts come in; figures and alerts go out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

from pointflex.domain.money import to_points
from pointflex.domain.programs import GraceState, ProgramKind

BURN_WINDOW_DAYS = 7  # the burn rate is the average of this many complete days
LOW_BALANCE_DAYS = 30  # fewer days of points left than this is "low"
ENDING_DAYS = 30  # a program ending within this many days is announced
ZERO = Decimal("0.00")


class AlertKind(StrEnum):
    NEGATIVE = "NEGATIVE"
    LOW_BALANCE = "LOW_BALANCE"
    IN_GRACE = "IN_GRACE"
    SUSPENDED = "SUSPENDED"
    ENDING = "ENDING"


class Severity(StrEnum):
    WARNING = "warning"
    DANGER = "danger"


@dataclass(frozen=True)
class Alert:
    kind: AlertKind
    severity: Severity
    message: str


def days_between(start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end`` inclusive (empty when end < start)."""
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def daily_series(
    points_by_day: Mapping[date, Decimal], start: date, end: date
) -> list[tuple[date, Decimal]]:
    """Points per day over [start, end], days without a charge as 0."""
    return [(day, points_by_day.get(day, ZERO)) for day in days_between(start, end)]


def burn_rate(
    points_by_day: Mapping[date, Decimal],
    last_complete: date | None,
    first_day: date,
    window: int = BURN_WINDOW_DAYS,
) -> Decimal:
    """Average points per day over the last ``window`` complete days.

    ``last_complete`` is the latest day charged (None: none yet); days before ``first_day``
    (the program's start) are not averaged in, so a program a few days old is not diluted.
    """
    if last_complete is None or last_complete < first_day:
        return ZERO
    start = max(first_day, last_complete - timedelta(days=window - 1))
    days = days_between(start, last_complete)
    total = sum((points_by_day.get(day, ZERO) for day in days), ZERO)
    return to_points(total / len(days))


def days_left(balance: Decimal, burn: Decimal) -> Decimal | None:
    """Days the balance lasts at this burn rate, rounded down to a tenth; None: no burn."""
    if burn <= 0:
        return None
    if balance <= 0:
        return Decimal("0.0")
    return (balance / burn).quantize(Decimal("0.1"), ROUND_DOWN)


@dataclass(frozen=True)
class ProgramFacts:
    """What the alerts are derived from, for one program on one day."""

    kind: ProgramKind
    balance: Decimal | None  # prepaid only
    days_left: Decimal | None
    grace: GraceState
    negative_since: date | None
    end_date: date
    today: date
    program_grace_days: int
    negative_grace_days: int


def grace_label(f: ProgramFacts) -> str:
    """The grace status in words (R55–R57, P7)."""
    parts: list[str] = []
    if f.grace.suspended and f.negative_since is not None:
        parts.append(f"suspended: negative since {f.negative_since.isoformat()}")
    elif f.grace.negative and f.negative_since is not None:
        until = f.negative_since + timedelta(days=f.negative_grace_days)
        parts.append(
            f"negative balance since {f.negative_since.isoformat()}, "
            f"suspension on {until.isoformat()}"
        )
    if f.grace.program_expired:
        until = f.end_date + timedelta(days=f.program_grace_days)
        parts.append(
            f"program ended {f.end_date.isoformat()}, entitlements expire {until.isoformat()}"
        )
    return "; ".join(parts) if parts else "none"


def alerts(f: ProgramFacts) -> list[Alert]:
    """Alerts derived from the facts, most severe first."""
    found: list[Alert] = []
    if f.grace.suspended:
        found.append(
            Alert(
                AlertKind.SUSPENDED,
                Severity.DANGER,
                "Suspended: the balance has been negative for "
                f"{f.negative_grace_days} days; new entitlements and reactivations are refused",
            )
        )
    if f.balance is not None and f.balance < 0:
        found.append(
            Alert(AlertKind.NEGATIVE, Severity.DANGER, f"Negative balance: {f.balance:,} points")
        )
    if f.grace.in_grace and not f.grace.suspended:
        found.append(Alert(AlertKind.IN_GRACE, Severity.DANGER, f"In grace: {grace_label(f)}"))
    if (
        f.balance is not None
        and f.balance >= 0
        and f.days_left is not None
        and f.days_left < LOW_BALANCE_DAYS
    ):
        found.append(
            Alert(
                AlertKind.LOW_BALANCE,
                Severity.WARNING,
                f"Low balance: about {int(f.days_left)} days of points left at the current burn",
            )
        )
    ends_in = (f.end_date - f.today).days
    if 0 < ends_in <= ENDING_DAYS:
        found.append(
            Alert(
                AlertKind.ENDING,
                Severity.WARNING,
                f"The program ends on {f.end_date.isoformat()} (in {ends_in} days)",
            )
        )
    return found
