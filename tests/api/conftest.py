"""A real HTTP server (uvicorn on loopback) for API tests.

One server runs for the whole session; each test points it at its own fresh database and
clock by swapping the application's runtime, so tests stay isolated and cheap.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from pointflex.api.app import create_app
from pointflex.bootstrap import Runtime
from pointflex.services.api_users import Permission, create_api_user
from tests.builders import OPERATOR

V2 = "/ES/api/fortiflex/v2"
TOKEN_PATH = "/api/v1/oauth/token/"


@dataclass
class LiveServer:
    app: FastAPI
    base_url: str


@pytest.fixture(scope="session")
def live_server(database_template: str) -> Iterator[LiveServer]:
    app = create_app(runtime=None)  # type: ignore[arg-type]  # each test installs its own
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Without it every small reply waits for the client's delayed ACK (about 40 ms).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    yield LiveServer(app, f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=5)


@dataclass
class Api:
    """A FortiFlex client over real HTTP, as the Python clients drive it."""

    rt: Runtime
    http: httpx.Client

    def token(self, username: str, password: str, **extra: Any) -> str:
        reply = self.http.post(
            TOKEN_PATH,
            json={
                "username": username,
                "password": password,
                "client_id": "flexvm",
                "grant_type": "password",
                **extra,
            },
        )
        assert reply.status_code == 200, reply.text
        return str(reply.json()["access_token"])

    def user(
        self,
        permission: Permission = Permission.ADMIN,
        *,
        account_id: int | None = None,
        organization_id: int | None = None,
    ) -> str:
        """A signed-in API user's bearer token."""
        user, password = create_api_user(
            self.rt,
            OPERATOR,
            permission=permission,
            account_id=account_id,
            organization_id=organization_id,
        )
        return self.token(user.username, password)

    def call(self, endpoint: str, body: Any = None, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if body is None:
            return self.http.post(f"{V2}/{endpoint}", headers=headers)
        return self.http.post(f"{V2}/{endpoint}", json=body, headers=headers)


@pytest.fixture
def api(live_server: LiveServer, rt: Runtime) -> Iterator[Api]:
    live_server.app.state.runtime = rt
    with httpx.Client(base_url=live_server.base_url, timeout=30) as http:
        yield Api(rt, http)
