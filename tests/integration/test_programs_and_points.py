"""Programs, packs, balances, grace and roll-over on a real database (R2–R9, R55–R58, P7)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from pointflex.bootstrap import Runtime
from pointflex.clock import ManualClock
from pointflex.domain.dates import day_start
from pointflex.domain.ends import RequestedEnd
from pointflex.domain.entitlements import Status
from pointflex.domain.programs import ProgramKind
from pointflex.errors import AccountSuspended, Forbidden, InvalidInput, ProgramConflict
from pointflex.services.access import accounts
from pointflex.services.context import Actor
from pointflex.services.entitlements import changes, creation
from pointflex.services.entitlements.views import (
    EntitlementFilter,
    get_entitlement,
    iter_entitlements,
)
from pointflex.services.points import programs
from pointflex.services.points.accrual import accrue_through
from pointflex.services.points.usage import monthly_statement
from pointflex.store.tables import point_ledger
from tests.builders import OPERATOR, config, world

LA = "America/Los_Angeles"


def at(day: date, hour: int = 9) -> object:
    return day_start(day, LA) + timedelta(hours=hour)


def status_of(rt: Runtime, serial: str) -> Status:
    with rt.engine.connect() as conn:
        return get_entitlement(rt, conn, OPERATOR, serial).status


def test_second_contract_of_a_kind_extends_the_program_R3(rt: Runtime) -> None:
    w = world(rt)
    extended = programs.register_program(
        rt,
        OPERATOR,
        account_id=w.root,
        kind=ProgramKind.PREPAID,
        start_date=date(2026, 6, 1),
        end_date=date(2028, 1, 1),
    )
    assert extended.serial == w.prepaid
    assert extended.end_date == date(2028, 1, 1)
    kinds = sorted(p.kind.value for p in programs.list_programs(rt, OPERATOR))
    assert kinds == ["POSTPAID", "PREPAID"]


def test_follow_program_entitlements_move_with_an_extension_user_defined_do_not_R45(
    rt: Runtime,
) -> None:
    w = world(rt)
    cfg = config(rt, w.prepaid)
    (follow,) = creation.create_vm(rt, OPERATOR, config_id=cfg.id)
    fixed_end = day_start(date(2026, 9, 1), LA)
    (fixed,) = creation.create_vm(rt, OPERATOR, config_id=cfg.id, end=RequestedEnd.at(fixed_end))
    programs.register_program(
        rt,
        OPERATOR,
        account_id=w.root,
        kind=ProgramKind.PREPAID,
        start_date=date(2026, 1, 1),
        end_date=date(2028, 1, 1),
    )
    with rt.engine.connect() as conn:
        moved = get_entitlement(rt, conn, OPERATOR, follow.serial)
        kept = get_entitlement(rt, conn, OPERATOR, fixed.serial)
    assert moved.end_at == day_start(date(2028, 1, 1), LA)
    assert kept.end_at == fixed_end


def test_programs_are_registered_to_the_root_account_R65(rt: Runtime) -> None:
    w = world(rt)
    with pytest.raises(ProgramConflict):
        programs.register_program(
            rt,
            OPERATOR,
            account_id=w.member,
            kind=ProgramKind.PREPAID,
            start_date=date(2026, 1, 1),
            end_date=date(2027, 1, 1),
        )


def test_postpaid_program_has_no_balance_R4(rt: Runtime) -> None:
    w = world(rt)
    with pytest.raises(ProgramConflict):
        programs.balance(rt, OPERATOR, w.postpaid)


def test_only_the_platform_operator_credits_points(rt: Runtime) -> None:
    w = world(rt)
    customer_admin = Actor(name="api:admin", account_ids=frozenset({w.root}), is_admin=True)
    with pytest.raises(Forbidden):
        programs.add_pack(rt, customer_admin, w.prepaid, 50_000)
    with pytest.raises(Forbidden):
        programs.adjust(rt, customer_admin, w.prepaid, Decimal("100"), "a gift to ourselves")
    assert programs.balance(rt, OPERATOR, w.prepaid) == Decimal("0")


def test_packs_hold_ten_or_fifty_thousand_points_R7(rt: Runtime) -> None:
    w = world(rt)
    assert programs.add_pack(rt, OPERATOR, w.prepaid, 50_000) == Decimal("50000.00")
    with pytest.raises(InvalidInput):
        programs.add_pack(rt, OPERATOR, w.prepaid, 12_345)
    assert programs.balance(rt, OPERATOR, w.prepaid) == Decimal("50000.00")


def test_negative_balance_shows_grace_keeps_charging_and_a_pack_clears_it_R55_R58(
    rt: Runtime, clock: ManualClock
) -> None:
    clock.set(at(date(2026, 3, 1)))
    w = world(rt)
    (vm,) = creation.create_vm(rt, OPERATOR, config_id=config(rt, w.prepaid).id, skip_pending=True)
    clock.set(at(date(2026, 3, 4), 2))
    accrue_through(rt, date(2026, 3, 3))
    assert programs.balance(rt, OPERATOR, w.prepaid) == Decimal("-19.17")
    assert status_of(rt, vm.serial) is Status.GRACE_PERIOD
    programs.add_pack(rt, OPERATOR, w.prepaid, 10_000)
    assert status_of(rt, vm.serial) is Status.ACTIVE
    clock.set(at(date(2026, 3, 5), 2))
    accrue_through(rt, date(2026, 3, 4))
    assert programs.balance(rt, OPERATOR, w.prepaid) == Decimal("10000") - 4 * Decimal("6.39")


def test_ninety_days_negative_suspends_new_entitlements_and_reactivations_P7(
    rt: Runtime, clock: ManualClock
) -> None:
    clock.set(at(date(2026, 1, 1)))
    w = world(rt)
    cfg = config(rt, w.prepaid)
    (running, stopped) = creation.create_vm(
        rt, OPERATOR, config_id=cfg.id, count=2, skip_pending=True
    )
    changes.stop(rt, OPERATOR, [stopped.serial])
    clock.set(at(date(2026, 4, 2), 2))
    accrue_through(rt, date(2026, 4, 1))  # negative since 2 January: 90 days on 2 April
    with pytest.raises(AccountSuspended):
        creation.create_vm(rt, OPERATOR, config_id=cfg.id)
    (outcome,) = changes.reactivate(rt, OPERATOR, [stopped.serial])
    assert isinstance(outcome.error, AccountSuspended)
    assert status_of(rt, running.serial) is Status.GRACE_PERIOD  # keeps running and accruing


def test_program_expiry_puts_entitlements_in_grace_then_expires_them_R57_P7(
    rt: Runtime, clock: ManualClock
) -> None:
    clock.set(at(date(2026, 3, 1)))
    w = world(rt, end=date(2026, 4, 1))
    (vm,) = creation.create_vm(rt, OPERATOR, config_id=config(rt, w.postpaid).id, skip_pending=True)
    clock.set(at(date(2026, 4, 10)))
    assert status_of(rt, vm.serial) is Status.GRACE_PERIOD
    clock.set(at(date(2026, 5, 1)))
    assert status_of(rt, vm.serial) is Status.EXPIRED
    accrue_through(rt, date(2026, 4, 30))
    statement = monthly_statement(rt, OPERATOR, w.postpaid, date(2026, 4, 1))
    assert statement.consumption == 30 * Decimal("6.39")  # every grace day of April charged


def test_anniversary_rolls_over_late_points_fully_and_early_points_at_half_R9(
    rt: Runtime, clock: ManualClock
) -> None:
    root = accounts.create_organization(rt, OPERATOR, "Solo", "Solo root")
    clock.set(at(date(2025, 1, 10)))
    program = programs.register_program(
        rt,
        OPERATOR,
        account_id=root.id,
        kind=ProgramKind.PREPAID,
        start_date=date(2025, 1, 10),
        end_date=date(2027, 1, 10),
    )
    programs.add_pack(rt, OPERATOR, program.serial, 10_000)  # day 1: early points
    clock.set(at(date(2025, 9, 1)))  # past day 180
    programs.add_pack(rt, OPERATOR, program.serial, 50_000)
    clock.set(at(date(2026, 1, 11), 2))
    accrue_through(rt, date(2026, 1, 10))
    with rt.engine.connect() as conn:
        forfeits = conn.execute(
            select(point_ledger.c.day, point_ledger.c.points).where(
                point_ledger.c.kind == "ROLLOVER_FORFEIT"
            )
        ).all()
    assert forfeits == [(date(2026, 1, 10), Decimal("-5000.00"))]
    assert programs.balance(rt, OPERATOR, program.serial) == Decimal("55000.00")


def _listed(rt: Runtime, status: str) -> set[str]:
    flt = EntitlementFilter(status=status)
    with rt.engine.connect() as conn:
        return {e.serial for e in iter_entitlements(rt, conn, OPERATOR, flt)}


def test_status_filters_match_the_shown_status_not_the_stored_one(
    rt: Runtime, clock: ManualClock
) -> None:
    clock.set(at(date(2026, 1, 1)))
    w = world(rt)
    cfg = config(rt, w.prepaid)
    running, stopped, ending = (
        e.serial
        for e in creation.create_vm(rt, OPERATOR, config_id=cfg.id, count=3, skip_pending=True)
    )
    (pending,) = (e.serial for e in creation.create_vm(rt, OPERATOR, config_id=cfg.id))
    changes.stop(rt, OPERATOR, [stopped])
    end = day_start(date(2026, 1, 20), LA)
    changes.update_entitlement(rt, OPERATOR, ending, end=RequestedEnd.at(end))
    clock.set(at(date(2026, 1, 25), 2))
    accrue_through(rt, date(2026, 1, 24))  # no points: the prepaid program is in grace
    # Stored ACTIVE, shown GRACE_PERIOD; stored ACTIVE with a passed end, shown EXPIRED.
    assert _listed(rt, "GRACE_PERIOD") == {running}
    assert _listed(rt, "ACTIVE") == set()
    assert _listed(rt, "EXPIRED") == {ending}
    assert _listed(rt, "STOPPED") == {stopped}
    assert _listed(rt, "PENDING") == {pending}
