"""What the jobs have been doing: each job's lease and its latest run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from pointflex.bootstrap import Runtime
from pointflex.jobs import leases
from pointflex.jobs.registry import JOBS
from pointflex.services.context import read
from pointflex.store.tables import job_runs

R = job_runs


@dataclass(frozen=True)
class JobStatus:
    job: str
    running_on: str  # the holder of a lease in progress, "" when idle
    next_due: datetime | None  # None: due now
    last_started: datetime | None
    last_duration_ms: int | None
    last_ok: bool | None
    last_detail: str


def job_statuses(rt: Runtime) -> list[JobStatus]:
    latest = select(R.c.job, func.max(R.c.id).label("id")).group_by(R.c.job).subquery()
    with read(rt) as conn:
        held = leases.leases(conn)
        runs = {r.job: r for r in conn.execute(select(R).join(latest, latest.c.id == R.c.id)).all()}
    found = []
    for job in JOBS:
        holder, until = held.get(job.name, ("", None))
        run = runs.get(job.name)
        found.append(
            JobStatus(
                job=job.name,
                running_on=holder,
                next_due=None if holder else until,
                last_started=None if run is None else run.started_at,
                last_duration_ms=None if run is None else run.duration_ms,
                last_ok=None if run is None else run.ok,
                last_detail="" if run is None else first_line(run.detail),
            )
        )
    return found


def first_line(text: str) -> str:
    """A failure's detail may hold a whole SQL statement: its first line says enough."""
    return text.splitlines()[0] if text else ""
