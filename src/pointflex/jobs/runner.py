"""Running jobs: claim the lease, run, record the run, hand the lease back; and the loop."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert

from pointflex.bootstrap import Runtime
from pointflex.jobs import leases
from pointflex.jobs.registry import JOBS, Job
from pointflex.observability.health import readiness
from pointflex.services.context import write
from pointflex.store.tables import job_runs

log = logging.getLogger("pointflex.jobs")


@dataclass(frozen=True)
class JobResult:
    job: str
    holder: str
    started_at: datetime
    duration_ms: int
    ok: bool
    detail: str


def default_holder() -> str:
    """Who holds a lease: host and process, so ``pointflex jobs status`` can name it."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run_job(rt: Runtime, job: Job, holder: str, *, force: bool = False) -> JobResult | None:
    """Run ``job`` if it is due and no other runner holds it; None when it was not ours.

    ``force`` makes the job due first (an operator's "run it now"); a runner holding it at
    that moment keeps it, so even then it never runs twice at once.
    """
    started_at = rt.now()
    with write(rt) as conn:
        if force:
            leases.make_due(conn, job.name, started_at)
        if not leases.claim(conn, job.name, holder, started_at, started_at + job.timeout):
            return None
    began = time.monotonic()
    try:
        detail, ok = job.run(rt), True
    except Exception as exc:  # a failing job must not stop the others or the loop
        log.exception("job %s failed", job.name)
        detail, ok = f"{type(exc).__name__}: {exc}", False
    result = JobResult(
        job.name, holder, started_at, int((time.monotonic() - began) * 1000), ok, detail
    )
    _finish(rt, job, result)
    outcome = "ok" if ok else "FAILED"
    log.info("job %s %s in %d ms: %s", job.name, outcome, result.duration_ms, detail)
    return result


def _finish(rt: Runtime, job: Job, result: JobResult) -> None:
    with write(rt) as conn:
        conn.execute(
            insert(job_runs).values(
                job=result.job,
                holder=result.holder,
                started_at=result.started_at,
                finished_at=rt.now(),
                duration_ms=result.duration_ms,
                ok=result.ok,
                detail=result.detail[:2000],
            )
        )
        leases.release(conn, job.name, result.holder, result.started_at + job.every)


def run_due(
    rt: Runtime, holder: str, jobs: Sequence[Job] = JOBS, *, force: bool = False
) -> list[JobResult]:
    """One turn: every job that is due (or, with ``force``, every job) and free."""
    results = [run_job(rt, job, holder, force=force) for job in jobs]
    return [r for r in results if r is not None]


def loop(
    rt: Runtime,
    holder: str,
    stop: threading.Event,
    *,
    jobs: Sequence[Job] = JOBS,
    poll_seconds: float = 5.0,
) -> None:
    """Turn after turn until ``stop`` is set (SIGTERM/SIGINT in ``pointflex jobs run``).

    A turn is skipped while the database is unreachable or its schema is not the one this code
    needs (an upgrade in progress: new code on the old schema, or old code on a newer one), so
    a rolling upgrade never has a job fail half-way for a missing column.
    """
    waiting = ""
    while not stop.is_set():
        state = readiness(rt.engine)
        if not state.ready:
            if state.reason != waiting:  # said once per cause, not every few seconds
                log.warning("jobs paused: %s", state.reason)
            waiting = state.reason
        else:
            if waiting:
                log.info("jobs resumed: the database is ready")
            waiting = ""
            try:
                run_due(rt, holder, jobs)
            except Exception:  # the database may be briefly away; try again next turn
                log.exception("job turn failed")
        stop.wait(poll_seconds)
