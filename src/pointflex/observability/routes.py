"""``GET /metrics`` (Prometheus), ``GET /healthz`` (alive) and ``GET /readyz`` (can serve).

None of them needs a user or a session; ``/metrics`` asks for ``Authorization: Bearer
<metrics_token>`` when that setting is not empty. They are plain ``def`` routes where they
touch the database, so FastAPI runs them in its thread pool, off the event loop.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from pointflex.bootstrap import Runtime
from pointflex.observability import metrics
from pointflex.observability.collector import DatabaseCollector
from pointflex.observability.health import readiness

router = APIRouter(include_in_schema=False)


def _runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


@router.get("/healthz")
async def healthz() -> JSONResponse:
    """The process answers: nothing else is checked (no database)."""
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """The database answers and its schema is current; 503 with the reason otherwise."""
    found = readiness(_runtime(request).engine)
    if not found.ready:
        return JSONResponse({"status": "unavailable", "reason": found.reason}, 503)
    return JSONResponse({"status": "ok", "revision": found.revision})


@router.get("/metrics")
def metrics_page(request: Request) -> Response:
    rt = _runtime(request)
    if not token_accepted(rt.settings.metrics_token, request.headers.get("authorization", "")):
        return JSONResponse(
            {"status": "unauthorized", "reason": "a valid metrics bearer token is required"},
            401,
            {"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    body = metrics.page(DatabaseCollector(rt.engine))
    return Response(body, media_type=metrics.CONTENT_TYPE)


def token_accepted(expected: str, authorization: str) -> bool:
    """Open when no token is set; else ``Bearer <token>``, compared in constant time."""
    if not expected:
        return True
    scheme, _, given = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), expected.encode()
    )
