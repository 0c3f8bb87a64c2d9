"""Benchmark: the HTTP API under 32 concurrent clients, next to a bare FastAPI baseline.

    python -m bench.api --backend postgres --duration 10
    python -m bench.api --backend sqlite --workers 1

Seeds, through the services, an organisation, a prepaid program, one FortiGate-VM
configuration with 1,000 ACTIVE VM entitlements (skipPending), a second one with --extra
ACTIVE entitlements for the stop/reactivate workload (so the list stays at 1,000), and an
Admin API user. Then, for each worker count (1, then 2), starts ``pointflex serve`` and the
baseline app (bench/bare_app.py: one POST, one primary-key SELECT of an entitlement, same
engine settings) as subprocesses on loopback, and drives each scenario with --clients
concurrent clients (asyncio + httpx, keep-alive connections) for --duration seconds after a
short warm-up, measuring requests/s and p50/p99 latency:

  baseline     POST /entitlement {serialNumber} on the bare app
  list         POST entitlements/list {configId} (1,000 entitlements, streamed)
  mutations    POST entitlements/stop and entitlements/reactivate alternating, each request
               one serial; every client owns its serials, so no two requests touch one row
  token        POST /api/v1/oauth/token/ password grant (argon2 verify dominates)

The rate limiter is switched off (POINTFLEX_RATE_LIMIT_PER_SECOND=0). The load generator runs
in this process, on the same machine as the servers and the database: the figures include its
CPU cost, the same for every scenario. Targets: mutations' requests/s >= 50 % of the
baseline's, mutations' p99 < 50 ms. Results go to bench/results/api-<backend>-<workers>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.common import RESULTS, SECRET, fresh_database, runtime
from pointflex.domain.programs import ProgramKind
from pointflex.services.access import accounts
from pointflex.services.access.api_users import Permission, create_api_user
from pointflex.services.configs import configurations as configs
from pointflex.services.context import Actor
from pointflex.services.entitlements import creation
from pointflex.services.points import programs

OPERATOR = Actor(name="bench")
FORTIFLEX = "/ES/api/fortiflex/v2"
LISTED = 1_000
STARTUP_SECONDS = 60
# Targets: mutations keep at least half the baseline's throughput, at a p99 below 50 ms.
MUTATIONS_RPS_RATIO_TARGET = 0.5
MUTATIONS_P99_TARGET_MS = 50.0
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Seeded:
    config_id: int
    listed: list[str]
    extra: list[str]
    username: str
    password: str


def seed(url: str, folder: Path, extra: int) -> Seeded:
    # The servers run on the real clock: the program covers today.
    now = datetime.now(UTC)
    rt, _clock, engine = runtime(url, folder, now)
    today = now.date()
    org = accounts.create_organization(rt, OPERATOR, "Bench", "Bench root")
    program = programs.register_program(
        rt,
        OPERATOR,
        account_id=org.id,
        kind=ProgramKind.PREPAID,
        start_date=today - timedelta(days=30),
        end_date=date(today.year + 1, today.month, 1),
    )

    def config(name: str) -> int:
        return configs.create_config(
            rt,
            OPERATOR,
            program_serial=program.serial,
            name=name,
            product_type_id=1,
            parameters=[{"id": 1, "value": 2}, {"id": 2, "value": "ENT"}],
        ).id

    listed_config, extra_config = config("bench-list"), config("bench-mutations")
    listed = creation.create_vm(
        rt, OPERATOR, config_id=listed_config, count=LISTED, skip_pending=True
    )
    spare = creation.create_vm(rt, OPERATOR, config_id=extra_config, count=extra, skip_pending=True)
    user, password = create_api_user(rt, OPERATOR, permission=Permission.ADMIN, account_id=org.id)
    engine.dispose()
    return Seeded(
        listed_config,
        [e.serial for e in listed],
        [e.serial for e in spare],
        user.username,
        password,
    )


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A server subprocess on a free loopback port; its output goes to a log file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], folder: Path) -> None:
        self.name = name
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = folder / f"{name}.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(  # noqa: S603 — our own server, argv list, no shell
                [*command, "--port", str(self.port)],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_until_up(self, probe: str) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited early:\n{self.log.read_text()}")
            try:
                httpx.get(self.base_url + probe, timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit(f"{self.name} did not start:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def pointflex_command() -> list[str]:
    script = Path(sys.executable).with_name("pointflex")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pointflex.cli.main"]


# --------------------------------------------------------------------------- load


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    elapsed: float = 0.0

    def figures(self) -> dict[str, float]:
        ordered = sorted(self.latencies)
        count = len(ordered)

        def pct(p: float) -> float:
            return round(ordered[min(count - 1, int(p * count))] * 1000, 1) if count else 0.0

        return {
            "requests": count,
            "errors": self.errors,
            "rps": round(count / self.elapsed, 1) if self.elapsed else 0.0,
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
        }


Request = tuple[str, dict[str, Any]]


class Workload:
    """What one client sends next; ``ok`` checks an answer."""

    def next(self, client: int) -> Request:
        raise NotImplementedError

    def ok(self, response: httpx.Response) -> bool:
        return response.status_code == httpx.codes.OK


class Fixed(Workload):
    def __init__(self, path: str, body: dict[str, Any]) -> None:
        self.request = (path, body)

    def next(self, client: int) -> Request:
        return self.request


class Baseline(Workload):
    def __init__(self, serials: list[str]) -> None:
        self.serials = serials
        self.at = 0

    def next(self, client: int) -> Request:
        self.at += 1
        return "/entitlement", {"serialNumber": self.serials[self.at % len(self.serials)]}


class Mutations(Workload):
    """Stop, then reactivate, each client's own serials in turn: every request one row.

    ``state`` survives scenarios, so a later run goes on from where the last one stopped.
    """

    def __init__(self, serials: list[str], clients: int, state: dict[str, bool]) -> None:
        self.owned = [serials[c::clients] for c in range(clients)]
        self.cursor = [0] * clients
        self.active = state

    def next(self, client: int) -> Request:
        own = self.owned[client]
        serial = own[self.cursor[client] % len(own)]
        self.cursor[client] += 1
        action = "stop" if self.active.setdefault(serial, True) else "reactivate"
        self.active[serial] = not self.active[serial]  # flipped when sent: one request per row
        return f"{FORTIFLEX}/entitlements/{action}", {"serialNumber": serial}

    def ok(self, response: httpx.Response) -> bool:
        return response.status_code == httpx.codes.OK and response.json().get("status") == 0


async def drive(
    base_url: str,
    workload: Workload,
    clients: int,
    duration: float,
    warmup: float,
    headers: dict[str, str] | None = None,
) -> Outcome:
    """``clients`` clients, each one request at a time, for ``warmup`` + ``duration`` seconds."""
    outcome = Outcome()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, limits=limits, timeout=60
    ) as http:
        start = time.perf_counter()
        measured_from = start + warmup
        stop_at = measured_from + duration

        async def client(number: int) -> None:
            while (now := time.perf_counter()) < stop_at:
                path, body = workload.next(number)
                response = await http.post(path, json=body)
                await response.aread()
                done = time.perf_counter()
                if not workload.ok(response):
                    outcome.errors += 1
                    outcome.first_error = outcome.first_error or (
                        f"{path}: {response.status_code} {response.text[:300]}"
                    )
                elif now >= measured_from:
                    outcome.latencies.append(done - now)

        await asyncio.gather(*(client(n) for n in range(clients)))
        outcome.elapsed = time.perf_counter() - measured_from
    return outcome


def bearer(base_url: str, seeded: Seeded) -> dict[str, str]:
    response = httpx.post(base_url + "/api/v1/oauth/token/", json=token_body(seeded), timeout=30)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def token_body(seeded: Seeded) -> dict[str, Any]:
    return {
        "username": seeded.username,
        "password": seeded.password,
        "client_id": "flexvm",
        "grant_type": "password",
    }


# --------------------------------------------------------------------------- run


def bench_env(url: str, folder: Path, **extra: str) -> dict[str, str]:
    """The environment of the servers: the seeded database and the benchmark's secret."""
    return {
        **os.environ,
        "POINTFLEX_DATABASE_URL": url,
        "POINTFLEX_DATA_DIR": str(folder),
        "POINTFLEX_SECRET_KEY": SECRET,
        "BENCH_DATABASE_URL": url,
        **extra,
    }


@dataclass
class Measurements:
    """The scenarios of one worker count, each driven with the same load."""

    args: argparse.Namespace
    folder: Path
    env: dict[str, str]
    results: dict[str, dict[str, float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def measure(self, name: str, base_url: str, workload: Workload, **extra: Any) -> None:
        load = {"clients": self.args.clients, "duration": self.args.duration}
        outcome = asyncio.run(drive(base_url, workload, warmup=self.args.warmup, **load, **extra))
        self.results[name] = outcome.figures()
        if outcome.errors:
            self.errors.append(f"{name}: {outcome.errors} errors, first: {outcome.first_error}")

    def baseline(self, workers: int, serials: list[str]) -> None:
        """The bare app: one POST, one primary-key SELECT."""
        command = [sys.executable, "-m", "bench.bare_app", "--workers", str(workers)]
        bare = Server(f"bare-{workers}", command, self.env, self.folder)
        try:
            bare.wait_until_up("/docs")
            self.measure("baseline", bare.base_url, Baseline(serials))
        finally:
            bare.stop()

    def pointflex(self, workers: int) -> Server:
        command = [*pointflex_command(), "serve", "--workers", str(workers)]
        return Server(f"pointflex-{workers}", command, self.env, self.folder)


def run_workers(
    args: argparse.Namespace,
    url: str,
    folder: Path,
    seeded: Seeded,
    state: dict[str, bool],
    workers: int,
) -> dict[str, Any]:
    # POINTFLEX_RATE_LIMIT_PER_SECOND=0 switches the per-user limiter off.
    run = Measurements(args, folder, bench_env(url, folder, POINTFLEX_RATE_LIMIT_PER_SECOND="0"))
    run.baseline(workers, seeded.listed)

    served = run.pointflex(workers)
    try:
        served.wait_until_up("/api/pointflex/openapi.json")
        auth = bearer(served.base_url, seeded)
        listing = Fixed(f"{FORTIFLEX}/entitlements/list", {"configId": seeded.config_id})
        probe = httpx.post(
            served.base_url + listing.request[0], json=listing.request[1], headers=auth, timeout=30
        )
        if len(probe.json()["entitlements"]) != LISTED:
            raise SystemExit(f"entitlements/list answered {len(probe.json()['entitlements'])}")
        run.measure("list", served.base_url, listing, headers=auth)
        run.measure(
            "mutations", served.base_url, Mutations(seeded.extra, args.clients, state), headers=auth
        )
        run.measure("token", served.base_url, Fixed("/api/v1/oauth/token/", token_body(seeded)))
    finally:
        served.stop()
    return {"scenarios": run.results, "errors": run.errors}


def report(
    args: argparse.Namespace, workers: int, measured: dict[str, Any], notes: list[str]
) -> Path:
    s = measured["scenarios"]
    ratios = {
        "mutations_rps_vs_baseline": round(s["mutations"]["rps"] / s["baseline"]["rps"], 2),
        "list_rps_vs_baseline": round(s["list"]["rps"] / s["baseline"]["rps"], 3),
        "token_rps_vs_baseline": round(s["token"]["rps"] / s["baseline"]["rps"], 3),
    }
    targets = {
        "mutations_rps_vs_baseline": {"at_least": MUTATIONS_RPS_RATIO_TARGET},
        "mutations_p99_ms": {"below": MUTATIONS_P99_TARGET_MS},
    }
    met = {
        "mutations_rps_vs_baseline": (
            ratios["mutations_rps_vs_baseline"] >= MUTATIONS_RPS_RATIO_TARGET
        ),
        "mutations_p99_ms": s["mutations"]["p99_ms"] < MUTATIONS_P99_TARGET_MS,
    }
    payload = {
        "benchmark": "api",
        "backend": args.backend,
        "workers": workers,
        "clients": args.clients,
        "duration_s": args.duration,
        "listed": LISTED,
        "recorded": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "scenarios": s,
        "ratios": ratios,
        "targets": targets,
        "met": met,
        "errors": measured["errors"],
        "notes": notes,
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"api-{args.backend}-{workers}.json"
    path.write_text(json.dumps(payload, indent=2) + "\n")
    show(payload)
    return path


def show(payload: dict[str, Any]) -> None:
    print(
        f"\napi on {payload['backend']}, {payload['workers']} worker(s), "
        f"{payload['clients']} clients, {payload['duration_s']} s per scenario"
    )
    print(
        f"  {'scenario':<12} {'requests':>9} {'errors':>7} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
    )
    for name, f in payload["scenarios"].items():
        print(
            f"  {name:<12} {f['requests']:>9} {f['errors']:>7} {f['rps']:>9} "
            f"{f['p50_ms']:>8} {f['p99_ms']:>8}"
        )
    for key, value in payload["ratios"].items():
        print(f"  ratio {key:<28} {value:>8}")
    mutations = payload["scenarios"]["mutations"]
    for key, ok in payload["met"].items():
        value = payload["ratios"].get(key, mutations.get("p99_ms"))
        verdict = "ok" if ok else "MISSED"
        print(f"  target {key:<27} {value!s:>8}  {payload['targets'][key]}  {verdict}")
    for error in payload["errors"]:
        print(f"  error: {error}")


def load_options(doc: str | None) -> argparse.ArgumentParser:
    """The options every load benchmark takes: backend, worker counts, clients, timing."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before measuring")
    return parser


def main() -> None:
    parser = load_options(__doc__)
    parser.add_argument("--extra", type=int, default=400, help="serials for stop/reactivate")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pointflex-bench-api-"))
    url = fresh_database(args.backend, "pointflex_bench_api", folder)
    start = time.perf_counter()
    seeded = seed(url, folder, args.extra)
    notes = [
        f"seeded in {time.perf_counter() - start:.1f}s: {LISTED} listed + {args.extra} "
        "stop/reactivate entitlements",
        "load generator (asyncio + httpx) runs on the same machine as servers and database",
        "token: argon2 password verify dominates; verifications run in the thread pool, "
        "at most one per core at a time",
    ]
    state: dict[str, bool] = {}
    for workers in args.workers:
        measured = run_workers(args, url, folder, seeded, state, workers)
        print(f"saved {report(args, workers, measured, notes)}")


if __name__ == "__main__":
    main()
