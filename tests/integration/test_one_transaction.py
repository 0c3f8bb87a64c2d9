"""Checks and the changes they guard run in one transaction: nothing can slip in between."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from pointflex.bootstrap import Runtime
from pointflex.domain.entitlements import Status
from pointflex.errors import InvalidInput, InvalidState
from pointflex.services.context import read
from pointflex.services.entitlements import changes, creation, transfers
from pointflex.services.entitlements.bulk import BulkAction, apply_bulk, preview_bulk
from pointflex.services.entitlements.views import EntitlementFilter, load_records
from tests.builders import FGT_HW, OPERATOR, config, world


@contextmanager
def transactions(rt: Runtime) -> Iterator[list[object]]:
    """The transactions begun on the runtime's engine while the block runs."""
    begun: list[object] = []

    def count(conn: object) -> None:
        begun.append(conn)

    event.listen(rt.engine, "begin", count)
    try:
        yield begun
    finally:
        event.remove(rt.engine, "begin", count)


def test_a_transfer_checks_its_source_program_in_the_transaction_that_moves(
    rt: Runtime,
) -> None:
    w = world(rt)
    here = creation.create_vm(rt, OPERATOR, config_id=config(rt, w.prepaid).id, skip_pending=True)
    with transactions(rt) as begun:
        moved = transfers.transfer(
            rt,
            OPERATOR,
            serials=[here[0].serial],
            target_account_id=w.member,
            source_program_serial=w.prepaid,
        )
    assert [r.account_id for r in moved] == [w.member]
    assert len(begun) == 1


def test_a_transfer_naming_another_program_moves_nothing(rt: Runtime) -> None:
    w = world(rt)
    (there,) = creation.create_vm(
        rt, OPERATOR, config_id=config(rt, w.postpaid).id, skip_pending=True
    )
    with pytest.raises(InvalidInput) as caught:
        transfers.transfer(
            rt,
            OPERATOR,
            serials=[there.serial],
            target_account_id=w.member,
            source_program_serial=w.prepaid,
        )
    assert f"is not in program {w.prepaid}" in caught.value.message
    with read(rt) as conn:
        (after,) = load_records(rt, conn, OPERATOR, [there.serial])
    assert after.account_id == w.root


def test_a_bulk_stop_of_a_filtered_selection_is_one_transaction(rt: Runtime) -> None:
    w = world(rt)
    cfg = config(rt, w.prepaid)
    created = creation.create_vm(rt, OPERATOR, config_id=cfg.id, count=5, skip_pending=True)
    everything = EntitlementFilter(config_id=cfg.id)
    assert len(preview_bulk(rt, OPERATOR, BulkAction.STOP, [], everything)) == 5
    with transactions(rt) as begun:
        outcomes = apply_bulk(rt, OPERATOR, BulkAction.STOP, [], everything)
    assert len(begun) == 1
    assert sorted(o.serial for o in outcomes if o.ok) == sorted(r.serial for r in created)
    with read(rt) as conn:
        stopped = load_records(rt, conn, OPERATOR, [r.serial for r in created])
    assert {r.status for r in stopped} == {Status.STOPPED}


def test_a_bulk_removal_is_refused_whole_when_one_serial_cannot_go(rt: Runtime) -> None:
    w = world(rt)
    hw = config(rt, w.prepaid, FGT_HW, product=101, name="hw")
    made = creation.create_hardware(
        rt, OPERATOR, config_id=hw.id, serials=["FGT60FTK00000001", "FGT60FTK00000002"]
    )
    changes.stop(rt, OPERATOR, [made[0].serial])
    with pytest.raises(InvalidState, match="only STOPPED or EXPIRED hardware"):
        apply_bulk(rt, OPERATOR, BulkAction.REMOVE, [r.serial for r in made], None)
    with read(rt) as conn:
        left = load_records(rt, conn, OPERATOR, [r.serial for r in made])
    assert [r.removed_at for r in left] == [None, None]
