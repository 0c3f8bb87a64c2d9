"""Business metrics read from the database when Prometheus scrapes.

Read at scrape time rather than counted in memory, so every app process (and the separate
job-loop process, which serves no HTTP) reports the same, correct figures. A handful of
aggregate queries in one read-only transaction; if the database cannot be reached, the
scrape still succeeds with ``pointflex_database_up 0`` and none of these figures.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import Connection, Engine, and_, func, select
from sqlalchemy.exc import SQLAlchemyError

from pointflex.store.tables import accrual_runs, entitlements, job_runs, licences, programs

log = logging.getLogger("pointflex.metrics")


@dataclass
class JobFigures:
    runs: dict[bool, int] = field(default_factory=dict)
    last_duration_ms: int | None = None
    last_ok: bool | None = None
    last_finished: datetime | None = None
    last_success: datetime | None = None


@dataclass
class Figures:
    """What one scrape read from the database."""

    points_by_kind: dict[str, Decimal]
    licences: int
    entitlements_by_status: dict[str, int]
    jobs: dict[str, JobFigures]


def read_figures(engine: Engine) -> Figures:
    with engine.connect() as conn:
        return Figures(
            points_by_kind=_points(conn),
            licences=int(conn.scalar(select(func.count()).select_from(licences)) or 0),
            entitlements_by_status=_entitlements(conn),
            jobs=_jobs(conn),
        )


def _points(conn: Connection) -> dict[str, Decimal]:
    # One row per program-day in accrual_runs; summed per program kind (a handful of labels,
    # not one per program).
    query = (
        select(programs.c.kind, func.sum(accrual_runs.c.points))
        .select_from(accrual_runs.join(programs))
        .group_by(programs.c.kind)
    )
    return {kind: Decimal(total or 0) for kind, total in conn.execute(query)}


def _entitlements(conn: Connection) -> dict[str, int]:
    query = select(entitlements.c.status, func.count()).group_by(entitlements.c.status)
    return {status: int(n) for status, n in conn.execute(query)}


def _jobs(conn: Connection) -> dict[str, JobFigures]:
    jobs: dict[str, JobFigures] = {}
    counts = select(job_runs.c.job, job_runs.c.ok, func.count()).group_by(
        job_runs.c.job, job_runs.c.ok
    )
    for job, ok, n in conn.execute(counts):
        jobs.setdefault(job, JobFigures()).runs[bool(ok)] = int(n)
    latest = (
        select(job_runs.c.job, func.max(job_runs.c.started_at).label("at"))
        .group_by(job_runs.c.job)
        .subquery()
    )
    last_runs = select(
        job_runs.c.job, job_runs.c.duration_ms, job_runs.c.ok, job_runs.c.finished_at
    ).join(latest, and_(job_runs.c.job == latest.c.job, job_runs.c.started_at == latest.c.at))
    for job, duration_ms, ok, finished in conn.execute(last_runs):
        figures = jobs.setdefault(job, JobFigures())
        figures.last_duration_ms, figures.last_ok, figures.last_finished = duration_ms, ok, finished
    successes = (
        select(job_runs.c.job, func.max(job_runs.c.finished_at))
        .where(job_runs.c.ok.is_(True))
        .group_by(job_runs.c.job)
    )
    for job, finished in conn.execute(successes):
        jobs.setdefault(job, JobFigures()).last_success = finished
    return jobs


class DatabaseCollector:
    """A prometheus-client collector over one engine (the runtime's, at scrape time)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "pointflex_database_up", "1 if the database answered this scrape's queries, else 0."
        )
        try:
            figures = read_figures(self.engine)
        except SQLAlchemyError as exc:
            # Only the error's kind: its text may name the server (never its password, but
            # the log need not carry connection details either).
            log.warning("metrics: the database did not answer (%s)", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from business_metrics(figures)


def business_metrics(figures: Figures) -> Iterator[Metric]:
    points = CounterMetricFamily(
        "pointflex_points_accrued",
        "Points charged by the daily accrual since the start, by program kind.",
        labels=["program_kind"],
    )
    for kind, total in sorted(figures.points_by_kind.items()):
        points.add_metric([kind], float(total))
    yield points
    activations = CounterMetricFamily(
        "pointflex_licence_activations", "Licences issued (tokens redeemed by instances)."
    )
    activations.add_metric([], figures.licences)
    yield activations
    by_status = GaugeMetricFamily(
        "pointflex_entitlements", "Entitlements by stored status.", labels=["status"]
    )
    for status, n in sorted(figures.entitlements_by_status.items()):
        by_status.add_metric([status], n)
    yield by_status
    yield from job_metrics(figures.jobs)


def job_metrics(jobs: dict[str, JobFigures]) -> Iterator[Metric]:
    runs = CounterMetricFamily(
        "pointflex_job_runs", "Runs of each scheduled job, by outcome.", labels=["job", "ok"]
    )
    duration = GaugeMetricFamily(
        "pointflex_job_last_duration_seconds",
        "How long the latest run of each job took.",
        labels=["job"],
    )
    last_ok = GaugeMetricFamily(
        "pointflex_job_last_run_ok", "1 if the latest run of each job succeeded.", labels=["job"]
    )
    finished = GaugeMetricFamily(
        "pointflex_job_last_run_timestamp_seconds",
        "When the latest run of each job finished (Unix time).",
        labels=["job"],
    )
    success = GaugeMetricFamily(
        "pointflex_job_last_success_timestamp_seconds",
        "When the latest successful run of each job finished (Unix time).",
        labels=["job"],
    )
    for job, f in sorted(jobs.items()):
        for ok in (True, False):
            runs.add_metric([job, str(ok).lower()], f.runs.get(ok, 0))
        if f.last_duration_ms is not None:
            duration.add_metric([job], f.last_duration_ms / 1000)
        if f.last_ok is not None:
            last_ok.add_metric([job], 1 if f.last_ok else 0)
        if f.last_finished is not None:
            finished.add_metric([job], f.last_finished.timestamp())
        if f.last_success is not None:
            success.add_metric([job], f.last_success.timestamp())
    yield from (runs, duration, last_ok, finished, success)
