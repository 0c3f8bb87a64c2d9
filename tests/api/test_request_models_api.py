"""Every FortiFlex request body is one pydantic model, of lenient wire types (spec §3.4): the
route's body parameter. Over real HTTP: what the models accept and refuse, the envelope of a
refusal, the order of the checks, and the OpenAPI document built from the same models."""

from __future__ import annotations

import typing
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from pointflex.api.fortiflex import (
    configs,
    entitlement_changes,
    entitlements,
    flexvm_v1,
    groups,
    programs,
    tools,
)
from pointflex.api.fortiflex.routing import WireRoute
from pointflex.asgi import FLEXVM_V1
from pointflex.services.access.api_users import Permission
from tests.api.conftest import V2, Api
from tests.api.entitlement_support import Scene, items, scene

INVALID_INPUT = 1001
INVALID_DATE = 1003


def refused(reply: httpx.Response, message: str, code: int = INVALID_INPUT) -> None:
    """The §3.3 envelope of a 400 whose message is exactly ``message``."""
    assert reply.status_code == 400, reply.text
    assert reply.json() == {
        "status": -1,
        "message": message,
        "error": {"errorCode": code, "message": message},
    }


@pytest.fixture
def s(api: Api) -> Scene:
    return scene(api)


# --------------------------------------------------------------------------- lenient types


def test_an_id_and_a_count_are_accepted_as_json_numbers_or_numeric_strings(s: Scene) -> None:
    for config_id, count in ((s.vm.id, 2), (str(s.vm.id), "2"), (f" {s.vm.id} ", 2.0)):
        created = items(s.call("entitlements/vm/create", {"configId": config_id, "count": count}))
        assert [e["configId"] for e in created] == [s.vm.id, s.vm.id]
    as_number = items(s.call("entitlements/list", {"configId": s.vm.id}))
    as_string = items(s.call("entitlements/list", {"configId": str(s.vm.id)}))
    assert as_number == as_string
    assert len(as_number) == 6
    for account in (s.w.root, str(s.w.root)):
        assert s.call("groups/list", {"accountId": account}).status_code == 200
    for config_id in (s.vm.id, str(s.vm.id)):
        assert s.call("configs/enable", {"id": config_id}).json()["configs"]["id"] == s.vm.id


@pytest.mark.parametrize(
    ("endpoint", "field", "extra"),
    [
        ("entitlements/vm/create", "configId", {}),
        ("entitlements/list", "accountId", {"programSerialNumber": "ELAVMR0000000101"}),
        ("configs/update", "id", {}),
        ("configs/list", "accountId", {"programSerialNumber": "ELAVMR0000000101"}),
        ("groups/list", "accountId", {}),
        ("groups/nexttoken", "configId", {}),
        ("entitlements/transfer", "targetConfigId", {"serialNumbers": ["FGVMMLTM26000001"]}),
    ],
)
def test_a_non_numeric_id_is_refused_in_the_envelope_naming_the_field(
    s: Scene, endpoint: str, field: str, extra: dict[str, Any]
) -> None:
    reply = s.call(endpoint, {**extra, field: "4x2"})
    refused(reply, f"{field} must be a whole number, not '4x2'")


def test_a_count_that_is_not_a_number_is_refused_naming_it(s: Scene) -> None:
    body = {"configId": s.vm.id, "count": "three"}
    refused(s.call("entitlements/vm/create", body), "count must be a whole number, not 'three'")
    flagged = {**body, "count": True}  # JSON true is not 1
    refused(s.call("entitlements/vm/create", flagged), "count must be a whole number")


@pytest.mark.parametrize(
    ("endpoint", "body", "field"),
    [
        ("entitlements/hardware/create", {"configId": 1}, "serialNumbers"),
        ("entitlements/stop", {}, "serialNumber"),
        ("entitlements/vm/token", {"serialNumber": "  "}, "serialNumber"),
        ("entitlements/points", {"configId": 1, "endDate": "2026-03-31"}, "startDate"),
        ("programs/points", {}, "programSerialNumber"),
        ("configs/create", {"programSerialNumber": "ELAVMR0000000101"}, "name"),
        ("tools/calc", {"programSerialNumber": "ELAVMR0000000101"}, "productTypeId"),
        ("groups/list", {}, "accountId"),
    ],
)
def test_a_missing_required_field_is_refused_naming_it_whether_absent_or_null(
    s: Scene, endpoint: str, body: dict[str, Any], field: str
) -> None:
    refused(s.call(endpoint, body), f"{field} is required")
    refused(s.call(endpoint, {**body, field: None}), f"{field} is required")


@pytest.mark.parametrize(
    ("endpoint", "body", "message"),
    [
        (
            "entitlements/hardware/create",
            {"configId": 1, "serialNumbers": {"serial": "FGT60FTK19000010"}},
            "serialNumbers must be a list of strings",
        ),
        (
            "entitlements/hardware/remove",
            {"serialNumbers": [["FGT60FTK19000010"]]},
            "serialNumbers must be a list of strings",
        ),
        ("groups/nexttoken", {"configId": 1, "status": 5}, "status must be a list of strings"),
        (
            "tools/calc",
            {"programSerialNumber": "P", "productTypeId": 1, "parameters": "1=2"},
            "parameters must be a list of {id, value} objects",
        ),
    ],
)
def test_a_list_field_of_the_wrong_type_is_refused_naming_it(
    s: Scene, endpoint: str, body: dict[str, Any], message: str
) -> None:
    refused(s.call(endpoint, body), message)


def test_a_single_string_is_taken_as_a_list_of_one(s: Scene) -> None:
    (serial,) = s.vm_serials(1)
    body = {"configId": s.vm.id, "status": "PENDING"}
    found = items(s.call("groups/nexttoken", body), 1)
    assert found[0]["serialNumber"] == serial


def test_a_date_in_no_supported_format_is_an_invalid_date_naming_the_field(s: Scene) -> None:
    reply = s.call("entitlements/vm/create", {"configId": s.vm.id, "endDate": "soon"})
    message = "endDate: date 'soon' is not in a supported format (e.g. 2026-05-31)"
    refused(reply, message, INVALID_DATE)


def test_blank_and_null_optional_fields_mean_absent(s: Scene) -> None:
    (serial,) = s.vm_serials(1)
    body = {"configId": s.vm.id, "accountId": "", "status": "", "description": None}
    assert [e["serialNumber"] for e in items(s.call("entitlements/list", body))] == [serial]
    created = items(s.call("entitlements/vm/create", {"configId": s.vm.id, "endDate": ""}))
    assert created[0]["endDate"] == "2027-01-01 00:00:00"  # the program's end (C18)


def test_unknown_keys_are_ignored(s: Scene) -> None:
    body = {"configId": s.vm.id, "count": 1, "vendorExtra": {"nested": [1, 2]}, "x": None}
    assert len(items(s.call("entitlements/vm/create", body))) == 1


# --------------------------------------------------------------------------- order of checks


def test_a_body_that_cannot_be_decoded_is_refused_only_after_the_token(s: Scene) -> None:
    for endpoint in ("entitlements/vm/create", "programs/points", "groups/list"):
        url = f"{V2}/{endpoint}"
        anonymous = s.api.http.post(url, content=b"{")
        assert anonymous.status_code == 401, (endpoint, anonymous.text)
        assert anonymous.json()["message"] == "Invalid security token."
        signed_in = s.api.http.post(
            url, content=b"{", headers={"Authorization": f"Bearer {s.token}"}
        )
        refused(signed_in, "the request body is not valid JSON")


def test_a_read_only_caller_is_refused_before_its_body_is_validated(s: Scene) -> None:
    reader = s.user(Permission.READONLY)
    for endpoint in ("entitlements/stop", "entitlements/vm/create", "configs/update"):
        reply = s.call(endpoint, {"serialNumber": {"x": 1}, "configId": "abc", "id": []}, reader)
        assert reply.status_code == 403, (endpoint, reply.text)


def test_a_json_body_is_read_whatever_its_content_type(s: Scene) -> None:
    headers = {"Authorization": f"Bearer {s.token}", "Content-Type": "text/plain"}
    body = b'{"configId": "%d"}' % s.vm.id
    reply = s.api.http.post(f"{V2}/entitlements/vm/create", content=body, headers=headers)
    assert reply.status_code == 200, reply.text


# --------------------------------------------------------------------------- OpenAPI document


MOUNTED = {
    V2: (programs, configs, entitlements, entitlement_changes, groups, tools),
    FLEXVM_V1: (flexvm_v1,),
}


def _request_models() -> dict[str, type[BaseModel]]:
    """Path -> the request model that is the body parameter of its route."""
    found: dict[str, type[BaseModel]] = {}
    for prefix, modules in MOUNTED.items():
        for route in (route for module in modules for route in module.router.routes):
            assert isinstance(route, WireRoute), route
            found[prefix + route.path] = typing.get_type_hints(route.endpoint)["body"]
    return found


def test_the_openapi_document_describes_each_request_body_from_its_model(api: Api) -> None:
    paths = api.http.get("/api/pointflex/openapi.json").json()["paths"]
    models = _request_models()
    fortiflex = {path for path, item in paths.items() if path.startswith("/ES/api/")}
    assert set(models) == fortiflex  # every FortiFlex route validates its body with a model
    for path, model in models.items():
        schema = paths[path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        declared = model.model_json_schema()
        assert schema["title"] == declared["title"], path
        assert schema["properties"] == _without_nulls(declared["properties"]), path
        assert set(schema.get("required", [])) == set(declared.get("required", [])), path
    vm_create = paths[f"{V2}/entitlements/vm/create"]["post"]["requestBody"]["content"]
    body = vm_create["application/json"]["schema"]
    assert {"configId", "count"} <= set(body["properties"])
    assert body["required"] == ["configId"]
    assert {"type": "string", "pattern": r"^\s*-?[0-9]+\s*$"} in body["properties"]["configId"][
        "anyOf"
    ]


def _without_nulls(node: Any) -> Any:
    """A schema as FastAPI writes it into the document: without null values ("default": null)."""
    if isinstance(node, dict):
        return {key: _without_nulls(value) for key, value in node.items() if value is not None}
    if isinstance(node, list):
        return [_without_nulls(item) for item in node]
    return node


def test_a_request_model_is_not_left_behind_as_a_component(api: Api) -> None:
    document = api.http.get("/api/pointflex/openapi.json").json()
    components = set(document["components"]["schemas"])
    assert not components & {model.__name__ for model in _request_models().values()}
    assert not components & {"RequestedEnd", "HTTPValidationError"}
