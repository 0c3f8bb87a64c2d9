"""Benchmark: the daily accrual of one day over N entitlements, next to a raw INSERT … SELECT.

    python bench/accrual.py --backend sqlite --size 1000000
    python bench/accrual.py --backend postgres --size 1000000

Seeds N entitlements (80 % ACTIVE, with stops, reactivations and configuration changes on the
day), then measures, in the same run and on the same database:
  raw      INSERT INTO a copy of the consumption table SELECT … FROM entitlements WHERE ACTIVE
  accrual  pointflex's accrue_day for that day (expiry, rates, fast and slow paths, totals)
  rerun    accrue_day again for the same day (must change nothing)
Each figure is the median of --runs runs; the tables are emptied between runs (not timed).
Then the CSV and XLSX exports of all N entitlements next to raw baselines (bench/exports.py).
peak_rss_mb is the whole process's peak resident memory, seeding included.
Results go to bench/results/accrual-<backend>-<size>.json.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Column, Engine, Index, MetaData, Table, delete, func, literal, select, text

from bench import exports
from bench.common import Report, best_of, fresh_database, peak_rss_mb, runtime
from bench.seed import seed
from pointflex.services.points.accrual import accrue_day
from pointflex.store.tables import accrual_runs, config_day_rates, consumption, entitlements

DAY = date(2026, 3, 10)


def raw_table(engine: Engine) -> Table:
    """An empty twin of ``consumption`` (same columns, key and index)."""
    meta = MetaData()
    twin = Table(
        "raw_consumption",
        meta,
        *(
            Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
            for c in consumption.columns
        ),
    )
    Index("ix_raw_consumption_program_day", twin.c.program_serial, twin.c.day)
    meta.drop_all(engine)
    meta.create_all(engine)
    return twin


def raw_insert(engine: Engine, twin: Table, program: str) -> None:
    """The baseline: the same rows, one constant rate, no rules."""
    e = entitlements
    source = select(
        e.c.serial,
        literal(DAY, consumption.c.day.type),
        e.c.program_serial,
        e.c.account_id,
        e.c.config_id,
        literal(Decimal("6.39"), consumption.c.points.type),
    ).where(e.c.program_serial == program, e.c.status == "ACTIVE")
    with engine.begin() as conn:
        conn.execute(twin.insert().from_select([c.name for c in twin.columns], source))


def empty(engine: Engine, *tables: Table) -> None:
    """Empty tables between runs; TRUNCATE on PostgreSQL so no run pays for dead rows."""
    with engine.begin() as conn:
        for table in tables:
            if engine.dialect.name == "postgresql":
                conn.execute(text(f"TRUNCATE {table.name}"))
            else:
                conn.execute(delete(table))


def clear_raw(engine: Engine, twin: Table) -> None:
    empty(engine, twin)


def clear_day(engine: Engine) -> None:
    # The accrual of the benchmark day applies no expiry and writes no events: these three
    # tables are all it changes.
    empty(engine, consumption, accrual_runs, config_day_rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-exports", action="store_true", help="accrual figures only")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pointflex-bench-"))
    url = fresh_database(args.backend, "pointflex_bench_accrual", folder)
    rt, clock, engine = runtime(url, folder, datetime(2026, 3, 1, tzinfo=UTC))
    report = Report("accrual", args.backend, args.size)
    start = time.perf_counter()
    seeded = seed(rt, clock, engine, args.size, DAY)
    report.notes.append(f"seeded in {time.perf_counter() - start:.1f}s; {seeded.active:,} charged")
    if args.backend == "postgres":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    twin = raw_table(engine)
    report.figures["raw_insert_select"] = best_of(
        args.runs, lambda: raw_insert(engine, twin, seeded.program), lambda: clear_raw(engine, twin)
    )
    report.figures["accrual"] = best_of(
        args.runs, lambda: accrue_day(rt, seeded.program, DAY), lambda: clear_day(engine)
    )
    with engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(consumption)).scalar_one()
    if rows != seeded.active:
        raise SystemExit(f"accrual charged {rows:,} rows, expected {seeded.active:,}")
    report.figures["rerun"] = best_of(args.runs, lambda: accrue_day(rt, seeded.program, DAY))
    report.ratio("accrual_vs_raw", "accrual", "raw_insert_select", 1.5)
    report.ratio("rerun_vs_raw", "rerun", "raw_insert_select", 1.0)
    if not args.skip_exports:
        exports.measure(report, rt, engine, seeded.program, args.runs)
    report.figures["peak_rss_mb"] = peak_rss_mb()
    report.show()
    print(f"saved {report.save()}")
    engine.dispose()


if __name__ == "__main__":
    main()
