"""``pointflex api-users``: the credentials automation signs in with (R63–R67)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from pointflex.cli.common import cli_actor, console, error_console, key, runtime, table, when
from pointflex.services.access import api_users
from pointflex.services.access.api_users import ApiUser, Permission

app = typer.Typer(
    help="API users: credentials for the FortiFlex API (Terraform, Ansible, scripts).",
    no_args_is_help=True,
)

UsernameArg = Annotated[str, typer.Argument(help="The API user's username (as listed).")]
STORE_WARNING = (
    "Store this password now (e.g. in a secrets manager): it is shown only this once. "
    "A lost password cannot be recovered, only reset."
)


class PermissionChoice(StrEnum):
    ADMIN = "admin"
    READWRITE = "readwrite"
    READONLY = "readonly"


@app.command()
def create(
    permission: Annotated[
        PermissionChoice,
        typer.Option("--permission", case_sensitive=False, help="What the user may do (R64)."),
    ],
    account_id: Annotated[
        int | None, typer.Option("--account-id", help="Scope: this one account.")
    ] = None,
    organization_id: Annotated[
        int | None,
        typer.Option("--organization-id", help="Scope: every account of this organisation."),
    ] = None,
    description: Annotated[
        str, typer.Option("--description", help="What the user is for (e.g. 'terraform').")
    ] = "",
) -> None:
    """Create an API user scoped to one account or one organisation; prints its password once."""
    with runtime() as rt:
        user, password = api_users.create_api_user(
            rt,
            cli_actor(),
            permission=Permission(permission.value.upper()),
            account_id=account_id,
            organization_id=organization_id,
            description=description,
        )
    out = console()
    out.print(f"Created API user ({user.permission.value}, {_scope(user)}).")
    _print_credentials(user.username, password)


@app.command("list")
def list_users() -> None:
    """Every API user (passwords are never shown again)."""
    with runtime() as rt:
        found = api_users.list_api_users(rt, cli_actor())
        tz = rt.settings.default_timezone
    grid = table(key("Username"), "Permission", "Scope", "Description", "Created", "Disabled")
    for user in found:
        grid.add_row(
            user.username,
            user.permission.value,
            _scope(user),
            user.description,
            when(user.created_at, tz),
            when(user.disabled_at, tz),
        )
    console().print(grid)
    console().print(f"{len(found)} API user(s).")


@app.command()
def reset(username: UsernameArg) -> None:
    """Give an API user a new password and revoke all its tokens (R67); prints it once."""
    with runtime() as rt:
        password = api_users.reset_password(rt, cli_actor(), username)
    console().print("Password reset; every token of this user is revoked.")
    _print_credentials(username.strip().upper(), password)


@app.command()
def disable(username: UsernameArg) -> None:
    """Disable an API user: it can no longer sign in and its tokens stop working."""
    with runtime() as rt:
        user = api_users.disable_api_user(rt, cli_actor(), username)
    console().print(f"Disabled API user {user.username}; its tokens are revoked.")


def _scope(user: ApiUser) -> str:
    if user.account_id is not None:
        return f"account {user.account_id}"
    return f"organisation {user.organization_id}"


def _print_credentials(username: str, password: str) -> None:
    out = console()
    out.print(f"Username: {username}")
    out.print(f"Password: {password}")
    error_console().print(f"[bold yellow]warning:[/] [yellow]{STORE_WARNING}[/]", soft_wrap=True)
