"""``pointflex prices``: the dated price lists in use."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pointflex.cli.common import cli_actor, console, runtime, table
from pointflex.services.points import prices

app = typer.Typer(help="Price lists (points per day), dated.", no_args_is_help=True)


@app.command("list")
def list_prices() -> None:
    """The price lists in force, oldest first: shipped ones and imported ones."""
    with runtime() as rt:
        versions = prices.list_versions(rt)
    grid = table("Effective", "Source")
    for effective, source in versions:
        grid.add_row(effective.isoformat(), source)
    console().print(grid)


@app.command("import")
def import_prices(
    path: Annotated[
        Path,
        typer.Argument(
            help="Price list, YAML or JSON, named by its effective date.",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
) -> None:
    """Import a dated price list; it may not reprice days already accrued."""
    with runtime() as rt:
        imported = prices.import_price_list(rt, cli_actor(), path)
    console().print(f"Imported the price list effective {imported.effective} from {path.name}.")
