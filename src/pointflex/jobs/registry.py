"""The jobs and how often each is due. Every job is idempotent: running it early, twice or
after a crash changes nothing that a single on-time run would not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from pointflex.bootstrap import Runtime
from pointflex.jobs import tasks


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta  # due again this long after a run started
    timeout: timedelta  # a runner that crashed mid-run frees the job after this long
    run: Callable[[Runtime], str]


JOBS: tuple[Job, ...] = (
    # Expiry first: the accrual applies expiries inside each day anyway, but reads and
    # licence validation see the stored status sooner this way.
    Job("expiry", timedelta(minutes=1), timedelta(minutes=10), tasks.expiry),
    Job("accrual", timedelta(minutes=5), timedelta(hours=1), tasks.accrual),
    Job(
        "scheduled-hardware", timedelta(minutes=5), timedelta(minutes=30), tasks.scheduled_hardware
    ),
    Job("alerts", timedelta(minutes=5), timedelta(minutes=30), tasks.alerts),
    Job("deliveries", timedelta(seconds=30), timedelta(minutes=10), tasks.deliveries),
)


def job_named(name: str) -> Job:
    for job in JOBS:
        if job.name == name:
            return job
    known = ", ".join(j.name for j in JOBS)
    raise KeyError(f"no job named {name!r}; the jobs are: {known}")
