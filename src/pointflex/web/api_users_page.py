"""API users: ``/api-users`` (Admins only): the API users in scope, create one (its password
shown once), reset a password (the new one shown once), disable one (R63–R67).

New passwords are rendered in the answer to the POST itself, never carried in a flash
cookie or stored anywhere but as an argon2 hash.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request, Response

from pointflex.errors import PointflexError
from pointflex.services import api_users
from pointflex.services.api_users import Permission
from pointflex.services.context import Actor
from pointflex.services.scopes import scope_choices
from pointflex.web.deps import require_admin, runtime
from pointflex.web.flash import flash, redirect
from pointflex.web.render import render

router = APIRouter()


def _page(
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
        "api_users.html",
        title="API users",
        users=api_users.list_api_users(rt, actor),
        choices=scope_choices(rt, actor),
        permissions=list(Permission),
        password=password,
        password_for=password_for,
        error=error,
    )


@router.get("/api-users")
def api_users_list(request: Request, actor: Actor = Depends(require_admin)) -> Response:
    return _page(request, actor)


def _scope(value: str) -> tuple[int | None, int | None]:
    kind, _, number = value.partition(":")
    if not number.isdigit() or kind not in ("account", "organization"):
        return None, None
    return (int(number), None) if kind == "account" else (None, int(number))


@router.post("/api-users")
def api_users_create(
    request: Request,
    permission: str = Form(),
    scope: str = Form(),
    description: str = Form(""),
    actor: Actor = Depends(require_admin),
) -> Response:
    if permission not in {p.value for p in Permission}:
        return _page(request, actor, error="Choose a permission.")
    account_id, organization_id = _scope(scope)
    try:
        user, password = api_users.create_api_user(
            runtime(request),
            actor,
            permission=Permission(permission),
            account_id=account_id,
            organization_id=organization_id,
            description=description,
        )
    except PointflexError as exc:
        # A refusal in the form: answered 200 with the message (docs/portal.md).
        return _page(request, actor, error=str(exc))
    return _page(request, actor, password=password, password_for=user.username)


@router.post("/api-users/{username}/reset")
def api_users_reset(
    request: Request, username: str, actor: Actor = Depends(require_admin)
) -> Response:
    password = api_users.reset_password(runtime(request), actor, username)
    return _page(request, actor, password=password, password_for=username.strip().upper())


@router.post("/api-users/{username}/disable")
def api_users_disable(
    request: Request, username: str, actor: Actor = Depends(require_admin)
) -> Response:
    user = api_users.disable_api_user(runtime(request), actor, username)
    flash(request, f"API user {user.username} disabled; its tokens are revoked.")
    return redirect(request, "/api-users")
