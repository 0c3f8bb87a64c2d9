"""User pages for Admins (R63–R67): ``/api-users`` (credentials for the FortiFlex API) and
``/portal-users`` (who signs in here). Each lists the users in scope, creates one (its password
shown once), resets a password (the new one shown once) and disables one.

The two differ only in their services and wording, so one set of routes serves both. New
passwords are rendered in the answer to the POST itself, never carried in a flash cookie or
stored anywhere but as an argon2 hash.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Form, Request, Response

from pointflex.bootstrap import Runtime
from pointflex.errors import PointflexError
from pointflex.services.access import api_users, portal_users
from pointflex.services.access.api_users import Permission
from pointflex.services.access.scopes import scope_choices
from pointflex.services.context import Actor
from pointflex.web.deps import require_admin, runtime
from pointflex.web.flash import flash, redirect
from pointflex.web.render import render

router = APIRouter()


@dataclass(frozen=True)
class UserPages:
    slug: str  # the path, without its slash: "api-users"
    title: str
    noun: str
    named: bool  # the Admin chooses the username (portal users); API users get a generated one
    on_disable: str  # what disabling ends, for the dialog and the message
    list_users: Callable[[Runtime, Actor], list[Any]]
    create: Callable[[Runtime, Actor, str, Permission, int | None, int | None, str], Any]
    reset: Callable[[Runtime, Actor, str], str]
    disable: Callable[[Runtime, Actor, str], Any]
    display_name: Callable[[str], str]


def _create_api_user(
    rt: Runtime,
    actor: Actor,
    _: str,
    permission: Permission,
    account_id: int | None,
    organization_id: int | None,
    description: str,
) -> Any:
    return api_users.create_api_user(
        rt,
        actor,
        permission=permission,
        account_id=account_id,
        organization_id=organization_id,
        description=description,
    )


def _create_portal_user(
    rt: Runtime,
    actor: Actor,
    username: str,
    permission: Permission,
    account_id: int | None,
    organization_id: int | None,
    _: str,
) -> Any:
    return portal_users.create_portal_user(
        rt,
        actor,
        username,
        permission=permission,
        account_id=account_id,
        organization_id=organization_id,
    )


API_USERS = UserPages(
    slug="api-users",
    title="API users",
    noun="API user",
    named=False,
    on_disable="its tokens are revoked",
    list_users=api_users.list_api_users,
    create=_create_api_user,
    reset=api_users.reset_password,
    disable=api_users.disable_api_user,
    display_name=lambda name: name.strip().upper(),
)
PORTAL_USERS = UserPages(
    slug="portal-users",
    title="Portal users",
    noun="portal user",
    named=True,
    on_disable="its sessions end",
    list_users=portal_users.list_portal_users,
    create=_create_portal_user,
    reset=portal_users.reset_portal_password,
    disable=portal_users.disable_portal_user,
    display_name=portal_users.normalise_username,
)


def _scope(value: str) -> tuple[int | None, int | None]:
    kind, _, number = value.partition(":")
    if not number.isdigit() or kind not in ("account", "organization"):
        return None, None
    return (int(number), None) if kind == "account" else (None, int(number))


def add_pages(pages: UserPages) -> None:
    base = f"/{pages.slug}"

    def page(
        request: Request,
        actor: Actor,
        *,
        password: str | None = None,
        password_for: str | None = None,
        error: str | None = None,
    ) -> Response:
        rt = runtime(request)
        return render(
            request,
            "users.html",
            title=pages.title,
            pages=pages,
            users=pages.list_users(rt, actor),
            choices=scope_choices(rt, actor),
            permissions=list(Permission),
            password=password,
            password_for=password_for,
            error=error,
        )

    @router.get(base, name=f"{pages.slug}-list")
    def listed(request: Request, actor: Actor = Depends(require_admin)) -> Response:
        return page(request, actor)

    @router.post(base, name=f"{pages.slug}-create")
    def create(
        request: Request,
        permission: str = Form(),
        scope: str = Form(),
        username: str = Form(""),
        description: str = Form(""),
        actor: Actor = Depends(require_admin),
    ) -> Response:
        if permission not in {p.value for p in Permission}:
            return page(request, actor, error="Choose a permission.")
        account_id, organization_id = _scope(scope)
        try:
            user, password = pages.create(
                runtime(request),
                actor,
                username,
                Permission(permission),
                account_id,
                organization_id,
                description,
            )
        except PointflexError as exc:
            # A refusal in the form: answered 200 with the message (docs/portal.md).
            return page(request, actor, error=str(exc))
        return page(request, actor, password=password, password_for=user.username)

    @router.post(base + "/{username}/reset", name=f"{pages.slug}-reset")
    def reset(request: Request, username: str, actor: Actor = Depends(require_admin)) -> Response:
        password = pages.reset(runtime(request), actor, username)
        return page(request, actor, password=password, password_for=pages.display_name(username))

    @router.post(base + "/{username}/disable", name=f"{pages.slug}-disable")
    def disable(request: Request, username: str, actor: Actor = Depends(require_admin)) -> Response:
        user = pages.disable(runtime(request), actor, username)
        flash(
            request,
            f"{pages.noun[0].upper()}{pages.noun[1:]} {user.username} disabled; "
            f"{pages.on_disable}.",
        )
        return redirect(request, base)


add_pages(API_USERS)
add_pages(PORTAL_USERS)
