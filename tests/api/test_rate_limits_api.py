"""Rate limits per API user on FortiFlex calls, over real HTTP (and the bucket on its own)."""

from __future__ import annotations

import httpx
import pytest

from pointflex.api.ratelimit import RateLimiter
from pointflex.errors import Throttled
from tests.api.conftest import Api
from tests.builders import world


def _list(api: Api, token: str | None) -> httpx.Response:
    return api.call("programs/list", {}, token)


def _limit(api: Api, per_second: float, burst: int) -> None:
    api.rt.settings.rate_limit_per_second = per_second
    api.rt.settings.rate_limit_burst = burst


def test_calls_over_the_burst_get_429_with_the_envelope_and_retry_after(api: Api) -> None:
    w = world(api.rt)
    token = api.user(account_id=w.root)
    _limit(api, 0.5, 3)
    for _ in range(3):
        assert _list(api, token).status_code == 200

    refused = _list(api, token)

    assert refused.status_code == 429
    body = refused.json()
    assert body["status"] == -1
    assert body["error"]["errorCode"] == Throttled.code
    assert "rate limit" in body["message"]
    assert refused.headers["Retry-After"] == "2"  # one call refills in 2 s at 0.5/s
    assert refused.headers["X-Request-ID"]


def test_each_api_user_has_its_own_bucket(api: Api) -> None:
    w = world(api.rt)
    busy, other = api.user(account_id=w.root), api.user(account_id=w.root)
    _limit(api, 0.5, 2)
    assert [_list(api, busy).status_code for _ in range(3)] == [200, 200, 429]
    assert _list(api, other).status_code == 200


def test_the_bucket_refills_over_time(api: Api) -> None:
    ticks = api.rt.ticks = _FakeTime()  # the server's interval clock, moved by the test
    w = world(api.rt)
    token = api.user(account_id=w.root)
    _limit(api, 2, 2)
    assert [_list(api, token).status_code for _ in range(3)] == [200, 200, 429]
    ticks.now += 0.4  # less than one call's worth at 2/s
    assert _list(api, token).status_code == 429
    ticks.now += 0.2  # now more
    assert _list(api, token).status_code == 200


def test_mutating_calls_and_their_replays_count_too(api: Api) -> None:
    w = world(api.rt)
    token = api.user(account_id=w.root)
    _limit(api, 0.5, 2)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "k"}
    path = "/ES/api/fortiflex/v2/entitlements/stop"
    first = api.http.post(path, json={"serialNumber": "NOPE"}, headers=headers)
    again = api.http.post(path, json={"serialNumber": "NOPE"}, headers=headers)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert first.status_code == again.status_code != 429
    assert _list(api, token).status_code == 429


@pytest.mark.parametrize(("per_second", "burst"), [(0, 5), (5, 0)])
def test_zero_switches_the_limit_off(api: Api, per_second: float, burst: int) -> None:
    w = world(api.rt)
    token = api.user(account_id=w.root)
    _limit(api, per_second, burst)
    assert {_list(api, token).status_code for _ in range(12)} == {200}


def test_requests_without_a_valid_token_are_not_rate_limited_but_refused(api: Api) -> None:
    _limit(api, 0.5, 1)
    for token in (None, "not-a-token", None, "not-a-token"):
        reply = _list(api, token)
        assert reply.status_code == 401
        assert reply.json()["error"] is None


def test_the_token_service_is_not_rate_limited(api: Api) -> None:
    w = world(api.rt)
    _limit(api, 0.5, 1)
    tokens = [api.user(account_id=w.root) for _ in range(3)]
    assert len(set(tokens)) == 3


class _FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_token_bucket_refills_at_the_rate_up_to_the_burst() -> None:
    clock = _FakeTime()
    limiter = RateLimiter(clock)
    assert [limiter.take(1, 2.0, 3) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take(1, 2.0, 3) == pytest.approx(0.5)
    assert limiter.take(2, 2.0, 3) == 0.0  # another user
    clock.now += 0.5
    assert limiter.take(1, 2.0, 3) == 0.0
    assert limiter.take(1, 2.0, 3) == pytest.approx(0.5)
    clock.now += 3600  # a long pause refills to the burst, not beyond
    assert [limiter.take(1, 2.0, 3) for _ in range(4)][-1] == pytest.approx(0.5)
