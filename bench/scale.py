"""Scale (issue 6): a day's jobs, every program's forecast and the largest account's monthly
statement at 1,000,000 entitlements over 1,000 accounts, next to raw SQL in the same run.

    .venv/bin/python -m bench.scale --size 1000000 --accounts 1000
    .venv/bin/python -m bench.scale --size 100000

PostgreSQL only (a scratch database, dropped afterwards unless --keep). Seeding, not measured:
--accounts organisations through the services, each with one program (every tenth postpaid)
and three configurations (FortiGate-VM 2 and 4 vCPU, FortiGate 60F hardware); --size
entitlements in one INSERT … SELECT over generate_series (5 % in the first account, the rest
uneven; mostly ACTIVE, some STOPPED and PENDING, 1 % with a User Defined end during the
measured day); point packs; and the accrual history of 2026-02-01 … 2026-03-01 written
set-based as the accrual would have (bench/history.py). Then, with the clock one day on:

  jobs       every job once (expiry, accrual of 2026-03-02 for every program, scheduled
             hardware, alerts, deliveries) via run_due(force=True). Not repeatable on the same
             state: measured once per run.
             raw: INSERT … SELECT of the day's consumption of every ACTIVE entitlement joined to
             its configuration's rate, plus one UPDATE of the User Defined expiries, in one
             transaction rolled back (then VACUUM), measured before the jobs, on their state.
  forecast   forecast_all for the operator (every program).
             raw: GROUP BY program, configuration of the ACTIVE entitlements with the rate.
  statement  the largest account's statement of February 2026: the object, then its CSV and
             HTML renderings. raw: that program's consumption rows of the month (with the
             configuration's name), ORDER BY day, serial, fetched.

Results: bench/results/scale-postgres-<size>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, func, select, text

from bench.common import PG_ADMIN, RESULTS, fresh_database, peak_rss_mb, runtime
from bench.history import seed_history
from bench.seed import LA, OPERATOR, AccountPlan, Ends, bulk_entitlements, seed_accounts
from pointflex.bootstrap import Runtime
from pointflex.domain.dates import day_start
from pointflex.jobs.registry import JOBS
from pointflex.jobs.runner import run_due
from pointflex.store.db import normalise_url
from pointflex.store.tables import consumption

FIRST = date(2026, 2, 1)  # programs start; the first accrued day
DAY = date(2026, 3, 2)  # the day the measured jobs accrue
MONTH = date(2026, 2, 1)  # the statement's month (the last complete one)
DB = "pointflex_bench_scale"


def sample(action: Callable[[], Any], runs: int, warmup: int = 1) -> dict[str, float]:
    """p50 and max wall time in seconds of ``runs`` runs after ``warmup`` untimed ones."""
    for _ in range(warmup):
        action()
    times: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return {"p50_s": round(statistics.median(times), 3), "max_s": round(max(times), 3)}


def step(message: str) -> None:
    """Progress on stderr: a 1M run takes minutes."""
    print(f"{datetime.now(UTC):%H:%M:%S} {message}", file=sys.stderr, flush=True)


def vacuum(engine: Engine, *tables: str) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"VACUUM ANALYZE {', '.join(tables)}"))


# --------------------------------------------------------------------------- seeding


def seed(rt: Runtime, clock: Any, engine: Engine, size: int, n_accounts: int) -> dict[str, Any]:
    timings: dict[str, float] = {}
    start = time.perf_counter()
    plans = seed_accounts(rt, n_accounts, FIRST, date(FIRST.year + 1, FIRST.month, 1))
    timings["accounts_s"] = round(time.perf_counter() - start, 1)
    created = day_start(FIRST, LA) - timedelta(hours=12)
    ends = Ends(
        created=created,
        program_end=day_start(date(FIRST.year + 1, FIRST.month, 1), LA),
        soon=day_start(DAY, LA) + timedelta(hours=12),
        later=day_start(date(2026, 6, 1), LA),
    )
    step(f"accounts seeded in {timings['accounts_s']} s")
    start = time.perf_counter()
    bulk_entitlements(engine, plans, size, ends)
    timings["entitlements_s"] = round(time.perf_counter() - start, 1)
    step(f"entitlements seeded in {timings['entitlements_s']} s")
    start = time.perf_counter()
    rows = seed_history(engine, plans, FIRST, DAY - timedelta(days=1))
    timings["history_s"] = round(time.perf_counter() - start, 1)
    step(f"history seeded in {timings['history_s']} s")
    start = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    timings["vacuum_analyze_s"] = round(time.perf_counter() - start, 1)
    return {"plans": plans, "timings": timings, "history_rows": rows}


# --------------------------------------------------------------------------- the day's jobs

_RAW_DAY_INSERT = """
INSERT INTO consumption (serial, day, program_serial, account_id, config_id, points)
SELECT e.serial, :day, e.program_serial, e.account_id, e.config_id, r.points
FROM entitlements AS e JOIN config_day_rates AS r ON r.config_id = e.config_id AND r.day = :rates
WHERE e.status = 'ACTIVE'
"""
_RAW_DAY_EXPIRY = """
UPDATE entitlements SET status = 'EXPIRED', changed_at = end_at
WHERE termination_mode = 'USER_DEFINED' AND status <> 'EXPIRED' AND end_at <= :now
"""


def raw_day(engine: Engine, now: datetime, counts: dict[str, int]) -> None:
    """What a hand-written system needs for the day; rolled back so the jobs see the same state."""
    with engine.connect() as conn:
        trans = conn.begin()
        params = {"day": DAY, "rates": DAY - timedelta(days=1), "now": now}
        counts["charged"] = conn.execute(text(_RAW_DAY_INSERT), params).rowcount
        counts["expired"] = conn.execute(text(_RAW_DAY_EXPIRY), params).rowcount
        trans.rollback()


def measure_day(rt: Runtime, clock: Any, engine: Engine, runs: int) -> dict[str, Any]:
    clock.set(day_start(DAY + timedelta(days=1), LA) + timedelta(hours=1))
    counts: dict[str, int] = {}
    raw = sample(lambda: raw_day(engine, rt.now(), counts), runs, warmup=0)
    # The rolled-back rows are dead tuples in consumption and entitlements: cleaned up (not
    # timed) so the jobs meet the state the seeding left.
    vacuum(engine, "consumption", "entitlements")
    step(f"raw day {raw}; running the jobs")
    start = time.perf_counter()
    results = run_due(rt, "bench", JOBS, force=True)
    total = time.perf_counter() - start
    jobs = {
        r.job: {"duration_s": round(r.duration_ms / 1000, 3), "ok": r.ok, "detail": r.detail}
        for r in results
    }
    with engine.connect() as conn:
        charged = conn.execute(
            select(func.count()).select_from(consumption).where(consumption.c.day == DAY)
        ).scalar_one()
        rate_mismatches = conn.execute(
            text(
                "SELECT count(*) FROM config_day_rates AS a FULL JOIN config_day_rates AS b "
                "ON b.config_id = a.config_id AND b.day = :prev "
                "WHERE a.day = :day AND (b.points IS NULL OR a.points <> b.points)"
            ),
            {"day": DAY, "prev": DAY - timedelta(days=1)},
        ).scalar_one()
    checks = {
        "jobs_charged": charged,
        "raw_charged": counts["charged"],
        "raw_expired": counts["expired"],
        "rates_differing_from_seeded_history": rate_mismatches,
    }
    return {"raw": raw, "jobs": jobs, "total_s": round(total, 3), "checks": checks}


# --------------------------------------------------------------------------- forecast, statement

_RAW_FORECAST = """
SELECT e.program_serial, e.config_id, count(*), r.points
FROM entitlements AS e JOIN config_day_rates AS r ON r.config_id = e.config_id AND r.day = :day
WHERE e.status = 'ACTIVE'
GROUP BY e.program_serial, e.config_id, r.points
"""

_RAW_STATEMENT = """
SELECT c.day, c.serial, c.config_id, g.name, g.product_type_id, c.points
FROM consumption AS c JOIN configurations AS g ON g.id = c.config_id
WHERE c.program_serial = :program AND c.day >= :first AND c.day <= :last
ORDER BY c.day, c.serial
"""


def fetch(engine: Engine, sql: str, params: dict[str, Any]) -> int:
    with engine.connect() as conn:
        return len(conn.execute(text(sql), params).all())


def measure_forecast(rt: Runtime, engine: Engine, runs: int) -> dict[str, Any]:
    from pointflex.services.points.forecasts import forecast_all

    found: list[int] = []
    ours = sample(lambda: found.append(len(forecast_all(rt, OPERATOR))), runs)
    raw = sample(lambda: fetch(engine, _RAW_FORECAST, {"day": DAY}), runs)
    return {"ours": ours, "raw": raw, "programs": found[-1]}


def measure_statement(rt: Runtime, engine: Engine, program: str, runs: int) -> dict[str, Any]:
    from pointflex.renderers.statements import statement_csv, statement_html
    from pointflex.services.points.statements import statement

    made: list[Any] = [None]  # only the latest: a 1M-row statement holds ~1.2M lines

    def make() -> None:
        made[0] = None
        made[0] = statement(rt, OPERATOR, program, MONTH)

    ours = sample(make, runs)
    st = made[0]
    sizes: dict[str, int] = {}
    csv_s = sample(lambda: sizes.__setitem__("csv_bytes", len(statement_csv(st))), runs)
    html_s = sample(lambda: sizes.__setitem__("html_bytes", len(statement_html(st))), runs)
    last = date(MONTH.year + MONTH.month // 12, MONTH.month % 12 + 1, 1) - timedelta(days=1)
    params = {"program": program, "first": MONTH, "last": last}
    raw = sample(lambda: fetch(engine, _RAW_STATEMENT, params), runs)
    return {
        "ours": ours,
        "csv": csv_s,
        "html": html_s,
        "raw": raw,
        "lines": len(st.lines),
        "complete": st.complete,
        **sizes,
    }


# --------------------------------------------------------------------------- report


def ratio(ours: float, raw: float) -> float:
    return round(ours / raw, 2) if raw > 0 else float("inf")


def summarise(payload: dict[str, Any]) -> None:
    day, fc, st = payload["day"], payload["forecast"], payload["statement"]
    raw_day, raw_st = day["raw"]["p50_s"], st["raw"]["p50_s"]
    accrual = day["jobs"].get("accrual")
    payload["ratios"] = {
        "jobs_total_vs_raw_day": ratio(day["total_s"], raw_day),
        "accrual_vs_raw_day": ratio(accrual["duration_s"], raw_day) if accrual else None,
        "forecast_vs_raw": ratio(fc["ours"]["p50_s"], fc["raw"]["p50_s"]),
        "statement_vs_raw": ratio(st["ours"]["p50_s"], raw_st),
        "statement_csv_vs_raw": ratio(st["ours"]["p50_s"] + st["csv"]["p50_s"], raw_st),
        "statement_html_vs_raw": ratio(st["ours"]["p50_s"] + st["html"]["p50_s"], raw_st),
    }


def show(payload: dict[str, Any]) -> None:
    print(
        f"\nscale on postgres: {payload['size']:,} entitlements, {payload['accounts']:,} accounts"
    )
    print(f"  seeding {payload['seeding']}")
    day = payload["day"]
    print(f"  raw day {day['raw']}  jobs total {day['total_s']} s")
    for name, job in day["jobs"].items():
        print(f"    {name:<20} {job['duration_s']:>8} s  ok={job['ok']}  {job['detail'][:80]}")
    print(f"  checks {day['checks']}")
    print(f"  forecast {payload['forecast']}")
    print(f"  statement {payload['statement']}")
    print(f"  ratios {payload['ratios']}")
    print(f"  load {payload['loadavg']}  peak RSS {payload['peak_rss_mb']} MB")


def drop(name: str) -> None:
    admin = create_engine(normalise_url(PG_ADMIN), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each repeatable step")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pointflex-bench-scale-"))
    url = fresh_database("postgres", DB, folder)
    rt, clock, engine = runtime(url, folder, day_start(FIRST, LA) - timedelta(hours=10))
    payload: dict[str, Any] = {
        "benchmark": "scale",
        "backend": "postgres",
        "size": args.size,
        "accounts": args.accounts,
        "runs": args.runs,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "loadavg_start": loadavg(),
    }
    try:
        seeded = seed(rt, clock, engine, args.size, args.accounts)
        plans: list[AccountPlan] = seeded["plans"]
        payload["seeding"] = {**seeded["timings"], "history_rows": seeded["history_rows"]}
        step("seeded; measuring the day")
        payload["day"] = measure_day(rt, clock, engine, args.runs)
        step(f"jobs done in {payload['day']['total_s']} s; forecast")
        payload["forecast"] = measure_forecast(rt, engine, args.runs)
        step("statement")
        payload["statement"] = measure_statement(rt, engine, plans[0].program, args.runs)
        summarise(payload)
    finally:
        payload["loadavg"] = loadavg()
        payload["peak_rss_mb"] = peak_rss_mb()
        payload["recorded"] = datetime.now(UTC).isoformat(timespec="seconds")
        engine.dispose()
        rt.engine.dispose()
        if not args.keep:
            drop(DB)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"scale-postgres-{args.size}.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    show(payload)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
