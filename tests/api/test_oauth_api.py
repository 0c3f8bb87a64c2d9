"""The token service over real HTTP (spec §2, C1, C2; Q8)."""

from __future__ import annotations

import json
import string
from datetime import timedelta
from urllib.parse import urlencode

import httpx
import pytest

from pointflex.bootstrap import Runtime, build_runtime
from pointflex.clock import ManualClock
from pointflex.services.access import auth
from pointflex.services.access.api_users import (
    ApiUser,
    Permission,
    create_api_user,
    disable_api_user,
)
from pointflex.services.access.caller_cache import CallerCache, caller_cache
from tests.api.conftest import TOKEN_PATH, Api
from tests.builders import OPERATOR, World, world

INVALID_TOKEN = {"status": -1, "message": "Invalid security token.", "error": None}
VERIFY_PATH = "/api/v1/oauth/verify_token/?client_id=flexvm"


def _advance(api: Api, seconds: int) -> None:
    clock = api.rt.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(seconds=seconds))


def _user(api: Api, w: World) -> tuple[ApiUser, str]:
    return create_api_user(api.rt, OPERATOR, permission=Permission.READWRITE, account_id=w.root)


def _grant(user: ApiUser, password: str, **extra: str) -> dict[str, str]:
    return {
        "username": user.username,
        "password": password,
        "client_id": "flexvm",
        "grant_type": "password",
        **extra,
    }


def _sign_in(api: Api, body: dict[str, str], address: str | None = None) -> httpx.Response:
    """A sign-in, from ``address`` when given (uvicorn takes X-Forwarded-For from loopback,
    as it would from the reverse proxy in production)."""
    headers = {"X-Forwarded-For": address} if address else None
    return api.http.post(TOKEN_PATH, json=body, headers=headers)


def _refresh(api: Api, refresh_token: str) -> httpx.Response:
    body = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": "flexvm"}
    return api.http.post(TOKEN_PATH, json=body)


def _programs(api: Api, token: str) -> httpx.Response:
    return api.call("programs/list", {}, token)


def _assert_token_reply(reply: httpx.Response) -> None:
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert set(body) == {
        "access_token",
        "expires_in",
        "token_type",
        "scope",
        "refresh_token",
        "message",
        "status",
    }
    assert body["status"] == "success"  # a string here, unlike the FortiFlex API
    assert body["message"] == "successfully authenticated"
    assert body["expires_in"] == 3660
    assert isinstance(body["expires_in"], int)
    assert (body["token_type"], body["scope"]) == ("Bearer", "read write")
    alphanumeric = set(string.ascii_letters + string.digits)
    for name in ("access_token", "refresh_token"):
        assert isinstance(body[name], str)
        assert len(body[name]) == 30
        assert set(body[name]) <= alphanumeric
    assert body["access_token"] != body["refresh_token"]


def test_password_grant_as_json_returns_the_token_fields_of_the_spec(api: Api) -> None:
    w = world(api.rt)
    user, password = _user(api, w)
    reply = _sign_in(api, _grant(user, password))
    _assert_token_reply(reply)
    assert _programs(api, reply.json()["access_token"]).json()["status"] == 0


def test_password_grant_form_encoded_as_the_postman_collection_sends_it_C1(api: Api) -> None:
    w = world(api.rt)
    user, password = _user(api, w)
    reply = api.http.post(
        TOKEN_PATH,
        content=urlencode(_grant(user, password)),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    _assert_token_reply(reply)
    assert _programs(api, reply.json()["access_token"]).status_code == 200


@pytest.mark.parametrize(
    ("content_type", "form"),
    [
        (None, False),
        (None, True),
        ("text/plain", False),
        ("application/json", True),
        ("application/x-www-form-urlencoded", False),
    ],
    ids=["none-json", "none-form", "text-json", "json-header-form-body", "form-header-json-body"],
)
def test_a_missing_or_wrong_content_type_still_works(
    api: Api, content_type: str | None, form: bool
) -> None:
    w = world(api.rt)
    user, password = _user(api, w)
    grant = _grant(user, password)
    content = urlencode(grant) if form else json.dumps(grant)
    headers = {"Content-Type": content_type} if content_type else {}
    reply = api.http.post(TOKEN_PATH, content=content.encode(), headers=headers)
    _assert_token_reply(reply)


def test_refresh_returns_a_new_pair_and_spends_the_old_refresh_token(api: Api) -> None:
    w = world(api.rt)
    user, password = _user(api, w)
    first = _sign_in(api, _grant(user, password)).json()
    renewed = _refresh(api, first["refresh_token"])
    _assert_token_reply(renewed)
    pair = renewed.json()
    assert pair["access_token"] != first["access_token"]
    assert pair["refresh_token"] != first["refresh_token"]
    assert _programs(api, pair["access_token"]).status_code == 200
    # The new refresh token works in turn; the first one is spent.
    again = _refresh(api, pair["refresh_token"])
    assert again.status_code == 200
    assert _programs(api, again.json()["access_token"]).status_code == 200


def test_reusing_a_spent_refresh_token_revokes_every_token_of_the_user(api: Api) -> None:
    w = world(api.rt)
    user, password = _user(api, w)
    other_session = _sign_in(api, _grant(user, password)).json()
    first = _sign_in(api, _grant(user, password)).json()
    pair = _refresh(api, first["refresh_token"]).json()

    replayed = _refresh(api, first["refresh_token"])

    assert replayed.status_code == 401
    assert replayed.json()["error"] == "invalid_grant"
    for token in (pair["access_token"], other_session["access_token"], first["access_token"]):
        reply = _programs(api, token)
        assert (reply.status_code, reply.json()) == (401, INVALID_TOKEN)
    assert _refresh(api, pair["refresh_token"]).status_code == 401
    # The owner signs in again with the password.
    assert _sign_in(api, _grant(user, password)).status_code == 200


def test_a_refresh_token_is_not_an_access_token_and_vice_versa(api: Api) -> None:
    w = world(api.rt)
    user, password = _user(api, w)
    pair = _sign_in(api, _grant(user, password)).json()
    assert _programs(api, pair["refresh_token"]).status_code == 401
    assert _refresh(api, pair["access_token"]).status_code == 401


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"password": "wrong-password"}, "invalid_grant"),
        ({"username": "00000000-0000-0000-0000-000000000000"}, "invalid_grant"),
        ({"client_id": "assetmanagement"}, "invalid_grant"),
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
    ],
    ids=["bad-password", "unknown-user", "unknown-client", "unsupported-grant"],
)
def test_refused_sign_ins_are_401_with_an_oauth_error_body(
    api: Api, change: dict[str, str], error: str
) -> None:
    w = world(api.rt)
    user, password = _user(api, w)
    reply = _sign_in(api, {**_grant(user, password), **change})
    assert reply.status_code == 401
    body = reply.json()
    assert body["error"] == error
    assert isinstance(body["error_description"], str)
    assert body["error_description"]
    assert "access_token" not in body


@pytest.mark.parametrize(
    "body",
    [
        {"password": "x", "client_id": "flexvm", "grant_type": "password"},
        {"username": "X", "client_id": "flexvm", "grant_type": "password"},
        {"client_id": "flexvm", "grant_type": "refresh_token"},
    ],
    ids=["no-username", "no-password", "no-refresh-token"],
)
def test_a_malformed_token_request_is_400(api: Api, body: dict[str, str]) -> None:
    reply = _sign_in(api, body)
    assert reply.status_code == 400
    assert reply.json()["error"] == "invalid_request"
    assert reply.json()["error_description"]


def test_an_expired_token_gets_the_exact_invalid_token_reply_C2(api: Api) -> None:
    w = world(api.rt)
    user, password = _user(api, w)
    token = _sign_in(api, _grant(user, password)).json()["access_token"]
    _advance(api, 3659)
    assert _programs(api, token).status_code == 200
    _advance(api, 2)
    reply = _programs(api, token)
    assert reply.status_code == 401
    assert reply.json() == INVALID_TOKEN


def test_a_disabled_api_users_tokens_stop_working(api: Api) -> None:
    w = world(api.rt)
    user, password = _user(api, w)
    pair = _sign_in(api, _grant(user, password)).json()
    disable_api_user(api.rt, OPERATOR, user.username)
    reply = _programs(api, pair["access_token"])
    assert (reply.status_code, reply.json()) == (401, INVALID_TOKEN)
    assert _refresh(api, pair["refresh_token"]).status_code == 401
    refused = _sign_in(api, _grant(user, password))
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_grant"


def test_verify_token_tells_the_seconds_left(api: Api) -> None:
    w = world(api.rt)
    user, password = _user(api, w)
    token = _sign_in(api, _grant(user, password)).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    fresh = api.http.get(VERIFY_PATH, headers=headers)
    assert fresh.status_code == 200
    assert fresh.json()["expires_in"] == 3660
    _advance(api, 600)
    assert api.http.get(VERIFY_PATH, headers=headers).json()["expires_in"] == 3060
    assert api.http.get(VERIFY_PATH).status_code == 401
    assert api.http.get(VERIFY_PATH, headers={"Authorization": "Bearer nope"}).status_code == 401
    _advance(api, 3061)
    assert api.http.get(VERIFY_PATH, headers=headers).status_code == 401


def test_too_many_failures_for_one_user_from_one_address_throttle_even_the_right_password(
    api: Api,
) -> None:
    w = world(api.rt)
    user, password = _user(api, w)
    limit = api.rt.settings.auth_max_failures_per_user_address
    for _ in range(limit):
        assert _sign_in(api, _grant(user, "wrong")).status_code == 401

    throttled = _sign_in(api, _grant(user, password))

    assert throttled.status_code == 429
    assert throttled.json()["error"] == "slow_down"
    window = api.rt.settings.auth_window_seconds
    assert 1 <= int(throttled.headers["Retry-After"]) <= window + 1
    # Another user from the same address is not affected.
    other, other_password = _user(api, w)
    assert _sign_in(api, _grant(other, other_password)).status_code == 200
    # Once the window has passed, the right password works again.
    _advance(api, window + 1)
    assert _sign_in(api, _grant(user, password)).status_code == 200


ATTACKER, OWNER, BOTNET = "198.51.100.66", "203.0.113.10", "192.0.2."


def test_failures_from_another_address_never_lock_the_owner_out(api: Api) -> None:
    """Wrong passwords for a username from one address throttle that address for that user
    only: the owner's right password from elsewhere still signs in, however often it is
    renewed."""
    w = world(api.rt)
    user, password = _user(api, w)
    limit = api.rt.settings.auth_max_failures_per_user_address
    for _round in range(3):  # the attacker keeps renewing the throttle
        for _ in range(limit + 2):
            assert _sign_in(api, _grant(user, "wrong"), ATTACKER).status_code in (401, 429)
        assert _sign_in(api, _grant(user, password), ATTACKER).status_code == 429
        assert _sign_in(api, _grant(user, password), OWNER).status_code == 200
        _advance(api, 300)


def test_past_the_per_user_ceiling_only_clean_addresses_may_try(api: Api) -> None:
    """A guesser with many addresses: after the ceiling each of them is refused once it has
    failed, while the owner from an address with no failures still signs in."""
    api.rt.settings.auth_max_failures_per_user = 6
    w = world(api.rt)
    user, password = _user(api, w)
    for n in range(6):
        assert _sign_in(api, _grant(user, "wrong"), f"{BOTNET}{n}").status_code == 401
    again = _sign_in(api, _grant(user, password), f"{BOTNET}0")
    assert again.status_code == 429
    assert int(again.headers["Retry-After"]) >= 1
    assert _sign_in(api, _grant(user, "wrong"), f"{BOTNET}7").status_code == 401  # one guess
    assert _sign_in(api, _grant(user, password), f"{BOTNET}7").status_code == 429
    assert _sign_in(api, _grant(user, password), OWNER).status_code == 200


def test_too_many_failures_from_one_address_throttle_every_user(api: Api) -> None:
    api.rt.settings.auth_max_failures_per_address = 4
    w = world(api.rt)
    user, password = _user(api, w)
    for n in range(4):  # a different unknown user each time: only the address limit applies
        reply = _sign_in(api, {**_grant(user, "x"), "username": f"GUESS-{n}"})
        assert reply.status_code == 401

    throttled = _sign_in(api, _grant(user, password))

    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) >= 1
    assert _refresh(api, "anything").status_code == 429  # the refresh grant too
    _advance(api, api.rt.settings.auth_window_seconds + 1)
    assert _sign_in(api, _grant(user, password)).status_code == 200


def _another_process(api: Api) -> Runtime:
    """A second runtime on the same database, as another app process or the CLI would be."""
    return build_runtime(api.rt.settings, clock=api.rt.clock, engine=api.rt.engine)


def test_a_token_revoked_through_this_process_is_refused_at_once(api: Api) -> None:
    w = world(api.rt)
    user, password = _user(api, w)
    token = _sign_in(api, _grant(user, password)).json()["access_token"]
    assert _programs(api, token).status_code == 200  # now remembered by the server
    assert auth.revoke(api.rt, token)
    assert (_programs(api, token).status_code, _programs(api, token).json()) == (
        401,
        INVALID_TOKEN,
    )


def test_a_token_revoked_through_another_process_is_refused_within_the_cache_time(
    api: Api,
) -> None:
    w = world(api.rt)
    user, password = _user(api, w)
    token = _sign_in(api, _grant(user, password)).json()["access_token"]
    assert _programs(api, token).status_code == 200
    assert auth.revoke(_another_process(api), token)
    # The documented bound (docs/decisions.md): this process may still honour it briefly...
    assert _programs(api, token).status_code == 200
    _advance(api, int(api.rt.settings.auth_cache_seconds))
    # ...and never longer than auth_cache_seconds.
    assert _programs(api, token).status_code == 401


def test_with_the_cache_off_another_process_revocation_is_immediate(api: Api) -> None:
    caller_cache.put(api.rt, CallerCache(0))
    w = world(api.rt)
    user, password = _user(api, w)
    token = _sign_in(api, _grant(user, password)).json()["access_token"]
    assert _programs(api, token).status_code == 200
    assert auth.revoke(_another_process(api), token)
    assert _programs(api, token).status_code == 401
