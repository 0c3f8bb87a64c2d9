"""``pointflex accounts``: organisations and their accounts."""

from __future__ import annotations

from typing import Annotated

import typer

from pointflex.cli.common import cli_actor, console, runtime, table
from pointflex.domain.accounts import Account
from pointflex.services.access import accounts

app = typer.Typer(help="Organisations and accounts.", no_args_is_help=True)

AccountIdOpt = Annotated[
    int | None, typer.Option("--account-id", help="Account id to use (default: the next free one).")
]


@app.command("list")
def list_accounts() -> None:
    """Every account, with its organisation."""
    with runtime() as rt:
        found = accounts.list_accounts(rt, cli_actor())
    grid = table("Account", "Organisation", "Name", "Root")
    for account in found:
        grid.add_row(
            str(account.id),
            str(account.organization_id),
            account.name,
            "yes" if account.is_root else "",
        )
    console().print(grid)


@app.command("create-org")
def create_org(
    name: Annotated[str, typer.Argument(help="Organisation name.")],
    root_name: Annotated[str, typer.Option("--root-name", help="Name of its root account.")],
    account_id: AccountIdOpt = None,
) -> None:
    """Create an organisation with its root account."""
    with runtime() as rt:
        account = accounts.create_organization(rt, cli_actor(), name, root_name, account_id)
    _print_created(account)


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Account name.")],
    org: Annotated[int, typer.Option("--org", help="Organisation id.")],
    account_id: AccountIdOpt = None,
) -> None:
    """Create a member account in an organisation."""
    with runtime() as rt:
        account = accounts.create_account(rt, cli_actor(), org, name, account_id)
    _print_created(account)


def _print_created(account: Account) -> None:
    kind = "root account" if account.is_root else "member account"
    console().print(
        f"Created {kind} {account.id} ({account.name}) in organisation {account.organization_id}."
    )
