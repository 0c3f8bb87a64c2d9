"""Path leniency (spec §1, C5): ``//`` collapsed, ``/es/`` as ``/ES/``, trailing slash ignored;
and a path or query string holding NUL refused (400) before routing."""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send

from pointflex.api.envelope import failure
from pointflex.api.json_input import NUL_MESSAGE
from pointflex.errors import InvalidInput

_SLASHES = re.compile(r"/{2,}")
FORTIFLEX_V2 = "/ES/api/fortiflex/v2"  # where the v2 routes are mounted


def _has_nul(scope: Scope) -> bool:
    query: bytes = scope.get("query_string", b"")
    return "\x00" in scope["path"] or b"\x00" in unquote_to_bytes(query)


def normalise_path(path: str) -> str:
    path = _SLASHES.sub("/", path)
    if path.lower().startswith("/es/api/"):
        path = "/ES/api/" + path[len("/es/api/") :]
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    return path


class PathNormaliser:
    """Pure ASGI middleware: rewrites the path before routing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _has_nul(scope):
            # PostgreSQL text cannot hold NUL: a path or query parameter with one would reach
            # the database and fail there. No route, API or portal, takes one.
            refusal = failure(NUL_MESSAGE, InvalidInput.code, 400)
            await refusal(scope, receive, send)
            return
        if scope["type"] == "http":
            path = normalise_path(scope["path"])
            if path != scope["path"]:
                scope = dict(scope)
                scope["path"] = path
                scope["raw_path"] = path.encode()
        await self.app(scope, receive, send)
