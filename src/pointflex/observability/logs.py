"""Logging for ``pointflex serve``: one line per event, JSON (default) or ``key=value`` text.

Every line carries the request id of the request it belongs to (the ``X-Request-ID`` the
client sent or the one :class:`~pointflex.http.request_ids.RequestIdMiddleware` made), taken
from a context variable set by the request middleware; so an unexpected error logged by the
API's or the portal's error handler can be matched with the request line that follows it.

What a line may hold is a fixed list of fields (:data:`FIELDS`): a ``extra={...}`` passed by
some caller with any other name is dropped, so a stray password or token never reaches the
log. Request bodies, headers, cookies and query strings are never logged at all.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any, Literal

LogFormat = Literal["json", "text"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]

ACCESS_LOGGER = "pointflex.access"

# The id of the request being served by this task. Each request runs in its own asyncio task
# (with its own copy of the context), so a value set for one request never shows in another.
request_id_var: ContextVar[str | None] = ContextVar("pointflex_request_id", default=None)

# The only extra attributes a line may carry, in the order they are written.
FIELDS = (
    "request_id",
    "method",
    "route",
    "status",
    "duration_ms",
    "client",
    "api_user",
    "portal_user",
    "reason",
)
_HANDLER_NAME = "pointflex"


def _timestamp(record: logging.LogRecord) -> str:
    at = datetime.fromtimestamp(record.created, UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """The line's content: time, level, logger, message, the allowed extras, the traceback."""
    out: dict[str, Any] = {
        "timestamp": _timestamp(record),
        "level": record.levelname,
        "logger": record.name,
        "message": record.getMessage(),
    }
    for name in FIELDS:
        value = getattr(record, name, None)
        if value is None and name == "request_id":
            value = request_id_var.get()
        if value is not None:
            out[name] = value
    if record.exc_info:
        out["exception"] = logging.Formatter().formatException(record.exc_info)
    return out


class JsonFormatter(logging.Formatter):
    """One JSON object per line (a traceback is a string field, not extra lines)."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(fields_of(record), ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``timestamp LEVEL logger message key=value ...``, for reading in a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        data = fields_of(record)
        head = f"{data.pop('timestamp')} {data.pop('level')} {data.pop('logger')}"
        message = data.pop("message")
        trace = data.pop("exception", None)
        pairs = " ".join(f"{k}={_text_value(v)}" for k, v in data.items())
        line = " ".join(part for part in (head, message, pairs) if part)
        return f"{line}\n{trace}" if trace else line


def _text_value(value: Any) -> str:
    text = str(value)
    return json.dumps(text) if not text or any(c.isspace() or c == '"' for c in text) else text


def formatter_for(fmt: LogFormat) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else TextFormatter()


def configure(fmt: LogFormat, level: LogLevel, stream: IO[str] | None = None) -> None:
    """Send every log record (ours and uvicorn's) to ``stream`` (stderr) in ``fmt``.

    Idempotent: calling it again (each worker process calls it) replaces our handler instead
    of adding a second one. uvicorn's own loggers propagate to the root logger, so its start
    and error messages come out in the same format; its access log is switched off by
    ``pointflex serve`` in favour of our request lines.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter_for(fmt))
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
        uvicorn_logger.setLevel(level)
    # Alembic announces its dialect at INFO each time /readyz reads the schema revision.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
