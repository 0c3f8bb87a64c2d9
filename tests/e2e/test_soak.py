"""Soak: a server, two job loops and several ``pointflex-vm`` instances live through days of
random stops, reactivations and token regenerations; then the ledger must equal what the
event history says, to the cent, and no answer may have been a 5xx (issue 6).

Time runs fast for every process alike (``POINTFLEX_CLOCK_SPEED`` from a shared
``POINTFLEX_CLOCK_ANCHOR``), so the job loops accrue real, ended days while the test runs;
each VM moves its own clock forward (``diagnose clock advance``) to keep up with the server's.
Bounded for CI by default; longer with ``POINTFLEX_SOAK_SECONDS`` (and
``POINTFLEX_SOAK_DAY_SECONDS``: real seconds per simulated day; ``POINTFLEX_SOAK_SEED``).
"""

from __future__ import annotations

import math
import os
import random
import subprocess
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, func, select

from pointflex.clock import ScaledClock
from pointflex.config import Settings
from pointflex.domain.dates import PACIFIC, day_window, local_day
from pointflex.store.tables import (
    accrual_runs,
    consumption,
    entitlement_events,
    point_ledger,
)
from pointflex.store.unit_of_work import on_connection
from tests.api.conftest import V2
from tests.api.servers import ServeProcess, pointflex_command, server_env
from tests.e2e import vm
from tests.e2e.conftest import Flex, Org

SOAK_SECONDS = float(os.environ.get("POINTFLEX_SOAK_SECONDS", "60"))
DAY_SECONDS = float(os.environ.get("POINTFLEX_SOAK_DAY_SECONDS", "30"))
SEED = int(os.environ.get("POINTFLEX_SOAK_SEED", "20261128"))
ENTITLEMENTS = 10
VMS = 3
VCPUS = {2: "ent-2", 4: "ent-4"}


@dataclass
class Tally:
    """Every HTTP status the soak saw, by call, and the 5xx answers in full."""

    statuses: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))
    server_errors: list[str] = field(default_factory=list)

    def record(self, call: str, reply: httpx.Response) -> None:
        seen = self.statuses[call]
        seen[reply.status_code] = seen.get(reply.status_code, 0) + 1
        if reply.status_code >= 500:
            self.server_errors.append(f"{call}: {reply.status_code} {reply.text[:300]}")


class Api(Flex):
    """The v2 API as the soak drives it: every answer tallied, a timeout for a busy machine."""

    def __init__(self, base_url: str, org: Org, tally: Tally) -> None:
        self.tally = tally
        super().__init__(base_url, org)

    def post(self, endpoint: str, body: dict[str, Any]) -> httpx.Response:
        reply = httpx.post(
            f"{self.base_url}{V2}/{endpoint}", json=body, headers=self.headers, timeout=30
        )
        self.tally.record(endpoint, reply)
        return reply

    def send(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        """A call that may be refused (stopping what is stopped): its envelope, {} for a 5xx."""
        reply = self.post(endpoint, body)
        data: dict[str, Any] = reply.json() if reply.status_code < 500 else {}
        return data


def scaled_env(anchor: datetime, speed: float) -> dict[str, str]:
    return {
        "POINTFLEX_CLOCK_ANCHOR": str(anchor.timestamp()),
        "POINTFLEX_CLOCK_SPEED": str(speed),
        # An hour's token would last a second or two of real time at this speed.
        "POINTFLEX_ACCESS_TOKEN_SECONDS": str(365 * 86400),
    }


def start_job_loop(settings: Settings, env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    with log.open("w") as sink:
        return subprocess.Popen(
            [*pointflex_command(), "jobs", "run", "--poll", "0.5"],
            env=server_env(settings, **env),
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )


def stop_process(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def keep_vm_clock_up(state_dir: Path, clock: ScaledClock) -> None:
    """Move the VM's clock past the servers' scaled time (it only ever moves forward)."""
    state = vm.load_state(state_dir)
    wanted = (clock.now() - datetime.now(UTC)).total_seconds() + 60
    ahead_minutes = math.ceil((wanted - int(state.get("clock_offset", 0))) / 60)
    if ahead_minutes > 0:
        vm.run(state_dir, "diagnose", "clock", "advance", f"{ahead_minutes}m", expect=None)


def expected_charges(
    engine: Engine, rates: dict[int, Decimal], through: date
) -> dict[tuple[str, date], Decimal]:
    """Replay the event history: a day is charged if ACTIVE at any moment of it, at the highest
    rate in effect while ACTIVE (R12–R18). Knows nothing of the accrual's SQL."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                entitlement_events.c.serial,
                entitlement_events.c.at,
                entitlement_events.c.status,
                entitlement_events.c.config_id,
            ).order_by(
                entitlement_events.c.serial, entitlement_events.c.at, entitlement_events.c.id
            )
        ).all()
    history: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        history[row.serial].append(row)
    found: dict[tuple[str, date], Decimal] = {}
    for serial, events in history.items():
        day = local_day(events[0].at, PACIFIC)
        while day <= through:
            window = day_window(day, PACIFIC)
            day_rates = [
                rates[event.config_id]
                for i, event in enumerate(events)
                if event.status == "ACTIVE"
                and event.at < window.end
                and (i + 1 == len(events) or events[i + 1].at > window.start)
            ]
            if day_rates:
                found[(serial, day)] = max(day_rates)
            day += timedelta(days=1)
    return found


def test_days_of_random_changes_leave_a_ledger_that_matches_the_history_to_the_cent(  # noqa: C901, PLR0912, PLR0915 — the soak's day loop, one story
    settings: Settings, engine: Engine, org: Org, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    speed = 86400 / DAY_SECONDS
    anchor = datetime.now(UTC)
    clock = ScaledClock(anchor, speed)
    env = scaled_env(anchor, speed)
    tally = Tally()
    server = ServeProcess(settings, tmp_path / "serve.log", "--workers", "2", env=env)
    loops: list[subprocess.Popen[str]] = []
    try:
        server.wait_until_up()
        loops = [start_job_loop(settings, env, tmp_path / f"jobs-{n}.log") for n in range(2)]
        api = Api(server.base_url, org, tally)
        configs = {
            cpus: api.call(
                "configs/create",
                {
                    "programSerialNumber": org.prepaid,
                    "accountId": org.root,
                    "name": name,
                    "productTypeId": 1,
                    "parameters": [{"id": 1, "value": str(cpus)}, {"id": 2, "value": "ENT"}],
                },
            )["configs"]["id"]
            for cpus, name in VCPUS.items()
        }
        rates = {
            config_id: Decimal(
                str(
                    api.call(
                        "tools/calc",
                        {
                            "programSerialNumber": org.prepaid,
                            "productTypeId": 1,
                            "parameters": [
                                {"id": 1, "value": str(cpus)},
                                {"id": 2, "value": "ENT"},
                            ],
                        },
                    )["points"]["current"]
                )
            )
            for cpus, config_id in configs.items()
        }
        serials: list[str] = []
        tokens: dict[str, str] = {}
        for n in range(ENTITLEMENTS):
            config_id = configs[2] if n % 2 else configs[4]
            # The first VMS are licensed by pointflex-vm instances (PENDING until then); the
            # others start ACTIVE at once (skipPending), as automation often creates them.
            body = {"configId": config_id, "count": 1, "skipPending": n >= VMS}
            (item,) = api.call("entitlements/vm/create", body)["entitlements"]
            serials.append(item["serialNumber"])
            tokens[item["serialNumber"]] = item["token"]
        machines = {}
        for n in range(VMS):
            state_dir = vm.init(tmp_path / f"vm-{n}", server.base_url, cpus=4)
            keep_vm_clock_up(state_dir, clock)
            vm.license_vm(state_dir, tokens[serials[n]])
            machines[serials[n]] = state_dir

        deadline = time.monotonic() + SOAK_SECONDS
        actions = 0
        while time.monotonic() < deadline:
            serial = rng.choice(serials)
            action = rng.choice(["stop", "reactivate", "vm/token", "validate", "list"])
            if action == "validate" and serial in machines:
                keep_vm_clock_up(machines[serial], clock)
                vm.run(machines[serial], "diagnose", "validate", expect=None)
            elif action == "vm/token":
                data = api.send("entitlements/vm/token", {"serialNumber": serial})
                if data.get("status") == 0 and serial in machines:
                    # The VM re-licences with its new token, as an operator would.
                    keep_vm_clock_up(machines[serial], clock)
                    token = data["entitlements"][0]["token"]
                    vm.run(machines[serial], "execute", "vm-license", token, expect=None)
            elif action == "list":
                api.send(
                    "entitlements/list", {"accountId": org.root, "programSerialNumber": org.prepaid}
                )
            elif action in ("stop", "reactivate"):
                api.send(f"entitlements/{action}", {"serialNumber": serial})
            actions += 1
            time.sleep(rng.uniform(0, 0.3))
        # Let the loops accrue the last day the changes touched, then stop everything.
        last_touched = local_day(clock.now(), PACIFIC)
        settle_by = time.monotonic() + DAY_SECONDS * 2 + 60
        while time.monotonic() < settle_by and accrued_through(engine, org.prepaid) < last_touched:
            time.sleep(0.5)
    finally:
        for process in loops:
            stop_process(process)
        output = server.stop()

    assert tally.server_errors == [], tally.server_errors
    assert "Traceback" not in output, output[-3000:]
    for n in range(len(loops)):
        log = (tmp_path / f"jobs-{n}.log").read_text()
        assert "Traceback" not in log, log[-3000:]
        assert "FAILED" not in log, log[-3000:]
    through = accrued_through(engine, org.prepaid)
    assert through >= last_touched, f"accrued through {through}, changes until {last_touched}"
    assert actions > 20
    assert sum(tally.statuses["entitlements/stop"].values()) > 0

    expected = expected_charges(engine, rates, through)
    with engine.connect() as conn:
        charged = {
            (r.serial, r.day): r.points
            for r in conn.execute(
                select(consumption.c.serial, consumption.c.day, consumption.c.points)
            )
        }
        day_totals = dict(
            conn.execute(
                select(accrual_runs.c.day, accrual_runs.c.points).where(
                    accrual_runs.c.program_serial == org.prepaid
                )
            ).all()
        )
        packs = conn.execute(
            select(func.coalesce(func.sum(point_ledger.c.points), 0)).where(
                point_ledger.c.program_serial == org.prepaid
            )
        ).scalar_one()
        balance = on_connection(conn).programs.balance(org.prepaid)
    assert charged == expected
    days = sorted({day for _, day in expected})
    print(  # shown with -s: what the soak went through
        f"soak: {actions} actions, {len(expected)} charged entitlement-days over "
        f"{days[0]}..{days[-1]}, calls {dict(tally.statuses)}"
    )
    assert len(days) >= 2, "the soak must span at least two accrued days"
    by_day: dict[date, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for (_, day), points in expected.items():
        by_day[day] += points
    assert {d: p for d, p in day_totals.items() if p} == dict(by_day)
    # The balance is what was bought less exactly what the history says was used.
    assert balance == Decimal(packs) - sum(expected.values(), Decimal("0.00"))


def accrued_through(engine: Engine, program: str) -> date:
    with engine.connect() as conn:
        last = conn.execute(
            select(func.max(accrual_runs.c.day)).where(accrual_runs.c.program_serial == program)
        ).scalar()
    return last or date.min
