"""The FortiFlex response envelope (spec §3.2, §3.3): ``status`` is in every body."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

SUCCESS_MESSAGE = "Request processed successfully."
INVALID_TOKEN_MESSAGE = "Invalid security token."  # noqa: S105 — an error message, not a secret


def ok(data: dict[str, Any] | None = None, status_code: int = 200) -> JSONResponse:
    """``{"status": 0, "message": ..., "error": null, <data keys>}``."""
    body: dict[str, Any] = {"status": 0, "message": SUCCESS_MESSAGE, "error": None}
    body.update(data or {})
    return JSONResponse(body, status_code=status_code)


def failure(
    message: str, code: int, status_code: int, headers: dict[str, str] | None = None
) -> JSONResponse:
    """``{"status": -1, "message": ..., "error": {"errorCode": N, "message": ...}}``."""
    body = {"status": -1, "message": message, "error": {"errorCode": code, "message": message}}
    return JSONResponse(body, status_code=status_code, headers=headers)


def invalid_token() -> JSONResponse:
    """The exact reply clients recognise as an expired token (spec §2.5, C2)."""
    body = {"status": -1, "message": INVALID_TOKEN_MESSAGE, "error": None}
    return JSONResponse(body, status_code=401)
