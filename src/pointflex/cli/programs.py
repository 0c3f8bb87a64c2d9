"""``pointflex programs``: contracts, point packs, adjustments and balances."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from pointflex.cli.common import cli_actor, console, parse_day, parse_points, points, runtime, table
from pointflex.domain.programs import ProgramKind
from pointflex.services.points import programs

app = typer.Typer(
    help="Programs (prepaid and postpaid contracts) and their points.", no_args_is_help=True
)

SerialArg = Annotated[str, typer.Argument(help="Program serial number (ELAVM...).")]


class KindChoice(StrEnum):
    PREPAID = "prepaid"
    POSTPAID = "postpaid"


@app.command("list")
def list_programs() -> None:
    """Every program."""
    with runtime() as rt:
        found = programs.list_programs(rt, cli_actor())
    grid = table("Serial", "Kind", "Account", "Start", "End", "Time zone", "Negative since")
    for program in found:
        grid.add_row(
            program.serial,
            program.kind.value,
            str(program.account_id),
            program.start_date.isoformat(),
            program.end_date.isoformat(),
            program.timezone,
            program.negative_since.isoformat() if program.negative_since else "",
        )
    console().print(grid)


@app.command()
def register(
    account_id: Annotated[int, typer.Option("--account-id", help="Root account of the org.")],
    kind: Annotated[KindChoice, typer.Option("--kind", case_sensitive=False)],
    start: Annotated[str, typer.Option("--start", help="Start date, e.g. 2026-01-01.")],
    end: Annotated[str, typer.Option("--end", help="End date (exclusive), e.g. 2027-01-01.")],
    serial: Annotated[
        str | None, typer.Option("--serial", help="Serial to use (default: generated).")
    ] = None,
    timezone: Annotated[
        str | None, typer.Option("--timezone", help="Billing time zone (default from settings).")
    ] = None,
) -> None:
    """Register a program; an account's second program of a kind extends the first (R3)."""
    start_day, end_day = parse_day(start), parse_day(end)
    with runtime() as rt:
        program = programs.register_program(
            rt,
            cli_actor(),
            account_id=account_id,
            kind=ProgramKind(kind.value.upper()),
            start_date=start_day,
            end_date=end_day,
            serial=serial,
            timezone=timezone,
        )
    console().print(
        f"Program {program.serial} ({program.kind.value}) for account {program.account_id}: "
        f"{program.start_date} to {program.end_date}, {program.timezone}."
    )


@app.command("add-pack")
def add_pack(
    serial: SerialArg,
    pack_points: Annotated[int, typer.Option("--points", help="10000 or 50000.")],
    reference: Annotated[str, typer.Option("--reference", help="Order or SKU reference.")] = "",
) -> None:
    """Add a point pack to a prepaid program (R7)."""
    with runtime() as rt:
        balance = programs.add_pack(rt, cli_actor(), serial, pack_points, reference)
    console().print(f"Added {pack_points:,} points to {serial}; balance {points(balance)}.")


@app.command()
def adjust(
    serial: SerialArg,
    amount: Annotated[str, typer.Option("--points", help="Points to add (negative: remove).")],
    note: Annotated[str, typer.Option("--note", help="Why (kept in the ledger and audit).")],
) -> None:
    """Correct a prepaid balance by any amount, with a note."""
    value = parse_points(amount)
    with runtime() as rt:
        balance = programs.adjust(rt, cli_actor(), serial, value, note)
    console().print(f"Adjusted {serial} by {points(value)}; balance {points(balance)}.")


@app.command()
def balance(serial: SerialArg) -> None:
    """The point balance of a prepaid program."""
    with runtime() as rt:
        value = programs.balance(rt, cli_actor(), serial)
    console().print(f"{serial}: {points(value)} points")
