"""End-to-end fixtures: a real ``pointflex serve`` process on the test's database, real
``pointflex-vm`` processes, and the FortiFlex v2 API over HTTP.

Each test gets its own database (``database_url`` from tests/conftest.py, SQLite or
PostgreSQL) and its own server process on it: starting ``pointflex serve`` costs about a
second, and a server per test keeps the scenarios independent (a module-scoped server would
need a module-scoped database, which the PostgreSQL fixtures — one database per worker,
truncated per test — do not offer without reaching into them). Only the world (organisation,
programs) is made through the services, on the real clock like the server; every FortiFlex
action goes over HTTP.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from pointflex.bootstrap import Runtime, build_runtime
from pointflex.clock import SystemClock
from pointflex.config import Settings
from pointflex.domain.dates import PACIFIC, local_day
from pointflex.services.access.accounts import get_account
from pointflex.services.access.api_users import Permission, create_api_user
from pointflex.services.points import programs
from tests.api.conftest import TOKEN_PATH, V2
from tests.api.servers import ServeProcess, pointflex_command, server_env
from tests.builders import OPERATOR, world
from tests.e2e import vm

DAY = 86400
CLI_TIMEOUT = 120


def pacific_today() -> date:
    return local_day(datetime.now(UTC), PACIFIC)


@pytest.fixture
def live(settings: Settings, engine: Engine) -> Runtime:
    """A runtime on the real clock, as the server processes have."""
    return build_runtime(settings, clock=SystemClock(), engine=engine)


@dataclass(frozen=True)
class Org:
    organization_id: int
    root: int  # the organisation's root account
    prepaid: str  # program serial
    username: str  # an Admin API user of the organisation
    password: str


@pytest.fixture
def org(live: Runtime) -> Org:
    today = pacific_today()
    w = world(live, start=today - timedelta(days=2), end=today + timedelta(days=365))
    # Points bought up front: a prepaid balance going negative would put the entitlements in
    # GRACE_PERIOD (R55) once the accrual runs.
    programs.add_pack(live, OPERATOR, w.prepaid, 10_000)
    with live.engine.connect() as conn:
        organization_id = get_account(conn, w.root).organization_id
    user, password = create_api_user(
        live, OPERATOR, permission=Permission.ADMIN, organization_id=organization_id
    )
    return Org(organization_id, w.root, w.prepaid, user.username, password)


class Servers:
    """Starts ``pointflex serve`` processes on the test's settings and stops them all."""

    def __init__(self, settings: Settings, folder: Path) -> None:
        self.settings = settings
        self.folder = folder
        self.started: list[ServeProcess] = []

    def start(
        self, *, offset_days: int = 0, port: int | None = None, env: dict[str, str] | None = None
    ) -> ServeProcess:
        env = dict(env or {})
        if offset_days:
            env["POINTFLEX_CLOCK_OFFSET_SECONDS"] = str(offset_days * DAY)
        log = self.folder / f"serve-{len(self.started)}.log"
        server = ServeProcess(self.settings, log, env=env, port=port)
        self.started.append(server)
        server.wait_until_up()
        return server

    def stop_all(self) -> None:
        for server in self.started:
            server.stop()


@pytest.fixture
def servers(settings: Settings, tmp_path: Path) -> Iterator[Servers]:
    started = Servers(settings, tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


@pytest.fixture
def server(servers: Servers) -> ServeProcess:
    """The test's server, on the real clock."""
    return servers.start()


class Flex:
    """The FortiFlex v2 API of one server, signed in as the organisation's Admin API user."""

    def __init__(self, base_url: str, org: Org) -> None:
        self.base_url = base_url
        self.org = org
        reply = httpx.post(
            base_url + TOKEN_PATH,
            json={
                "username": org.username,
                "password": org.password,
                "client_id": "flexvm",
                "grant_type": "password",
            },
            timeout=30,
        )
        assert reply.status_code == 200, reply.text
        self.headers = {"Authorization": f"Bearer {reply.json()['access_token']}"}

    def post(self, endpoint: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{self.base_url}{V2}/{endpoint}", json=body, headers=self.headers)

    def call(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        """A call that must succeed; its reply's envelope."""
        reply = self.post(endpoint, body)
        assert reply.status_code == 200, f"{endpoint} {body}: {reply.status_code} {reply.text}"
        data: dict[str, Any] = reply.json()
        assert (data["status"], data["error"]) == (0, None), data
        return data

    def vm_config(self, vcpus: int, name: str = "fgt") -> int:
        parameters = [{"id": 1, "value": str(vcpus)}, {"id": 2, "value": "ENT"}]
        created = self.call(
            "configs/create",
            {
                "programSerialNumber": self.org.prepaid,
                "accountId": self.org.root,
                "name": name,
                "productTypeId": 1,
                "parameters": parameters,
            },
        )
        return int(created["configs"]["id"])

    def set_vcpus(self, config_id: int, vcpus: int) -> None:
        parameters = [{"id": 1, "value": str(vcpus)}, {"id": 2, "value": "ENT"}]
        self.call("configs/update", {"id": config_id, "parameters": parameters})

    def vm_entitlement(self, config_id: int, **extra: Any) -> dict[str, Any]:
        """One new VM entitlement (PENDING, with its token)."""
        body = {"configId": config_id, "count": 1, **extra}
        (item,) = self.call("entitlements/vm/create", body)["entitlements"]
        return dict(item)

    def entitlement(self, serial: str) -> dict[str, Any]:
        (item,) = self.call(
            "entitlements/list",
            {
                "accountId": self.org.root,
                "programSerialNumber": self.org.prepaid,
                "serialNumber": serial,
            },
        )["entitlements"]
        return dict(item)

    def change(self, endpoint: str, serial: str) -> dict[str, Any]:
        """stop, reactivate or vm/token on one serial: the entitlement as the reply shows it."""
        (item,) = self.call(f"entitlements/{endpoint}", {"serialNumber": serial})["entitlements"]
        return dict(item)


@pytest.fixture
def flex(server: ServeProcess, org: Org) -> Flex:
    return Flex(server.base_url, org)


@pytest.fixture
def new_vm(tmp_path: Path, server: ServeProcess) -> Callable[..., Path]:
    """``new_vm(name, fortios=…, cpus=…)``: ``pointflex-vm init`` in tmp_path/vm-<name>."""

    def make(name: str, *, fortios: str = "7.2.3", cpus: int = 4) -> Path:
        return vm.init(tmp_path / f"vm-{name}", server.base_url, fortios=fortios, cpus=cpus)

    return make


def run_cli(
    settings: Settings, *args: str, offset_days: int = 0
) -> subprocess.CompletedProcess[str]:
    """A ``pointflex`` CLI process on the test's database, ``offset_days`` in the future."""
    env = server_env(settings, POINTFLEX_CLOCK_OFFSET_SECONDS=str(offset_days * DAY))
    done = subprocess.run(
        [*pointflex_command(), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"pointflex {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done
