"""``pointflex serve`` as a real process: a token request and one FortiFlex call over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from pointflex.asgi import FORTIFLEX_V2
from pointflex.bootstrap import Runtime
from pointflex.cli import serve
from pointflex.config import Settings
from pointflex.services.access.api_users import Permission, create_api_user
from tests.builders import OPERATOR, World
from tests.cli.conftest import Cli, assert_one_red_line

STARTUP_SECONDS = 90  # two workers on a busy two-core machine take a while


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pointflex() -> list[str]:
    script = Path(sys.executable).with_name("pointflex")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pointflex.cli.main"]


def _env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "POINTFLEX_DATABASE_URL": settings.database_url,
        "POINTFLEX_DATA_DIR": str(settings.data_dir),
        "POINTFLEX_SECRET_KEY": settings.secret_key,
    }


class Server:
    def __init__(self, process: subprocess.Popen[str], base_url: str) -> None:
        self.process = process
        self.base_url = base_url
        self.output = ""
        self.stopped = False

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                pytest.fail(f"pointflex serve exited early:\n{self.output}")
            try:
                httpx.get(f"{self.base_url}/api/pointflex/openapi.json", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        pytest.fail(f"pointflex serve did not start:\n{self.output}")

    def stop(self) -> None:
        """Stop the server as Ctrl-C would and collect what it printed; idempotent."""
        if self.stopped:
            return
        self.stopped = True
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.output, _ = self.process.communicate(timeout=15)
                return
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.output, _ = self.process.communicate()


def _start(settings: Settings, *options: str) -> tuple[Server, int]:
    port = _free_port()
    command = [*_pointflex(), "serve", "--port", str(port), *options]
    process = subprocess.Popen(
        command,
        env=_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return Server(process, f"http://127.0.0.1:{port}"), port


@pytest.fixture
def credentials(live: Runtime, acme: World) -> tuple[str, str]:
    user, password = create_api_user(
        live, OPERATOR, permission=Permission.READONLY, account_id=acme.root
    )
    return user.username, password


@pytest.fixture(params=[1, 2], ids=["one-worker", "two-workers"])
def server(request: pytest.FixtureRequest, settings: Settings) -> Iterator[tuple[Server, int]]:
    found = _start(settings, "--workers", str(request.param))
    found[0].wait_until_up()
    yield found
    found[0].stop()


def test_serve_answers_a_token_request_and_a_fortiflex_call(
    server: tuple[Server, int], credentials: tuple[str, str], acme: World
) -> None:
    running, port = server
    username, password = credentials
    with httpx.Client(base_url=running.base_url, timeout=10) as http:
        token = http.post(
            "/api/v1/oauth/token/",
            json={
                "username": username,
                "password": password,
                "client_id": "flexvm",
                "grant_type": "password",
            },
        )
        assert token.status_code == 200, token.text
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        listed = http.post(f"{FORTIFLEX_V2}/programs/list", headers=bearer)
    assert listed.status_code == 200, listed.text
    assert {p["serialNumber"] for p in listed.json()["programs"]} == {acme.prepaid, acme.postpaid}

    running.stop()
    assert running.process.returncode is not None
    base = f"http://127.0.0.1:{port}"
    assert f"{base}/ES/api/fortiflex/v2" in running.output
    assert f"{base}/api/v1/oauth/token/" in running.output
    assert f"{base}/api/pointflex/docs" in running.output


def test_serve_refuses_a_database_that_is_not_upgraded(cli: Cli, tmp_path: Path) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    result = cli(f"serve --port {_free_port()}", env={"POINTFLEX_DATABASE_URL": empty})
    assert_one_red_line(result, "pointflex db upgrade")


def test_the_worker_factory_builds_the_app_from_the_settings(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in _env(settings).items():
        if name.startswith("POINTFLEX_"):
            monkeypatch.setenv(name, value)
    app = serve.app_factory()
    assert isinstance(app, FastAPI)
    assert app.state.runtime.settings.database_url == settings.database_url
    assert serve.FORTIFLEX_V2 == FORTIFLEX_V2
    app.state.runtime.engine.dispose()


def test_the_socket_shared_by_several_workers_has_nagle_switched_off() -> None:
    """Nagle's algorithm left on would hold each small answer for the client's delayed ACK
    (about 40 ms): uvicorn does not switch it off on a socket it binds for several workers."""
    config = uvicorn.Config(serve.FACTORY, factory=True, host="127.0.0.1", port=_free_port())
    sock = serve.shared_socket(config)
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        sock.close()
