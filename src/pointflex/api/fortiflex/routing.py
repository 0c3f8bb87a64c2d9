"""FortiFlex routes: the body is read the FortiFlex way, then validated by the route's model.

FastAPI validates a body parameter only for a request that declares JSON and has a body,
while FortiFlex clients send no body, ``[]``, or JSON under any Content-Type (spec §3.1, C4).
A :class:`WireRoute` decodes the body first (api/json_input: empty and ``[]`` mean ``{}``; NUL,
lone surrogates and deep nesting refused) and hands FastAPI the decoded object, so the route's
request model — its body parameter — validates the request and documents it.

A body that cannot be decoded at all is refused only once the bearer token has been checked,
by a dependency of every FortiFlex router: a caller without a valid token learns nothing about
its request (tests/api/test_configs_api.py checks it). FastAPI validates the model after every
dependency, so the token and, on a write route, the permission (``current_writer``) come first.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.routing import APIRoute
from starlette.datastructures import Headers

from pointflex.api import json_input
from pointflex.api.deps import current_actor
from pointflex.errors import InvalidInput
from pointflex.services.context import Actor

_JSON = (b"content-type", b"application/json")


class DecodedRequest(Request):
    """The request as FastAPI's body validation sees it: a JSON object, already decoded."""

    def __init__(self, request: Request, decoded: dict[str, Any], refused: InvalidInput | None):
        super().__init__(request.scope, request.receive)
        self.decoded = decoded
        self.refused = refused

    @property
    def headers(self) -> Headers:
        # FastAPI parses a body only when it is declared JSON; every FortiFlex body is.
        kept = [(name, value) for name, value in self.scope["headers"] if name != _JSON[0]]
        return Headers(raw=[*kept, _JSON])

    async def body(self) -> bytes:
        return b"{}"  # FastAPI skips an empty body; it takes the object itself from json()

    async def json(self) -> Any:
        return self.decoded


class WireRoute(APIRoute):
    """A route whose handler gets a :class:`DecodedRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        validate_and_call = super().get_route_handler()

        async def handler(request: Request) -> Response:
            return await validate_and_call(await _decoded(request))

        return handler


async def _decoded(request: Request) -> DecodedRequest:
    try:
        return DecodedRequest(request, json_input.request_object(await request.body()), None)
    except InvalidInput as exc:
        return DecodedRequest(request, {}, exc)  # raised by body_decoded, after the token


def body_decoded(request: Request, actor: Actor = Depends(current_actor)) -> None:
    """Refuse a body that could not be decoded; ``actor`` is asked for so that the token is
    checked first (FastAPI solves a dependency's own dependencies before it)."""
    del actor
    if isinstance(request, DecodedRequest) and request.refused is not None:
        raise request.refused


def wire_router(tag: str) -> APIRouter:
    """A router of FortiFlex routes (v2 or legacy v1) under ``tag`` in the OpenAPI document."""
    return APIRouter(tags=[tag], route_class=WireRoute, dependencies=[Depends(body_decoded)])
