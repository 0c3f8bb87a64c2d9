"""programs/list and programs/points over real HTTP (spec §4.1, §4.2)."""

from __future__ import annotations

from pointflex.services.points import programs
from tests.api.conftest import Api
from tests.builders import OPERATOR, world


def test_programs_list_accepts_no_body_and_returns_the_envelope_C4(api: Api) -> None:
    w = world(api.rt)
    token = api.user(organization_id=_org(api, w.root))
    reply = api.call("programs/list", None, token)
    assert reply.status_code == 200
    body = reply.json()
    assert (body["status"], body["error"]) == (0, None)
    assert {p["serialNumber"] for p in body["programs"]} == {w.prepaid, w.postpaid}
    first = body["programs"][0]
    assert list(first) == [
        "accountId",
        "serialNumber",
        "startDate",
        "endDate",
        "hasSupportCoverage",
    ]
    assert first["startDate"] == "2026-01-01 00:00:00"


def test_programs_points_gives_an_integer_balance_R4(api: Api) -> None:
    w = world(api.rt)
    programs.add_pack(api.rt, OPERATOR, w.prepaid, 10_000)
    token = api.user(account_id=w.root)
    reply = api.call("programs/points", {"programSerialNumber": w.prepaid}, token)
    assert reply.json()["programs"] == [
        {"accountId": w.root, "serialNumber": w.prepaid, "pointBalance": 10000}
    ]
    postpaid = api.call("programs/points", {"programSerialNumber": w.postpaid}, token)
    assert postpaid.status_code == 409
    assert postpaid.json()["status"] == -1
    assert "errorCode" in postpaid.json()["error"]


def test_missing_or_unknown_token_gets_the_exact_invalid_token_reply_C2(api: Api) -> None:
    for token in (None, "not-a-token"):
        reply = api.call("programs/list", {}, token)
        assert reply.status_code == 401
        assert reply.json() == {"status": -1, "message": "Invalid security token.", "error": None}


def test_paths_are_lenient_about_case_slashes_and_trailing_slash_C5(api: Api) -> None:
    w = world(api.rt)
    token = api.user(account_id=w.root)
    headers = {"Authorization": f"Bearer {token}"}
    for path in ("/es/api/fortiflex/v2/programs/list", "/ES/api//fortiflex/v2/programs/list/"):
        reply = api.http.post(path, json=[], headers=headers)
        assert reply.status_code == 200, path
        assert reply.json()["status"] == 0


def _org(api: Api, account_id: int) -> int:
    from pointflex.services.access.accounts import get_account

    with api.rt.engine.connect() as conn:
        return get_account(conn, account_id).organization_id
