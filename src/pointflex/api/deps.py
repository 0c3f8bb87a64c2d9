"""Request plumbing shared by every route: the runtime, the caller, the lenient JSON body."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request

from pointflex.api import json_input
from pointflex.bootstrap import Runtime
from pointflex.errors import InvalidInput, Unauthenticated
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


async def json_body(request: Request) -> dict[str, Any]:
    """The body as a JSON object: empty and ``[]`` mean ``{}`` (spec §3.1, C4); anything no
    field can hold is refused first (api/json_input)."""
    raw = await request.body()
    if not raw.strip():
        return {}
    data = json_input.decode(raw)
    if data == [] or data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidInput("the request body must be a JSON object")
    return data
