"""The daily accrual on a real database: which days are charged, at which rate (R11–R18)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from pointflex.bootstrap import Runtime
from pointflex.clock import ManualClock
from pointflex.domain.dates import day_start
from pointflex.domain.ends import RequestedEnd
from pointflex.errors import AccrualNotDue
from pointflex.services.configs.configurations import update_config
from pointflex.services.entitlements import changes, creation
from pointflex.services.points import programs
from pointflex.services.points.accrual import accrue_day, accrue_through
from pointflex.store.tables import consumption
from tests.builders import FGT_ENT_4, OPERATOR, config, world

LA = "America/Los_Angeles"
RATE_2 = Decimal("6.39")
RATE_4 = Decimal("12.91")


def at(day: date, hour: int) -> datetime:
    """``hour`` o'clock Pacific on ``day``."""
    return day_start(day, LA) + timedelta(hours=hour)


def charges(rt: Runtime, serial: str) -> dict[date, Decimal]:
    with rt.engine.connect() as conn:
        rows = conn.execute(
            select(consumption.c.day, consumption.c.points)
            .where(consumption.c.serial == serial)
            .order_by(consumption.c.day)
        ).all()
    return {row.day: row.points for row in rows}


def settle(rt: Runtime, clock: ManualClock, through: date) -> None:
    """Move the clock past ``through`` and accrue every program up to it."""
    clock.set(max(clock.now(), at(through + timedelta(days=1), 1)))
    accrue_through(rt, through)


D = date(2026, 3, 10)


@pytest.fixture
def vm(rt: Runtime, clock: ManualClock) -> str:
    w = world(rt)
    clock.set(at(D, 9))
    (record,) = creation.create_vm(
        rt, OPERATOR, config_id=config(rt, w.prepaid).id, skip_pending=True
    )
    return record.serial


def test_skip_pending_entitlement_is_charged_from_its_creation_day(
    rt: Runtime, clock: ManualClock, vm: str
) -> None:
    settle(rt, clock, D + timedelta(days=1))
    assert charges(rt, vm) == {D: RATE_2, D + timedelta(days=1): RATE_2}


def test_stop_charges_the_day_of_the_stop_and_not_the_next(
    rt: Runtime, clock: ManualClock, vm: str
) -> None:
    clock.set(at(D + timedelta(days=1), 8))
    changes.stop(rt, OPERATOR, [vm])
    settle(rt, clock, D + timedelta(days=3))
    assert charges(rt, vm) == {D: RATE_2, D + timedelta(days=1): RATE_2}


def test_reactivation_day_is_charged(rt: Runtime, clock: ManualClock, vm: str) -> None:
    clock.set(at(D, 10))
    changes.stop(rt, OPERATOR, [vm])
    clock.set(at(D + timedelta(days=3), 23))
    changes.reactivate(rt, OPERATOR, [vm])
    settle(rt, clock, D + timedelta(days=3))
    assert sorted(charges(rt, vm)) == [D, D + timedelta(days=3)]


def test_stop_and_reactivate_on_one_day_charge_it_once(
    rt: Runtime, clock: ManualClock, vm: str
) -> None:
    clock.set(at(D + timedelta(days=1), 8))
    changes.stop(rt, OPERATOR, [vm])
    clock.set(at(D + timedelta(days=1), 9))
    changes.reactivate(rt, OPERATOR, [vm])
    settle(rt, clock, D + timedelta(days=1))
    assert charges(rt, vm) == {D: RATE_2, D + timedelta(days=1): RATE_2}


def test_pending_days_are_not_charged(rt: Runtime, clock: ManualClock) -> None:
    w = world(rt)
    clock.set(at(D, 9))
    (record,) = creation.create_vm(rt, OPERATOR, config_id=config(rt, w.prepaid).id)
    settle(rt, clock, D + timedelta(days=2))
    assert charges(rt, record.serial) == {}


def test_configuration_change_charges_the_highest_rate_of_the_day(
    rt: Runtime, clock: ManualClock, vm: str
) -> None:
    with rt.engine.connect() as conn:
        from pointflex.store.tables import entitlements

        config_id = conn.execute(
            select(entitlements.c.config_id).where(entitlements.c.serial == vm)
        ).scalar_one()
    clock.set(at(D + timedelta(days=1), 12))
    update_config(rt, OPERATOR, config_id, parameters=FGT_ENT_4)
    clock.set(at(D + timedelta(days=2), 12))
    update_config(
        rt, OPERATOR, config_id, parameters=[{"id": 1, "value": 2}, {"id": 2, "value": "ENT"}]
    )
    settle(rt, clock, D + timedelta(days=3))
    assert charges(rt, vm) == {
        D: RATE_2,
        D + timedelta(days=1): RATE_4,
        D + timedelta(days=2): RATE_4,
        D + timedelta(days=3): RATE_2,
    }


def test_user_defined_end_date_day_is_not_charged(rt: Runtime, clock: ManualClock) -> None:
    w = world(rt)
    clock.set(at(D, 9))
    end = day_start(D + timedelta(days=2), LA)
    (record,) = creation.create_vm(
        rt,
        OPERATOR,
        config_id=config(rt, w.prepaid).id,
        skip_pending=True,
        end=RequestedEnd.at(end),
    )
    settle(rt, clock, D + timedelta(days=4))
    assert sorted(charges(rt, record.serial)) == [D, D + timedelta(days=1)]
    with rt.engine.connect() as conn:
        from pointflex.store.tables import entitlements

        status = conn.execute(
            select(entitlements.c.status).where(entitlements.c.serial == record.serial)
        ).scalar_one()
    assert status == "EXPIRED"


def test_rerunning_an_accrued_day_changes_nothing(rt: Runtime, clock: ManualClock, vm: str) -> None:
    settle(rt, clock, D)
    with rt.engine.connect() as conn:
        program = conn.execute(select(consumption.c.program_serial)).scalar_one()
    again = accrue_day(rt, program, D)
    assert again.skipped
    with rt.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(consumption)).scalar_one() == 1


def test_a_day_that_has_not_ended_cannot_be_accrued(
    rt: Runtime, clock: ManualClock, vm: str
) -> None:
    clock.set(at(D, 23))
    with pytest.raises(AccrualNotDue):
        accrue_through(rt, D)


def test_balance_is_packs_minus_accrued_days(rt: Runtime, clock: ManualClock, vm: str) -> None:
    with rt.engine.connect() as conn:
        program = conn.execute(select(func.min(consumption.c.program_serial))).scalar()
    assert program is None  # nothing accrued yet
    serial = programs.list_programs(rt, OPERATOR)[0]
    prepaid = next(p for p in programs.list_programs(rt, OPERATOR) if p.kind.value == "PREPAID")
    programs.add_pack(rt, OPERATOR, prepaid.serial, 10_000)
    settle(rt, clock, D + timedelta(days=1))
    assert programs.balance(rt, OPERATOR, prepaid.serial) == Decimal("10000") - 2 * RATE_2
    assert serial is not None


def test_dst_day_is_charged_once(rt: Runtime, clock: ManualClock) -> None:
    w = world(rt)
    spring = date(2026, 3, 8)  # 23-hour day in Los Angeles
    clock.set(at(spring - timedelta(days=1), 9))
    (record,) = creation.create_vm(
        rt, OPERATOR, config_id=config(rt, w.prepaid).id, skip_pending=True
    )
    clock.set(datetime(2026, 3, 8, 9, 30, tzinfo=UTC))  # 01:30 PST, before the jump
    changes.stop(rt, OPERATOR, [record.serial])
    settle(rt, clock, spring + timedelta(days=1))
    assert charges(rt, record.serial) == {spring - timedelta(days=1): RATE_2, spring: RATE_2}
