"""Security headers on every portal answer (pages, fragments, static files, errors).

The CSP allows only this site's own scripts, styles and images: no inline script or style,
no framing. The APIs (/ES/api, /api, /.well-known) answer JSON and get theirs from
pointflex.http.security_headers; Strict-Transport-Security is added, as there, over https only.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pointflex.http.paths import is_portal_path
from pointflex.http.security_headers import add_missing, hsts

CSP = (
    "default-src 'self'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'; object-src 'none'"
)
HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)
# Pages show tokens and balances: no browser or proxy should keep a copy. Static files may.
NO_STORE = (b"cache-control", b"no-store")


class SecurityHeaders:
    """Pure ASGI middleware (it must not buffer streamed answers)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_portal_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")
        # HSTS only over https (see pointflex.http.security_headers for proxies).
        extra = HEADERS + hsts(scope) + (() if static else (NO_STORE,))

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = add_missing(message, extra)
            await send(message)

        await self.app(scope, receive, add_headers)
