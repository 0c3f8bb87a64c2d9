"""Security headers on every API answer (/ES/api, /api, /.well-known and the ops probes).

The portal has its own, with a CSP (pointflex.web.security); these are the ones that matter
for JSON read by programs:

- ``X-Content-Type-Options: nosniff``: a JSON answer is never sniffed into HTML or script;
- ``Cache-Control: no-store`` unless the route chose a policy itself: answers carry bearer
  tokens, VM tokens and balances, which no browser or proxy cache should keep. The public-key
  document sets ``public, max-age=60`` on purpose (api/license/routes.py) and keeps it;
- ``Referrer-Policy: no-referrer``: nothing on the API links anywhere worth telling;
- ``Strict-Transport-Security`` only on an answer to an https request (:func:`hsts`).

How https is known behind a TLS-terminating proxy: the ASGI ``scheme``. ``pointflex serve``
runs uvicorn with its default ``proxy_headers=True``, which sets ``scheme`` from the proxy's
``X-Forwarded-Proto`` when the connection comes from an address in ``FORWARDED_ALLOW_IPS``
(uvicorn's setting; default 127.0.0.1, i.e. a proxy on the same host). A header from any other
client is ignored, so it cannot switch HSTS on or off; an operator whose proxy is on another
host lists its address there (SECURITY.md). HSTS sent over plain http would be ignored by
browsers anyway (RFC 6797 §8.1), and a test server on http must not pin itself.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pointflex.http.paths import is_api_path

HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
)
# One year; no includeSubDomains: other hosts of the operator's domain are not ours to pin.
HSTS = (b"strict-transport-security", b"max-age=31536000")


def hsts(scope: Scope) -> tuple[tuple[bytes, bytes], ...]:
    """The HSTS header for a request that came over https (directly or via a trusted proxy)."""
    return (HSTS,) if scope.get("scheme") == "https" else ()


def add_missing(message: Message, extra: tuple[tuple[bytes, bytes], ...]) -> Message:
    """``message`` (an ``http.response.start``) with each of ``extra`` it does not set yet."""
    headers = list(message.get("headers", []))
    present = {bytes(name).lower() for name, _ in headers}
    headers.extend(h for h in extra if h[0] not in present)
    return {**message, "headers": headers}


class ApiSecurityHeaders:
    """Pure ASGI middleware (it must not buffer streamed exports)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        extra = HEADERS + hsts(scope)

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = add_missing(message, extra)
            await send(message)

        await self.app(scope, receive, add_headers)
