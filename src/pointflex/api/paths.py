"""Path leniency (spec §1, C5): ``//`` collapsed, ``/es/`` as ``/ES/``, trailing slash ignored."""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

_SLASHES = re.compile(r"/{2,}")


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
        if scope["type"] == "http":
            path = normalise_path(scope["path"])
            if path != scope["path"]:
                scope = dict(scope)
                scope["path"] = path
                scope["raw_path"] = path.encode()
        await self.app(scope, receive, send)
