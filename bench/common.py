"""Shared benchmark plumbing: fresh databases, bulk seeding, timing and result files."""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text

from pointflex.bootstrap import Runtime, build_runtime
from pointflex.clock import ManualClock
from pointflex.config import Settings
from pointflex.store.db import make_engine, normalise_url
from pointflex.store.migrate import upgrade

RESULTS = Path(__file__).parent / "results"
PG_ADMIN = os.environ.get(
    "POINTFLEX_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
SECRET = "bench-secret-" + "b" * 32


def fresh_database(backend: str, name: str, folder: Path) -> str:
    """An empty, migrated database for one benchmark run."""
    if backend == "sqlite":
        path = folder / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        admin = create_engine(normalise_url(PG_ADMIN), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = normalise_url(PG_ADMIN).rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def runtime(url: str, folder: Path, now: datetime) -> tuple[Runtime, ManualClock, Engine]:
    clock = ManualClock(now)
    engine = make_engine(url)
    settings = Settings(database_url=url, data_dir=folder, secret_key=SECRET)
    return build_runtime(settings, clock=clock, engine=engine), clock, engine


@contextmanager
def timed(results: dict[str, float], key: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    results[key] = round(time.perf_counter() - start, 3)


def best_of(runs: int, action: Callable[[], Any], before: Callable[[], Any] | None = None) -> float:
    """Median wall time of ``runs`` runs (``before`` resets state and is not timed)."""
    times: list[float] = []
    for _ in range(runs):
        if before is not None:
            before()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times), 3)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@dataclass
class Report:
    name: str
    backend: str
    size: int
    figures: dict[str, float] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)
    targets: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def ratio(self, key: str, ours: str, raw: str, target: float) -> None:
        self.ratios[key] = round(self.figures[ours] / self.figures[raw], 2)
        self.targets[key] = target

    def save(self) -> Path:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"{self.name}-{self.backend}-{self.size}.json"
        payload = {
            "benchmark": self.name,
            "backend": self.backend,
            "size": self.size,
            "recorded": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}",
            "seconds": self.figures,
            "ratios": self.ratios,
            "targets": self.targets,
            "met": {k: self.ratios[k] <= self.targets[k] for k in self.ratios},
            "notes": self.notes,
        }
        path.write_text(json.dumps(payload, indent=2) + "\n")
        return path

    def show(self) -> None:
        print(f"\n{self.name} on {self.backend}, {self.size:,} entitlements")
        for key, value in self.figures.items():
            print(f"  {key:<32} {value:>10}")
        for key, value in self.ratios.items():
            ok = "ok" if value <= self.targets[key] else "MISSED"
            print(f"  ratio {key:<26} {value:>10}  (target <= {self.targets[key]}) {ok}")
        for note in self.notes:
            print(f"  note: {note}")


def day_after(day: date) -> date:
    return day + timedelta(days=1)
