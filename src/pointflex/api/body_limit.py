"""A ceiling on request bodies (``POINTFLEX_MAX_REQUEST_BYTES``, 1 MiB by default).

The largest legitimate bodies are a portal selection of every matching serial
(``max_bulk_serials`` hidden fields) and 1,000 pasted hardware serials: tens to hundreds of
kilobytes. Anything larger is refused with 413 before a handler reads it, from the
``Content-Length`` header when there is one and while the body streams in otherwise, so an
oversized upload costs its sender, not the server's memory.
"""

from __future__ import annotations

from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pointflex.api.envelope import failure
from pointflex.errors import InvalidInput

API_PREFIXES = ("/ES/", "/es/", "/api/")


class BodyLimit:
    """Pure ASGI middleware: reads the body up to the limit, then hands it on unchanged."""

    def __init__(self, app: ASGIApp, default_limit: int) -> None:
        self.app = app
        self.default_limit = default_limit

    def _limit(self, scope: Scope) -> int:
        runtime = getattr(scope["app"].state, "runtime", None) if "app" in scope else None
        return runtime.settings.max_request_bytes if runtime is not None else self.default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(scope, receive, send, limit)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                await _too_large(scope, receive, send, limit)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    message = f"the request body is larger than {limit} bytes"
    reply: Response = (
        failure(message, InvalidInput.code, 413)
        if scope["path"].startswith(API_PREFIXES)
        else PlainTextResponse(message, status_code=413)
    )
    await reply(scope, receive, send)
