"""The portal over raw HTTP, as a browser's forms drive it, for tests that need no browser."""

from __future__ import annotations

import re
from typing import Any

import httpx

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def http_sign_in(http: httpx.Client, username: str, password: str) -> str:
    """Sign in as a browser would, without one; returns the session's CSRF token."""
    form = http.get("/login")
    token = CSRF_FIELD.search(form.text)
    assert token is not None
    reply = http.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token.group(1)},
    )
    assert reply.status_code == 303, reply.text
    page = http.get("/")
    assert page.status_code == 200
    found = CSRF_FIELD.search(page.text)
    assert found is not None
    return found.group(1)


class PortalForms:
    """A signed-in portal session that posts forms with their CSRF token."""

    def __init__(self, http: httpx.Client, username: str, password: str) -> None:
        self.http = http
        self.csrf = http_sign_in(http, username, password)

    def post(self, path: str, data: dict[str, Any]) -> httpx.Response:
        """Post a form (a list value is a repeated field) that must be answered, not refused."""
        reply = self.http.post(path, data={**data, "csrf_token": self.csrf})
        assert reply.status_code in (200, 303), f"{path}: {reply.status_code} {reply.text[:500]}"
        return reply
