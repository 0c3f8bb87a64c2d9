"""A few months of usage made through the services, for the dashboard's tests.

Entitlements are created (and some stopped) on a manual clock that walks day by day through
the past, then every day up to yesterday is accrued, as the daily job would have.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from pointflex.bootstrap import Runtime
from pointflex.clock import ManualClock
from pointflex.domain.dates import PACIFIC, day_start, local_day
from pointflex.services.access import accounts
from pointflex.services.entitlements import changes, creation
from pointflex.services.points import programs
from pointflex.services.points.accrual import accrue_through
from tests.builders import FGT_ENT_2, FGT_ENT_4, OPERATOR, World, config, world


@dataclass(frozen=True)
class History:
    world: World
    organization_id: int
    today: date  # in the programs' time zone
    member_config: int


def at(day: date, hour: int = 9) -> datetime:
    return day_start(day, PACIFIC) + timedelta(hours=hour)


def build_history(
    rt: Runtime, clock: ManualClock, *, days: int = 100, ends_in_days: int = 200
) -> History:
    """Two programs (prepaid with a 50,000-point pack, postpaid) with ``days`` of usage."""
    now = clock.now()
    today = local_day(now, PACIFIC)
    first = today - timedelta(days=days)
    clock.set(at(first))
    w = world(rt, start=first - timedelta(days=5), end=today + timedelta(days=ends_in_days))
    programs.add_pack(rt, OPERATOR, w.prepaid, 50_000, reference="LIC-TEST")
    small = config(rt, w.prepaid, FGT_ENT_2, name="fgt-2")
    large = config(rt, w.prepaid, FGT_ENT_4, name="fgt-4")
    postpaid = config(rt, w.postpaid, FGT_ENT_2, name="post-fgt-2")
    member = config(rt, w.prepaid, FGT_ENT_2, name="member-fgt-2", account_id=w.member)
    created: list[str] = []
    for index in range(days):
        clock.set(at(first + timedelta(days=index)))
        if index % 6 == 0:
            made = creation.create_vm(rt, OPERATOR, config_id=small.id, count=2, skip_pending=True)
            created += [e.serial for e in made]
        if index % 15 == 4:
            creation.create_vm(rt, OPERATOR, config_id=large.id, skip_pending=True)
        if index % 9 == 2:
            creation.create_vm(rt, OPERATOR, config_id=postpaid.id, skip_pending=True)
        if index % 20 == 7:
            creation.create_vm(rt, OPERATOR, config_id=member.id, skip_pending=True)
        if index % 25 == 24 and created:
            changes.stop(rt, OPERATOR, [created.pop(0)])
    clock.set(now)
    accrue_through(rt, today - timedelta(days=1))
    org = accounts.list_accounts(rt, OPERATOR)
    organization_id = next(a.organization_id for a in org if a.id == w.root)
    return History(w, organization_id, today, member.id)


def leave_days_of_points(rt: Runtime, serial: str, days: int, burn: Decimal) -> Decimal:
    """Adjust the balance down to about ``days`` of burn (for the low-balance alert)."""
    balance = programs.balance(rt, OPERATOR, serial)
    target = (burn * days).quantize(Decimal("0.01"))
    programs.adjust(rt, OPERATOR, serial, target - balance, "leave a few days of points")
    return programs.balance(rt, OPERATOR, serial)
