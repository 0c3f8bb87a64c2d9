"""``pointflex alerts``: the stored alerts, a program's low-balance threshold, and one run of
raising and delivering (what the job loop does on its own; docs/alerts.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from pointflex.cli.common import cli_actor, console, key, number, runtime, table, when
from pointflex.errors import InvalidInput
from pointflex.services.alerts import deliveries
from pointflex.services.alerts import occurrences as alerts
from pointflex.services.alerts import thresholds as alert_thresholds

app = typer.Typer(
    help="Alerts (P8): list them, set thresholds, raise and deliver now.", no_args_is_help=True
)


@app.command("list")
def list_alerts(
    open_only: Annotated[bool, typer.Option("--open", help="Only alerts still open.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 100,
) -> None:
    """Alerts, newest first."""
    with runtime() as rt:
        found = alerts.list_alerts(rt, cli_actor(), open_only=open_only, limit=limit)
        tz = rt.settings.default_timezone
    grid = table(number("Id"), "Raised", key("Program"), "Kind", "Message", "Status")
    for a in found:
        status = "open" if a.cleared_at is None else f"cleared {when(a.cleared_at, tz)}"
        if a.acknowledged_at is not None:
            status += f", acknowledged by {a.acknowledged_by}"
        grid.add_row(
            str(a.id), when(a.raised_at, tz), a.program_serial, a.kind.value, a.message, status
        )
    console().print(grid)


@app.command()
def threshold(
    serial: Annotated[str, typer.Argument(help="A prepaid program's serial.")],
    days: Annotated[
        int | None, typer.Argument(help="Days of current burn; omit with --default.")
    ] = None,
    default: Annotated[
        bool, typer.Option("--default", help="Use POINTFLEX_ALERT_LOW_BALANCE_DAYS again.")
    ] = False,
) -> None:
    """Set a program's own LOW_BALANCE threshold (in days of current burn)."""
    if (days is None) != default:
        raise InvalidInput("give either a number of DAYS or --default")
    with runtime() as rt:
        now = alert_thresholds.set_low_balance_days(rt, cli_actor(), serial, days)
    console().print(f"Program {serial}: low-balance alert below {now} days of points.")


@app.command("raise")
def raise_now() -> None:
    """Raise the alerts now due (as the job loop does)."""
    with runtime() as rt:
        made = alerts.raise_due_alerts(rt)
    console().print(f"{made} alert(s) raised.")


@app.command()
def deliver() -> None:
    """Send the deliveries now due (as the job loop does)."""
    with runtime() as rt:
        made = deliveries.deliver_due(rt)
    console().print(f"{made} delivery attempt(s) made.")
