"""Reading entitlements from the command line: ``list`` and ``export``, and their filters."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from itertools import islice
from pathlib import Path
from typing import Annotated

import typer

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
from pointflex.domain.entitlements import Status, TerminationMode, TokenStatus
from pointflex.errors import InvalidInput
from pointflex.services.context import Actor, read
from pointflex.services.entitlements.fields import normalise_folder
from pointflex.services.entitlements.views import Entitlement, EntitlementFilter, iter_entitlements

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


def list_entitlements(  # noqa: PLR0913, PLR0917 — typer: one parameter per CLI option
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


# --------------------------------------------------------------------------- export


def export(  # noqa: PLR0913, PLR0917 — typer: one parameter per CLI option
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
