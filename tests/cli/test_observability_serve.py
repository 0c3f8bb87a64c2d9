"""A real ``pointflex serve``: JSON request lines with the client's X-Request-ID, and request
counts that add up over several worker processes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from pointflex.asgi import FORTIFLEX_V2
from pointflex.config import Settings
from tests.cli.test_serve_command import Server, _start

LIST = f"{FORTIFLEX_V2}/programs/list"
CALLS = 6


@pytest.fixture(params=[1, 2], ids=["one-worker", "two-workers"])
def running(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Server]:
    server, _ = _start(settings, "--workers", str(request.param))
    server.wait_until_up()
    yield server
    server.stop()


def _list_count(base_url: str) -> float:
    # A new connection each time: with two workers, either may answer.
    reply = httpx.get(f"{base_url}/metrics", timeout=10)
    assert reply.status_code == 200, reply.text
    for family in text_string_to_metric_families(reply.text):
        for sample in family.samples:
            labels = sample.labels
            if (
                sample.name == "pointflex_http_requests_total"
                and labels.get("route") == LIST
                and labels.get("status") == "401"
            ):
                return sample.value
    return 0.0


def _json_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_serve_logs_json_request_lines_and_counts_requests_over_all_workers(
    running: Server,
) -> None:
    for i in range(CALLS):
        reply = httpx.post(
            f"{running.base_url}{LIST}", headers={"X-Request-ID": f"serve-{i}"}, timeout=10
        )
        assert reply.status_code == 401
        assert reply.headers["X-Request-ID"] == f"serve-{i}"

    # Whichever worker answers the scrape reports every worker's requests.
    assert [_list_count(running.base_url) for _ in range(4)] == [CALLS] * 4

    running.stop()
    lines = _json_lines(running.output)
    access = [line for line in lines if line["logger"] == "pointflex.access"]
    for i in range(CALLS):
        (line,) = [x for x in access if x.get("request_id") == f"serve-{i}"]
        assert line["route"] == LIST
        assert line["status"] == 401
        assert line["method"] == "POST"
        assert line["level"] == "INFO"
    assert not any(line["logger"] == "uvicorn.access" for line in lines)
    assert any(line["logger"].startswith("uvicorn") for line in lines)  # start-up, as JSON
