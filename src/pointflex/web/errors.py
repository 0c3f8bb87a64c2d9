"""Errors on portal paths become HTML pages (or, for htmx requests, a message in ``#flash``);
on API paths the API's own handlers answer with the FortiFlex envelope, as before."""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pointflex.errors import PointflexError, Throttled, Unauthenticated
from pointflex.http.paths import is_portal_path
from pointflex.web.deps import LoginRequired
from pointflex.web.flash import Flash, Level
from pointflex.web.render import ENV, render

log = logging.getLogger("pointflex.web")

TITLES = {
    400: "That did not work",
    403: "Not allowed",
    404: "Page not found",
    405: "Not allowed here",
    409: "That cannot be done now",
    429: "Too many attempts",
    500: "Something went wrong",
}

Handler = Callable[[Request, Any], Response]


def install(app: FastAPI) -> None:
    """Put the portal's pages in front of the API's handlers (installed before this)."""
    for kind, page in (
        (PointflexError, _pointflex_page),
        (StarletteHTTPException, _http_page),
        (RequestValidationError, _validation_page),
    ):
        app.add_exception_handler(kind, _either(app.exception_handlers[kind], page))
    app.add_exception_handler(LoginRequired, _login_required)  # type: ignore[arg-type]


def _either(api: Any, portal: Handler) -> Handler:
    def handle(request: Request, exc: Any) -> Response:
        if is_portal_path(request.url.path):
            return portal(request, exc)
        response: Response = api(request, exc)
        return response

    return handle


def error_page(request: Request, status: int, message: str, **headers: str) -> Response:
    """The error answer of a portal request: a page, or for htmx a message in ``#flash``."""
    if request.headers.get("HX-Request"):
        body = ENV.get_template("_flashes.html").render(
            flashes=[Flash(Level.DANGER, message)], oob=True
        )
        # Nothing is swapped into the request's target; the message goes to #flash.
        return Response(body, status, {"HX-Reswap": "none", **headers}, media_type="text/html")
    title = TITLES.get(status, TITLES[400])
    return render(
        request, "error.html", status_code=status, headers=headers, title=title, message=message
    )


def _pointflex_page(request: Request, exc: PointflexError) -> Response:
    if isinstance(exc, Unauthenticated):
        return _login_required(request, LoginRequired("/"))
    if isinstance(exc, Throttled):
        return error_page(request, 429, exc.message, **{"Retry-After": str(exc.retry_after)})
    return error_page(request, exc.http_status, exc.message)


def _http_page(request: Request, exc: StarletteHTTPException) -> Response:
    if exc.status_code == HTTPStatus.NOT_FOUND:
        return error_page(request, 404, "There is no page at this address (yet).")
    if exc.status_code == HTTPStatus.METHOD_NOT_ALLOWED:
        return error_page(request, 405, f"{request.method} is not allowed here.")
    return error_page(request, exc.status_code, str(exc.detail))


def _validation_page(request: Request, exc: RequestValidationError) -> Response:
    first = exc.errors()[0] if exc.errors() else {}
    field = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query"))
    message = first.get("msg", "invalid value")
    return error_page(request, 400, f"{field}: {message}" if field else str(message))


def _login_required(request: Request, exc: LoginRequired) -> Response:
    target = "/login" if exc.next_path == "/" else "/login?" + urlencode({"next": exc.next_path})
    if request.headers.get("HX-Request"):
        # htmx would swap a redirected login page into the fragment: make it navigate instead.
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


class PortalServerErrors:
    """An unexpected exception on a portal path: logged, answered with the 500 page.

    (The API's UnexpectedErrors, further out, would answer with the JSON envelope.)
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_portal_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            if started:
                raise
            log.exception("unexpected error on %s %s", scope["method"], scope["path"])
            # Rendering reads the session (the database): not on the event loop.
            response = await run_in_threadpool(
                error_page, Request(scope), 500, "The error has been logged. Please try again."
            )
            await response(scope, receive, send)
