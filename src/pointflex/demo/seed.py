"""Demo data, made through the services only: two organisations, their programs and
configurations, thousands of entitlements and ``days`` of simulated history.

A :class:`~pointflex.clock.ManualClock` runs from ``days`` ago to now. Each simulated day
starts the way production does, by accruing the day before, then tops up prepaid points that
run low and does a handful of random customer actions. Everything random comes from one
``random.Random(seed)``: a seed gives the same data again (tokens aside, which are always
drawn from a cryptographic source).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from pointflex.bootstrap import Runtime
from pointflex.demo.plan import (
    MAX_DAYS,
    MAX_ENTITLEMENTS,
    MIN_ENTITLEMENTS,
    DemoOptions,
    ProgressFn,
)
from pointflex.demo.simulator import Simulation
from pointflex.domain.dates import local_day
from pointflex.domain.entitlements import Status
from pointflex.domain.programs import ProgramKind
from pointflex.domain.usage import GroupBy
from pointflex.errors import InvalidInput, InvalidState
from pointflex.services.access import accounts
from pointflex.services.context import Actor, read
from pointflex.services.entitlements.views import EntitlementFilter, iter_entitlements
from pointflex.services.points import programs
from pointflex.services.points import usage as points


@dataclass(frozen=True)
class ProgramSummary:
    serial: str
    kind: ProgramKind
    account_id: int
    account_name: str
    balance: Decimal | None  # prepaid only
    month_to_date: Decimal
    last_30_days: Decimal
    by_status: dict[str, int]


@dataclass(frozen=True)
class DemoSummary:
    seeded: bool
    seed: int | None
    days: int
    created: int
    actions: dict[str, int]
    programs: list[ProgramSummary]


def run_demo(
    rt: Runtime, actor: Actor, options: DemoOptions, progress: ProgressFn | None = None
) -> DemoSummary:
    """Seed an empty database with the demo; with ``if_empty``, leave a used one alone."""
    _check(options)
    if programs.list_programs(rt, actor):
        if options.if_empty:
            return DemoSummary(False, None, 0, 0, {}, summarise(rt, actor))
        raise InvalidState(
            "the database already has programs: the demo only seeds an empty database "
            "(--if-empty leaves a used one as it is)"
        )
    seed = options.seed if options.seed is not None else random.SystemRandom().randrange(10**6)
    simulation = Simulation(rt, actor, options, seed)
    simulation.run(progress)
    actions = dict(sorted(simulation.actions.items()))
    return DemoSummary(True, seed, options.days, simulation.created, actions, summarise(rt, actor))


def _check(options: DemoOptions) -> None:
    if not MIN_ENTITLEMENTS <= options.entitlements <= MAX_ENTITLEMENTS:
        raise InvalidInput(
            f"entitlements must be between {MIN_ENTITLEMENTS} and {MAX_ENTITLEMENTS:,}"
        )
    if not 1 <= options.days <= MAX_DAYS:
        raise InvalidInput(f"days must be between 1 and {MAX_DAYS}")
    if options.seed is not None and options.seed < 0:
        raise InvalidInput("seed must not be negative")


# --------------------------------------------------------------------------- summary


def summarise(rt: Runtime, actor: Actor) -> list[ProgramSummary]:
    """Per program: balance or month-to-date use, the last 30 days, entitlements by status."""
    names = {a.id: a.name for a in accounts.list_accounts(rt, actor)}
    found: list[ProgramSummary] = []
    for program in programs.list_programs(rt, actor):
        today = local_day(rt.now(), program.timezone)
        month = _consumed(rt, actor, program.serial, today.replace(day=1), today)
        yesterday = today - timedelta(days=1)
        recent = _consumed(rt, actor, program.serial, today - timedelta(days=30), yesterday)
        balance = None
        if program.kind is ProgramKind.PREPAID:
            balance = programs.balance(rt, actor, program.serial)
        found.append(
            ProgramSummary(
                program.serial,
                program.kind,
                program.account_id,
                names.get(program.account_id, ""),
                balance,
                month,
                recent,
                _statuses(rt, actor, program.serial),
            )
        )
    return found


def _consumed(rt: Runtime, actor: Actor, serial: str, start: date, end: date) -> Decimal:
    rows = points.report(rt, actor, serial, GroupBy.DAY, start, end)
    return sum((row.points for row in rows), Decimal("0.00"))


def _statuses(rt: Runtime, actor: Actor, serial: str) -> dict[str, int]:
    with read(rt) as conn:
        flt = EntitlementFilter(program_serial=serial)
        counts = Counter(e.status.value for e in iter_entitlements(rt, conn, actor, flt))
    return {status.value: counts[status.value] for status in Status if counts[status.value]}
