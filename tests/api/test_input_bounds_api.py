"""Whole numbers out of the id range, or spelled with non-ASCII digits, are a 400, never a 500.

Found by schemathesis (tests/api/test_schemathesis_api.py): ``{"configId":
414217042492495626240}`` on entitlements/cloud/create reached the database driver, which
refused it with an overflow error (SQLite) or an out-of-range error (PostgreSQL): a 500.
"""

from __future__ import annotations

from typing import Any

from pointflex.api.fortiflex.inputs import WIRE_INT_MAX
from tests.api.conftest import Api
from tests.builders import config, world

TOO_BIG: list[Any] = [
    414217042492495626240,  # schemathesis's example: beyond SQLite's 64 bits
    WIRE_INT_MAX + 1,  # beyond PostgreSQL's 32-bit integer columns
    -WIRE_INT_MAX - 1,
    str(2**70),
    "9" * 5000,  # int() refuses more than 4300 digits with a ValueError
    1e300,
]
NOT_A_NUMBER: list[Any] = ["²", "--5", "٣", "1_000"]  # str.isdigit() takes the first three


def refused(api: Api, token: str, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = api.call(endpoint, body, token)
    assert reply.status_code == 400, reply.text
    data: dict[str, Any] = reply.json()
    assert data["status"] == -1, data
    assert data["error"]["errorCode"] == 1001, data
    return data


def test_an_id_beyond_the_id_range_is_refused_as_out_of_range(api: Api) -> None:
    w = world(api.rt)
    token = api.user(account_id=w.root)
    for value in TOO_BIG:
        for endpoint, field in (
            ("entitlements/cloud/create", "configId"),
            ("entitlements/vm/create", "configId"),
            ("configs/disable", "id"),
            ("configs/list", "accountId"),
        ):
            body = {"programSerialNumber": w.prepaid, field: value}
            data = refused(api, token, endpoint, body)
            assert data["message"] == f"{field} is out of range"


def test_a_number_in_other_than_ascii_digits_is_refused(api: Api) -> None:
    w = world(api.rt)
    token = api.user(account_id=w.root)
    for value in NOT_A_NUMBER:
        data = refused(api, token, "configs/disable", {"id": value})
        assert data["message"].startswith("id must be a whole number"), value


def test_ids_at_the_edge_of_the_range_are_looked_up_and_not_found(api: Api) -> None:
    w = world(api.rt)
    token = api.user(account_id=w.root)
    for value in (WIRE_INT_MAX, str(WIRE_INT_MAX), -WIRE_INT_MAX):
        reply = api.call("configs/disable", {"id": value}, token)
        assert reply.status_code == 404, reply.text


def test_a_count_given_as_a_numeric_string_still_works(api: Api) -> None:
    w = world(api.rt)
    vm = config(api.rt, w.prepaid)
    token = api.user(account_id=w.root)
    reply = api.call("entitlements/vm/create", {"configId": str(vm.id), "count": " 2 "}, token)
    assert reply.status_code == 200, reply.text
    assert len(reply.json()["entitlements"]) == 2


def test_a_nul_character_in_a_body_is_refused_not_sent_to_the_database(api: Api) -> None:
    """Found by schemathesis on PostgreSQL: {"serialNumbers": ["\\u0000"]} on
    entitlements/hardware/remove reached PostgreSQL, whose text cannot hold NUL: a 500."""
    w = world(api.rt)
    token = api.user(account_id=w.root)
    for endpoint, body in (
        ("entitlements/hardware/remove", {"serialNumbers": ["\x00"]}),
        ("entitlements/stop", {"serialNumber": "FGT\x00"}),
        ("programs/points", {"programSerialNumber": w.prepaid + "\x00"}),
        ("configs/list", {"programSerialNumber": w.prepaid, "x\x00": 1}),
    ):
        data = refused(api, token, endpoint, body)
        assert "NUL" in data["message"], data
    licence = api.http.post(
        "/api/license/v1/validate",
        json={"serialNumber": "\x00", "instanceId": "i", "nonce": "n" * 20},
    )
    assert licence.status_code == 400, licence.text


def test_a_nul_character_in_sign_in_credentials_is_refused(api: Api) -> None:
    reply = api.http.post(
        "/api/v1/oauth/token/",
        json={
            "username": "a\x00",
            "password": "b",
            "client_id": "flexvm",
            "grant_type": "password",
        },
    )
    assert reply.status_code in (400, 401), reply.text
    assert reply.json()["status"] == "error"


def test_a_nul_character_in_a_path_or_query_is_refused_before_routing(api: Api) -> None:
    w = world(api.rt)
    headers = {"Authorization": f"Bearer {api.user(account_id=w.root)}"}
    for url in (
        "/api/pointflex/v1/programs/%00/forecast",
        f"/api/pointflex/v1/programs/{w.prepaid}/forecast?x=%00",
        "/assets/%00",  # the portal's paths too
    ):
        reply = api.http.get(url, headers=headers)
        assert reply.status_code == 400, (url, reply.text)
        assert "NUL" in reply.json()["message"]
    # "%2500" is a percent sign followed by 00, not a NUL
    plain = api.http.get(
        f"/api/pointflex/v1/programs/{w.prepaid}/forecast?x=%2500", headers=headers
    )
    assert plain.status_code == 200, plain.text
