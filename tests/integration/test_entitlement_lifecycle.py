"""Entitlement actions through the services on a real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from pointflex.bootstrap import Runtime
from pointflex.clock import ManualClock
from pointflex.domain.dates import local_day
from pointflex.domain.entitlements import Status
from pointflex.errors import AlreadyInState, InvalidState, MixedProductTypes, WrongProductType
from pointflex.services.entitlements import changes, creation
from pointflex.services.entitlements.transfers import mark_token_used
from pointflex.services.points.accrual import accrue_through
from pointflex.store.tables import audit_log, consumption, entitlement_events
from tests.builders import FGT_HW, OPERATOR, config, world


def test_new_vm_entitlement_is_pending_with_an_unused_token(rt: Runtime) -> None:
    w = world(rt)
    cfg = config(rt, w.prepaid)
    (record,) = creation.create_vm(rt, OPERATOR, config_id=cfg.id)
    assert record.status is Status.PENDING
    assert record.token_status == "NOTUSED"
    assert record.token is not None
    assert len(record.token) == 20
    assert record.serial.startswith("FGVMMLTM26")


def test_skip_pending_makes_vm_active_at_once(rt: Runtime) -> None:
    w = world(rt)
    cfg = config(rt, w.prepaid)
    records = creation.create_vm(rt, OPERATOR, config_id=cfg.id, count=3, skip_pending=True)
    assert [r.status for r in records] == [Status.ACTIVE] * 3
    assert len({r.serial for r in records}) == 3


def test_stop_then_stop_again_is_refused_with_already_in_state(rt: Runtime) -> None:
    w = world(rt)
    cfg = config(rt, w.prepaid)
    (record,) = creation.create_vm(rt, OPERATOR, config_id=cfg.id, skip_pending=True)
    (outcome,) = changes.stop(rt, OPERATOR, [record.serial])
    assert outcome.ok
    assert outcome.entitlement is not None
    assert outcome.entitlement.status is Status.STOPPED
    (again,) = changes.stop(rt, OPERATOR, [record.serial])
    assert isinstance(again.error, AlreadyInState)


def test_reactivate_pending_makes_it_active_charged_from_today_with_its_token_unused(
    rt: Runtime, clock: ManualClock
) -> None:
    w = world(rt)
    cfg = config(rt, w.prepaid)
    (record,) = creation.create_vm(rt, OPERATOR, config_id=cfg.id)
    clock.advance(timedelta(days=2))
    (outcome,) = changes.reactivate(rt, OPERATOR, [record.serial])
    assert outcome.error is None
    assert outcome.entitlement is not None
    assert outcome.entitlement.status is Status.ACTIVE
    assert outcome.entitlement.token_status == "NOTUSED"  # a VM can still redeem it
    with rt.engine.connect() as conn:
        kinds = conn.execute(
            select(entitlement_events.c.kind)
            .where(entitlement_events.c.serial == record.serial)
            .order_by(entitlement_events.c.id)
        ).scalars()
        assert list(kinds) == ["CREATED", "REACTIVATED"]
    clock.advance(timedelta(days=2))
    today = local_day(clock.now(), "America/Los_Angeles")
    accrue_through(rt, today - timedelta(days=1))
    with rt.engine.connect() as conn:
        days = conn.execute(
            select(consumption.c.day).where(consumption.c.serial == record.serial)
        ).scalars()
        charged = sorted(days)
    reactivated_on = today - timedelta(days=2)
    assert charged == [reactivated_on, reactivated_on + timedelta(days=1)]  # PENDING days free


def test_reactivate_expired_is_still_refused(rt: Runtime, clock: ManualClock) -> None:
    w = world(rt)
    cfg = config(rt, w.prepaid)
    (record,) = creation.create_vm(rt, OPERATOR, config_id=cfg.id, skip_pending=True)
    changes.stop(rt, OPERATOR, [record.serial])
    clock.advance(timedelta(days=400))  # past the program's end and its grace
    (outcome,) = changes.reactivate(rt, OPERATOR, [record.serial])
    assert isinstance(outcome.error, InvalidState)


def test_token_redemption_activates_pending_and_marks_token_used(rt: Runtime) -> None:
    w = world(rt)
    cfg = config(rt, w.prepaid)
    (record,) = creation.create_vm(rt, OPERATOR, config_id=cfg.id)
    assert record.token is not None
    used = mark_token_used(rt, record.token)
    assert used.status is Status.ACTIVE
    assert used.token_status == "USED"
    with pytest.raises(InvalidState):
        mark_token_used(rt, record.token)


def test_regenerated_token_replaces_the_old_one(rt: Runtime) -> None:
    w = world(rt)
    cfg = config(rt, w.prepaid)
    (record,) = creation.create_vm(rt, OPERATOR, config_id=cfg.id)
    fresh = changes.regenerate_token(rt, OPERATOR, record.serial)
    assert fresh.token != record.token
    assert record.token is not None
    from pointflex.errors import NotFound

    with pytest.raises(NotFound):
        mark_token_used(rt, record.token)


def test_bulk_stop_with_two_product_types_is_refused_whole(rt: Runtime) -> None:
    w = world(rt)
    vm = creation.create_vm(rt, OPERATOR, config_id=config(rt, w.prepaid).id, skip_pending=True)
    hw_cfg = config(rt, w.prepaid, FGT_HW, product=101, name="hw")
    hw = creation.create_hardware(rt, OPERATOR, config_id=hw_cfg.id, serials=["FGT60FTK19000010"])
    with pytest.raises(MixedProductTypes):
        changes.stop(rt, OPERATOR, [vm[0].serial, hw[0].serial])
    (still,) = changes.stop(rt, OPERATOR, [vm[0].serial])
    assert still.ok


def test_vm_create_on_a_hardware_configuration_is_refused(rt: Runtime) -> None:
    w = world(rt)
    hw_cfg = config(rt, w.prepaid, FGT_HW, product=101, name="hw")
    with pytest.raises(WrongProductType):
        creation.create_vm(rt, OPERATOR, config_id=hw_cfg.id)


def test_every_change_writes_an_event_and_an_audit_row(rt: Runtime, clock: ManualClock) -> None:
    w = world(rt)
    (record,) = creation.create_vm(
        rt, OPERATOR, config_id=config(rt, w.prepaid).id, skip_pending=True
    )
    clock.advance(timedelta(hours=1))
    changes.stop(rt, OPERATOR, [record.serial])
    clock.advance(timedelta(hours=1))
    changes.reactivate(rt, OPERATOR, [record.serial])
    with rt.engine.connect() as conn:
        kinds = (
            conn.execute(
                select(entitlement_events.c.kind)
                .where(entitlement_events.c.serial == record.serial)
                .order_by(entitlement_events.c.at)
            )
            .scalars()
            .all()
        )
        actions = (
            conn.execute(
                select(audit_log.c.action)
                .where(audit_log.c.object_id == record.serial)
                .order_by(audit_log.c.id)
            )
            .scalars()
            .all()
        )
    assert kinds == ["CREATED", "STOPPED", "REACTIVATED"]
    assert actions == ["entitlement.create", "entitlement.stop", "entitlement.reactivate"]
