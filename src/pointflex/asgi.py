"""The ASGI application: FortiFlex v2 routes, the token service, pointflex's own API and the
web portal."""

from __future__ import annotations

from fastapi import FastAPI

from pointflex import __version__
from pointflex.api import errors, oauth, openapi_doc, pointflex_v1
from pointflex.api.body_limit import BodyLimit
from pointflex.api.fortiflex import (
    configs,
    entitlement_changes,
    entitlements,
    flexvm_v1,
    groups,
    programs,
    tools,
)
from pointflex.api.idempotency import IdempotencyMiddleware
from pointflex.api.license import routes as licence_routes
from pointflex.api.paths import FORTIFLEX_V2, PathNormaliser
from pointflex.api.ratelimit import RateLimitMiddleware
from pointflex.bootstrap import Runtime
from pointflex.config import Settings
from pointflex.http.request_ids import RequestIdMiddleware
from pointflex.http.security_headers import ApiSecurityHeaders
from pointflex.observability import routes as observability
from pointflex.observability.requests import RequestObserver
from pointflex.web import routes as portal

FLEXVM_V1 = "/ES/api/flexvm/v1"


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(
        title="pointflex",
        version=__version__,
        description="Self-hosted usage-based licensing; speaks the FortiFlex v2 API.",
        openapi_url="/api/pointflex/openapi.json",
        docs_url="/api/pointflex/docs",
        redoc_url=None,
    )
    app.state.runtime = runtime
    errors.install(app)
    openapi_doc.install(app)  # the envelope and the error statuses in the document
    app.include_router(oauth.router)
    for module in (programs, configs, entitlements, entitlement_changes, groups, tools):
        app.include_router(module.router, prefix=FORTIFLEX_V2)
    app.include_router(flexvm_v1.router, prefix=FLEXVM_V1)
    app.include_router(licence_routes.router)
    app.include_router(pointflex_v1.router)  # forecasts, monthly statements
    app.include_router(observability.router)  # /metrics, /healthz, /readyz
    # The web portal: its pages, static files, HTML error pages and security headers.
    portal.mount(app)
    # Middleware runs outermost first, i.e. in the reverse order of these lines: unexpected
    # errors become a 500 envelope, oversized bodies are refused (413), paths are normalised,
    # the request id is set, the request is timed and logged, the caller's rate is checked,
    # then a retried Idempotency-Key is answered from storage.
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(RateLimitMiddleware)
    app.add_middleware(RequestObserver)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(PathNormaliser)
    app.add_middleware(BodyLimit, default_limit=Settings.model_fields["max_request_bytes"].default)
    app.add_middleware(errors.UnexpectedErrors)
    # Outermost, so every API answer gets them, the 500 envelope included.
    app.add_middleware(ApiSecurityHeaders)
    return app
