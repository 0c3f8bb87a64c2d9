"""``pointflex scheduled``: hardware serials created at 03:00 program time on a start date
(R38, R39); the ``scheduled-hardware`` job creates them."""

from __future__ import annotations

from typing import Annotated

import typer

from pointflex.cli.common import cli_actor, console, key, parse_day, runtime, table, when
from pointflex.services.entitlements import scheduled
from pointflex.services.entitlements.scheduled import ScheduledActivation

app = typer.Typer(
    help="Scheduled hardware activations: serials created at 03:00 on their start date.",
    no_args_is_help=True,
)


@app.command("add")
def add(
    config_id: Annotated[int, typer.Option("--config-id", help="Hardware configuration id.")],
    start_date: Annotated[str, typer.Option("--start-date", help="YYYY-MM-DD, after today.")],
    serials: Annotated[list[str], typer.Argument(help="Device serial numbers (up to 1,000).")],
    end_date: Annotated[
        str | None, typer.Option("--end-date", help="YYYY-MM-DD; default: the program end.")
    ] = None,
) -> None:
    """Schedule device serials for activation at 03:00 program time on --start-date."""
    with runtime() as rt:
        found = scheduled.schedule_hardware(
            rt,
            cli_actor(),
            config_id=config_id,
            serials=serials,
            start_date=parse_day(start_date),
            end_date=None if end_date is None else parse_day(end_date),
        )
        _print(found, rt.settings.default_timezone)


@app.command("list")
def list_scheduled(
    state: Annotated[
        str | None, typer.Option("--state", help="SCHEDULED, DONE, FAILED or CANCELLED.")
    ] = None,
) -> None:
    """Scheduled serials and what became of them."""
    with runtime() as rt:
        found = scheduled.list_scheduled(rt, cli_actor(), state=state)
        _print(found, rt.settings.default_timezone)


@app.command("cancel")
def cancel(serials: Annotated[list[str], typer.Argument(help="Scheduled serials.")]) -> None:
    """Cancel serials still waiting for their start date."""
    with runtime() as rt:
        count = scheduled.cancel(rt, cli_actor(), serials)
    console().print(f"{count} scheduled serial(s) cancelled.")


def _print(found: list[ScheduledActivation], tz: str) -> None:
    grid = table(key("Serial"), "Config", "Program", "Start", "End", "State", "Processed", "Detail")
    for item in found:
        grid.add_row(
            item.serial,
            str(item.config_id),
            item.program_serial,
            item.start_date.isoformat(),
            "" if item.end_date is None else item.end_date.isoformat(),
            item.state,
            when(item.processed_at, tz),
            item.detail,
        )
    console().print(grid)
    console().print(f"{len(found)} serial(s).")
