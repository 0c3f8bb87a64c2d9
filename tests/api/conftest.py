"""A real HTTP server (uvicorn on loopback) for API tests.

One server runs for the whole session; each test points it at its own fresh database and
clock by swapping the application's runtime, so tests stay isolated and cheap.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from pointflex.bootstrap import Runtime
from pointflex.services.access.api_users import Permission, create_api_user
from tests.builders import OPERATOR
from tests.live import LiveServer, live_app

V2 = "/ES/api/fortiflex/v2"
TOKEN_PATH = "/api/v1/oauth/token/"


@pytest.fixture(scope="session")
def live_server(database_template: str) -> Iterator[LiveServer]:
    with live_app() as live:
        yield live


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
