"""Request plumbing shared by every route: the runtime, the caller, the lenient JSON body."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Depends, Request

from pointflex.api import json_input
from pointflex.bootstrap import Runtime
from pointflex.errors import Unauthenticated
from pointflex.http.caller import CALLER_KEY
from pointflex.services.access import auth
from pointflex.services.context import Actor


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def request_id(request: Request) -> str:
    rid = getattr(request.state, "request_id", None)
    if rid is None:
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex
        request.state.request_id = rid
    return str(rid)


def current_actor(request: Request) -> Actor:
    """The API user behind ``Authorization: Bearer <token>`` (spec §2.4, §2.5).

    The rate-limit middleware has usually looked the caller up already; that answer is used.
    """
    if CALLER_KEY in request.scope:
        known: Actor | None = request.scope[CALLER_KEY]
        if known is None:
            raise Unauthenticated("Invalid security token.")
        return known
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Invalid security token.")
    return auth.authenticate(runtime(request), token.strip(), request_id(request))


def current_writer(actor: Actor = Depends(current_actor)) -> Actor:
    """The caller of a route that changes something, refused (403) unless it may write.

    A dependency, so it runs before FastAPI validates the body: a read-only user learns
    nothing from a write route, not even what is wrong with its request (R64).
    """
    actor.require_write()
    return actor


async def json_body(request: Request) -> dict[str, Any]:
    """The body as a JSON object (api/json_input.request_object), for the routes that decode
    it themselves; the FortiFlex routes validate theirs with a model (api/fortiflex/routing)."""
    return json_input.request_object(await request.body())
