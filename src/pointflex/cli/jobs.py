"""``pointflex jobs``: the scheduled jobs (accrual, expiry, scheduled hardware, alerts,
deliveries). Start ``pointflex jobs run`` on every node: one runner takes each turn."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from pointflex.cli.common import console, fail, key, runtime, table, when
from pointflex.jobs.registry import JOBS, Job, job_named
from pointflex.jobs.runner import default_holder, loop, run_due
from pointflex.jobs.status import job_statuses
from pointflex.observability import logs
from pointflex.observability.health import readiness

app = typer.Typer(
    help="Scheduled jobs: run the loop, run them once, see their state.", no_args_is_help=True
)

OnlyOpt = Annotated[
    list[str] | None,
    typer.Option("--only", help="Run only this job (repeat for several).", show_default=False),
]


def _chosen(only: list[str] | None) -> tuple[Job, ...]:
    if not only:
        return JOBS
    try:
        return tuple(job_named(name) for name in only)
    except KeyError as exc:
        fail(str(exc.args[0]))


@app.command()
def run(
    once: Annotated[bool, typer.Option("--once", help="One turn, then exit.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="With --once: run every job now, even if not due.")
    ] = False,
    only: OnlyOpt = None,
    poll: Annotated[float, typer.Option("--poll", min=0.1, help="Seconds between turns.")] = 5.0,
) -> None:
    """Run the jobs: a loop until SIGTERM/Ctrl-C, or one turn with --once."""
    jobs, holder = _chosen(only), default_holder()
    with runtime() as rt:
        # The loop logs each run and each failure (with its traceback) as serve logs requests.
        logs.configure(rt.settings.log_format, rt.settings.log_level)
        if once:
            ready = readiness(rt.engine)
            if not ready.ready:
                fail(ready.reason)
            results = run_due(rt, holder, jobs, force=force)
            for result in results:
                state = "ok" if result.ok else "FAILED"
                console().print(
                    f"{result.job}: {state} in {result.duration_ms} ms — {result.detail}"
                )
            if not results:
                console().print("Nothing was due (or another runner holds the jobs).")
            if any(not r.ok for r in results):
                raise typer.Exit(1)
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        console().print(f"Job loop started as {holder}; every {poll:g} s. Stop with Ctrl-C.")
        loop(rt, holder, stop, jobs=jobs, poll_seconds=poll)
        console().print("Job loop stopped.")


@app.command()
def status() -> None:
    """Each job: running where, next due, and its latest run."""
    with runtime() as rt:
        found = job_statuses(rt)
        tz = rt.settings.default_timezone
    grid = table(key("Job"), "Running on", "Next due", "Last run", "ms", "Result", "Detail")
    for item in found:
        result = "" if item.last_ok is None else ("ok" if item.last_ok else "FAILED")
        grid.add_row(
            item.job,
            item.running_on,
            "now" if item.next_due is None and not item.running_on else when(item.next_due, tz),
            when(item.last_started, tz),
            "" if item.last_duration_ms is None else str(item.last_duration_ms),
            result,
            item.last_detail,
        )
    console().print(grid)
