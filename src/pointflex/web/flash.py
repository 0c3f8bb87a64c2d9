"""Flash messages: one-line results shown at the top of the next page rendered.

``flash(request, text, level)`` records a message. ``render`` shows the messages recorded in
this request and those carried over from the previous one; ``redirect`` carries them over in
a short-lived cookie, signed so that nobody else can put words on the page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from enum import StrEnum

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from pointflex.web import session

COOKIE = "pointflex_flash"
MAX_AGE = 60  # seconds: long enough to follow a redirect
_PENDING = "portal_flashes"
_KEY_PURPOSE = b"pointflex portal flash messages"


class Level(StrEnum):
    SUCCESS = "success"
    INFO = "info"
    WARNING = "warning"
    DANGER = "danger"


@dataclass(frozen=True)
class Flash:
    level: Level
    text: str


def flash(request: Request, text: str, level: Level | str = Level.SUCCESS) -> None:
    """Show ``text`` on the page this request renders, or on the next one after a redirect."""
    pending(request).append(Flash(Level(level), text))


def pending(request: Request) -> list[Flash]:
    found: list[Flash] | None = getattr(request.state, _PENDING, None)
    if found is None:
        found = []
        setattr(request.state, _PENDING, found)
    return found


def redirect(request: Request, url: str, status_code: int = 303) -> RedirectResponse:
    """Redirect (303: the browser follows with a GET), carrying this request's messages."""
    response = RedirectResponse(url, status_code=status_code)
    messages = pending(request)
    if messages:
        sealed = seal(_key(request), messages)
        session.set_cookie(request, response, COOKIE, sealed, max_age=MAX_AGE)
    return response


def take(request: Request) -> list[Flash]:
    """Messages carried over by the cookie, then this request's own."""
    return [*unseal(_key(request), request.cookies.get(COOKIE, "")), *pending(request)]


def clear_carried(request: Request, response: Response) -> None:
    """Once shown, carried messages are not shown again."""
    if COOKIE in request.cookies:
        session.clear_cookie(request, response, COOKIE)


def _key(request: Request) -> bytes:
    return session.runtime(request).vault.derive_key(_KEY_PURPOSE)


def seal(key: bytes, messages: list[Flash]) -> str:
    """The messages as a cookie value: base64 JSON and its HMAC."""
    # No "=" padding: cookie values with "=" would be sent quoted.
    payload = (
        base64.urlsafe_b64encode(json.dumps([[m.level.value, m.text] for m in messages]).encode())
        .decode()
        .rstrip("=")
    )
    mac = hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{mac}"


def unseal(key: bytes, sealed: str) -> list[Flash]:
    """The messages of a cookie value; none if it was not sealed with ``key``."""
    payload, _, mac = sealed.partition(".")
    if not payload or not mac:
        return []
    expected = hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, mac):
        return []
    try:
        items = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return [Flash(Level(level), str(text)) for level, text in items]
    except (ValueError, TypeError):
        return []
