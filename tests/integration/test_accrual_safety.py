"""The accrual survives being killed and being run twice at once (issue acceptance)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from pointflex.bootstrap import Runtime
from pointflex.clock import ManualClock
from pointflex.config import Settings
from pointflex.domain.dates import day_start
from pointflex.services.entitlements import changes, creation
from pointflex.services.points.accrual import DayResult, accrue_day, accrue_through
from pointflex.store.tables import accrual_runs, consumption
from tests.builders import OPERATOR, config, world

LA = "America/Los_Angeles"
FIRST = date(2026, 3, 10)
DAYS = 6
THROUGH = FIRST + timedelta(days=DAYS - 1)
RATE = Decimal("6.39")

# The accrual in a child process that stops dead at a chosen point: its ``pause_at``-th
# statement writing consumption rows (mid-transaction), or its ``pause_at``-th commit of a
# transaction that wrote some (complete, the COMMIT not yet sent). There it says "paused"
# and waits, so the parent's SIGKILL lands exactly there, every run the same.
CHILD = """
import re, sys
from datetime import date, datetime
from sqlalchemy import event
from pointflex.bootstrap import build_runtime
from pointflex.clock import ManualClock
from pointflex.config import Settings
from pointflex.services.points.accrual import accrue_through
url, data_dir, secret, now, through, point, pause_at = sys.argv[1:8]
rt = build_runtime(Settings(database_url=url, data_dir=data_dir, secret_key=secret),
                   clock=ManualClock(datetime.fromisoformat(now)))
seen, wrote = 0, False
def reached():
    global seen
    seen += 1
    if seen == int(pause_at):
        print("paused", flush=True)
        sys.stdin.readline()  # until killed
@event.listens_for(rt.engine, "after_cursor_execute")
def written(conn, cursor, statement, parameters, context, executemany):
    global wrote
    if re.search(r"INSERT INTO consumption", statement, re.IGNORECASE):
        wrote = True
        if point == "write":
            reached()
@event.listens_for(rt.engine, "commit")
def committing(conn):
    global wrote
    if point == "commit" and wrote:
        reached()
    wrote = False
print("started", flush=True)
accrue_through(rt, date.fromisoformat(through))
print("finished", flush=True)
"""


def seed(rt: Runtime, clock: ManualClock, vms: int, stopped: int) -> tuple[str, list[str]]:
    """``vms`` FortiGate-VMs active from 22:00 the day before FIRST; ``stopped`` of them stop
    on FIRST+2."""
    w = world(rt)
    cfg = config(rt, w.prepaid)
    clock.set(day_start(FIRST, LA) - timedelta(hours=2))
    serials: list[str] = []
    while len(serials) < vms:
        batch = creation.create_vm(
            rt, OPERATOR, config_id=cfg.id, count=min(1000, vms - len(serials)), skip_pending=True
        )
        serials.extend(r.serial for r in batch)
    clock.set(day_start(FIRST + timedelta(days=2), LA) + timedelta(hours=12))
    for start in range(0, stopped, 500):
        changes.stop(rt, OPERATOR, serials[start : start + min(500, stopped - start)])
    clock.set(day_start(THROUGH + timedelta(days=1), LA) + timedelta(hours=1))
    return w.prepaid, serials


def expected_total(vms: int, stopped: int) -> Decimal:
    return RATE * charged_days(vms, stopped)


def charged_days(vms: int, stopped: int) -> int:
    # Everyone is charged from the creation day (FIRST-1) to FIRST+2, the stop day included;
    # the others every day after that too.
    return vms * 4 + (vms - stopped) * (DAYS - 3)


def totals(rt: Runtime) -> tuple[Decimal, Decimal, int]:
    with rt.engine.connect() as conn:
        ledger = conn.execute(select(func.coalesce(func.sum(consumption.c.points), 0))).scalar()
        runs = conn.execute(select(func.coalesce(func.sum(accrual_runs.c.points), 0))).scalar()
        rows = conn.execute(select(func.count()).select_from(consumption)).scalar_one()
    return Decimal(ledger), Decimal(runs), rows


def assert_whole_days_only(rt: Runtime) -> None:
    """Every (program, day) present is complete; no day is half-written."""
    day = (consumption.c.program_serial, consumption.c.day)
    with rt.engine.connect() as conn:
        runs = conn.execute(
            select(accrual_runs.c.program_serial, accrual_runs.c.day, accrual_runs.c.entitlements)
        ).all()
        per_day = {
            (program, when): count
            for program, when, count in conn.execute(select(*day, func.count()).group_by(*day))
        }
    assert {(program, when) for program, when, _ in runs} >= set(per_day)
    for program, when, count in runs:
        assert per_day.get((program, when), 0) == count, (program, when)


def run_child(
    settings: Settings, now: datetime, point: str, pause_at: int
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            settings.database_url,
            str(settings.data_dir),
            settings.secret_key,
            now.isoformat(),
            THROUGH.isoformat(),
            point,
            str(pause_at),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )


# Where each run is killed: mid-write and just before the commit, early and later in a run.
KILL_POINTS = [("write", 1), ("commit", 1), ("write", 3), ("commit", 2), ("write", 2)]


def test_accrual_killed_mid_transaction_reruns_to_exact_totals(
    rt: Runtime, clock: ManualClock, settings: Settings, tmp_path: Path
) -> None:
    vms, stopped = 6000, 1500
    seed(rt, clock, vms, stopped)
    for point, pause_at in KILL_POINTS:
        child = run_child(settings, clock.now(), point, pause_at)
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "started"
        assert child.stdout.readline().strip() == "paused", (point, pause_at)
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert child.returncode == -signal.SIGKILL
        assert_whole_days_only(rt)
    accrue_through(rt, THROUGH)
    ledger, runs, rows = totals(rt)
    assert ledger == runs == expected_total(vms, stopped)
    assert rows == charged_days(vms, stopped)


def test_two_accruals_of_the_same_day_at_once_charge_it_once(
    rt: Runtime, clock: ManualClock
) -> None:
    vms = 1500
    program, _ = seed(rt, clock, vms, 0)
    accrue_through(rt, FIRST - timedelta(days=1))  # earlier days out of the way
    results: list[DayResult] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            barrier.wait()
            results.append(accrue_day(rt, program, FIRST))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(r.skipped for r in results) == [False, True]
    ledger, runs, rows = totals(rt)
    assert rows == vms * 2  # the creation day, then FIRST exactly once
    assert ledger == runs == RATE * vms * 2
