"""The one place where errors become HTTP answers: the FortiFlex envelope, never an HTML page."""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pointflex.api.envelope import failure, invalid_token
from pointflex.api.fortiflex.inputs import refusal
from pointflex.errors import InvalidInput, NotFound, PointflexError, Throttled, Unauthenticated

log = logging.getLogger("pointflex.api")


def install(app: FastAPI) -> None:
    app.add_exception_handler(PointflexError, _pointflex_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)


def _pointflex_error(request: Request, exc: PointflexError) -> JSONResponse:
    if isinstance(exc, Unauthenticated) and not request.url.path.startswith("/api/v1/oauth"):
        return invalid_token()
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Throttled) else None
    return failure(exc.message, exc.code, exc.http_status, headers)


def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """A request model refused the body (or a path or query parameter was wrong): the 400
    envelope naming the first bad field, as the FortiFlex routes always answered bad input."""
    refused = refusal(exc.errors())
    return failure(refused.message, refused.code, refused.http_status)


def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == HTTPStatus.NOT_FOUND:
        return failure(f"no such endpoint: {request.url.path}", NotFound.code, 404)
    if exc.status_code == HTTPStatus.METHOD_NOT_ALLOWED:
        return failure(f"{request.method} is not allowed here", InvalidInput.code, 405)
    return failure(str(exc.detail), PointflexError.code, exc.status_code)


class UnexpectedErrors:
    """Answers an unexpected exception with the 500 envelope and ends the request normally.

    Left to Starlette, the exception is answered too but then re-raised to the server, which
    closes the connection at once; a client that has not read the answer yet sees a
    connection reset instead of the 500 (and an idempotent retry cannot tell what happened).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started:
                raise  # half an answer is out: only closing the connection is honest
            response = _unexpected(Request(scope), exc)
            await response(scope, receive, send)


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return failure("internal error; it has been logged", PointflexError.code, 500)
