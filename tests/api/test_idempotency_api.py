"""``Idempotency-Key`` on mutating FortiFlex calls, over real HTTP."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from pointflex.api import idempotency
from pointflex.clock import ManualClock
from pointflex.errors import IdempotencyKeyInProgress, IdempotencyKeyReused
from pointflex.services.access.accounts import get_account
from pointflex.services.access.api_users import Permission, create_api_user
from pointflex.services.access.auth import token_hash
from pointflex.services.ops import idempotency_keys as key_store
from pointflex.store.tables import entitlements, idempotency_keys, oauth_tokens
from tests.api.conftest import V2, Api
from tests.builders import OPERATOR, config, world

VM_CREATE = f"{V2}/entitlements/vm/create"
REPLAYED = "Idempotent-Replayed"


@dataclass(frozen=True)
class Setup:
    api: Api
    token: str
    config_id: int
    org: int
    credentials: tuple[str, str]

    def post(
        self, body: Any, key: str | None, *, token: str | None = None, path: str = VM_CREATE
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.api.http.post(path, json=body, headers=headers)

    def another_user(self) -> str:
        return self.api.user(organization_id=self.org)

    def sign_in_again(self) -> Setup:
        return replace(self, token=self.api.token(*self.credentials))


@pytest.fixture
def s(api: Api) -> Setup:
    w = world(api.rt)
    with api.rt.engine.connect() as conn:
        org = get_account(conn, w.root).organization_id
    vm = config(api.rt, w.prepaid)
    user, password = create_api_user(
        api.rt, OPERATOR, permission=Permission.READWRITE, organization_id=org
    )
    token = api.token(user.username, password)
    return Setup(api, token, vm.id, org, (user.username, password))


def _count(api: Api) -> int:
    with api.rt.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(entitlements)).scalar_one())


def _keys(api: Api) -> list[Any]:
    with api.rt.engine.connect() as conn:
        return list(conn.execute(select(idempotency_keys)).all())


def _serials(reply: httpx.Response) -> list[str]:
    assert reply.status_code == 200, reply.text
    return [e["serialNumber"] for e in reply.json()["entitlements"]]


def _error(reply: httpx.Response, http_status: int, code: int) -> str:
    assert reply.status_code == http_status, reply.text
    body = reply.json()
    assert body["status"] == -1, body
    assert body["error"]["errorCode"] == code, body
    return str(body["message"])


def _advance(api: Api, delta: timedelta) -> None:
    assert isinstance(api.rt.clock, ManualClock)
    api.rt.clock.advance(delta)


def test_a_retried_vm_create_replays_the_same_serials_and_creates_nothing(s: Setup) -> None:
    body = {"configId": s.config_id, "count": 2, "description": "autoscale"}
    first = s.post(body, "create-2-vms")
    serials = _serials(first)
    assert len(serials) == 2
    assert REPLAYED not in first.headers
    assert _count(s.api) == 2

    again = s.post(body, "create-2-vms")

    assert again.headers[REPLAYED] == "true"
    assert again.status_code == 200
    assert again.json() == first.json()
    assert _serials(again) == serials
    assert again.headers["content-type"] == "application/json"
    assert again.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    assert _count(s.api) == 2
    (row,) = _keys(s.api)
    assert (row.key, row.status_code) == ("create-2-vms", 200)
    assert json.loads(row.response_body) == first.json()


def test_without_a_key_every_request_runs(s: Setup) -> None:
    body = {"configId": s.config_id, "count": 2}
    assert _serials(s.post(body, None)) != _serials(s.post(body, None))
    assert _count(s.api) == 4
    assert _keys(s.api) == []


def test_the_same_request_in_another_spelling_is_the_same_request(s: Setup) -> None:
    first = s.post({"configId": s.config_id, "count": 2}, "k1")
    # Other key order, whitespace, path spelling (C5): still the same request.
    headers = {
        "Authorization": f"Bearer {s.token}",
        "Idempotency-Key": "k1",
        "Content-Type": "application/json",
    }
    again = s.api.http.post(
        "/es/api//fortiflex/v2/entitlements/vm/create/",
        content=b'{ "count": 2,\n  "configId": %d }' % s.config_id,
        headers=headers,
    )
    assert again.headers.get(REPLAYED) == "true"
    assert _serials(again) == _serials(first)
    assert _count(s.api) == 2


def test_the_same_key_with_a_different_body_is_refused(s: Setup) -> None:
    first = s.post({"configId": s.config_id, "count": 2}, "k1")
    assert first.status_code == 200

    other = s.post({"configId": s.config_id, "count": 3}, "k1")

    message = _error(other, 409, IdempotencyKeyReused.code)
    assert "Idempotency-Key" in message
    assert REPLAYED not in other.headers
    assert _count(s.api) == 2
    # The same key on another endpoint is a different request too.
    stop = s.post({"serialNumber": _serials(first)[0]}, "k1", path=f"{V2}/entitlements/stop")
    _error(stop, 409, IdempotencyKeyReused.code)


def test_keys_belong_to_one_api_user(s: Setup) -> None:
    body = {"configId": s.config_id, "count": 2}
    mine = _serials(s.post(body, "shared-key"))
    theirs_reply = s.post(body, "shared-key", token=s.another_user())
    assert REPLAYED not in theirs_reply.headers
    theirs = _serials(theirs_reply)
    assert set(mine).isdisjoint(theirs)
    assert _count(s.api) == 4
    assert len(_keys(s.api)) == 2


def test_an_error_answer_is_kept_and_replayed_too(s: Setup) -> None:
    body = {"configId": 999_999, "count": 1}
    first = s.post(body, "bad-config")
    assert first.status_code == 404
    again = s.post(body, "bad-config")
    assert again.headers[REPLAYED] == "true"
    assert (again.status_code, again.json()) == (404, first.json())


def _rename_table(api: Api, old: str, new: str) -> None:
    with api.rt.engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


def test_a_server_fault_is_not_kept_so_the_retry_runs(s: Setup) -> None:
    """A real fault, not a simulated one: the database refuses the write (its table is gone)."""
    body = {"configId": s.config_id, "count": 1}
    _rename_table(s.api, "audit_log", "audit_log_away")
    try:
        failed = s.post(body, "fault")
    finally:
        _rename_table(s.api, "audit_log_away", "audit_log")
    assert failed.status_code == 500, failed.text
    assert failed.json()["status"] == -1
    assert _count(s.api) == 0  # the failed request's transaction left nothing behind
    retried = s.post(body, "fault")
    assert REPLAYED not in retried.headers
    assert len(_serials(retried)) == 1
    assert _count(s.api) == 1
    assert s.post(body, "fault").headers[REPLAYED] == "true"


def test_read_only_calls_ignore_the_key(s: Setup) -> None:
    for _ in range(2):
        reply = s.post({}, "list-key", path=f"{V2}/programs/list")
        assert reply.status_code == 200
        assert REPLAYED not in reply.headers
        listed = s.post({"configId": s.config_id}, "list-key", path=f"{V2}/entitlements/list")
        assert listed.status_code == 200
        assert REPLAYED not in listed.headers
    assert _keys(s.api) == []


@pytest.mark.parametrize("key", ["k1", "x" * 201])
def test_an_unauthenticated_request_with_a_key_is_the_usual_401_C2(s: Setup, key: str) -> None:
    reply = s.post({"configId": s.config_id, "count": 1}, key, token="not-a-token")
    assert reply.status_code == 401
    assert reply.json() == {"status": -1, "message": "Invalid security token.", "error": None}
    assert _keys(s.api) == []
    assert _count(s.api) == 0


@pytest.mark.parametrize("key", ["", "x" * 201, "naïve"], ids=["empty", "too-long", "non-ascii"])
def test_an_unusable_key_is_a_400(s: Setup, key: str) -> None:
    headers = {"Authorization": f"Bearer {s.token}", "Idempotency-Key": key.encode()}
    reply = s.api.http.post(VM_CREATE, json={"configId": s.config_id}, headers=headers)
    _error(reply, 400, 1001)
    assert _count(s.api) == 0


def test_concurrent_requests_with_one_key_run_once(s: Setup) -> None:
    body = {"configId": s.config_id, "count": 25}
    start = threading.Barrier(4)

    def send(_: int) -> httpx.Response:
        start.wait()
        return s.post(body, "race")

    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(send, range(4)))

    assert _count(s.api) == 25
    answered = [r for r in replies if r.status_code == 200]
    assert len(answered) >= 1
    assert len({tuple(_serials(r)) for r in answered}) == 1
    assert sum(REPLAYED not in r.headers for r in answered) <= 1
    for reply in replies:
        if reply.status_code != 200:
            _error(reply, 409, IdempotencyKeyInProgress.code)


def _hold_key(s: Setup, key: str, body: dict[str, Any]) -> tuple[int, str]:
    """Take a key as another process would while its request runs."""
    with s.api.rt.engine.connect() as conn:
        user_id = conn.execute(
            select(oauth_tokens.c.api_user_id).where(
                oauth_tokens.c.token_hash == token_hash(s.token)
            )
        ).scalar_one()
    digest = idempotency.request_hash("POST", VM_CREATE, json.dumps(body).encode())
    assert key_store.claim(s.api.rt, user_id, key, digest) is key_store.Outcome.CLAIMED
    return user_id, digest


def test_a_request_whose_key_is_held_waits_then_gets_409_in_progress(s: Setup) -> None:
    s.api.rt.settings.idempotency_wait_seconds = 0.3
    body = {"configId": s.config_id, "count": 2}
    _hold_key(s, "held", body)

    reply = s.post(body, "held")

    message = _error(reply, 409, IdempotencyKeyInProgress.code)
    assert "in progress" in message
    assert reply.headers["Retry-After"] == "1"
    assert _count(s.api) == 0


def test_a_waiting_request_gets_the_answer_once_the_holder_finishes(s: Setup) -> None:
    body = {"configId": s.config_id, "count": 2}
    user_id, digest = _hold_key(s, "held", body)
    answer = json.dumps({"status": 0, "message": "from the holder", "error": None})
    timer = threading.Timer(
        0.3, key_store.store, args=(s.api.rt, user_id, "held", digest, 200, answer)
    )
    timer.start()
    try:
        reply = s.post(body, "held")
    finally:
        timer.join()
    assert reply.headers[REPLAYED] == "true"
    assert reply.json()["message"] == "from the holder"


def test_an_abandoned_key_is_free_again_after_its_lease(s: Setup) -> None:
    s.api.rt.settings.idempotency_wait_seconds = 0
    body = {"configId": s.config_id, "count": 2}
    _hold_key(s, "crashed", body)
    assert s.post(body, "crashed").status_code == 409
    _advance(s.api, timedelta(seconds=s.api.rt.settings.idempotency_lease_seconds + 1))
    reply = s.post(body, "crashed")
    assert len(_serials(reply)) == 2
    assert REPLAYED not in reply.headers


def test_keys_expire_after_24_hours(s: Setup) -> None:
    body = {"configId": s.config_id, "count": 2}
    first = _serials(s.post(body, "daily"))
    _advance(s.api, timedelta(hours=23, minutes=59))
    s = s.sign_in_again()  # the first access token has expired
    assert _serials(s.post(body, "daily")) == first
    _advance(s.api, timedelta(minutes=2))
    again = s.post(body, "daily")
    assert REPLAYED not in again.headers
    assert set(_serials(again)).isdisjoint(first)
    assert _count(s.api) == 4


def test_every_read_only_path_is_a_served_route_and_the_rest_mutate(api: Api) -> None:
    paths = api.http.get("/api/pointflex/openapi.json").json()["paths"]
    served = {path for path, ops in paths.items() if path.startswith("/ES/api/") and "post" in ops}
    assert idempotency.READ_ONLY.issubset(served)
    mutating = {path for path in served if idempotency.is_mutating("POST", path)}
    assert f"{V2}/entitlements/vm/create" in mutating
    assert f"{V2}/configs/create" in mutating
    assert mutating == served - idempotency.READ_ONLY
    assert not idempotency.is_mutating("GET", f"{V2}/entitlements/vm/create")
    assert not idempotency.is_mutating("POST", "/es/api//fortiflex/v2/programs/list/")
