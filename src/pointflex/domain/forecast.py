"""Where a program's points are heading: the daily cost projected forward from known changes.

Pure: the population comes in grouped (how many entitlements of each configuration are charged
from which day until which day), with each configuration's rate as a step function of the day
(dated price lists, R20, R21); figures come out. Nothing here reads the clock or a database.

The walk visits change points only. The daily cost changes only where a group starts or stops
(scheduled activations, User Defined end dates) or a configuration's rate changes (a price list
taking effect), so between two change points the cost is constant and a whole stretch of days
is settled with one multiplication. That is O((groups + rate changes) · log) however long the
program runs, instead of days × groups.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from pointflex.domain.money import to_points
from pointflex.domain.programs import ProgramKind

HORIZON_DAYS = 3 * 365  # never walk further than this, whatever the program's end
ZERO = Decimal("0.00")
TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Group:
    """``count`` entitlements of one configuration charged every day of [first, stop).

    ``stop`` None: until the program ends (Follow Program, or no end date).
    """

    config_id: int
    count: int
    first: date
    stop: date | None = None


@dataclass(frozen=True)
class RateSchedule:
    """A configuration's points per day: ``rates[i]`` applies from ``starts[i]`` on.

    The first rate also covers every earlier day (as the first price list does).
    """

    starts: tuple[date, ...]
    rates: tuple[Decimal, ...]

    @classmethod
    def flat(cls, rate: Decimal) -> RateSchedule:
        return cls((date.min,), (rate,))

    @classmethod
    def of(cls, steps: Sequence[tuple[date, Decimal]]) -> RateSchedule:
        ordered = sorted(steps)
        if not ordered:
            raise ValueError("a rate schedule needs at least one rate")
        return cls(tuple(d for d, _ in ordered), tuple(r for _, r in ordered))

    def on(self, day: date) -> Decimal:
        return self.rates[max(bisect_right(self.starts, day) - 1, 0)]


@dataclass(frozen=True)
class Situation:
    """Everything the projection needs for one program."""

    kind: ProgramKind
    today: date
    first_day: date  # the first day not charged yet (the balance is as of the day before)
    program_end: date  # the program's end date: that day is no longer charged (P11)
    balance: Decimal | None  # prepaid only
    observed_burn: Decimal  # the average of the last complete days (burn.burn_rate)
    groups: Sequence[Group]
    rates: Mapping[int, RateSchedule]
    horizon_days: int = HORIZON_DAYS


@dataclass(frozen=True)
class Segment:
    """Every day of [first, stop) costs ``per_day`` points."""

    first: date
    stop: date
    per_day: Decimal

    @property
    def days(self) -> int:
        return (self.stop - self.first).days

    def cost_until(self, day: date) -> Decimal:
        """What the days of this segment before ``day`` cost."""
        days = (min(day, self.stop) - self.first).days
        return self.per_day * max(days, 0)


@dataclass(frozen=True)
class Projection:
    burn_today: Decimal  # projected cost of today (of the first day not charged, if later)
    observed_burn: Decimal
    walk_end: date  # the walk stops before this day: program end or horizon
    capped: bool  # True when the horizon, not the program end, stopped the walk
    to_month_end: Decimal  # projected cost from first_day to the end of today's month
    to_end: Decimal  # projected cost from first_day to walk_end
    days_left: Decimal | None  # prepaid: days the balance lasts (tenths); None: beyond walk_end
    zero_date: date | None  # prepaid: the day whose charge takes the balance to 0 or below
    shortfall: Decimal | None  # prepaid: points missing to reach walk_end (0: enough)
    segments: tuple[Segment, ...]


def walk_end(s: Situation) -> tuple[date, bool]:
    horizon = s.first_day + timedelta(days=s.horizon_days)
    return (s.program_end, False) if s.program_end <= horizon else (horizon, True)


def segments(s: Situation) -> list[Segment]:
    """The daily cost as constant stretches from ``first_day`` to the walk's end."""
    end, _ = walk_end(s)
    start = s.first_day
    if start >= end:
        return []
    deltas = _count_deltas(s, start, end)
    used = {g.config_id for g in s.groups}
    steps = _rate_steps(s, used, start, end)
    counts: dict[int, int] = {}
    rate = {c: s.rates[c].on(start) for c in used}
    total = ZERO
    found: list[Segment] = []
    points = sorted({start, *deltas, *steps})
    for index, day in enumerate(points):
        for config_id in steps.get(day, []):
            new = s.rates[config_id].on(day)
            total += counts.get(config_id, 0) * (new - rate[config_id])
            rate[config_id] = new
        for config_id, delta in deltas.get(day, {}).items():
            counts[config_id] = counts.get(config_id, 0) + delta
            total += delta * rate[config_id]
        stop = points[index + 1] if index + 1 < len(points) else end
        if found and found[-1].per_day == total:
            found[-1] = Segment(found[-1].first, stop, total)  # merge equal neighbours
        else:
            found.append(Segment(day, stop, total))
    return found


def _count_deltas(s: Situation, start: date, end: date) -> dict[date, dict[int, int]]:
    """How the count of each configuration changes, per day inside [start, end)."""
    deltas: dict[date, dict[int, int]] = {}
    for g in s.groups:
        first, stop = max(g.first, start), min(g.stop or end, end)
        if g.count <= 0 or first >= stop:
            continue
        deltas.setdefault(first, {}).setdefault(g.config_id, 0)
        deltas[first][g.config_id] += g.count
        if stop < end:
            deltas.setdefault(stop, {}).setdefault(g.config_id, 0)
            deltas[stop][g.config_id] -= g.count
    return deltas


def _rate_steps(s: Situation, used: set[int], start: date, end: date) -> dict[date, list[int]]:
    """The configurations whose daily rate changes, per day strictly inside (start, end)."""
    steps: dict[date, list[int]] = {}
    for config_id in used:
        for day in s.rates[config_id].starts:
            if start < day < end:
                steps.setdefault(day, []).append(config_id)
    return steps


def cost_between(found: Sequence[Segment], first: date, stop: date) -> Decimal:
    """Projected cost of every day of [first, stop)."""
    total = ZERO
    for seg in found:
        lo, hi = max(seg.first, first), min(seg.stop, stop)
        if lo < hi:
            total += seg.per_day * (hi - lo).days
    return to_points(total)


def run_out(balance: Decimal, found: Sequence[Segment]) -> tuple[date, Decimal] | None:
    """The day whose charge takes ``balance`` to zero or below, and the days it lasts.

    Days lasting are counted from the first segment's first day: whole days covered plus the
    fraction of the last day, rounded down to a tenth (as burn.days_left).
    """
    if not found:
        return None
    if balance <= 0:
        return found[0].first, Decimal("0.0")
    left = balance
    for seg in found:
        cost = seg.per_day * seg.days
        if seg.per_day > 0 and cost >= left:
            whole = int(left // seg.per_day)  # days fully paid within this segment
            partial = left - whole * seg.per_day
            zero_offset = whole if partial > 0 else whole - 1
            zero = seg.first + timedelta(days=zero_offset)
            lasted = (seg.first - found[0].first).days + whole
            fraction = (partial / seg.per_day) if partial > 0 else Decimal(0)
            return zero, (Decimal(lasted) + fraction).quantize(TENTH, ROUND_DOWN)
        left -= cost
    return None


def month_end(day: date) -> date:
    """The first day of the month after ``day``'s."""
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def project(s: Situation) -> Projection:
    found = segments(s)
    end, capped = walk_end(s)
    probe = max(s.today, s.first_day)
    burn_today = next((seg.per_day for seg in found if seg.first <= probe < seg.stop), ZERO)
    to_end = cost_between(found, s.first_day, end)
    to_month = cost_between(found, s.first_day, min(month_end(s.today), end))
    days_left: Decimal | None = None
    zero: date | None = None
    shortfall: Decimal | None = None
    if s.kind is ProgramKind.PREPAID and s.balance is not None:
        ran_out = run_out(s.balance, found)
        if ran_out is not None:
            zero, days_left = ran_out
        shortfall = to_points(max(to_end - s.balance, ZERO))
    return Projection(
        burn_today=to_points(burn_today),
        observed_burn=s.observed_burn,
        walk_end=end,
        capped=capped,
        to_month_end=to_month,
        to_end=to_end,
        days_left=days_left,
        zero_date=zero,
        shortfall=shortfall,
        segments=tuple(found),
    )
