"""tools/calc and tools/metadata over real HTTP (spec §4.22, §4.23, §5.6; R20, R21).

The shipped illustrative price lists take effect on 2026-01-01 and 2027-01-01; the first one
reproduces the two public figures (FortiGate-VM Enterprise bundle: 6.39 points/day with
2 vCPUs, 12.91 with 4), the second raises the 2-vCPU Enterprise bundle to 6.59.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from pointflex.clock import ManualClock
from pointflex.domain.programs import ProgramKind
from pointflex.services.access.accounts import create_organization
from pointflex.services.access.api_users import Permission
from pointflex.services.context import read
from pointflex.services.points import programs
from pointflex.services.points.prices import price_book
from tests.api.conftest import Api
from tests.builders import FGT_ENT_2, OPERATOR, world

CALC_KEYS = ["current", "latest", "latestEffectiveDate"]


def _assert_error(reply: Any, http_status: int, text: str | None = None) -> dict[str, Any]:
    assert reply.status_code == http_status, reply.text
    body: dict[str, Any] = reply.json()
    assert body["status"] == -1
    assert isinstance(body["error"], dict)
    assert "errorCode" in body["error"]
    if text is not None:
        assert text in body["message"]
    return body


# --------------------------------------------------------------------------- tools/calc


def test_calc_answers_under_points_and_configs_as_the_cse_collection_asks_C14_Q3(
    api: Api,
) -> None:
    w = world(api.rt)
    token = api.user(Permission.READONLY, account_id=w.root)  # a query: READONLY may ask
    body = {
        "programSerialNumber": w.prepaid,
        "count": "3",  # CSE sends numeric strings (C6)
        "productTypeId": "1",
        "parameters": [{"id": "1", "value": 2}, {"id": 2, "value": "ENT"}],
    }
    reply = api.call("tools/calc", body, token)
    assert reply.status_code == 200, reply.text
    data = reply.json()
    assert list(data) == ["status", "message", "error", "points", "configs"]
    assert data["points"] == data["configs"]
    assert list(data["points"]) == CALC_KEYS
    assert data["points"] == {
        "current": 19.17,  # 3 × 6.39 on 2 March 2026
        "latest": 19.77,  # 3 × 6.59 from the list effective 2027-01-01
        "latestEffectiveDate": "2027-01-01 00:00:00",
    }
    # The same figures as the price book the accrual charges with (R20, R21).
    with read(api.rt) as conn:
        book = price_book(conn)
    values = api.rt.catalog.parse_parameters(1, FGT_ENT_2)
    current, latest, effective = book.calc(1, values, 3, date(2026, 3, 2))
    assert (float(current), float(latest or 0), effective) == (19.17, 19.77, date(2027, 1, 1))


def test_calc_count_defaults_to_one_and_whole_amounts_are_integers(api: Api) -> None:
    w = world(api.rt)
    token = api.user(account_id=w.root)
    base = {"programSerialNumber": w.prepaid, "productTypeId": 1}
    ent = api.call("tools/calc", {**base, "parameters": FGT_ENT_2}, token).json()["points"]
    assert (ent["current"], ent["latest"]) == (6.39, 6.59)
    fc = [{"id": 1, "value": 1}, {"id": 2, "value": "FC"}]
    whole = api.call("tools/calc", {**base, "parameters": fc, "count": None}, token).json()
    assert whole["points"]["current"] == 1
    assert type(whole["points"]["current"]) is int


def test_calc_has_no_latest_when_no_later_price_is_scheduled_R21(
    api: Api, clock: ManualClock
) -> None:
    w = world(api.rt, start=date(2026, 1, 1), end=date(2028, 1, 1))
    clock.set(datetime(2027, 3, 1, 18, 0, tzinfo=UTC))
    token = api.user(account_id=w.root)
    body = {"programSerialNumber": w.prepaid, "productTypeId": 1, "parameters": FGT_ENT_2}
    result = api.call("tools/calc", body, token).json()["points"]
    assert result == {"current": 6.59, "latest": None, "latestEffectiveDate": None}


def test_calc_prices_today_in_the_programs_time_zone(api: Api, clock: ManualClock) -> None:
    # 2026-12-31 20:00 UTC is still 31 December in California but already 1 January 2027 in
    # Auckland: a program billed in Auckland time gets the new price.
    clock.set(datetime(2026, 12, 31, 20, 0, tzinfo=UTC))
    org = create_organization(api.rt, OPERATOR, "Kiwi", "Kiwi root")
    nz = programs.register_program(
        api.rt,
        OPERATOR,
        account_id=org.id,
        kind=ProgramKind.PREPAID,
        start_date=date(2026, 1, 1),
        end_date=date(2028, 1, 1),
        timezone="Pacific/Auckland",
    )
    w = world(api.rt, start=date(2026, 1, 1), end=date(2028, 1, 1))
    body = {"productTypeId": 1, "parameters": FGT_ENT_2}
    kiwi = api.user(account_id=org.id)
    pacific = api.user(account_id=w.root)
    in_nz = api.call("tools/calc", {**body, "programSerialNumber": nz.serial}, kiwi).json()
    in_ca = api.call("tools/calc", {**body, "programSerialNumber": w.prepaid}, pacific).json()
    assert in_nz["points"] == {"current": 6.59, "latest": None, "latestEffectiveDate": None}
    assert in_ca["points"]["current"] == 6.39
    assert in_ca["points"]["latestEffectiveDate"] == "2027-01-01 00:00:00"


@pytest.mark.parametrize(
    ("change", "http_status", "message"),
    [
        ({"programSerialNumber": None}, 400, "programSerialNumber is required"),
        ({"productTypeId": None}, 400, "productTypeId is required"),
        ({"productTypeId": 999}, 400, "product type 999 does not exist"),
        ({"parameters": None}, 400, "parameters is required"),
        ({"parameters": "1=2"}, 400, "parameters must be a list"),
        (
            {"parameters": [{"id": 1, "value": 200}, {"id": 2, "value": "ENT"}]},
            400,
            "Parameter id 1",
        ),
        ({"parameters": [{"id": 1, "value": 2}]}, 400, "Parameter id 2"),
        ({"count": "0"}, 400, "count must be at least 1"),
        ({"count": -2}, 400, "count must be at least 1"),
        ({"count": "two"}, 400, "count must be a whole number"),
        ({"programSerialNumber": "ELAVMR9999999999"}, 404, "not found"),
    ],
)
def test_calc_refuses_bad_input_C15(
    api: Api, change: dict[str, Any], http_status: int, message: str
) -> None:
    w = world(api.rt)
    token = api.user(account_id=w.root)
    body = {
        "programSerialNumber": w.prepaid,
        "productTypeId": 1,
        "parameters": FGT_ENT_2,
        "count": 2,
        **change,
    }
    _assert_error(api.call("tools/calc", body, token), http_status, message)


def test_calc_of_a_cloud_product_needs_count_one(api: Api) -> None:
    w = world(api.rt)
    token = api.user(account_id=w.root)
    body = {
        "programSerialNumber": w.prepaid,
        "productTypeId": 209,
        "parameters": [{"id": 66, "value": 10}],
    }
    _assert_error(api.call("tools/calc", {**body, "count": 2}, token), 400, "count must be 1")
    reply = api.call("tools/calc", {**body, "count": 1}, token)
    assert reply.status_code == 200
    assert reply.json()["points"]["current"] > 0


def test_calc_on_another_organisations_program_is_404_R63(api: Api) -> None:
    ours = world(api.rt)
    theirs = world(api.rt)
    outsider = api.user(account_id=theirs.root)
    body = {"programSerialNumber": ours.prepaid, "productTypeId": 1, "parameters": FGT_ENT_2}
    reply = _assert_error(api.call("tools/calc", body, outsider), 404)
    assert "points" not in reply
    assert "configs" not in reply
    # A member account sees its organisation's program (registered to the root, R65).
    member = api.user(account_id=ours.member)
    assert api.call("tools/calc", body, member).status_code == 200


# --------------------------------------------------------------------------- tools/metadata


def test_metadata_takes_no_body_an_empty_object_or_an_empty_list(api: Api) -> None:
    w = world(api.rt)
    token = api.user(Permission.READONLY, account_id=w.member)
    replies = [api.call("tools/metadata", body, token) for body in (None, {}, [])]
    assert all(r.status_code == 200 for r in replies)
    first = replies[0].json()
    assert all(r.json() == first for r in replies)
    assert list(first) == ["status", "message", "error", "productTypes"]
    assert first["message"] == "Request processed successfully."
    assert first["productTypes"] == api.rt.catalog.metadata()


def test_metadata_has_the_oas_shape_and_covers_the_catalogue(api: Api) -> None:
    w = world(api.rt)
    token = api.user(account_id=w.root)
    products = api.call("tools/metadata", {}, token).json()["productTypes"]
    assert [p["productTypeId"] for p in products] == [p.id for p in api.rt.catalog.products()]
    fgt = products[0]
    assert list(fgt) == ["productTypeId", "name", "formFactor", "parameters"]
    assert fgt["formFactor"] == {"formFactorId": 1, "name": "Virtual Machines"}
    cpu = fgt["parameters"][0]
    assert list(cpu) == [
        "parameterId",
        "name",
        "type",
        "minValue",
        "maxValue",
        "step",
        "validValues",
    ]
    assert (cpu["parameterId"], cpu["type"], cpu["minValue"], cpu["maxValue"]) == (
        1,
        "NUMERIC",
        1,
        96,
    )
    kinds = {p["type"] for product in products for p in product["parameters"]}
    assert kinds == {"NUMERIC", "SINGLEVALUE", "MULTIVALUE", "READONLY"}
    for product in products:
        for param in product["parameters"]:
            if param["type"] != "NUMERIC":
                assert (param["minValue"], param["maxValue"], param["step"]) == (None, None, None)
            assert all(list(v) == ["value", "description"] for v in param["validValues"])


def test_tools_need_a_token_C2(api: Api) -> None:
    for endpoint in ("tools/calc", "tools/metadata"):
        reply = api.call(endpoint, {}, None)
        assert reply.status_code == 401
        assert reply.json() == {"status": -1, "message": "Invalid security token.", "error": None}


# --------------------------------------------------------------------------- OpenAPI document

DOCUMENTED = {
    "/ES/api/fortiflex/v2/configs/list": {"programSerialNumber", "accountId"},
    "/ES/api/fortiflex/v2/configs/create": {
        "programSerialNumber",
        "name",
        "productTypeId",
        "parameters",
        "accountId",
    },
    "/ES/api/fortiflex/v2/configs/update": {"id", "name", "parameters"},
    "/ES/api/fortiflex/v2/configs/enable": {"id"},
    "/ES/api/fortiflex/v2/configs/disable": {"id"},
    "/ES/api/fortiflex/v2/groups/list": {"accountId"},
    "/ES/api/fortiflex/v2/groups/nexttoken": {"configId", "folderPath", "accountId", "status"},
    "/ES/api/fortiflex/v2/tools/calc": {
        "programSerialNumber",
        "productTypeId",
        "parameters",
        "count",
    },
    "/ES/api/fortiflex/v2/tools/metadata": set(),
    "/ES/api/flexvm/v1/groups/list": set(),
    "/ES/api/flexvm/v1/groups/nexttoken": {"configId", "folderPath", "accountId", "status"},
}


def test_openapi_document_describes_every_request_body(api: Api) -> None:
    reply = api.http.get("/api/pointflex/openapi.json")
    assert reply.status_code == 200
    paths = reply.json()["paths"]
    for path, fields in DOCUMENTED.items():
        operation = paths[path]["post"]
        assert operation["summary"], path
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        assert set(schema.get("properties", {})) == fields, path
        assert "example" in schema, path
        assert "$ref" not in str(schema), path
        assert "$defs" not in str(schema), path
    required = paths["/ES/api/fortiflex/v2/configs/create"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]["required"]
    assert set(required) == {"programSerialNumber", "name", "productTypeId", "parameters"}
    items = paths["/ES/api/fortiflex/v2/configs/create"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]["properties"]["parameters"]["items"]
    assert set(items["properties"]) == {"id", "value"}
