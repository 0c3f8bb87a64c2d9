"""FastAPI dependencies of portal pages: who is signed in, and what they may do.

``actor: Actor = Depends(portal_actor)`` gives the signed-in user's :class:`Actor` (the same
an API user of that permission and scope gets) and sends anyone else to /login first.
``require_write`` and ``require_admin`` refuse ReadOnly and non-Admin users with a 403 page,
as the API refuses such API users; services check again, so these are for clear pages.
"""

from __future__ import annotations

from fastapi import Depends, Request

from pointflex.bootstrap import Runtime
from pointflex.services.access.sessions import SignedIn
from pointflex.services.context import Actor
from pointflex.web import session


class LoginRequired(Exception):
    """Raised by :func:`portal_session` for a request without a live session."""

    def __init__(self, next_path: str) -> None:
        super().__init__("sign-in required")
        self.next_path = next_path


def runtime(request: Request) -> Runtime:
    return session.runtime(request)


def portal_session(request: Request) -> SignedIn:
    signed = session.signed_in(request)
    if signed is None:
        # Only a page the browser can GET again is worth returning to after signing in.
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(here if request.method == "GET" else "/")
    return signed


def portal_actor(request: Request) -> Actor:
    return portal_session(request).actor


def require_write(actor: Actor = Depends(portal_actor)) -> Actor:
    actor.require_write()
    return actor


def require_admin(actor: Actor = Depends(portal_actor)) -> Actor:
    actor.require_admin()
    return actor
