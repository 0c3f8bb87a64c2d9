"""CSRF protection: every unsafe request (POST, PUT, PATCH, DELETE) must carry a token.

Signed in, the token is the session's (``portal_sessions.csrf_token``); forms carry it as the
hidden field ``csrf_token`` (``{{ csrf_field() }}``) and htmx requests as the header
``X-CSRF-Token`` (set once by ``hx-headers`` on ``<body>``). Signed out (the login form), it is
a random value also set in the cookie ``pointflex_csrf`` (double submit), so another site
cannot sign a browser in to an account of its choosing. A missing or different token is
refused with a 403 page before the route runs.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from pointflex.errors import CsrfRefused, InvalidInput
from pointflex.web import session

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
ANONYMOUS_COOKIE = "pointflex_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
_NEW = "portal_new_csrf"


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; an empty or missing token never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def anonymous_token(request: Request) -> str:
    """The signed-out CSRF token: the browser's cookie, or a new one to set (see render)."""
    current = request.cookies.get(ANONYMOUS_COOKIE)
    if current:
        return current
    fresh: str | None = getattr(request.state, _NEW, None)
    if fresh is None:
        fresh = secrets.token_urlsafe(32)
        setattr(request.state, _NEW, fresh)
    return fresh


def new_anonymous_token(request: Request) -> str | None:
    """The token made during this request, which the response must set as a cookie."""
    found: str | None = getattr(request.state, _NEW, None)
    return found


def current_token(request: Request) -> str:
    """The token pages must embed: the session's, or the signed-out one."""
    signed = session.signed_in(request)
    return signed.session.csrf_token if signed else anonymous_token(request)


async def _given(request: Request) -> str | None:
    header = request.headers.get(HEADER)
    if header:
        return header
    if request.headers.get("content-type", "").startswith(_FORMS):
        value = (await request.form()).get(FIELD)
        return value if isinstance(value, str) else None
    return None


async def csrf_protect(request: Request) -> None:
    """Router dependency of every portal page: refuse unsafe requests without the token."""
    if request.method in SAFE_METHODS:
        return
    signed = await run_in_threadpool(session.signed_in, request)
    expected = signed.session.csrf_token if signed else request.cookies.get(ANONYMOUS_COOKIE)
    if not tokens_match(expected, await _given(request)):
        raise CsrfRefused()
    if request.headers.get("content-type", "").startswith(_FORMS):
        await _refuse_nul(request)


async def _refuse_nul(request: Request) -> None:
    """PostgreSQL text cannot hold U+0000 and refuses any query carrying it: a form field with
    one gets a clear 400 here, once for every page, instead of a 500 wherever it is used."""
    for _, value in (await request.form()).multi_items():
        if isinstance(value, str) and "\x00" in value:
            raise InvalidInput("form fields must not contain NUL characters")
