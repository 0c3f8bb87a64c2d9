"""Which alerts a program raises, and when each is raised again (P8); webhook signatures and
the retry schedule of their delivery.

Pure: a program's figures (balance, burn, dates; computed with :mod:`pointflex.domain.burn`)
and the alerts it already has open come in; what to raise and what to close go out.

Every alert has an *occurrence*: with the program and the kind it is the alert's natural key,
unique in the database, so an evaluation repeated (or run on two nodes) raises nothing twice.
Condition alerts (LOW_BALANCE, NEGATIVE, NEGATIVE_GRACE, SUSPENDED) stay open while their condition
holds and are closed when it clears; a later episode is a new occurrence (the day it began).
ENDING alerts are keyed by the end date and the threshold (30, 7 or 1 days), so each threshold
fires once per end date, and an extended program is announced again.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from pointflex.domain.programs import ProgramKind

ENDING_THRESHOLDS: tuple[int, ...] = (30, 7, 1)  # days before the end date (P8)
SIGNATURE_HEADER = "X-Pointflex-Signature"
EVENT_HEADER = "X-Pointflex-Event-Id"


class AlertKind(StrEnum):
    LOW_BALANCE = "LOW_BALANCE"  # prepaid: fewer days of points left than the threshold
    NEGATIVE = "NEGATIVE"  # prepaid: the balance is below zero
    NEGATIVE_GRACE = "NEGATIVE_GRACE"  # R55: the 90-day negative-points grace has started
    SUSPENDED = "SUSPENDED"  # P7: negative for the whole grace; new entitlements refused
    EXPIRY_GRACE = "EXPIRY_GRACE"  # P7: the program has ended; its 30-day grace has started
    ENDING = "ENDING"  # 30, 7 and 1 days before the program's end (prepaid and postpaid)


# Kinds that stay open while their condition holds and close when it clears.
CONDITION_KINDS = frozenset(
    {AlertKind.LOW_BALANCE, AlertKind.NEGATIVE, AlertKind.NEGATIVE_GRACE, AlertKind.SUSPENDED}
)


@dataclass(frozen=True)
class ProgramFigures:
    """One program, as of ``today`` (its billing time zone)."""

    serial: str
    kind: ProgramKind
    today: date
    end_date: date
    in_expiry_grace: bool  # ended, and its entitlements have not expired yet (P7)
    balance: Decimal | None  # prepaid only
    burn_per_day: Decimal
    days_left: Decimal | None  # None: no burn (or postpaid)
    negative_since: date | None
    suspended_since: date | None = None  # P7: the day the negative grace ran out


@dataclass(frozen=True)
class NewAlert:
    kind: AlertKind
    occurrence: str
    message: str
    figures: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Evaluation:
    raise_: list[NewAlert]
    close: list[AlertKind]  # open condition alerts whose condition has cleared


def is_low(f: ProgramFigures, threshold_days: int) -> bool:
    """A LOW_BALANCE condition is *raised* while the balance is still positive..."""
    return (
        f.balance is not None
        and f.balance >= 0
        and f.days_left is not None
        and f.days_left < threshold_days
    )


def stays_low(f: ProgramFigures, threshold_days: int) -> bool:
    """...and *held* until the balance is back above the threshold (negative counts as low)."""
    return (f.balance is not None and f.balance < 0) or is_low(f, threshold_days)


def ending_threshold(today: date, end_date: date) -> int | None:
    """The smallest of 30/7/1 the remaining days are within (None: none, or already ended).

    A program first evaluated 5 days before its end announces "7 days", not "30" as well.
    """
    left = (end_date - today).days
    if left <= 0:
        return None
    within = [t for t in ENDING_THRESHOLDS if left <= t]
    return min(within) if within else None


def figures_of(f: ProgramFigures, threshold_days: int) -> dict[str, str | None]:
    """The figures an alert carries (strings: exact decimals and ISO dates in JSON)."""

    def text(value: object) -> str | None:
        return None if value is None else str(value)

    return {
        "balance": text(f.balance),
        "burnPerDay": text(f.burn_per_day),
        "daysLeft": text(f.days_left),
        "thresholdDays": str(threshold_days),
        "endDate": f.end_date.isoformat(),
        "negativeSince": None if f.negative_since is None else f.negative_since.isoformat(),
        "suspendedSince": None if f.suspended_since is None else f.suspended_since.isoformat(),
    }


def _conditions(f: ProgramFigures, threshold_days: int) -> dict[AlertKind, tuple[bool, bool]]:
    """Per condition kind: (raise it now if not open, keep it open if open)."""
    low = is_low(f, threshold_days)
    negative = f.balance is not None and f.balance < 0
    grace = f.kind is ProgramKind.PREPAID and f.negative_since is not None
    suspended = grace and f.suspended_since is not None
    return {
        AlertKind.LOW_BALANCE: (low, stays_low(f, threshold_days)),
        AlertKind.NEGATIVE: (negative, negative),
        AlertKind.NEGATIVE_GRACE: (grace, grace),
        AlertKind.SUSPENDED: (suspended, suspended),
    }


def _message(kind: AlertKind, f: ProgramFigures, threshold_days: int) -> str:
    if kind is AlertKind.LOW_BALANCE:
        return (
            f"Low balance: {f.balance:,} points, about {f.days_left} days at "
            f"{f.burn_per_day:,} points a day (threshold {threshold_days} days)"
        )
    if kind is AlertKind.NEGATIVE:
        return f"Negative balance: {f.balance:,} points"
    if kind is AlertKind.NEGATIVE_GRACE:
        return f"Negative-points grace started on {f.negative_since}"
    if kind is AlertKind.SUSPENDED:
        return (
            f"Suspended since {f.suspended_since}: the balance has been negative since "
            f"{f.negative_since}; new entitlements and reactivations are refused"
        )
    if kind is AlertKind.EXPIRY_GRACE:
        return f"The program ended on {f.end_date.isoformat()}; its expiry grace has started"
    left = (f.end_date - f.today).days
    return f"The program ends on {f.end_date.isoformat()} (in {left} days)"


def _began(kind: AlertKind, f: ProgramFigures) -> date:
    """The day a condition began: the grace and suspension know theirs (their conditions
    hold only when it is known); every other kind is dated today."""
    since: dict[AlertKind, date | None] = {
        AlertKind.NEGATIVE_GRACE: f.negative_since,
        AlertKind.SUSPENDED: f.suspended_since,
    }
    return since.get(kind) or f.today


def evaluate(
    f: ProgramFigures,
    open_kinds: Collection[AlertKind],
    threshold_days: int,
) -> Evaluation:
    """What to raise and close for one program, given its open condition alerts.

    One-off kinds (ENDING, EXPIRY_GRACE) are always proposed while they apply; their
    occurrence key makes the database keep only the first.
    """
    figures = figures_of(f, threshold_days)
    found: list[NewAlert] = []
    close: list[AlertKind] = []
    for kind, (raise_now, hold) in _conditions(f, threshold_days).items():
        if kind in open_kinds:
            if not hold:
                close.append(kind)
        elif raise_now:
            began = _began(kind, f)
            found.append(
                NewAlert(kind, began.isoformat(), _message(kind, f, threshold_days), figures)
            )
    threshold = ending_threshold(f.today, f.end_date)
    if threshold is not None:
        occurrence = f"{f.end_date.isoformat()}/{threshold}"
        found.append(
            NewAlert(
                AlertKind.ENDING, occurrence, _message(AlertKind.ENDING, f, threshold_days), figures
            )
        )
    if f.in_expiry_grace:
        message = _message(AlertKind.EXPIRY_GRACE, f, threshold_days)
        found.append(NewAlert(AlertKind.EXPIRY_GRACE, f.end_date.isoformat(), message, figures))
    return Evaluation(found, close)


# --------------------------------------------------------------------------- delivery


def backoff(attempts: int, schedule: Sequence[int]) -> timedelta:
    """The wait after the ``attempts``-th failed attempt (1-based); the last step repeats."""
    if attempts < 1 or not schedule:
        raise ValueError("backoff needs a failed attempt and a schedule")
    return timedelta(seconds=schedule[min(attempts, len(schedule)) - 1])


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 of ``"<timestamp>.<body>"`` with the endpoint's secret, as hex."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, at: datetime, body: bytes) -> str:
    """The ``X-Pointflex-Signature`` value: ``t=<unix seconds>,v1=<hex>``."""
    timestamp = int(at.timestamp())
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes) -> bool:
    """Check a signature header (what a receiver does; used by our tests and docs)."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    if "t" not in parts or "v1" not in parts or not parts["t"].isdigit():
        return False
    expected = sign(secret, int(parts["t"]), body)
    return hmac.compare_digest(expected, parts["v1"])
