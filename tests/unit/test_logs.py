"""Log lines: their JSON and text shape, the request id on every line, and no secrets."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
from collections.abc import Iterator

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from pointflex.api.errors import UnexpectedErrors
from pointflex.http.request_ids import RequestIdMiddleware
from pointflex.observability import logs
from pointflex.observability.requests import RequestObserver

SECRETS = ("bearer-token-123", "cookie-session-456", "hunter2-password", "query-secret-789")


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """Our handler on the root logger, writing to a buffer; removed afterwards."""
    out = io.StringIO()
    root = logging.getLogger()
    level = root.level
    logs.configure("json", "INFO", out)
    yield out
    for handler in [h for h in root.handlers if h.get_name() == "pointflex"]:
        root.removeHandler(handler)
    root.setLevel(level)


def _record(**extra: object) -> logging.LogRecord:
    record = logging.LogRecord(
        "pointflex.test", logging.WARNING, __file__, 1, "hello %s", ("x",), None
    )
    record.__dict__.update(extra)
    return record


def test_a_json_line_has_time_level_logger_message_and_the_allowed_fields() -> None:
    line = logs.JsonFormatter().format(
        _record(request_id="r-1", method="GET", route="/assets/{serial}", status=200)
    )
    data = json.loads(line)
    assert "\n" not in line
    assert data["timestamp"].endswith("Z")
    assert "T" in data["timestamp"]
    assert data["level"] == "WARNING"
    assert data["logger"] == "pointflex.test"
    assert data["message"] == "hello x"
    assert data["request_id"] == "r-1"
    assert data["route"] == "/assets/{serial}"
    assert data["status"] == 200


def test_fields_outside_the_allowed_list_are_never_written() -> None:
    line = logs.JsonFormatter().format(_record(password="hunter2-password", token="t-1"))
    assert "hunter2-password" not in line
    assert "t-1" not in line


def test_a_traceback_stays_on_one_json_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), None)
        record.exc_info = sys.exc_info()
    line = logs.JsonFormatter().format(record)
    assert len(line.splitlines()) == 1
    assert "ValueError: boom" in json.loads(line)["exception"]


def test_the_request_id_of_the_current_request_is_added_to_any_line() -> None:
    token = logs.request_id_var.set("ctx-9")
    try:
        data = json.loads(logs.JsonFormatter().format(_record()))
    finally:
        logs.request_id_var.reset(token)
    assert data["request_id"] == "ctx-9"


def test_a_text_line_is_key_value_pairs_after_the_message() -> None:
    line = logs.TextFormatter().format(_record(request_id="r-1", route="/a b", status=404))
    assert line.split(" ", 3)[1:3] == ["WARNING", "pointflex.test"]
    assert 'hello x request_id=r-1 route="/a b" status=404' in line


def test_configuring_twice_keeps_one_handler(stream: io.StringIO) -> None:
    logs.configure("text", "WARNING", stream)
    ours = [h for h in logging.getLogger().handlers if h.get_name() == "pointflex"]
    assert len(ours) == 1
    assert isinstance(ours[0].formatter, logs.TextFormatter)
    assert logging.getLogger().level == logging.WARNING


async def _echo(scope: Scope, receive: Receive, send: Send) -> None:
    """A tiny app that reads the whole body and streams an answer in two parts."""
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 201, "headers": []})
    await send({"type": "http.response.body", "body": b"one", "more_body": True})
    await send({"type": "http.response.body", "body": b"two"})


def _call(app: ASGIApp, **kwargs: object) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.post("/login?next=query-secret-789", **kwargs)  # type: ignore[arg-type]

    return asyncio.run(go())


def test_the_request_line_carries_the_request_id_and_no_secrets(stream: io.StringIO) -> None:
    app = RequestIdMiddleware(RequestObserver(_echo))
    reply = _call(
        app,
        headers={
            "X-Request-ID": "req-1",
            "Authorization": "Bearer bearer-token-123",
            "Cookie": "pointflex_session=cookie-session-456",
        },
        data={"username": "alice", "password": "hunter2-password"},
    )
    assert reply.status_code == 201
    assert reply.text == "onetwo"  # streamed parts pass through whole
    lines = [json.loads(x) for x in stream.getvalue().splitlines()]
    (line,) = [x for x in lines if x["logger"] == "pointflex.access"]
    assert line["request_id"] == "req-1"
    assert line["method"] == "POST"
    assert line["status"] == 201
    assert line["route"] == "unmatched"  # no router here
    # (The test's own HTTP client logs its URL too: only the server's lines count here.)
    server_side = [x for x in stream.getvalue().splitlines() if '"logger": "httpx"' not in x]
    for secret in SECRETS:
        assert not any(secret in x for x in server_side)


async def _boom(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("the database fell over")


def test_an_unexpected_error_is_logged_with_the_request_id_and_counted_as_500(
    stream: io.StringIO,
) -> None:
    app = UnexpectedErrors(RequestIdMiddleware(RequestObserver(_boom)))
    reply = _call(app, headers={"X-Request-ID": "req-500"})
    assert reply.status_code == 500
    lines = [json.loads(x) for x in stream.getvalue().splitlines()]
    (error,) = [x for x in lines if x["logger"] == "pointflex.api"]
    assert error["level"] == "ERROR"
    assert error["request_id"] == "req-500"
    assert "the database fell over" in error["exception"]
    (access,) = [x for x in lines if x["logger"] == "pointflex.access"]
    assert (access["request_id"], access["status"]) == ("req-500", 500)
