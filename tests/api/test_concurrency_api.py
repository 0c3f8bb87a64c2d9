"""Two app processes, one database, many threads: stop, reactivate and vm/token race on the
same serials (issue 3).

Both ``pointflex serve`` processes use the real clock; the world is made through the services
on the real clock too. Afterwards every serial's stored status, event history and audit rows
must agree with the replies the clients got, and no request may have failed with a 5xx.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from pointflex.bootstrap import Runtime, build_runtime
from pointflex.clock import SystemClock
from pointflex.config import Settings
from pointflex.domain.dates import PACIFIC, local_day
from pointflex.services.access.accounts import get_account
from pointflex.services.access.api_users import Permission, create_api_user
from pointflex.services.entitlements import creation
from pointflex.store.tables import audit_log, entitlement_events
from pointflex.store.tables import entitlements as entitlements_table
from tests.api.conftest import TOKEN_PATH, V2
from tests.api.servers import ServeProcess
from tests.builders import OPERATOR, config, world

SERIALS = 20
THREADS = 16
SECONDS = 8.0
MAX_CALLS_PER_THREAD = 400
ACTIONS = {
    "entitlements/stop": "stop",
    "entitlements/reactivate": "reactivate",
    "entitlements/vm/token": "token",
}
AUDIT_ACTIONS = {
    "entitlement.stop": "stop",
    "entitlement.reactivate": "reactivate",
    "entitlement.regenerate_token": "token",
}
STATUS_AFTER = {"CREATED": "ACTIVE", "STOPPED": "STOPPED", "REACTIVATED": "ACTIVE"}
ENVELOPE = ["status", "message", "error"]


@dataclass(frozen=True)
class Call:
    serial: str
    action: str  # stop, reactivate, token
    server: int
    http_status: int
    body: Any
    text: str


def _today() -> date:
    return local_day(datetime.now().astimezone(), PACIFIC)


@pytest.fixture
def live(settings: Settings, engine: Engine) -> Runtime:
    """A runtime on the real clock, as the server processes have."""
    return build_runtime(settings, clock=SystemClock(), engine=engine)


@dataclass(frozen=True)
class Fleet:
    serials: list[str]
    username: str
    password: str


@pytest.fixture
def fleet(live: Runtime) -> Fleet:
    today = _today()
    w = world(live, start=today - timedelta(days=10), end=today + timedelta(days=365))
    with live.engine.connect() as conn:
        org = get_account(conn, w.root).organization_id
    vm = config(live, w.prepaid)
    created = creation.create_vm(live, OPERATOR, config_id=vm.id, count=SERIALS, skip_pending=True)
    assert [e.status.value for e in created] == ["ACTIVE"] * SERIALS
    user, password = create_api_user(
        live, OPERATOR, permission=Permission.ADMIN, organization_id=org
    )
    return Fleet([e.serial for e in created], user.username, password)


@pytest.fixture
def servers(settings: Settings, tmp_path: Path) -> Iterator[list[ServeProcess]]:
    # Rate limits are per process and per user; 0 switches them off for the hammering.
    env = {"POINTFLEX_RATE_LIMIT_PER_SECOND": "0", "POINTFLEX_RATE_LIMIT_BURST": "0"}
    started = [ServeProcess(settings, tmp_path / f"serve-{n}.log", env=env) for n in (0, 1)]
    try:
        for server in started:
            server.wait_until_up()
        yield started
    finally:
        for server in started:
            server.stop()


def _token(base_url: str, fleet: Fleet) -> str:
    reply = httpx.post(
        f"{base_url}{TOKEN_PATH}",
        json={
            "username": fleet.username,
            "password": fleet.password,
            "client_id": "flexvm",
            "grant_type": "password",
        },
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    return str(reply.json()["access_token"])


def _hammer(servers: list[ServeProcess], token: str, serials: list[str], seed: int) -> list[Call]:
    """One client thread: random actions on random serials, alternating between the servers."""
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"}
    calls: list[Call] = []
    clients = [httpx.Client(base_url=s.base_url, timeout=60, headers=headers) for s in servers]
    try:
        deadline = time.monotonic() + SECONDS
        n = 0
        while time.monotonic() < deadline and n < MAX_CALLS_PER_THREAD:
            server = (seed + n) % len(clients)
            endpoint = rng.choice(list(ACTIONS))
            serial = rng.choice(serials)
            reply = clients[server].post(f"{V2}/{endpoint}", json={"serialNumber": serial})
            try:
                body: Any = reply.json()
            except ValueError:
                body = None
            calls.append(
                Call(serial, ACTIONS[endpoint], server, reply.status_code, body, reply.text[:500])
            )
            n += 1
    finally:
        for client in clients:
            client.close()
    return calls


def _run_threads(servers: list[ServeProcess], token: str, serials: list[str]) -> list[Call]:
    results: list[list[Call]] = [[] for _ in range(THREADS)]
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            results[index] = _hammer(servers, token, serials, seed=index)
        except BaseException as exc:  # reported below: a transport error fails the test
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 120)
    assert not any(t.is_alive() for t in threads), "client threads did not finish"
    assert not errors, errors
    return [call for calls in results for call in calls]


def _check_reply(call: Call) -> None:
    """A success envelope naming the serial, or a FortiFlex error envelope with errorCode."""
    assert call.http_status < 500, call
    body = call.body
    assert isinstance(body, dict), call
    assert list(body)[:3] == ENVELOPE, call
    if call.http_status == 200:
        assert body["status"] == 0, call
        assert body["error"] is None, call
        (item,) = body["entitlements"]
        assert item["serialNumber"] == call.serial, call
        if call.action == "stop":
            assert item["status"] == "STOPPED", call
        elif call.action == "reactivate":
            assert item["status"] == "ACTIVE", call
        else:
            assert item["tokenStatus"] == "NOTUSED", call
            assert item["token"], call
        return
    assert 400 <= call.http_status < 500, call
    assert body["status"] == -1, call
    assert isinstance(body["error"], dict), call
    assert type(body["error"]["errorCode"]) is int, call


def _history(engine: Engine, serials: list[str]) -> tuple[dict[str, str], list[Any], list[Any]]:
    with engine.connect() as conn:
        stored = dict(
            conn.execute(
                select(entitlements_table.c.serial, entitlements_table.c.status).where(
                    entitlements_table.c.serial.in_(serials)
                )
            ).all()
        )
        events = list(
            conn.execute(
                select(
                    entitlement_events.c.id,
                    entitlement_events.c.serial,
                    entitlement_events.c.at,
                    entitlement_events.c.kind,
                    entitlement_events.c.status,
                )
                .where(entitlement_events.c.serial.in_(serials))
                .order_by(entitlement_events.c.at, entitlement_events.c.id)
            ).all()
        )
        audits = list(
            conn.execute(
                select(audit_log.c.object_id, audit_log.c.action).where(
                    audit_log.c.object_type == "entitlement",
                    audit_log.c.object_id.in_(serials),
                    audit_log.c.action.in_(list(AUDIT_ACTIONS)),
                )
            ).all()
        )
    return stored, events, audits


def test_two_processes_racing_on_the_same_serials_stay_consistent(
    live: Runtime, fleet: Fleet, servers: list[ServeProcess]
) -> None:
    token = _token(servers[0].base_url, fleet)
    calls = _run_threads(servers, token, fleet.serials)

    outputs = [server.stop() for server in servers]
    server_errors = [c for c in calls if c.http_status >= 500]
    assert not server_errors, (
        f"{len(server_errors)} of {len(calls)} replies were 5xx, e.g. {server_errors[:3]}\n"
        + "\n".join(o[-4000:] for o in outputs)
    )
    for call in calls:
        _check_reply(call)
    # The race must really have happened: both servers, all three actions, refusals included.
    assert {c.server for c in calls} == {0, 1}
    assert {c.action for c in calls} == set(ACTIONS.values())
    assert any(c.http_status == 409 for c in calls), "no request lost a race"

    successes = Counter((c.serial, c.action) for c in calls if c.http_status == 200)
    stored, events, audits = _history(live.engine, fleet.serials)
    audited = Counter((row.object_id, AUDIT_ACTIONS[row.action]) for row in audits)
    problems = _problems(fleet.serials, stored, events, successes, audited)
    if problems:
        # Also judged in commit order (id alone), to tell a wrong history from wrong timestamps.
        by_id = sorted(events, key=lambda e: e.id)
        in_commit_order = _problems(fleet.serials, stored, by_id, successes, audited)
        summary = Counter((c.action, c.http_status) for c in calls)
        pytest.fail(
            f"{len(calls)} calls {dict(summary)}\n"
            f"{len(problems)} problems with events ordered by (at, id), "
            f"{len(in_commit_order)} with events ordered by id alone:\n"
            + "\n".join(problems[:25])
            + ("\nby id:\n" + "\n".join(in_commit_order[:25]) if in_commit_order else "")
        )


def _problems(  # noqa: C901 — one check per invariant, every failure reported
    serials: list[str],
    stored: dict[str, str],
    events: list[Any],
    successes: Counter[tuple[str, str]],
    audited: Counter[tuple[str, str]],
) -> list[str]:
    """What disagrees between the stored rows, the events (in the order given) and replies."""
    problems: list[str] = []
    for serial in serials:
        mine = [e for e in events if e.serial == serial]
        status_events = [e for e in mine if e.kind in STATUS_AFTER]
        kinds = [e.kind for e in status_events]
        if not kinds or kinds[0] != "CREATED" or kinds.count("CREATED") != 1:
            problems.append(f"{serial}: status events do not start with one CREATED: {kinds}")
            continue
        last = status_events[-1]
        if stored[serial] != STATUS_AFTER[last.kind]:
            problems.append(
                f"{serial}: stored {stored[serial]} but the last status event is "
                f"{last.kind} (id {last.id}, at {last.at})"
            )
        if len(kinds) > 1 and kinds[1] != "STOPPED":
            problems.append(f"{serial}: the first change of an ACTIVE entitlement is {kinds[1]}")
        for before, after in pairwise(status_events[1:]):
            if before.kind == after.kind:
                problems.append(
                    f"{serial}: two {after.kind} events in a row: "
                    f"id {before.id} at {before.at}, id {after.id} at {after.at}"
                )
        for e in status_events:
            if e.status != STATUS_AFTER[e.kind]:
                problems.append(f"{serial}: event {e.id} {e.kind} carries status {e.status}")
        counted = Counter(e.kind for e in mine)
        for action, kind in (
            ("stop", "STOPPED"),
            ("reactivate", "REACTIVATED"),
            ("token", "TOKEN_REGENERATED"),
        ):
            replies, recorded = successes[(serial, action)], counted[kind]
            if replies != recorded:
                problems.append(
                    f"{serial}: {replies} successful {action} replies, {recorded} {kind}"
                )
            if audited[(serial, action)] != replies:
                problems.append(
                    f"{serial}: {replies} successful {action} replies, "
                    f"{audited[(serial, action)]} audit rows"
                )
    return problems
