"""The job runner on a real database: one runner per turn, leases that run out, runs recorded,
and the real jobs accruing and expiring (issue 6: scheduled jobs)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import func, select, text

from pointflex.bootstrap import Runtime
from pointflex.clock import ManualClock
from pointflex.domain.dates import day_start
from pointflex.domain.ends import RequestedEnd
from pointflex.jobs import leases
from pointflex.jobs.registry import Job, job_named
from pointflex.jobs.runner import loop, run_due, run_job
from pointflex.jobs.status import job_statuses
from pointflex.services.context import write
from pointflex.services.entitlements import creation
from pointflex.store.tables import consumption, entitlements, job_runs
from tests.builders import OPERATOR, config, world

LA = "America/Los_Angeles"
EVERY = timedelta(minutes=5)
TIMEOUT = timedelta(minutes=30)


class Counting:
    """A job body that counts its runs; ``gate`` holds a run open while a test races it."""

    def __init__(self, gate: threading.Event | None = None, fail: bool = False) -> None:
        self.runs = 0
        self.gate = gate
        self.fail = fail
        self.lock = threading.Lock()

    def __call__(self, rt: Runtime) -> str:
        with self.lock:
            self.runs += 1
        if self.gate is not None:
            self.gate.wait(10)
        if self.fail:
            raise RuntimeError("the disk is full")
        return f"run {self.runs}"


def counting_job(body: Callable[[Runtime], str]) -> Job:
    return Job("test-job", EVERY, TIMEOUT, body)


def recorded_runs(rt: Runtime) -> list[tuple[str, bool, str]]:
    with rt.engine.connect() as conn:
        rows = conn.execute(
            select(job_runs.c.holder, job_runs.c.ok, job_runs.c.detail).order_by(job_runs.c.id)
        ).all()
    return [(r.holder, r.ok, r.detail) for r in rows]


def test_a_job_runs_once_and_is_recorded_with_its_holder(rt: Runtime) -> None:
    body = Counting()
    result = run_job(rt, counting_job(body), "node-a:1")
    assert result is not None
    assert result.ok
    assert result.detail == "run 1"
    assert body.runs == 1
    assert recorded_runs(rt) == [("node-a:1", True, "run 1")]


def test_a_job_is_not_due_again_until_its_interval_has_passed(
    rt: Runtime, clock: ManualClock
) -> None:
    body = Counting()
    job = counting_job(body)
    assert run_job(rt, job, "node-a") is not None
    clock.advance(EVERY - timedelta(seconds=1))
    assert run_job(rt, job, "node-b") is None
    clock.advance(timedelta(seconds=1))
    assert run_job(rt, job, "node-b") is not None
    assert body.runs == 2


def test_two_nodes_starting_the_same_job_at_once_run_it_once(rt: Runtime) -> None:
    gate = threading.Event()
    body = Counting(gate)
    job = counting_job(body)
    outcomes: list[object] = []
    first = threading.Thread(target=lambda: outcomes.append(run_job(rt, job, "node-a")))
    first.start()
    # Wait until node-a is inside the job, then let node-b try while it is still running.
    for _ in range(500):
        if body.runs:
            break
        threading.Event().wait(0.01)
    assert body.runs == 1
    assert run_job(rt, job, "node-b") is None
    assert run_job(rt, job, "node-b", force=True) is None  # forcing never runs it twice at once
    gate.set()
    first.join(10)
    assert body.runs == 1
    assert [h for h, _, _ in recorded_runs(rt)] == ["node-a"]


def test_many_runners_racing_for_a_due_job_leave_exactly_one_run(rt: Runtime) -> None:
    body = Counting()
    job = counting_job(body)
    start = threading.Barrier(6)

    def race(n: int) -> None:
        start.wait(10)
        run_job(rt, job, f"node-{n}")

    threads = [threading.Thread(target=race, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert body.runs == 1
    assert len(recorded_runs(rt)) == 1


def test_a_crashed_runners_lease_runs_out_after_the_timeout(
    rt: Runtime, clock: ManualClock
) -> None:
    now = clock.now()
    with write(rt) as conn:  # a node claimed the job and died without releasing it
        assert leases.claim(conn, "test-job", "dead-node", now, now + TIMEOUT)
    body = Counting()
    job = counting_job(body)
    clock.advance(TIMEOUT - timedelta(seconds=1))
    assert run_job(rt, job, "node-b") is None
    assert run_job(rt, job, "node-b", force=True) is None
    clock.advance(timedelta(seconds=1))
    assert run_job(rt, job, "node-b") is not None
    assert body.runs == 1


def test_force_runs_a_job_that_is_not_due_yet(rt: Runtime) -> None:
    body = Counting()
    job = counting_job(body)
    run_job(rt, job, "node-a")
    assert run_job(rt, job, "node-a") is None
    assert run_job(rt, job, "node-a", force=True) is not None
    assert body.runs == 2


def test_a_failing_job_is_recorded_and_the_others_still_run(rt: Runtime) -> None:
    broken = Job("broken", EVERY, TIMEOUT, Counting(fail=True))
    fine_body = Counting()
    fine = Job("fine", EVERY, TIMEOUT, fine_body)
    results = run_due(rt, "node-a", (broken, fine))
    assert [(r.job, r.ok) for r in results] == [("broken", False), ("fine", True)]
    assert "RuntimeError: the disk is full" in results[0].detail
    assert fine_body.runs == 1
    assert [(ok, detail) for _, ok, detail in recorded_runs(rt)] == [
        (False, "RuntimeError: the disk is full"),
        (True, "run 1"),
    ]


def test_the_loop_stops_when_told_to(rt: Runtime) -> None:
    body = Counting()
    stop = threading.Event()
    runner = threading.Thread(
        target=loop,
        args=(rt, "node-a", stop),
        kwargs={"jobs": (counting_job(body),), "poll_seconds": 0.01},
    )
    runner.start()
    for _ in range(500):
        if body.runs:
            break
        threading.Event().wait(0.01)
    stop.set()
    runner.join(10)
    assert not runner.is_alive()
    assert body.runs == 1  # due again only after five (manual-clock) minutes


def test_the_real_jobs_charge_yesterday_and_expire_what_ended(
    rt: Runtime, clock: ManualClock
) -> None:
    day = date(2026, 3, 10)
    w = world(rt)
    clock.set(day_start(day, LA) + timedelta(hours=9))
    cfg = config(rt, w.prepaid).id
    (kept,) = creation.create_vm(rt, OPERATOR, config_id=cfg, skip_pending=True)
    (ending,) = creation.create_vm(
        rt,
        OPERATOR,
        config_id=cfg,
        skip_pending=True,
        end=RequestedEnd.at(day_start(day, LA) + timedelta(hours=20)),
    )
    clock.set(day_start(day + timedelta(days=1), LA) + timedelta(hours=1))
    jobs = (job_named("expiry"), job_named("accrual"))
    results = run_due(rt, "node-a", jobs, force=True)
    assert [(r.job, r.ok) for r in results] == [("expiry", True), ("accrual", True)]
    assert results[0].detail == "1 entitlement(s) expired"
    with rt.engine.connect() as conn:
        status = dict(conn.execute(select(entitlements.c.serial, entitlements.c.status)).all())
        charged = conn.execute(
            select(consumption.c.serial, consumption.c.day).order_by(consumption.c.serial)
        ).all()
    assert status == {kept.serial: "ACTIVE", ending.serial: "EXPIRED"}
    assert sorted(charged) == sorted([(kept.serial, day), (ending.serial, day)])
    # A second forced turn charges nothing twice (the accrual is idempotent).
    again = run_due(rt, "node-b", jobs, force=True)
    assert again[1].detail.startswith("0 program-day(s)")
    with rt.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(consumption)).scalar_one() == 2


def test_status_names_each_job_its_last_run_and_next_due_time(
    rt: Runtime, clock: ManualClock
) -> None:
    run_due(rt, "node-a", (job_named("expiry"),), force=True)
    found = {s.job: s for s in job_statuses(rt)}
    assert set(found) == {"expiry", "accrual", "scheduled-hardware", "alerts", "deliveries"}
    expiry = found["expiry"]
    assert expiry.last_ok is True
    assert expiry.running_on == ""
    assert expiry.next_due == clock.now() + job_named("expiry").every
    assert found["accrual"].last_started is None


def test_the_loop_pauses_while_the_schema_is_not_the_one_the_code_needs(rt: Runtime) -> None:
    """A rolling upgrade: no job runs on a schema of another revision, and the loop resumes
    by itself once ``pointflex db upgrade`` is done."""
    with rt.engine.begin() as conn:
        head = conn.scalar(text("SELECT version_num FROM alembic_version"))
        conn.execute(text("UPDATE alembic_version SET version_num = '0006'"))
    body = Counting()
    stop = threading.Event()
    runner = threading.Thread(
        target=loop,
        args=(rt, "node-a", stop),
        kwargs={"jobs": (counting_job(body),), "poll_seconds": 0.01},
    )
    try:
        runner.start()
        for _ in range(20):  # twenty turns' worth of waiting: none may run the job
            threading.Event().wait(0.02)
        assert body.runs == 0
    finally:
        with rt.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    for _ in range(500):
        if body.runs:
            break
        threading.Event().wait(0.01)
    stop.set()
    runner.join(10)
    assert body.runs == 1


def test_the_expiry_job_covers_every_program_at_each_ones_own_instant(
    rt: Runtime, clock: ManualClock
) -> None:
    """One run over all programs: a program past its end and grace expires its Follow Program
    entitlements at that instant, another program's keep running; a User Defined end expires
    at its own instant."""
    ending = world(rt, start=date(2025, 1, 1), end=date(2026, 2, 1))  # grace ends 2026-03-03
    running = world(rt)
    clock.set(day_start(date(2026, 1, 15), LA))
    (follower,) = creation.create_vm(
        rt, OPERATOR, config_id=config(rt, ending.prepaid).id, skip_pending=True
    )
    day = date(2026, 3, 10)
    clock.set(day_start(day, LA) + timedelta(hours=9))
    (kept,) = creation.create_vm(
        rt, OPERATOR, config_id=config(rt, running.prepaid).id, skip_pending=True
    )
    ends_at = day_start(day, LA) + timedelta(hours=20)
    (user_defined,) = creation.create_vm(
        rt,
        OPERATOR,
        config_id=config(rt, running.postpaid).id,
        skip_pending=True,
        end=RequestedEnd.at(ends_at),
    )
    clock.set(day_start(day + timedelta(days=1), LA))
    results = run_due(rt, "node-a", (job_named("expiry"),), force=True)
    assert results[0].detail == "2 entitlement(s) expired"
    with rt.engine.connect() as conn:
        rows = conn.execute(
            select(entitlements.c.serial, entitlements.c.status, entitlements.c.changed_at)
        ).all()
    found = {r.serial: (r.status, r.changed_at) for r in rows}
    assert found[kept.serial][0] == "ACTIVE"
    assert found[user_defined.serial] == ("EXPIRED", ends_at)
    assert found[follower.serial] == ("EXPIRED", day_start(date(2026, 3, 3), LA))
