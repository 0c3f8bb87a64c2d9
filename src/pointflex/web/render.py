"""``render(request, "page.html", **context)``: the one way portal pages produce HTML.

Every template gets ``user`` (the signed-in PortalUser or None), ``actor``, ``csrf_token``,
``nav``, ``flashes`` and ``request``, plus the helpers ``csrf_field()``, ``static(path)`` and
the filters ``points``, ``number`` and ``day``. An htmx request gets the flash messages too,
swapped out of band into ``#flash``, so fragments need not include them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from pointflex.domain.dates import zone
from pointflex.services.access.api_users import Permission
from pointflex.web import csrf, flash, session

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str | None  # None: a heading for its children
    children: tuple[NavItem, ...] = ()
    admin_only: bool = False

    def active(self, path: str) -> bool:
        if self.href is None:
            return any(child.active(path) for child in self.children)
        if self.href == "/":
            return path == "/"
        return path == self.href or path.startswith(self.href + "/")


NAV = (
    NavItem("Dashboard", "/"),
    NavItem(
        "Flex Entitlements",
        None,
        (
            NavItem("My Assets", "/assets"),
            NavItem("Configurations", "/configs"),
            NavItem("Create", "/create"),
        ),
    ),
    NavItem("Programs & points", "/programs"),
    NavItem("Audit log", "/audit"),
    NavItem("Alerts", "/alerts"),
    NavItem("API users", "/api-users", admin_only=True),
    NavItem("Portal users", "/portal-users", admin_only=True),
    NavItem("Notifications", "/notifications", admin_only=True),
)


def nav_for(permission: Permission | None) -> tuple[NavItem, ...]:
    """The menu a user sees: Admin-only entries only for Admins, nothing when signed out."""
    if permission is None:
        return ()
    return tuple(i for i in NAV if not i.admin_only or permission is Permission.ADMIN)


@jinja2.pass_context
def csrf_field(context: Mapping[str, Any]) -> Markup:
    """The hidden input every POST form needs: ``{{ csrf_field() }}``."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        csrf.FIELD, context["csrf_token"]
    )


@cache
def _fingerprint(path: str) -> str:
    return hashlib.sha256((STATIC / path).read_bytes()).hexdigest()[:10]


def static(path: str) -> str:
    """``/static/<path>?v=<content hash>``: browsers may cache it, and see each change."""
    return f"/static/{path}?v={_fingerprint(path)}"


def points(value: Decimal | int | None) -> str:
    """1234.5 → "1,234.50"; None → "—"."""
    return "—" if value is None else f"{Decimal(value):,.2f}"


def number(value: Decimal | int | None) -> str:
    return "—" if value is None else f"{value:,}"


PERMISSION_LABELS = {
    Permission.ADMIN: "Admin",
    Permission.READWRITE: "Read-write",
    Permission.READONLY: "Read-only",
}


def permission_label(value: Permission) -> str:
    return PERMISSION_LABELS[value]


def day(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()


def local_time(value: datetime | None, tz: str) -> str:
    """An instant as wall-clock time in ``tz`` (a program's billing zone), to the second."""
    if value is None:
        return "—"
    return value.astimezone(zone(tz)).strftime("%Y-%m-%d %H:%M:%S")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(csrf_field=csrf_field, static=static, product="pointflex")
    env.filters.update(
        points=points, number=number, day=day, permission=permission_label, local_time=local_time
    )
    return env


ENV = _environment()


def render(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` with the portal's common context; ``context`` adds or overrides."""
    signed = session.signed_in(request)
    user = signed.session.user if signed else None
    messages = flash.take(request)
    values: dict[str, Any] = {
        "request": request,
        "user": user,
        "actor": signed.actor if signed else None,
        "csrf_token": csrf.current_token(request),
        "nav": nav_for(user.permission if user else None),
        "path": request.url.path,
        "flashes": messages,
        **context,
    }
    body = ENV.get_template(template).render(values)
    if messages and request.headers.get("HX-Request"):
        body += ENV.get_template("_flashes.html").render(flashes=messages, oob=True)
    response = HTMLResponse(body, status_code=status_code, headers=headers)
    flash.clear_carried(request, response)
    fresh = csrf.new_anonymous_token(request)
    if fresh is not None and signed is None:
        session.set_cookie(request, response, csrf.ANONYMOUS_COOKIE, fresh)
    return response
