"""``pointflex users``: the people who sign in to the web portal (R63–R65)."""

from __future__ import annotations

from typing import Annotated

import typer

from pointflex.cli.api_users import PermissionChoice
from pointflex.cli.common import cli_actor, console, error_console, key, runtime, table, when
from pointflex.services.access import portal_users
from pointflex.services.access.api_users import Permission

app = typer.Typer(
    help="Portal users: who signs in to the web portal, with which permission and scope.",
    no_args_is_help=True,
)

UsernameArg = Annotated[
    str, typer.Argument(help="The portal user's username (an e-mail address, say).")
]
STORE_WARNING = (
    "Hand this password over safely: it is shown only this once. "
    "A lost password cannot be recovered, only reset."
)


@app.command()
def create(
    username: UsernameArg,
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
) -> None:
    """Create a portal user scoped to one account or one organisation; prints its password once."""
    with runtime() as rt:
        user, password = portal_users.create_portal_user(
            rt,
            cli_actor(),
            username,
            permission=Permission(permission.value.upper()),
            account_id=account_id,
            organization_id=organization_id,
        )
    console().print(
        f"Created portal user {user.username} ({user.permission.value}, {user.scope_label})."
    )
    _print_credentials(user.username, password)


@app.command("list")
def list_users() -> None:
    """Every portal user (passwords are never shown again)."""
    with runtime() as rt:
        found = portal_users.list_portal_users(rt, cli_actor())
        tz = rt.settings.default_timezone
    grid = table(key("Username"), "Permission", "Scope", "Created", "Disabled")
    for user in found:
        grid.add_row(
            user.username,
            user.permission.value,
            user.scope_label,
            when(user.created_at, tz),
            when(user.disabled_at, tz),
        )
    console().print(grid)
    console().print(f"{len(found)} portal user(s).")


@app.command()
def reset(username: UsernameArg) -> None:
    """Give a portal user a new password and end its sessions; prints the password once."""
    with runtime() as rt:
        password = portal_users.reset_portal_password(rt, cli_actor(), username)
    console().print("Password reset; every session of this user has ended.")
    _print_credentials(portal_users.normalise_username(username), password)


@app.command()
def disable(username: UsernameArg) -> None:
    """Disable a portal user: it can no longer sign in and its sessions end."""
    with runtime() as rt:
        user = portal_users.disable_portal_user(rt, cli_actor(), username)
    console().print(f"Disabled portal user {user.username}; its sessions have ended.")


def _print_credentials(username: str, password: str) -> None:
    out = console()
    out.print(f"Username: {username}")
    out.print(f"Password: {password}")
    error_console().print(f"[bold yellow]warning:[/] [yellow]{STORE_WARNING}[/]", soft_wrap=True)
