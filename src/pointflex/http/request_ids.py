"""The request id: taken from ``X-Request-ID`` or made, kept for audit rows and logs, echoed.

A plain ASGI middleware rather than Starlette's ``BaseHTTPMiddleware``, which runs every
request through an extra task and memory streams: this one only reads a header and adds one.
"""

from __future__ import annotations

import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
MAX_LENGTH = 200


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get(HEADER, "")[:MAX_LENGTH]
        rid = given if given.isprintable() and given.strip() else uuid.uuid4().hex
        # request.state reads this dict: routes and services see the same id.
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = rid
            await send(message)

        await self.app(scope, receive, send_with_id)
