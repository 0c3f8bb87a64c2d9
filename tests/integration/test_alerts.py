"""Alerts raised once per occurrence against a real database (P8): low balance, negative,
negative grace, 30/7/1 days before the end, expiry grace; repeated runs; recovery and fall."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from pointflex.bootstrap import Runtime
from pointflex.clock import ManualClock
from pointflex.domain.dates import PACIFIC, local_day
from pointflex.errors import InvalidInput, NotFound, ProgramConflict
from pointflex.services.alerts.occurrences import (
    StoredAlert,
    acknowledge,
    list_alerts,
    raise_due_alerts,
)
from pointflex.services.alerts.thresholds import set_low_balance_days, thresholds
from pointflex.services.context import Actor, read
from pointflex.services.entitlements import creation
from pointflex.services.points import programs
from pointflex.services.points.accrual import accrue_through
from pointflex.services.points.dashboard import dashboard
from pointflex.store.tables import alerts
from tests.builders import OPERATOR, World, config, world
from tests.history import at, leave_days_of_points


def stored(rt: Runtime) -> list[tuple[str, str, str, bool]]:
    """(program, kind, occurrence, open) of every alert, in the order raised."""
    with read(rt) as conn:
        rows = conn.execute(select(alerts).order_by(alerts.c.id)).all()
    return [(r.program_serial, r.kind, r.occurrence, r.cleared_at is None) for r in rows]


def kinds(rt: Runtime, serial: str) -> list[str]:
    return [kind for program, kind, _, _ in stored(rt) if program == serial]


def burning_world(rt: Runtime, clock: ManualClock, *, ends_in: int = 200) -> tuple[World, date]:
    """A prepaid program with a 10,000-point pack and two VMs running for ten days, accrued
    through yesterday (so it has a burn rate)."""
    today = local_day(clock.now(), PACIFIC)
    now = clock.now()
    clock.set(at(today - timedelta(days=10)))
    w = world(rt, start=today - timedelta(days=20), end=today + timedelta(days=ends_in))
    programs.add_pack(rt, OPERATOR, w.prepaid, 10_000)
    made = config(rt, w.prepaid)
    creation.create_vm(rt, OPERATOR, config_id=made.id, count=2, skip_pending=True)
    clock.set(now)
    accrue_through(rt, today - timedelta(days=1))
    return w, today


def burn_of(rt: Runtime, serial: str) -> Decimal:
    card = next(c for c in dashboard(rt, OPERATOR) if c.serial == serial)
    assert card.burn_per_day > 0
    return card.burn_per_day


def test_a_healthy_program_raises_nothing(rt: Runtime, clock: ManualClock) -> None:
    burning_world(rt, clock)
    assert raise_due_alerts(rt) == 0
    assert stored(rt) == []


def test_low_balance_is_raised_once_however_often_evaluated(
    rt: Runtime, clock: ManualClock
) -> None:
    w, today = burning_world(rt, clock)
    leave_days_of_points(rt, w.prepaid, 10, burn_of(rt, w.prepaid))
    assert raise_due_alerts(rt) == 1
    assert raise_due_alerts(rt) == 0
    clock.advance(timedelta(days=1))
    assert raise_due_alerts(rt) == 0
    assert stored(rt) == [(w.prepaid, "LOW_BALANCE", today.isoformat(), True)]
    raised = list_alerts(rt, OPERATOR)[0]
    assert raised.figures["thresholdDays"] == "30"
    assert "Low balance" in raised.message


def test_the_threshold_is_a_setting(rt: Runtime, clock: ManualClock) -> None:
    w, _ = burning_world(rt, clock)
    leave_days_of_points(rt, w.prepaid, 10, burn_of(rt, w.prepaid))
    rt.settings.alert_low_balance_days = 5
    assert raise_due_alerts(rt) == 0
    rt.settings.alert_low_balance_days = 11
    assert raise_due_alerts(rt) == 1


def test_a_recovered_balance_that_falls_again_raises_a_new_alert(
    rt: Runtime, clock: ManualClock
) -> None:
    w, today = burning_world(rt, clock)
    burn = burn_of(rt, w.prepaid)
    leave_days_of_points(rt, w.prepaid, 10, burn)
    assert raise_due_alerts(rt) == 1
    programs.add_pack(rt, OPERATOR, w.prepaid, 50_000)
    assert raise_due_alerts(rt) == 0
    assert stored(rt) == [(w.prepaid, "LOW_BALANCE", today.isoformat(), False)]
    clock.advance(timedelta(days=1))
    leave_days_of_points(rt, w.prepaid, 10, burn)
    assert raise_due_alerts(rt) == 1
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert stored(rt)[-1] == (w.prepaid, "LOW_BALANCE", tomorrow, True)


def test_a_negative_balance_raises_negative_then_grace_after_the_daily_run(
    rt: Runtime, clock: ManualClock
) -> None:
    w, today = burning_world(rt, clock)
    programs.adjust(rt, OPERATOR, w.prepaid, -programs.balance(rt, OPERATOR, w.prepaid) - 5, "x")
    assert raise_due_alerts(rt) == 1
    assert kinds(rt, w.prepaid) == ["NEGATIVE"]
    # The daily run of today finds the balance negative and starts the grace (R55).
    clock.advance(timedelta(days=1))
    accrue_through(rt, today)
    assert raise_due_alerts(rt) == 1
    assert kinds(rt, w.prepaid) == ["NEGATIVE", "NEGATIVE_GRACE"]
    grace = stored(rt)[-1]
    assert grace[2] == (today + timedelta(days=1)).isoformat()
    # Points bought: both close; nothing new is raised.
    programs.add_pack(rt, OPERATOR, w.prepaid, 50_000)
    assert raise_due_alerts(rt) == 0
    assert [open_ for *_, open_ in stored(rt)] == [False, False]


def test_the_end_is_announced_30_7_and_1_days_before_for_both_kinds(
    rt: Runtime, clock: ManualClock
) -> None:
    w, today = burning_world(rt, clock, ends_in=31)
    programs.add_pack(rt, OPERATOR, w.prepaid, 50_000)  # no balance alert in 31 days
    end = (today + timedelta(days=31)).isoformat()
    for days, expected in [(0, 0), (1, 2), (2, 0), (23, 0), (24, 2), (25, 0), (30, 2)]:
        clock.set(at(today + timedelta(days=days)))
        assert raise_due_alerts(rt) == expected, days
    ending = [(p, o) for p, k, o, _ in stored(rt) if k == "ENDING"]
    for program in (w.prepaid, w.postpaid):
        assert [o for p, o in ending if p == program] == [f"{end}/30", f"{end}/7", f"{end}/1"]


def test_a_first_evaluation_close_to_the_end_announces_only_the_nearest_threshold(
    rt: Runtime, clock: ManualClock
) -> None:
    w, today = burning_world(rt, clock, ends_in=5)
    programs.add_pack(rt, OPERATOR, w.prepaid, 50_000)
    assert raise_due_alerts(rt) == 2
    end = (today + timedelta(days=5)).isoformat()
    assert {o for _, k, o, _ in stored(rt) if k == "ENDING"} == {f"{end}/7"}


def test_an_ended_program_raises_its_expiry_grace_once(rt: Runtime, clock: ManualClock) -> None:
    w, today = burning_world(rt, clock, ends_in=2)
    programs.add_pack(rt, OPERATOR, w.prepaid, 50_000)
    raise_due_alerts(rt)
    clock.set(at(today + timedelta(days=3)))
    assert raise_due_alerts(rt) == 2  # prepaid and postpaid
    clock.advance(timedelta(days=1))
    assert raise_due_alerts(rt) == 0
    assert sorted(p for p, k, _, _ in stored(rt) if k == "EXPIRY_GRACE") == sorted(
        [w.prepaid, w.postpaid]
    )


def test_alerts_are_listed_in_scope_and_acknowledged(rt: Runtime, clock: ManualClock) -> None:
    w, _ = burning_world(rt, clock)
    leave_days_of_points(rt, w.prepaid, 10, burn_of(rt, w.prepaid))
    other = world(rt)
    raise_due_alerts(rt)
    member = Actor(name="member", account_ids=frozenset({w.member}), is_admin=False)
    outsider = Actor(name="outsider", account_ids=frozenset({other.root}))
    seen: list[StoredAlert] = list_alerts(rt, member)
    assert [a.program_serial for a in seen] == [w.prepaid]
    assert list_alerts(rt, outsider) == []
    done = acknowledge(rt, member, seen[0].id)
    assert done.acknowledged_by == "member"
    assert done.acknowledged_at == rt.now()


def test_a_program_may_have_its_own_low_balance_threshold(rt: Runtime, clock: ManualClock) -> None:
    w, _ = burning_world(rt, clock)
    leave_days_of_points(rt, w.prepaid, 10, burn_of(rt, w.prepaid))
    assert set_low_balance_days(rt, OPERATOR, w.prepaid, 5) == 5
    assert raise_due_alerts(rt) == 0
    assert set_low_balance_days(rt, OPERATOR, w.prepaid, None) == 30
    assert raise_due_alerts(rt) == 1
    with pytest.raises(ProgramConflict):
        set_low_balance_days(rt, OPERATOR, w.postpaid, 5)
    with pytest.raises(InvalidInput):
        set_low_balance_days(rt, OPERATOR, w.prepaid, 0)


def test_ninety_days_negative_raises_the_suspension(rt: Runtime, clock: ManualClock) -> None:
    w, today = burning_world(rt, clock)
    programs.adjust(rt, OPERATOR, w.prepaid, -programs.balance(rt, OPERATOR, w.prepaid) - 5, "x")
    clock.advance(timedelta(days=1))
    accrue_through(rt, today)
    raise_due_alerts(rt)
    assert "SUSPENDED" not in kinds(rt, w.prepaid)
    clock.advance(timedelta(days=rt.settings.negative_grace_days))
    assert raise_due_alerts(rt) == 1
    suspended = [o for p, k, o, _ in stored(rt) if k == "SUSPENDED"]
    assert suspended == [(today + timedelta(days=1 + 90)).isoformat()]


def test_the_evaluation_costs_the_same_queries_for_two_programs_or_twenty(rt: Runtime) -> None:
    world(rt)

    def statements() -> int:
        seen: list[str] = []

        def count(*args: object) -> None:
            seen.append(str(args[2]))

        event.listen(rt.engine, "before_cursor_execute", count)
        try:
            assert raise_due_alerts(rt) == 0
        finally:
            event.remove(rt.engine, "before_cursor_execute", count)
        return len(seen)

    few = statements()
    for _ in range(9):
        world(rt)
    assert statements() == few


def test_two_nodes_evaluating_at_once_raise_each_alert_once(rt: Runtime) -> None:
    made = [world(rt) for _ in range(3)]
    for w in made:
        programs.adjust(rt, OPERATOR, w.prepaid, Decimal("-5"), "below zero")
    start = threading.Barrier(2)
    counts: list[int] = []

    def node() -> None:
        start.wait(timeout=10)
        counts.append(raise_due_alerts(rt))

    threads = [threading.Thread(target=node) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(counts) == 3
    assert sorted(p for p, k, _, _ in stored(rt)) == sorted(w.prepaid for w in made)


def test_a_member_account_admin_may_not_set_the_program_threshold(
    rt: Runtime, clock: ManualClock
) -> None:
    w, _ = burning_world(rt, clock)
    member_admin = Actor(name="member-admin", account_ids=frozenset({w.member}))
    with pytest.raises(NotFound):
        set_low_balance_days(rt, member_admin, w.prepaid, 10)
    assert thresholds(rt, member_admin) == []
    root_admin = Actor(name="root-admin", account_ids=frozenset({w.root, w.member}))
    set_low_balance_days(rt, root_admin, w.prepaid, 10)
    assert [(t.program_serial, t.low_balance_days, t.own) for t in thresholds(rt, root_admin)] == [
        (w.prepaid, 10, True)
    ]
