"""``pointflex points``: balances, consumption reports, the daily accrual, statements."""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from pointflex.cli.common import (
    cli_actor,
    console,
    key,
    number,
    parse_day,
    parse_month,
    points,
    progress_bar,
    runtime,
    table,
)
from pointflex.domain.programs import ProgramKind
from pointflex.domain.usage import GroupBy, ReportRow, Statement
from pointflex.errors import InvalidInput
from pointflex.renderers import statements as statement_files
from pointflex.services.points import forecasts, programs, statements
from pointflex.services.points import usage as points_service
from pointflex.services.points.accrual import DayResult, accrue_through
from pointflex.services.points.forecasts import Forecast

app = typer.Typer(help="Points: balances, reports, the daily accrual.", no_args_is_help=True)

ProgramOpt = Annotated[str, typer.Option("--program", help="Program serial number.")]


@app.command()
def balance(serial: Annotated[str, typer.Argument(help="Prepaid program serial.")]) -> None:
    """The point balance of a prepaid program."""
    with runtime() as rt:
        value = programs.balance(rt, cli_actor(), serial)
    console().print(f"{serial}: {points(value)} points")


@app.command()
def report(
    program: ProgramOpt,
    by: Annotated[GroupBy, typer.Option("--by", case_sensitive=False, help="Grouping.")],
    start: Annotated[str, typer.Option("--start", help="First day, e.g. 2026-05-01.")],
    end: Annotated[str, typer.Option("--end", help="Last day (included).")],
    csv_path: Annotated[
        Path | None, typer.Option("--csv", help="Also write the rows to this CSV file.")
    ] = None,
) -> None:
    """Points consumed by a program, per day, entitlement or configuration."""
    first, last = parse_day(start), parse_day(end)
    with runtime() as rt:
        rows = points_service.report(rt, cli_actor(), program, by, first, last)
    print_report(by, rows, title=f"{program}: points from {first} to {last} by {by.value}")
    if csv_path is not None:
        write_csv(csv_path, by, rows)
        console().print(f"Wrote {len(rows)} row(s) to {csv_path}.")


def print_report(by: GroupBy, rows: Sequence[ReportRow], title: str) -> None:
    named = by is GroupBy.CONFIGURATION  # only configurations have a name besides their key
    name: list[str] = ["Name"] if named else []
    grid = table(key(by.value.capitalize()), *name, number("Entitlements"), number("Points"))
    for row in rows:
        label = [row.label] if named else []
        grid.add_row(row.key, *label, str(row.entitlements), points(row.points))
    grid.add_section()
    total = sum((r.points for r in rows), Decimal("0"))
    grid.add_row("Total", *([""] if named else []), "", points(total))
    out = console()
    out.print(title)
    out.print(grid)


def write_csv(path: Path, by: GroupBy, rows: Sequence[ReportRow]) -> None:
    try:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow([by.value, "name", "entitlements", "points"])
            writer.writerows([r.key, r.label, r.entitlements, f"{r.points:.2f}"] for r in rows)
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}") from exc


@app.command()
def accrue(
    through: Annotated[str, typer.Option("--through", help="Last day to accrue (ended).")],
    program: Annotated[
        str | None, typer.Option("--program", help="Only this program (default: all).")
    ] = None,
) -> None:
    """Charge every day not yet accrued, up to and including --through (idempotent)."""
    day = parse_day(through)
    with runtime() as rt, progress_bar() as bar:
        task = bar.add_task("Accruing", total=None)

        def advance(result: DayResult) -> None:
            bar.update(task, advance=1, description=f"{result.program_serial} {result.day}")

        results = accrue_through(rt, day, program_serial=program, progress=advance)
    print_accrual(results)


def print_accrual(results: Sequence[DayResult]) -> None:
    done = [r for r in results if not r.skipped]
    out = console()
    if not done:
        out.print("Nothing to accrue: every day is already charged.")
        return
    grid = table("Program", "From", "To", number("Days"), number("Points"))
    for serial in sorted({r.program_serial for r in done}):
        mine = [r for r in done if r.program_serial == serial]
        grid.add_row(
            serial,
            mine[0].day.isoformat(),
            mine[-1].day.isoformat(),
            str(len(mine)),
            points(sum((r.points for r in mine), Decimal("0"))),
        )
    out.print(grid)
    total = sum((r.points for r in done), Decimal("0"))
    out.print(f"Accrued {len(done)} program day(s), {points(total)} points.")
    if skipped := len(results) - len(done):
        out.print(f"{skipped} day(s) were already accrued by another run.")


class StatementFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    HTML = "html"


@app.command()
def statement(
    program: ProgramOpt,
    month: Annotated[str, typer.Option("--month", help="Month, YYYY-MM.")],
    fmt: Annotated[
        StatementFormat,
        typer.Option(
            "--format",
            case_sensitive=False,
            help="table: the summary; csv: every charge; html: the printable statement.",
        ),
    ] = StatementFormat.TABLE,
    output: Annotated[
        Path | None, typer.Option("--output", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """A program's monthly statement: consumption by configuration, and balance if prepaid."""
    first = parse_month(month)
    actor = cli_actor()
    if fmt is StatementFormat.TABLE:
        if output is not None:
            raise InvalidInput("--output needs --format csv or --format html")
        with runtime() as rt:
            found = points_service.monthly_statement(rt, actor, program, first)
        print_statement(found)
        return
    with runtime() as rt:
        full = statements.statement(rt, actor, program, first)
    text = (
        statement_files.statement_csv(full)
        if fmt is StatementFormat.CSV
        else statement_files.statement_html(full)
    )
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot write {output}: {exc.strerror or exc}") from exc
    console().print(
        f"Wrote the {fmt.value.upper()} statement of {program} for {first:%Y-%m} "
        f"({len(full.lines)} charge(s); {full.status_note}) to {output}."
    )


@app.command()
def forecast(
    program: Annotated[
        str | None, typer.Option("--program", help="Only this program (default: all).")
    ] = None,
) -> None:
    """Days of points left, zero date and shortfall, from the burn and known future changes."""
    actor = cli_actor()
    with runtime() as rt:
        found = (
            [forecasts.forecast(rt, actor, program)]
            if program is not None
            else forecasts.forecast_all(rt, actor)
        )
    print_forecasts(found)


def print_forecasts(found: Sequence[Forecast]) -> None:
    out = console()
    if not found:
        out.print("No program to forecast.")
        return
    grid = table(
        key("Program"),
        "Kind",
        number("Balance"),
        number("Burn/day"),
        number("Observed/day"),
        number("Days left"),
        key("Zero date"),
        number("Shortfall"),
        number("Month total"),
        number("To end"),
        key("End"),
    )
    for f in found:
        grid.add_row(
            f.program_serial,
            f.kind.value.title(),
            "" if f.balance is None else points(f.balance),
            points(f.burn_today),
            points(f.projection.observed_burn),
            _maybe(f.days_left),
            "" if f.zero_date is None else f.zero_date.isoformat(),
            "" if f.shortfall is None else points(f.shortfall),
            points(f.month_total),
            points(f.projection.to_end),
            f.end_date.isoformat(),
        )
    out.print(grid)
    out.print(
        "Burn/day is today's projected cost; days left and the zero date follow the projection "
        "(end dates, price versions, scheduled activations); blank: not reached before the end."
    )


def _maybe(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,}"


def print_statement(found: Statement) -> None:
    kind = found.kind
    out = console()
    out.print(f"Statement of {found.program_serial} ({kind.value}) for {found.month:%B %Y}")
    lines = [("Consumed", found.consumption)]
    if kind is ProgramKind.PREPAID:
        lines = [
            ("Opening balance", found.opening),
            ("Points added", found.credits),
            ("Consumed", -found.consumption),
            ("Closing balance", found.closing),
        ]
    summary = table("", number("Points"))
    for label, value in lines:
        summary.add_row(label, points(value))
    out.print(summary)
    print_report(GroupBy.CONFIGURATION, found.by_configuration, title="By configuration")
