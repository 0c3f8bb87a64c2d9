"""Creation limits, updates, transfers, hardware removal and scope (R27–R30, R41, R47, R51, R66)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from pointflex.bootstrap import Runtime
from pointflex.clock import ManualClock
from pointflex.domain.dates import day_start
from pointflex.domain.ends import RequestedEnd
from pointflex.domain.entitlements import Status
from pointflex.errors import (
    ConfigDisabled,
    Duplicate,
    InvalidDate,
    InvalidInput,
    InvalidState,
    LimitExceeded,
    NotFound,
    WrongProductType,
)
from pointflex.services.access import accounts
from pointflex.services.configs import configurations as configs
from pointflex.services.context import Actor
from pointflex.services.entitlements import changes, creation
from pointflex.services.entitlements.transfers import transfer
from pointflex.services.entitlements.views import EntitlementFilter, iter_entitlements
from pointflex.store.tables import entitlement_events, entitlements
from tests.builders import FGT_ENT_4, FGT_HW, OPERATOR, config, world

LA = "America/Los_Angeles"
SASE = [{"id": 48, "value": 100}, {"id": 49, "value": "FSASESTD"}]


def test_new_entitlements_go_to_my_assets_or_the_given_folder_R30(rt: Runtime) -> None:
    w = world(rt)
    cfg = config(rt, w.prepaid)
    (plain,) = creation.create_vm(rt, OPERATOR, config_id=cfg.id)
    (filed,) = creation.create_vm(rt, OPERATOR, config_id=cfg.id, folder_path="Lab/East")
    assert plain.folder_path == "My Assets"
    assert filed.folder_path == "My Assets/Lab/East"


def test_hardware_and_cloud_are_active_without_token_R27(rt: Runtime) -> None:
    w = world(rt)
    (hw,) = creation.create_hardware(
        rt,
        OPERATOR,
        config_id=config(rt, w.prepaid, FGT_HW, product=101).id,
        serials=["fgt60ftk19000010"],
    )
    (cloud,) = creation.create_cloud(
        rt, OPERATOR, config_id=config(rt, w.prepaid, SASE, product=205).id
    )
    assert hw.serial == "FGT60FTK19000010"
    assert (hw.status, hw.token, hw.token_status) == (Status.ACTIVE, None, None)
    assert (cloud.status, cloud.token) == (Status.ACTIVE, None)


def test_one_cloud_entitlement_per_product_per_account_R28(rt: Runtime) -> None:
    w = world(rt)
    cfg = config(rt, w.prepaid, SASE, product=205)
    creation.create_cloud(rt, OPERATOR, config_id=cfg.id)
    with pytest.raises(Duplicate):
        creation.create_cloud(rt, OPERATOR, config_id=cfg.id)
    with pytest.raises(InvalidInput):
        creation.create_cloud(rt, OPERATOR, config_id=cfg.id, count=2)


def test_more_than_100_hardware_serials_are_refused_R38(rt: Runtime) -> None:
    w = world(rt)
    cfg = config(rt, w.prepaid, FGT_HW, product=101)
    with pytest.raises(LimitExceeded):
        creation.create_hardware(
            rt, OPERATOR, config_id=cfg.id, serials=[f"FGT60F{n:010d}" for n in range(101)]
        )


def test_disabled_configuration_takes_no_new_entitlements_but_keeps_its_own_P12(
    rt: Runtime,
) -> None:
    w = world(rt)
    cfg = config(rt, w.prepaid)
    (vm,) = creation.create_vm(rt, OPERATOR, config_id=cfg.id, skip_pending=True)
    configs.set_config_status(rt, OPERATOR, cfg.id, "DISABLED")
    with pytest.raises(ConfigDisabled):
        creation.create_vm(rt, OPERATOR, config_id=cfg.id)
    with rt.engine.connect() as conn:
        status = conn.execute(
            select(entitlements.c.status).where(entitlements.c.serial == vm.serial)
        ).scalar_one()
    assert status == "ACTIVE"


def test_user_defined_end_must_not_pass_the_program_end_R44(rt: Runtime) -> None:
    w = world(rt)
    cfg = config(rt, w.prepaid)
    with pytest.raises(InvalidDate):
        creation.create_vm(
            rt, OPERATOR, config_id=cfg.id, end=RequestedEnd.at(day_start(date(2027, 6, 1), LA))
        )
    with pytest.raises(InvalidDate):
        creation.create_vm(
            rt, OPERATOR, config_id=cfg.id, end=RequestedEnd.at(day_start(date(2026, 3, 2), LA))
        )


def test_stopped_entitlement_keeps_its_end_date_but_may_change_configuration_R47(
    rt: Runtime,
) -> None:
    w = world(rt)
    cfg = config(rt, w.prepaid)
    bigger = config(rt, w.prepaid, FGT_ENT_4, name="big")
    (vm,) = creation.create_vm(rt, OPERATOR, config_id=cfg.id, skip_pending=True)
    changes.stop(rt, OPERATOR, [vm.serial])
    with pytest.raises(InvalidState):
        changes.update_entitlement(
            rt, OPERATOR, vm.serial, end=RequestedEnd.at(day_start(date(2026, 6, 1), LA))
        )
    moved = changes.update_entitlement(
        rt, OPERATOR, vm.serial, config_id=bigger.id, description="x"
    )
    assert (moved.config_id, moved.description) == (bigger.id, "x")


def test_sending_the_current_values_changes_nothing(rt: Runtime) -> None:
    w = world(rt)
    cfg = config(rt, w.prepaid)
    (vm,) = creation.create_vm(rt, OPERATOR, config_id=cfg.id, description="d")
    changes.update_entitlement(rt, OPERATOR, vm.serial, config_id=cfg.id, description="d")
    with rt.engine.connect() as conn:
        events = (
            conn.execute(
                select(entitlement_events.c.kind).where(entitlement_events.c.serial == vm.serial)
            )
            .scalars()
            .all()
        )
    assert events == ["CREATED"]


def test_moving_to_another_product_type_is_refused_R51(rt: Runtime) -> None:
    w = world(rt)
    (vm,) = creation.create_vm(rt, OPERATOR, config_id=config(rt, w.prepaid).id)
    fmg = config(rt, w.prepaid, [{"id": 30, "value": 10}, {"id": 9, "value": 1}], product=2)
    with pytest.raises(WrongProductType):
        changes.update_entitlement(rt, OPERATOR, vm.serial, config_id=fmg.id)


def test_transfer_moves_serials_within_the_organisation_and_reuses_a_twin_config_R66(
    rt: Runtime,
) -> None:
    w = world(rt)
    cfg = config(rt, w.prepaid)
    twin = config(rt, w.prepaid, account_id=w.member, name="twin")
    (vm,) = creation.create_vm(rt, OPERATOR, config_id=cfg.id)
    (moved,) = transfer(rt, OPERATOR, serials=[vm.serial], target_account_id=w.member)
    assert (moved.account_id, moved.config_id) == (w.member, twin.id)


def test_transfer_to_another_organisation_is_refused_R66(rt: Runtime) -> None:
    w = world(rt)
    other = accounts.create_organization(rt, OPERATOR, "Other", "Other root")
    (vm,) = creation.create_vm(rt, OPERATOR, config_id=config(rt, w.prepaid).id)
    with pytest.raises(InvalidInput):
        transfer(rt, OPERATOR, serials=[vm.serial], target_account_id=other.id)


def test_hardware_removal_is_all_or_nothing_and_keeps_history_R41(
    rt: Runtime, clock: ManualClock
) -> None:
    w = world(rt)
    cfg = config(rt, w.prepaid, FGT_HW, product=101)
    one, two = creation.create_hardware(
        rt, OPERATOR, config_id=cfg.id, serials=["FGT60F0000001", "FGT60F0000002"]
    )
    changes.stop(rt, OPERATOR, [one.serial])
    with pytest.raises(InvalidState):
        changes.remove_hardware(rt, OPERATOR, [one.serial, two.serial])
    clock.advance(timedelta(minutes=5))
    assert changes.remove_hardware(rt, OPERATOR, [one.serial]) == [one.serial]
    with rt.engine.connect() as conn:
        listed = [e.serial for e in iter_entitlements(rt, conn, OPERATOR, EntitlementFilter())]
        kinds = (
            conn.execute(
                select(entitlement_events.c.kind)
                .where(entitlement_events.c.serial == one.serial)
                .order_by(entitlement_events.c.at)
            )
            .scalars()
            .all()
        )
    assert listed == [two.serial]
    assert kinds == ["CREATED", "STOPPED", "REMOVED"]


def test_an_account_scoped_actor_sees_nothing_of_another_account_R63(rt: Runtime) -> None:
    w = world(rt)
    (vm,) = creation.create_vm(rt, OPERATOR, config_id=config(rt, w.prepaid).id)
    member_only = Actor(name="member", account_ids=frozenset({w.member}))
    with pytest.raises(NotFound):
        changes.stop(rt, member_only, [vm.serial])
    with rt.engine.connect() as conn:
        assert list(iter_entitlements(rt, conn, member_only, EntitlementFilter())) == []


def test_read_only_actor_cannot_change_anything_R64(rt: Runtime) -> None:
    from pointflex.errors import Forbidden

    w = world(rt)
    (vm,) = creation.create_vm(rt, OPERATOR, config_id=config(rt, w.prepaid).id)
    reader = Actor(name="reader", can_write=False)
    with pytest.raises(Forbidden):
        changes.stop(rt, reader, [vm.serial])


def test_reactivation_can_choose_a_user_defined_end_R48(rt: Runtime) -> None:
    w = world(rt)
    (vm,) = creation.create_vm(rt, OPERATOR, config_id=config(rt, w.prepaid).id, skip_pending=True)
    changes.stop(rt, OPERATOR, [vm.serial])
    end = day_start(date(2026, 6, 1), LA)
    (outcome,) = changes.reactivate(rt, OPERATOR, [vm.serial], RequestedEnd.at(end))
    assert outcome.ok
    assert outcome.entitlement is not None
    assert outcome.entitlement.status is Status.ACTIVE
    assert outcome.entitlement.end_at == end
    assert outcome.entitlement.termination_mode.value == "USER_DEFINED"


def test_reactivation_with_an_end_after_the_program_fails_that_serial_only_R44(
    rt: Runtime,
) -> None:
    w = world(rt)
    (vm,) = creation.create_vm(rt, OPERATOR, config_id=config(rt, w.prepaid).id, skip_pending=True)
    changes.stop(rt, OPERATOR, [vm.serial])
    (outcome,) = changes.reactivate(
        rt, OPERATOR, [vm.serial], RequestedEnd.at(day_start(date(2030, 1, 1), LA))
    )
    assert isinstance(outcome.error, InvalidDate)
    with rt.engine.connect() as conn:
        status = conn.execute(
            select(entitlements.c.status).where(entitlements.c.serial == vm.serial)
        ).scalar_one()
    assert status == "STOPPED"


def test_serials_are_matched_whatever_their_case(rt: Runtime) -> None:
    w = world(rt)
    (vm,) = creation.create_vm(rt, OPERATOR, config_id=config(rt, w.prepaid).id, skip_pending=True)
    (outcome,) = changes.stop(rt, OPERATOR, [f" {vm.serial.lower()} "])
    assert outcome.ok
    assert outcome.serial == vm.serial


def test_accruing_an_unknown_program_is_not_found(rt: Runtime) -> None:
    from pointflex.services.points.accrual import accrue_through

    world(rt)
    with pytest.raises(NotFound):
        accrue_through(rt, date(2026, 3, 1), program_serial="ELAVMR0000000000")
