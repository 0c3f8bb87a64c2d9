"""``pointflex entitlements``: list, create, change, stop, reactivate, transfer, export."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import typer
from rich.text import Text

from pointflex.cli import entitlement_reads
from pointflex.cli.common import (
    cli_actor,
    console,
    key,
    runtime,
    table,
)
from pointflex.cli.entitlement_reads import print_entitlements
from pointflex.domain.ends import FOLLOW_PROGRAM, RequestedEnd
from pointflex.errors import InvalidInput, PointflexError
from pointflex.services.entitlements import changes, creation, transfers
from pointflex.services.entitlements.changes import Outcome

app = typer.Typer(help="Entitlements: VM, hardware and cloud licences.", no_args_is_help=True)
app.command("list")(entitlement_reads.list_entitlements)
app.command()(entitlement_reads.export)

SerialsArg = Annotated[list[str], typer.Argument(help="Entitlement serial numbers.")]
ConfigIdOpt = Annotated[int, typer.Option("--config-id", help="Configuration id.")]
EndDateOpt = Annotated[
    str | None,
    typer.Option(
        "--end-date",
        help="User-defined end, e.g. 2026-12-31 (local time in the default billing zone); "
        "default: follow the program.",
    ),
]
FollowOpt = Annotated[
    bool, typer.Option("--follow-program", help="End with the program (Follow Program).")
]
DescriptionOpt = Annotated[str | None, typer.Option("--description", help="Description.")]
FolderOpt = Annotated[
    str | None, typer.Option("--folder", help="Folder, e.g. 'Lab' or 'My Assets/Lab'.")
]

# --------------------------------------------------------------------------- creation


@app.command("create-vm")
def create_vm(
    config_id: ConfigIdOpt,
    count: Annotated[int, typer.Option("--count", help="How many VMs.")] = 1,
    description: DescriptionOpt = None,
    end_date: EndDateOpt = None,
    folder: FolderOpt = None,
    skip_pending: Annotated[
        bool, typer.Option("--skip-pending", help="ACTIVE (charged) at once, not PENDING.")
    ] = False,
) -> None:
    """Create VM entitlements, each with a single-use token."""
    with runtime() as rt:
        created = creation.create_vm(
            rt,
            cli_actor(),
            config_id=config_id,
            count=count,
            description=description,
            end=RequestedEnd.parse(end_date) or FOLLOW_PROGRAM,
            folder_path=folder,
            skip_pending=skip_pending,
        )
        print_entitlements(rt.catalog, created)


@app.command("create-hardware")
def create_hardware(
    config_id: ConfigIdOpt,
    serials: Annotated[list[str], typer.Argument(help="Device serial numbers.")],
    end_date: EndDateOpt = None,
    description: DescriptionOpt = None,
    folder: FolderOpt = None,
) -> None:
    """Create hardware entitlements for your devices' serial numbers (ACTIVE at once)."""
    with runtime() as rt:
        created = creation.create_hardware(
            rt,
            cli_actor(),
            config_id=config_id,
            serials=serials,
            end=RequestedEnd.parse(end_date) or FOLLOW_PROGRAM,
            description=description,
            folder_path=folder,
        )
        print_entitlements(rt.catalog, created)


@app.command("create-cloud")
def create_cloud(
    config_id: ConfigIdOpt,
    end_date: EndDateOpt = None,
    description: DescriptionOpt = None,
    folder: FolderOpt = None,
) -> None:
    """Create the cloud-service entitlement of a configuration (one per product and account)."""
    with runtime() as rt:
        created = creation.create_cloud(
            rt,
            cli_actor(),
            config_id=config_id,
            end=RequestedEnd.parse(end_date) or FOLLOW_PROGRAM,
            description=description,
            folder_path=folder,
        )
        print_entitlements(rt.catalog, created)


# --------------------------------------------------------------------------- changes


def end_change(end_date: str | None, follow_program: bool) -> RequestedEnd | None:
    """``--end-date`` or ``--follow-program`` as a requested end; neither means no change.

    A date without an offset is resolved in the entitlement's program time zone, as the API
    and the portal do.
    """
    if end_date is not None and follow_program:
        raise InvalidInput("give --end-date or --follow-program, not both")
    if follow_program:
        return FOLLOW_PROGRAM
    return RequestedEnd.parse(end_date)


@app.command()
def update(
    serial: Annotated[str, typer.Argument(help="Entitlement serial number.")],
    config_id: Annotated[int | None, typer.Option("--config-id", help="New configuration.")] = None,
    description: DescriptionOpt = None,
    end_date: EndDateOpt = None,
    follow_program: FollowOpt = False,
    folder: FolderOpt = None,
) -> None:
    """Change an entitlement's configuration, description, end date or folder."""
    with runtime() as rt:
        record = changes.update_entitlement(
            rt,
            cli_actor(),
            serial,
            config_id=config_id,
            description=description,
            end=end_change(end_date, follow_program),
            folder_path=folder,
        )
        print_entitlements(rt.catalog, [record])


@app.command()
def stop(serials: SerialsArg) -> None:
    """Stop entitlements (today is still charged); exit 1 if any could not be stopped."""
    with runtime() as rt:
        outcomes = changes.stop(rt, cli_actor(), serials)
    print_outcomes("Stopped", outcomes)


@app.command()
def reactivate(
    serials: SerialsArg, end_date: EndDateOpt = None, follow_program: FollowOpt = False
) -> None:
    """Reactivate STOPPED entitlements (charged from today); exit 1 if any failed."""
    with runtime() as rt:
        end = end_change(end_date, follow_program)
        outcomes = changes.reactivate(rt, cli_actor(), serials, end)
    print_outcomes("Reactivated", outcomes)


def print_outcomes(verb: str, outcomes: Sequence[Outcome]) -> None:
    grid = table(key("Serial"), key("Result"), key("Status"), "Message")
    for outcome in outcomes:
        record, error = outcome.entitlement, outcome.error
        grid.add_row(
            outcome.serial,
            Text("ok") if error is None else Text("failed", style="red"),
            record.status.value if record else "",
            _message(error),
        )
    out = console()
    out.print(grid)
    done = sum(1 for o in outcomes if o.ok)
    out.print(f"{verb} {done} of {len(outcomes)}.")
    if done < len(outcomes):
        raise typer.Exit(1)


def _message(error: PointflexError | None) -> str:
    return "" if error is None else error.message


@app.command("regenerate-token")
def regenerate_token(serial: Annotated[str, typer.Argument(help="VM serial number.")]) -> None:
    """Replace a VM's token with a new, unused one; the old one can never be redeemed."""
    with runtime() as rt:
        record = changes.regenerate_token(rt, cli_actor(), serial)
    console().print(f"{record.serial}: new token {record.token} ({record.token_status}).")


@app.command()
def transfer(
    serials: SerialsArg,
    to_account: Annotated[int, typer.Option("--to-account", help="Target account id.")],
    to_config: Annotated[
        int | None,
        typer.Option("--to-config", help="Target configuration (default: a matching one)."),
    ] = None,
) -> None:
    """Move entitlements to another account of the same organisation."""
    with runtime() as rt:
        moved = transfers.transfer(
            rt,
            cli_actor(),
            serials=serials,
            target_account_id=to_account,
            target_config_id=to_config,
        )
        print_entitlements(rt.catalog, moved)


@app.command()
def remove(serials: SerialsArg) -> None:
    """Remove STOPPED or EXPIRED hardware from management (all or nothing; history kept)."""
    with runtime() as rt:
        removed = changes.remove_hardware(rt, cli_actor(), serials)
    console().print(f"Removed {len(removed)} hardware serial(s): {', '.join(removed)}.")
