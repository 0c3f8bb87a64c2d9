"""Signing in and out: ``GET/POST /login``, ``POST /logout``."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from pointflex.errors import AuthenticationFailed, Throttled
from pointflex.services.access import portal_users, sessions
from pointflex.web import flash, session
from pointflex.web.paths import safe_next
from pointflex.web.render import render

router = APIRouter()


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    if session.signed_in(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", title="Sign in", next=safe_next(next), username="")


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    rt = session.runtime(request)
    address = request.client.host if request.client else ""
    form: dict[str, Any] = {"title": "Sign in", "next": safe_next(next), "username": username}
    try:
        user = portal_users.sign_in(rt, username, password, address)
    except Throttled as exc:
        minutes = math.ceil(exc.retry_after / 60)
        error = f"Too many failed sign-ins. Try again in {minutes} minute(s)."
        headers = {"Retry-After": str(exc.retry_after)}
        return render(request, "login.html", status_code=429, headers=headers, error=error, **form)
    except AuthenticationFailed:
        return render(request, "login.html", error="Wrong username or password.", **form)
    old = request.cookies.get(session.COOKIE)
    if old:
        sessions.end_session(rt, old)  # a new session id on every sign-in (no fixation)
    token, _ = sessions.start_session(rt, user)
    response = RedirectResponse(safe_next(next), status_code=303)
    session.set_session_cookie(request, response, token)
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    token = request.cookies.get(session.COOKIE)
    if token:
        sessions.end_session(session.runtime(request), token)
    session.forget(request)
    flash.flash(request, "You have signed out.", flash.Level.INFO)
    response = flash.redirect(request, "/login")
    session.clear_session_cookie(request, response)
    return response
