"""The caller behind ``Authorization: Bearer``, resolved once per request.

Kept in the ASGI scope, so that the rate limit, the idempotency middleware, the API's
dependencies and the request log all see the same caller for one database look-up.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from pointflex.bootstrap import Runtime
from pointflex.errors import Unauthenticated
from pointflex.services.access import auth
from pointflex.services.context import Actor

CALLER_KEY = "pointflex.caller"  # scope key: the Actor behind the bearer token, or None


def runtime_of(scope: Scope) -> Runtime:
    rt: Runtime = scope["app"].state.runtime
    return rt


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            text: str = value.decode("latin-1")
            scheme, _, token = text.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return None
    return None


async def caller(scope: Scope) -> Actor | None:
    """The API user behind ``Authorization: Bearer``, looked up once per request.

    None when there is no usable token: the route itself then answers 401 (spec §2.5).
    """
    if CALLER_KEY in scope:
        found: Actor | None = scope[CALLER_KEY]
        return found
    token = bearer_token(scope)
    actor: Actor | None = None
    if token is not None:
        rt = runtime_of(scope)
        request_id = scope.get("state", {}).get("request_id")
        try:
            actor = await run_in_threadpool(auth.authenticate, rt, token, request_id)
        except Unauthenticated:
            actor = None
    scope[CALLER_KEY] = actor
    return actor
