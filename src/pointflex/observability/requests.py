"""Per request: the HTTP metrics and one log line (request id, route, status, duration).

A plain ASGI middleware (as :mod:`pointflex.http.request_ids`): it only watches the answer's
start message go by, so streamed answers (exports) are passed on as they come, never held.
It sits inside the request-id middleware, whose id it logs, and outside the rate limiter,
whose look-up of the API user it reuses: it adds no database query of its own.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pointflex.http.caller import CALLER_KEY
from pointflex.http.paths import OPS_PATHS
from pointflex.observability import metrics
from pointflex.observability.logs import ACCESS_LOGGER, request_id_var
from pointflex.services.access.sessions import SignedIn

log = logging.getLogger(ACCESS_LOGGER)

# Probes and scrapes: not counted in the request metrics, and logged at DEBUG only, so a probe
# every few seconds neither drowns the log nor skews the latency figures.
# (The paths themselves are listed once, in pointflex.http.paths.)


class RequestObserver:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        # Not reset afterwards: the error handlers further out log after this returns, and
        # each request runs in its own task, so the value ends with the request.
        request_id_var.set(scope.get("state", {}).get("request_id"))
        # An exception escaping to the outer error handler becomes a 500 there.
        status, done = 500, False

        async def watch(message: Message) -> None:
            nonlocal status, done
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # Recorded as the last part goes out, not after: whoever has read the whole
                # answer (a test, a client comparing logs) finds the line and the count there.
                done = True
                observed(scope, status, time.perf_counter() - started)
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if not done:  # no answer, or an exception: the error handler outside answers
                observed(scope, status, time.perf_counter() - started)


def route_template(scope: Scope) -> str:
    """The matched route's path with its placeholders (``/assets/{serial}``), or ``unmatched``.

    FastAPI composes included routers lazily: the route it sets in the scope knows only its
    path within its router (``/entitlements/stop``), while the full one, prefix included,
    is on the route context it keeps under ``scope["fastapi"]``. A mount (``/static``) sets
    no route at all, only its own root path and the app it hands the request to.
    """
    context = scope.get("fastapi", {}).get("effective_route_context")
    for found in (
        getattr(context, "path_format", None),
        getattr(scope.get("route"), "path_format", None),
    ):
        if isinstance(found, str) and found:
            return found
    if scope.get("endpoint") is not None and scope.get("root_path"):
        return f"{scope['root_path']}/{{path}}"
    return metrics.UNMATCHED


def observed(scope: Scope, status: int, seconds: float) -> None:
    method, route = scope["method"], route_template(scope)
    ops = scope["path"] in OPS_PATHS
    if not ops:
        metrics.record(method, route, status, seconds)
    level = logging.DEBUG if ops else logging.INFO
    if log.isEnabledFor(level):
        log.log(level, "request", extra=line_fields(scope, method, route, status, seconds))


def line_fields(
    scope: Scope, method: str, route: str, status: int, seconds: float
) -> dict[str, Any]:
    client = scope.get("client")
    fields: dict[str, Any] = {
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 1),
        "client": client[0] if client else None,
        "request_id": scope.get("state", {}).get("request_id"),
    }
    api_actor = scope.get(CALLER_KEY)
    if api_actor is not None:
        fields["api_user"] = api_actor.name
    # The portal keeps the session it looked up (once per request) in request.state.
    for value in scope.get("state", {}).values():
        if isinstance(value, SignedIn):
            fields["portal_user"] = value.actor.name
    return fields
