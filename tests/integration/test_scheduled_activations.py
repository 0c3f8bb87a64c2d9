"""Scheduled hardware activation on a real database (R38, R39, R59): scheduling checks, the
03:00 activation by the job, grace, failures one serial at a time, cancelling."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from pointflex.bootstrap import Runtime
from pointflex.clock import ManualClock
from pointflex.domain.dates import day_start
from pointflex.errors import Duplicate, InvalidDate, LimitExceeded, NotFound
from pointflex.services.context import Actor
from pointflex.services.entitlements import creation, scheduled
from pointflex.services.points import programs
from pointflex.services.points.accrual import accrue_through
from pointflex.store.tables import audit_log, entitlements, scheduled_activations
from tests.builders import FGT_HW, OPERATOR, World, config, world

LA = "America/Los_Angeles"
TODAY = date(2026, 3, 2)  # the conftest clock: 10:00 Pacific
START = date(2026, 3, 5)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return day_start(day, LA) + timedelta(hours=hour, minutes=minute)


@pytest.fixture
def acme(rt: Runtime) -> World:
    return world(rt)


@pytest.fixture
def hw_config(rt: Runtime, acme: World) -> int:
    return config(rt, acme.prepaid, FGT_HW, product=101, name="branch").id


def states(rt: Runtime) -> dict[str, str]:
    with rt.engine.connect() as conn:
        rows = conn.execute(select(scheduled_activations.c.serial, scheduled_activations.c.state))
        return dict(rows.all())


def live(rt: Runtime) -> dict[str, str]:
    with rt.engine.connect() as conn:
        rows = conn.execute(select(entitlements.c.serial, entitlements.c.status))
        return dict(rows.all())


def test_scheduled_serials_wait_and_are_created_at_three_on_their_start_date(
    rt: Runtime, clock: ManualClock, hw_config: int
) -> None:
    found = scheduled.schedule_hardware(
        rt,
        OPERATOR,
        config_id=hw_config,
        serials=["fgt60f0001", "FGT60F0002"],
        start_date=START,
    )
    assert [s.serial for s in found] == ["FGT60F0001", "FGT60F0002"]
    clock.set(at(START, 2, 59))
    assert str(scheduled.activate_due(rt)).startswith("0 created")
    assert live(rt) == {}
    clock.set(at(START, 3, 0))
    summary = scheduled.activate_due(rt)
    assert (summary.created, summary.failed) == (2, 0)
    assert live(rt) == {"FGT60F0001": "ACTIVE", "FGT60F0002": "ACTIVE"}
    assert set(states(rt).values()) == {"DONE"}
    # Running again changes nothing: DONE rows are never created twice.
    assert scheduled.activate_due(rt).created == 0
    with rt.engine.connect() as conn:
        actors = (
            conn.execute(select(audit_log.c.actor).where(audit_log.c.object_id == "FGT60F0001"))
            .scalars()
            .all()
        )
    assert "scheduled:operator" in actors


def test_end_date_description_and_folder_are_applied_at_activation(
    rt: Runtime, clock: ManualClock, hw_config: int
) -> None:
    scheduled.schedule_hardware(
        rt,
        OPERATOR,
        config_id=hw_config,
        serials=["FGT60F0003"],
        start_date=START,
        end_date=date(2026, 4, 1),
        description="Paris branch",
        folder_path="Branches/Paris",
    )
    clock.set(at(START, 4))
    scheduled.activate_due(rt)
    with rt.engine.connect() as conn:
        row = conn.execute(
            select(
                entitlements.c.end_at,
                entitlements.c.termination_mode,
                entitlements.c.description,
                entitlements.c.folder_path,
            )
        ).one()
    assert row.end_at == day_start(date(2026, 4, 1), LA)
    assert row.termination_mode == "USER_DEFINED"
    assert (row.description, row.folder_path) == ("Paris branch", "My Assets/Branches/Paris")


def test_a_program_in_negative_grace_holds_its_activations_until_points_arrive(
    rt: Runtime, clock: ManualClock, acme: World, hw_config: int
) -> None:
    vm_config = config(rt, acme.prepaid).id
    creation.create_vm(rt, OPERATOR, config_id=vm_config, skip_pending=True)
    clock.set(at(TODAY + timedelta(days=1), 1))
    accrue_through(rt, TODAY)  # no points were ever added: the balance goes negative
    scheduled.schedule_hardware(
        rt, OPERATOR, config_id=hw_config, serials=["FGT60F0004"], start_date=START
    )
    clock.set(at(START, 3))
    summary = scheduled.activate_due(rt)
    assert (summary.created, summary.waiting_for_grace) == (0, 1)
    assert states(rt) == {"FGT60F0004": "SCHEDULED"}
    programs.add_pack(rt, OPERATOR, acme.prepaid, 10_000)
    clock.set(at(START + timedelta(days=1), 3))
    accrue_through(rt, START)
    assert scheduled.activate_due(rt).created == 1
    assert live(rt)["FGT60F0004"] == "ACTIVE"


def test_a_serial_added_by_hand_meanwhile_fails_alone(
    rt: Runtime, clock: ManualClock, hw_config: int
) -> None:
    scheduled.schedule_hardware(
        rt,
        OPERATOR,
        config_id=hw_config,
        serials=["FGT60F0005", "FGT60F0006"],
        start_date=START,
    )
    creation.create_hardware(rt, OPERATOR, config_id=hw_config, serials=["FGT60F0006"])
    clock.set(at(START, 3))
    summary = scheduled.activate_due(rt)
    assert (summary.created, summary.failed) == (1, 1)
    assert states(rt) == {"FGT60F0005": "DONE", "FGT60F0006": "FAILED"}
    with rt.engine.connect() as conn:
        detail = conn.execute(
            select(scheduled_activations.c.detail).where(
                scheduled_activations.c.serial == "FGT60F0006"
            )
        ).scalar_one()
    assert "already managed" in detail


def test_scheduling_refuses_bad_dates_too_many_serials_and_known_serials(
    rt: Runtime, hw_config: int
) -> None:
    def schedule(serials: list[str], start: date = START, end: date | None = None) -> None:
        scheduled.schedule_hardware(
            rt, OPERATOR, config_id=hw_config, serials=serials, start_date=start, end_date=end
        )

    with pytest.raises(InvalidDate):
        schedule(["FGT60F0007"], start=TODAY)
    with pytest.raises(InvalidDate):
        schedule(["FGT60F0007"], end=START)
    with pytest.raises(LimitExceeded):
        schedule([f"FGT60F{n:05d}" for n in range(1001)])
    schedule([f"FGT60F{n:05d}" for n in range(1000)])  # R38: 1,000 is allowed
    with pytest.raises(Duplicate, match="already scheduled"):
        schedule(["FGT60F00001"])
    creation.create_hardware(rt, OPERATOR, config_id=hw_config, serials=["FGT60F0008"])
    with pytest.raises(Duplicate, match="already managed"):
        schedule(["FGT60F0008"])
    assert len(states(rt)) == 1000


def test_a_user_of_another_account_can_neither_schedule_nor_see_nor_cancel(
    rt: Runtime, acme: World, hw_config: int
) -> None:
    scheduled.schedule_hardware(
        rt, OPERATOR, config_id=hw_config, serials=["FGT60F0009"], start_date=START
    )
    stranger = Actor(name="stranger", account_ids=frozenset({acme.member + 1000}))
    with pytest.raises(NotFound):
        scheduled.schedule_hardware(
            rt, stranger, config_id=hw_config, serials=["FGT60F0010"], start_date=START
        )
    assert scheduled.list_scheduled(rt, stranger) == []
    with pytest.raises(NotFound):
        scheduled.cancel(rt, stranger, ["FGT60F0009"])
    assert states(rt) == {"FGT60F0009": "SCHEDULED"}


def test_a_cancelled_serial_is_never_created(
    rt: Runtime, clock: ManualClock, hw_config: int
) -> None:
    scheduled.schedule_hardware(
        rt,
        OPERATOR,
        config_id=hw_config,
        serials=["FGT60F0011", "FGT60F0012"],
        start_date=START,
    )
    assert scheduled.cancel(rt, OPERATOR, ["fgt60f0011"]) == 1
    clock.set(at(START, 3))
    scheduled.activate_due(rt)
    assert live(rt) == {"FGT60F0012": "ACTIVE"}
    assert states(rt) == {"FGT60F0011": "CANCELLED", "FGT60F0012": "DONE"}
    assert [s.serial for s in scheduled.list_scheduled(rt, OPERATOR, state="cancelled")] == [
        "FGT60F0011"
    ]
