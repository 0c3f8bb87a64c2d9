"""``pointflex entitlements``: list, create, change, stop, reactivate, transfer, export."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from itertools import islice
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from pointflex.bootstrap import Runtime
from pointflex.cli.common import (
    cli_actor,
    console,
    key,
    product_name,
    runtime,
    spinner,
    table,
    when,
)
from pointflex.domain.catalog import Catalog
from pointflex.domain.ends import FOLLOW_PROGRAM, RequestedEnd
from pointflex.domain.entitlements import Status, TerminationMode, TokenStatus
from pointflex.errors import InvalidInput, PointflexError
from pointflex.services.context import Actor, read
from pointflex.services.entitlements import changes, creation, transfers
from pointflex.services.entitlements.changes import Outcome
from pointflex.services.entitlements.fields import normalise_folder
from pointflex.services.entitlements.views import Entitlement, EntitlementFilter, iter_entitlements

app = typer.Typer(help="Entitlements: VM, hardware and cloud licences.", no_args_is_help=True)

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

# Filters shared by ``list`` and ``export``.
ConfigFilter = Annotated[int | None, typer.Option("--config-id", help="Configuration id.")]
AccountFilter = Annotated[int | None, typer.Option("--account-id", help="Account id.")]
ProgramFilter = Annotated[str | None, typer.Option("--program", help="Program serial number.")]
SerialFilter = Annotated[
    list[str] | None, typer.Option("--serial", help="Only this serial; repeat for several.")
]
StatusFilter = Annotated[
    Status | None, typer.Option("--status", case_sensitive=False, help="Status as shown.")
]
TokenFilter = Annotated[TokenStatus | None, typer.Option("--token-status", case_sensitive=False)]
ProductFilter = Annotated[int | None, typer.Option("--product-type", help="Product type id.")]
FolderFilter = Annotated[
    str | None, typer.Option("--folder", help="Folder, e.g. 'Lab' or 'My Assets/Lab'.")
]
TextFilter = Annotated[
    str | None, typer.Option("--description", help="Description contains this text.")
]


class ExportChoice(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"


def build_filter(
    *,
    config_id: int | None,
    account_id: int | None,
    program: str | None,
    serials: Sequence[str] | None,
    status: Status | None,
    token_status: TokenStatus | None,
    product_type: int | None,
    folder: str | None,
    description: str | None,
) -> EntitlementFilter:
    return EntitlementFilter(
        config_id=config_id,
        account_id=account_id,
        program_serial=program,
        serials=tuple(s.strip().upper() for s in serials) if serials else None,
        status=status.value if status else None,
        token_status=token_status.value if token_status else None,
        product_type_id=product_type,
        folder_path=normalise_folder(folder) if folder else None,
        description_contains=description,
    )


# --------------------------------------------------------------------------- reading


@app.command("list")
def list_entitlements(
    config_id: ConfigFilter = None,
    account_id: AccountFilter = None,
    program: ProgramFilter = None,
    serial: SerialFilter = None,
    status: StatusFilter = None,
    token_status: TokenFilter = None,
    product_type: ProductFilter = None,
    folder: FolderFilter = None,
    description: TextFilter = None,
    limit: Annotated[int, typer.Option("--limit", help="Rows to show at most.")] = 100,
) -> None:
    """Entitlements matching the filters, in serial order, tokens included."""
    if limit < 1:
        raise InvalidInput("--limit must be at least 1")
    flt = build_filter(
        config_id=config_id,
        account_id=account_id,
        program=program,
        serials=serial,
        status=status,
        token_status=token_status,
        product_type=product_type,
        folder=folder,
        description=description,
    )
    with runtime() as rt, read(rt) as conn:
        # One row more than shown tells whether the list was cut.
        found = list(islice(iter_entitlements(rt, conn, cli_actor(), flt), limit + 1))
        catalog = rt.catalog
    print_entitlements(catalog, found[:limit])
    if len(found) > limit:
        console().print(f"Showing the first {limit}; use --limit or export for more.")


def print_entitlements(catalog: Catalog, records: Sequence[Entitlement]) -> None:
    grid = table(
        key("Serial"),
        "Product type",
        "Configuration",
        key("Status"),
        key("Token"),
        key("Token status"),
        key("End"),
        key("Ends with"),
        "Folder",
        key("Account"),
        "Description",
    )
    for r in records:
        follows = r.termination_mode is TerminationMode.FOLLOW_PROGRAM
        grid.add_row(
            r.serial,
            product_name(catalog, r.product_type_id),
            f"{r.config_id} {r.config_name}",
            r.status.value,
            r.token or "",
            r.token_status or "",
            when(r.end_at, r.timezone),
            "program" if follows else "end date",
            r.folder_path,
            str(r.account_id),
            r.description,
        )
    console().print(grid)
    console().print(f"{len(records)} entitlement(s).")


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


# --------------------------------------------------------------------------- export


@app.command()
def export(
    fmt: Annotated[ExportChoice, typer.Option("--format", case_sensitive=False)],
    output: Annotated[Path, typer.Option("--output", help="File to write.", dir_okay=False)],
    config_id: ConfigFilter = None,
    account_id: AccountFilter = None,
    program: ProgramFilter = None,
    serial: SerialFilter = None,
    status: StatusFilter = None,
    token_status: TokenFilter = None,
    product_type: ProductFilter = None,
    folder: FolderFilter = None,
    description: TextFilter = None,
) -> None:
    """Export the selected serials, or every entitlement matching the filters (P1)."""
    flt = build_filter(
        config_id=config_id,
        account_id=account_id,
        program=program,
        serials=serial,
        status=status,
        token_status=token_status,
        product_type=product_type,
        folder=folder,
        description=description,
    )
    with runtime() as rt, spinner(f"Exporting to {output}..."):
        rows = write_export(rt, cli_actor(), flt, fmt, output)
    console().print(f"Wrote {rows} entitlement(s) to {output} ({fmt.value}).")


def write_export(
    rt: Runtime, actor: Actor, flt: EntitlementFilter, fmt: ExportChoice, path: Path
) -> int:
    """Write through a draft file so that a failed export leaves no half-written file."""
    # Imported when used: every other command works without the export service.
    from pointflex.renderers.exports import ExportFormat, export_entitlements

    draft = path.with_name(f".{path.name}.part")
    try:
        with draft.open("wb") as out:
            rows = export_entitlements(rt, actor, flt, ExportFormat(fmt.value), out)
        draft.replace(path)
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        draft.unlink(missing_ok=True)
    return rows
