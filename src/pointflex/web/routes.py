"""The portal's routes, static files, error pages and headers, mounted on the API's app.

A new page module defines ``router = APIRouter()`` and is added to ``PAGES`` below; it then
gets the CSRF check (every unsafe request), the error pages and the security headers.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from pointflex.web import (
    account,
    alerts,
    api_users_page,
    assets,
    audit,
    configs,
    create,
    csrf,
    dashboard,
    details,
    errors,
    login,
    programs,
)
from pointflex.web.render import STATIC
from pointflex.web.security import SecurityHeaders

# details last: its GET /assets/{serial} must not shadow fixed /assets/... paths.
PAGES = (
    login,
    dashboard,
    assets,
    configs,
    create,
    programs,
    audit,
    api_users_page,
    alerts,
    account,
    details,
)


def portal_router() -> APIRouter:
    router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.csrf_protect)])
    for page in PAGES:
        router.include_router(page.router)
    return router


def mount(app: FastAPI) -> None:
    """Add the portal to ``app``; call after the API's routes and error handlers."""
    app.include_router(portal_router())
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    errors.install(app)
    # Innermost of the app's middleware: sees the normalised path, and its answers (error
    # pages included) pass through the API's outer layers unchanged.
    app.add_middleware(errors.PortalServerErrors)
    app.add_middleware(SecurityHeaders)
