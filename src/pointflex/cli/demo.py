"""``pointflex demo``: seed demo data with a few months of history, then summarise it."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from pointflex.cli.common import cli_actor, console, number, points, progress_bar, runtime, table
from pointflex.demo.credentials import demo_credentials, demo_portal_credentials
from pointflex.demo.plan import DEFAULT_DAYS, DEFAULT_ENTITLEMENTS, DemoOptions
from pointflex.demo.seed import DemoSummary
from pointflex.demo.seed import run_demo as seed_demo
from pointflex.domain.entitlements import Status

BASE_URL = "http://127.0.0.1:8000"


def demo(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing if the database has programs.")
    ] = False,
    entitlements: Annotated[
        int, typer.Option("--entitlements", help="How many entitlements to create.")
    ] = DEFAULT_ENTITLEMENTS,
    days: Annotated[int, typer.Option("--days", help="Days of history to simulate.")] = (
        DEFAULT_DAYS
    ),
    seed: Annotated[
        int | None, typer.Option("--seed", help="Random seed (same seed, same data).")
    ] = None,
    serving: Annotated[
        bool,
        typer.Option("--serving", help="The caller serves next (make run): say the URLs are live."),
    ] = False,
) -> None:
    """Seed demo organisations, programs, entitlements and months of usage history."""
    options = DemoOptions(entitlements=entitlements, days=days, seed=seed, if_empty=if_empty)
    started = time.perf_counter()
    with runtime() as rt, progress_bar() as bar:
        task = bar.add_task("Simulating history", total=days)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        summary = seed_demo(rt, cli_actor(), options, advance)
    print_summary(summary, time.perf_counter() - started)
    with runtime() as rt:
        credentials = demo_credentials(rt, cli_actor())
        portal = demo_portal_credentials(rt, cli_actor())
    when = "" if serving else "   (after 'pointflex serve')"
    if portal is not None:
        print_portal(*portal, when=when)
    if credentials is not None:
        print_login(*credentials, when=when)


def print_portal(username: str, password: str, when: str = "") -> None:
    """Where to sign in to the web portal, and as whom."""
    out = console()
    out.print(f"Portal          {BASE_URL}/{when}")
    out.print(f"Portal user     {username}")
    out.print(f"Portal password {password}   (new on every run)")


def print_login(username: str, password: str, when: str = "") -> None:
    """Where to point a FortiFlex client, and with which demo API user."""
    out = console()
    out.print(f"FortiFlex API   {BASE_URL}/ES/api/fortiflex/v2{when}")
    out.print(f"Token URL       {BASE_URL}/api/v1/oauth/token/   client_id flexvm")
    out.print(f"API user        {username}")
    out.print(f"Password        {password}   (new on every run; store it now)")
    out.print(f"API docs        {BASE_URL}/api/pointflex/docs")


def print_summary(summary: DemoSummary, seconds: float) -> None:
    out = console()
    if summary.seeded:
        out.print(
            f"Seeded {summary.created:,} entitlements and {summary.days} days of history "
            f"in {seconds:.1f} s (seed {summary.seed})."
        )
        actions = table("Simulated action", number("Count"))
        for action, count in summary.actions.items():
            actions.add_row(action, f"{count:,}")
        out.print(actions)
    else:
        out.print("The database already has programs: nothing seeded.")
    statuses = [s.value for s in Status]
    grid = table(
        "Program",
        "Account",
        "Kind",
        number("Balance"),
        number("Month to date"),
        number("Last 30 days"),
        *(number(s) for s in statuses),
        title="Points and entitlements per program",
    )
    for p in summary.programs:
        grid.add_row(
            p.serial,
            f"{p.account_id} {p.account_name}",
            p.kind.value,
            "" if p.balance is None else points(p.balance),
            points(p.month_to_date),
            points(p.last_30_days),
            *(f"{p.by_status.get(s, 0):,}" for s in statuses),
        )
    out.print(grid)
