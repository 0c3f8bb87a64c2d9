"""The token service (spec §2): /api/v1/oauth/token/ and /api/v1/oauth/verify_token/."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from pointflex.api import json_input
from pointflex.api.deps import runtime
from pointflex.bootstrap import Runtime
from pointflex.errors import AuthenticationFailed, InvalidInput, Throttled, Unauthenticated
from pointflex.services.access import auth

router = APIRouter(prefix="/api/v1/oauth", tags=["oauth"])


async def _credentials(request: Request) -> dict[str, Any]:
    """JSON or form body, by Content-Type, falling back to trying both (spec §2.1, C1)."""
    raw = (await request.body()).decode("utf-8", errors="replace").strip()
    kind = request.headers.get("content-type", "")
    parsers = (
        [_json, _form]
        if "json" in kind or not kind.startswith("application/x-www")
        else [
            _form,
            _json,
        ]
    )
    for parse in parsers:
        found = parse(raw)
        if found:
            return found
    return {}


def _json(raw: str) -> dict[str, Any]:
    """The credentials of a JSON body; not JSON, or not an object: none (the form is tried)."""
    try:
        data = json.loads(raw) if raw else {}
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _form(raw: str) -> dict[str, Any]:
    return dict(parse_qsl(raw, keep_blank_values=True)) if "=" in raw else {}


def _oauth_error(error: str, description: str, status: int, headers: Any = None) -> JSONResponse:
    return JSONResponse(
        {
            "error": error,
            "error_description": description,
            "status": "error",
            "message": description,
        },
        status_code=status,
        headers=headers,
    )


@router.post("/token")
async def token(request: Request, rt: Runtime = Depends(runtime)) -> JSONResponse:
    body = await _credentials(request)
    grant = str(body.get("grant_type") or "password")
    client_id = str(body.get("client_id") or "")
    address = request.client.host if request.client else ""
    try:
        json_input.check(body)  # NUL, lone surrogates, deep nesting: 400, not a driver error
        if grant == "password":
            username, password = body.get("username"), body.get("password")
            if not username or not password:
                raise InvalidInput("username and password are required")
            # argon2 takes ~0.1 s of CPU: off the event loop, so other requests keep flowing.
            pair = await run_in_threadpool(
                auth.password_grant, rt, str(username), str(password), client_id, address
            )
        elif grant == "refresh_token":
            refresh = body.get("refresh_token")
            if not refresh:
                raise InvalidInput("refresh_token is required")
            pair = await run_in_threadpool(auth.refresh_grant, rt, str(refresh), client_id, address)
        else:
            return _oauth_error("unsupported_grant_type", f"grant_type {grant!r}", 401)
    except InvalidInput as exc:
        return _oauth_error("invalid_request", exc.message, 400)
    except Throttled as exc:
        return _oauth_error("slow_down", exc.message, 429, {"Retry-After": str(exc.retry_after)})
    except AuthenticationFailed as exc:
        return _oauth_error("invalid_grant", exc.message, 401)
    return JSONResponse(
        {
            "access_token": pair.access_token,
            "expires_in": pair.expires_in,
            "token_type": "Bearer",
            "scope": "read write",
            "refresh_token": pair.refresh_token,
            "message": "successfully authenticated",
            "status": "success",
        }
    )


@router.get("/verify_token")
def verify_token(request: Request, rt: Runtime = Depends(runtime)) -> JSONResponse:
    """Optional check used by some auto-scaling scripts (spec §2.6)."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    try:
        if scheme.lower() != "bearer":
            raise Unauthenticated("Invalid security token.")
        left = auth.seconds_left(rt, value.strip())
    except Unauthenticated:
        return _oauth_error("invalid_token", "Invalid security token.", 401)
    return JSONResponse({"status": "success", "message": "token is valid", "expires_in": left})
