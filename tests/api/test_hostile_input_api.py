"""What a hostile or unlucky caller sends gets a 400/413 envelope, never a 500, and changes
nothing: deep nesting, lone surrogates in any string of any endpoint, oversized bodies, far
statement months, over-long serial lists (issue: a fresh clone passes, no 500 from hostile
input). Each reply is checked, and so is every table of the database, before and after."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from pointflex.api.json_input import DEPTH_MESSAGE, MAX_DEPTH, SURROGATE_MESSAGE
from pointflex.bootstrap import Runtime
from pointflex.config import Settings
from pointflex.services.access.accounts import get_account
from pointflex.services.points import programs
from pointflex.store.tables import metadata
from tests.api.conftest import TOKEN_PATH, V2, Api
from tests.builders import OPERATOR, config, world

LICENCE = "/api/license/v1"


def fingerprint(rt: Runtime) -> dict[str, int]:
    """Row counts of every table: a refused request must leave each one as it was."""
    with rt.engine.connect() as conn:
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
            if table.name not in ("auth_failures",)  # a refused sign-in is counted, by design
        }


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Hundreds of calls from one API user in seconds would meet the per-user rate limit."""
    return settings.model_copy(update={"rate_limit_per_second": 0})


@dataclass
class Target:
    """Everything the requests below need: a signed-in user, ids and serials that exist."""

    api: Api
    token: str
    body_of: dict[str, dict[str, Any]]

    def __repr__(self) -> str:  # Hypothesis prints it with every failing example
        return f"Target({len(self.body_of)} endpoints)"

    def post(self, path: str, content: bytes, *, auth: bool = True) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        return self.api.http.post(path, content=content, headers=headers)


@pytest.fixture
def target(api: Api) -> Target:
    w = world(api.rt)
    programs.add_pack(api.rt, OPERATOR, w.prepaid, 10_000)
    vm = config(api.rt, w.prepaid)
    with api.rt.engine.connect() as conn:
        organization = get_account(conn, w.root).organization_id
    token = api.user(organization_id=organization)  # transfers go to the member account
    created = api.call("entitlements/vm/create", {"configId": vm.id, "count": 1}, token)
    serial = created.json()["entitlements"][0]["serialNumber"]
    parameters = [{"id": 1, "value": "2"}, {"id": 2, "value": "ENT"}]
    bodies: dict[str, dict[str, Any]] = {
        f"{V2}/programs/points": {"programSerialNumber": w.prepaid},
        f"{V2}/configs/list": {"programSerialNumber": w.prepaid},
        f"{V2}/configs/create": {
            "programSerialNumber": w.prepaid,
            "name": "fgt",
            "productTypeId": 1,
            "parameters": parameters,
        },
        f"{V2}/configs/update": {"id": vm.id, "name": "renamed", "parameters": parameters},
        f"{V2}/entitlements/list": {"configId": vm.id, "serialNumber": serial},
        f"{V2}/entitlements/vm/create": {
            "configId": vm.id,
            "count": 1,
            "description": "more",
            "folderPath": "My Assets/lab",
            "endDate": "2026-12-01",
        },
        f"{V2}/entitlements/hardware/create": {
            "configId": vm.id,
            "serialNumbers": ["FGT60FTK21000001"],
        },
        f"{V2}/entitlements/cloud/create": {"configId": vm.id, "description": "edr"},
        f"{V2}/entitlements/update": {
            "serialNumber": serial,
            "description": "changed",
            "endDate": "2026-11-01",
        },
        f"{V2}/entitlements/stop": {"serialNumber": serial},
        f"{V2}/entitlements/reactivate": {"serialNumber": serial},
        f"{V2}/entitlements/vm/token": {"serialNumber": serial},
        f"{V2}/entitlements/points": {
            "configId": vm.id,
            "startDate": "2026-03-01",
            "endDate": "2026-03-02",
        },
        f"{V2}/entitlements/transfer": {
            "serialNumbers": [serial],
            "accountId": w.member,
            "programSerialNumber": w.prepaid,
        },
        f"{V2}/entitlements/hardware/remove": {"serialNumbers": ["FGT60FTK21000001"]},
        f"{V2}/groups/list": {"accountId": str(w.root)},  # Ansible sends ids as strings
        f"{V2}/groups/nexttoken": {"configId": vm.id, "folderPath": "My Assets"},
        f"{V2}/tools/calc": {
            "programSerialNumber": w.prepaid,
            "productTypeId": 1,
            "parameters": parameters,
        },
        TOKEN_PATH: {
            "username": "SOMEONE",
            "password": "secret",
            "client_id": "flexvm",
            "grant_type": "password",
        },
        f"{LICENCE}/activate": {
            "token": "D42B57491175A7B9BAD8",
            "instanceId": "vm-1",
            "productVersion": "7.2.3",
            "nonce": "q8Zk3vT1xW9yLmN2pR5s",
        },
        f"{LICENCE}/validate": {
            "licenceId": "lic_0f4e9a8b7c6d5e4f3a2b1c0d9e8f7a6b",
            "serialNumber": serial,
            "instanceId": "vm-1",
            "nonce": "Vb7Qm2Xc9Lp4Rt6Wz8Ny",
        },
    }
    return Target(api, token, bodies)


def string_leaves(value: Any, where: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The location of every string in a JSON value (keys are tried separately)."""
    if isinstance(value, str):
        yield where
    elif isinstance(value, dict):
        for key, sub in value.items():
            yield from string_leaves(sub, (*where, key))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            yield from string_leaves(sub, (*where, index))


def replaced(value: Any, where: tuple[Any, ...], text: str) -> Any:
    if not where:
        return text
    head, *rest = where
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = replaced(value[head], tuple(rest), text)
    return copy


def assert_refused(reply: httpx.Response, path: str, status: int, message: str) -> None:
    assert reply.status_code == status, (path, reply.status_code, reply.text)
    body = reply.json()
    if path == TOKEN_PATH:  # the token service answers in the OAuth shape (spec §2.3)
        assert (body["status"], body["error"], body["message"]) == (
            "error",
            "invalid_request",
            message,
        )
        return
    assert body["status"] == -1, (path, body)
    assert body["message"] == message, (path, body)
    assert body["error"]["errorCode"] == 1001, (path, body)


# A lone surrogate somewhere in otherwise ordinary text.
SURROGATE_TEXT = st.builds(
    lambda before, lone, after: before + lone + after,
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=5),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=5),
)


@hypothesis_settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), text=SURROGATE_TEXT, as_key=st.booleans())
def test_a_lone_surrogate_in_any_string_of_any_endpoint_is_refused(
    target: Target, data: st.DataObject, text: str, as_key: bool
) -> None:
    path = data.draw(st.sampled_from(sorted(target.body_of)), label="path")
    body = target.body_of[path]
    if as_key:
        body = {**body, text: "x"}
    else:
        where = data.draw(st.sampled_from(list(string_leaves(body))), label="field")
        body = replaced(body, where, text)
    before = fingerprint(target.api.rt)
    reply = target.post(path, json.dumps(body).encode())  # \\udXXX escapes, as JSON allows
    assert_refused(reply, path, 400, SURROGATE_MESSAGE)
    assert fingerprint(target.api.rt) == before


def test_every_endpoint_of_the_surrogate_test_accepts_its_template(target: Target) -> None:
    """The templates are real requests: without the surrogate none is refused as input, so the
    refusals above come from the surrogate and nothing else."""
    for path, body in target.body_of.items():
        reply = target.post(path, json.dumps(body).encode())
        assert reply.status_code < 500, (path, reply.text)
        assert SURROGATE_MESSAGE not in reply.text, path


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_deeply_nested_json_is_refused_signed_in_or_not(target: Target, opening: str) -> None:
    deep = (opening * 50_000).encode()
    before = fingerprint(target.api.rt)
    for path in sorted(target.body_of):
        signed_in = target.post(path, deep)
        assert_refused(signed_in, path, 400, _nesting_refusal(path))
        anonymous = target.post(path, deep, auth=False)
        assert anonymous.status_code in (400, 401), (path, anonymous.text)
    assert fingerprint(target.api.rt) == before


def _nesting_refusal(path: str) -> str:
    # The token service takes JSON or a form: a body that is neither carries no credentials.
    return "username and password are required" if path == TOKEN_PATH else DEPTH_MESSAGE


def test_nesting_past_the_limit_inside_a_field_is_refused(target: Target) -> None:
    """Well-formed JSON nested just past MAX_DEPTH (no RecursionError): refused by the check."""
    path = f"{V2}/entitlements/list"
    nested: Any = "x"
    for _ in range(MAX_DEPTH):
        nested = [nested]
    body = {**target.body_of[path], "description": nested}
    assert_refused(target.post(path, json.dumps(body).encode()), path, 400, DEPTH_MESSAGE)
    shallow = {**target.body_of[path], "extra": [[["x"]]]}
    assert target.post(path, json.dumps(shallow).encode()).status_code == 200


def test_an_oversized_body_is_refused_with_413_before_it_is_read(target: Target) -> None:
    limit = target.api.rt.settings.max_request_bytes
    path = f"{V2}/entitlements/vm/create"
    body = {**target.body_of[path], "description": "x" * (limit + 10)}
    before = fingerprint(target.api.rt)
    reply = target.post(path, json.dumps(body).encode())
    assert reply.status_code == 413
    assert reply.json()["message"] == f"the request body is larger than {limit} bytes"
    assert reply.json()["error"]["errorCode"] == 1001

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        yield b'{"configId": 1, "description": "'
        for _ in range(limit // 65_536 + 2):
            yield b"y" * 65_536
        yield b'"}'

    streamed = target.api.http.post(
        path, content=chunks(), headers={"Authorization": f"Bearer {target.token}"}
    )
    assert streamed.status_code == 413
    assert fingerprint(target.api.rt) == before
    assert target.post(path, json.dumps(target.body_of[path]).encode()).status_code == 200


def test_a_body_just_under_the_limit_is_read(target: Target) -> None:
    limit = target.api.rt.settings.max_request_bytes
    path = f"{V2}/entitlements/list"
    padding = limit - len(json.dumps(target.body_of[path])) - 100
    body = {**target.body_of[path], "ignored": "z" * padding}
    assert target.post(path, json.dumps(body).encode()).status_code == 200


def statement_of(api: Api, month: str) -> httpx.Response:
    w = world(api.rt)
    token = api.user(account_id=w.root)
    return api.http.get(
        f"/api/pointflex/v1/programs/{w.prepaid}/statements/{month}",
        headers={"Authorization": f"Bearer {token}"},
    )


@pytest.mark.parametrize("month", ["9999-12", "0001-01", "1969-12", "10000-01", "٢٠٢٦-٠٥"])
def test_a_statement_month_out_of_range_is_a_400(api: Api, month: str) -> None:
    reply = statement_of(api, month)
    assert reply.status_code == 400, reply.text
    assert reply.json()["status"] == -1
    assert "month" in reply.json()["message"]


def test_a_statement_of_the_last_month_in_range_answers(api: Api) -> None:
    reply = statement_of(api, "9998-12")
    assert reply.status_code == 200, reply.text


def test_the_serial_limit_counts_repeats_as_sent(target: Target) -> None:
    limit = target.api.rt.settings.max_serials_per_request
    transfer = target.body_of[f"{V2}/entitlements/transfer"]
    serial = transfer["serialNumbers"][0]
    before = fingerprint(target.api.rt)
    for path, body in (
        (f"{V2}/entitlements/transfer", {**transfer, "serialNumbers": [serial] * (limit + 1)}),
        (f"{V2}/entitlements/hardware/remove", {"serialNumbers": ["FGT60FTK2100"] * (limit + 1)}),
    ):
        reply = target.post(path, json.dumps(body).encode())
        assert reply.status_code == 400, reply.text
        assert reply.json()["message"] == (
            f"serialNumbers may list at most {limit} serial numbers, got {limit + 1}"
        )
    assert fingerprint(target.api.rt) == before
    exactly = {**transfer, "serialNumbers": [serial] * limit}
    assert target.post(f"{V2}/entitlements/transfer", json.dumps(exactly).encode()).is_success
