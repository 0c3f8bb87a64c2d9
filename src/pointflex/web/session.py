"""The session cookie and the signed-in user of a request.

The cookie ``pointflex_session`` holds a random token (services/sessions.py keeps only its
hash): HttpOnly so scripts cannot read it, SameSite=Lax so other sites' forms do not carry it,
Secure over https (or always, with ``POINTFLEX_PORTAL_COOKIE_SECURE``), and no Max-Age, so it
ends with the browser; the server enforces the idle and absolute limits either way.
"""

from __future__ import annotations

from fastapi import Request, Response

from pointflex.bootstrap import Runtime
from pointflex.services.access import sessions
from pointflex.services.access.sessions import SignedIn

COOKIE = "pointflex_session"
_STATE = "portal_signed_in"


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def signed_in(request: Request) -> SignedIn | None:
    """The live session of this request, looked up once per request (a database read)."""
    if hasattr(request.state, _STATE):
        found: SignedIn | None = getattr(request.state, _STATE)
        return found
    token = request.cookies.get(COOKIE, "")
    request_id = getattr(request.state, "request_id", None)
    found = sessions.session_for(runtime(request), token, request_id) if token else None
    setattr(request.state, _STATE, found)
    return found


def forget(request: Request) -> None:
    """After signing in or out: the next look-up in this request reads the cookie again."""
    if hasattr(request.state, _STATE):
        delattr(request.state, _STATE)


def secure(request: Request) -> bool:
    return request.url.scheme == "https" or runtime(request).settings.portal_cookie_secure


def set_cookie(
    request: Request, response: Response, name: str, value: str, max_age: int | None = None
) -> None:
    """A portal cookie with the flags every one of them carries."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure(request),
        path="/",
    )


def clear_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", secure=secure(request), httponly=True, samesite="lax")


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    set_cookie(request, response, COOKIE, token)


def clear_session_cookie(request: Request, response: Response) -> None:
    clear_cookie(request, response, COOKIE)
