"""The licence protocol over real HTTP: signatures, nonces, tampering, throttling, bad bodies."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from pointflex.config import Settings
from pointflex.services.entitlements import creation
from pointflex.services.entitlements.views import Entitlement
from pointflex.signing.keys import keyring
from pointflex_verify import KeySet, VerificationError, verify_answer, verify_licence
from tests.api.conftest import Api
from tests.builders import OPERATOR, config, world
from tests.conftest import SECRET

ACTIVATE = "/api/license/v1/activate"
VALIDATE = "/api/license/v1/validate"
WELL_KNOWN = "/.well-known/pointflex/keys.json"
ME = "4c9e2f0a-instance-a"
THROTTLE_LIMIT = 3


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """A low guessing limit, so that throttling is reached in a few calls."""
    return Settings(
        database_url=database_url,
        data_dir=tmp_path,
        secret_key=SECRET,
        licence_max_failures_per_address=THROTTLE_LIMIT,
    )


def nonce(tag: str) -> str:
    return f"{tag}-{'Z' * 20}"


def vm(api: Api) -> Entitlement:
    w = world(api.rt)
    (record,) = creation.create_vm(api.rt, OPERATOR, config_id=config(api.rt, w.prepaid).id)
    assert record.token is not None
    return record


def keys(api: Api) -> KeySet:
    reply = api.http.get(WELL_KNOWN)
    assert reply.status_code == 200, reply.text
    return KeySet.from_document(reply.json())


def activation(token: str, instance: str = ME, tag: str = "act") -> dict[str, Any]:
    return {
        "token": token,
        "instanceId": instance,
        "productVersion": "7.2.3",
        "hardwareVcpus": 2,
        "nonce": nonce(tag),
    }


def activate(api: Api, token: str, instance: str = ME, tag: str = "act") -> dict[str, Any]:
    reply = api.http.post(ACTIVATE, json=activation(token, instance, tag))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["status"], body["error"]) == (0, None)
    document: dict[str, Any] = body["licence"]
    return document


def validate(api: Api, licence: dict[str, Any], instance: str = ME, tag: str = "val") -> Any:
    body = {
        "licenceId": licence["licenceId"],
        "serialNumber": licence["serialNumber"],
        "instanceId": instance,
        "nonce": nonce(tag),
        "productVersion": "7.2.3",
    }
    reply = api.http.post(VALIDATE, json=body)
    assert reply.status_code == 200, reply.text
    return reply.json()["answer"]


def assert_envelope(reply: httpx.Response, status: int, code: int) -> None:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert body["status"] == -1, body
    assert body["error"]["errorCode"] == code, body
    assert body["message"]


def test_a_licence_over_http_verifies_against_the_published_keys(api: Api) -> None:
    record = vm(api)
    assert record.token is not None
    document = activate(api, record.token)
    payload = verify_licence(document, keys(api), instance_id=ME, nonce=nonce("act"))
    assert payload["serialNumber"] == record.serial
    assert payload["sizing"]["vcpus"] == 2
    assert document["kid"] == payload["kid"]


def test_both_key_locations_publish_the_same_keys_without_authentication(api: Api) -> None:
    keyring(api.rt).rotate()
    active = keyring(api.rt).rotate()
    well_known = api.http.get(WELL_KNOWN)
    api_keys = api.http.get("/api/license/v1/keys")
    assert well_known.json() == api_keys.json()
    entries = well_known.json()["keys"]
    assert len(entries) == 2
    assert [(e["kid"], e["retiredAt"] is None) for e in entries][-1] == (active.kid, True)
    assert entries[0]["retiredAt"] is not None
    assert {e["algorithm"] for e in entries} == {"Ed25519"}
    assert "max-age" in well_known.headers["cache-control"]


def test_a_validation_answer_echoes_the_nonce_and_verifies(api: Api) -> None:
    record = vm(api)
    assert record.token is not None
    licence = verify_licence(activate(api, record.token), keys(api))
    answer = verify_answer(
        validate(api, licence, tag="fresh"),
        keys(api),
        nonce=nonce("fresh"),
        instance_id=ME,
        licence_id=licence["licenceId"],
    )
    assert answer["verdict"] == "VALID"
    assert answer["nonce"] == nonce("fresh")
    assert answer["sizing"] == licence["sizing"]


def test_a_replayed_or_tampered_document_fails_verification(api: Api) -> None:
    record = vm(api)
    assert record.token is not None
    document = activate(api, record.token)
    keyset = keys(api)
    answer = validate(api, verify_licence(document, keyset), tag="first")
    with pytest.raises(VerificationError):  # a replay answers an older request
        verify_answer(answer, keyset, nonce=nonce("second"))
    raised = copy.deepcopy(document)
    raised["payload"]["sizing"]["vcpus"] = 96
    with pytest.raises(VerificationError):
        verify_licence(raised, keyset)
    forged = copy.deepcopy(answer)
    forged["payload"]["verdict"] = "STOPPED"
    with pytest.raises(VerificationError):
        verify_answer(forged, keyset, nonce=nonce("first"))
    with pytest.raises(VerificationError):  # a licence is never an answer
        verify_answer(document, keyset, nonce=nonce("act"))


def test_the_same_instance_retrying_over_http_gets_the_same_licence(api: Api) -> None:
    record = vm(api)
    assert record.token is not None
    first = verify_licence(activate(api, record.token, tag="one"), keys(api), nonce=nonce("one"))
    again = verify_licence(activate(api, record.token, tag="two"), keys(api), nonce=nonce("two"))
    assert first["licenceId"] == again["licenceId"]


def test_refusals_use_the_envelope_unknown_404_and_used_elsewhere_409(api: Api) -> None:
    record = vm(api)
    assert record.token is not None
    activate(api, record.token)
    assert_envelope(api.http.post(ACTIVATE, json=activation(record.token, "another")), 409, 1301)
    assert_envelope(api.http.post(ACTIVATE, json=activation("0" * 20)), 404, 1201)


def test_token_guessing_is_throttled_with_429_and_retry_after(api: Api) -> None:
    record = vm(api)
    assert record.token is not None
    for _ in range(THROTTLE_LIMIT):
        assert_envelope(api.http.post(ACTIVATE, json=activation("F" * 20)), 404, 1201)
    reply = api.http.post(ACTIVATE, json=activation(record.token))
    assert_envelope(reply, 429, 1104)
    assert (
        1 <= int(reply.headers["Retry-After"]) <= api.rt.settings.licence_failure_window_seconds + 1
    )


def test_unauthenticated_licence_routes_pass_the_api_user_middlewares(api: Api) -> None:
    """A bearer header or an Idempotency-Key (meant for the FortiFlex API) changes nothing."""
    record = vm(api)
    assert record.token is not None
    headers = {"Authorization": "Bearer not-a-token", "Idempotency-Key": "same-key"}
    reply = api.http.post(ACTIVATE, json=activation(record.token), headers=headers)
    assert reply.status_code == 200, reply.text
    licence = reply.json()["licence"]["payload"]
    for tag in ("one", "two"):  # the same key, other bodies: no 409 here
        body = {
            "licenceId": licence["licenceId"],
            "serialNumber": licence["serialNumber"],
            "instanceId": ME,
            "nonce": nonce(tag),
        }
        answer = api.http.post(VALIDATE, json=body, headers=headers)
        assert answer.status_code == 200, answer.text
        assert "Idempotent-Replayed" not in answer.headers
        verify_answer(answer.json()["answer"], keys(api), nonce=nonce(tag))


GOOD = {"token": "A" * 20, "instanceId": ME, "nonce": nonce("x")}
BAD_ACTIVATIONS: list[tuple[str, Any]] = [
    ("not json", "{token:"),
    ("an array", []),
    ("a number", 7),
    ("no token", {"instanceId": ME, "nonce": nonce("x")}),
    ("a numeric token", {**GOOD, "token": 1234}),
    ("a huge token", {**GOOD, "token": "A" * 5000}),
    ("no instance", {"token": "A" * 20, "nonce": nonce("x")}),
    ("an empty instance", {**GOOD, "instanceId": ""}),
    ("no nonce", {"token": "A" * 20, "instanceId": ME}),
    ("a short nonce", {**GOOD, "nonce": "abc"}),
    ("a nonce with spaces", {**GOOD, "nonce": "a b c d e f g h i j"}),
    ("a float vcpu", {**GOOD, "hardwareVcpus": 2.5}),
    ("zero vcpus", {**GOOD, "hardwareVcpus": 0}),
    ("text vcpus", {**GOOD, "hardwareVcpus": "many"}),
    ("a long version", {**GOOD, "productVersion": "7" * 41}),
]
CHECK = {"serialNumber": "FGVMMLTM26000001", "instanceId": ME, "nonce": nonce("x")}
BAD_VALIDATIONS: list[tuple[str, Any]] = [
    ("no body", None),
    ("no serial", {"instanceId": ME, "nonce": nonce("x")}),
    ("a bad nonce", {**CHECK, "nonce": "!" * 20}),
    ("a long licence id", {**CHECK, "licenceId": "l" * 41}),
    ("an object serial", {**CHECK, "serialNumber": {"a": 1}}),
]
CASES = [(ACTIVATE, body) for _, body in BAD_ACTIVATIONS] + [
    (VALIDATE, body) for _, body in BAD_VALIDATIONS
]
NAMES = [f"activate with {n}" for n, _ in BAD_ACTIVATIONS] + [
    f"validate with {n}" for n, _ in BAD_VALIDATIONS
]


@pytest.mark.parametrize(("path", "body"), CASES, ids=NAMES)
def test_a_bad_body_is_a_400_with_the_envelope_never_a_500(api: Api, path: str, body: Any) -> None:
    if isinstance(body, str):
        reply = api.http.post(path, content=body, headers={"Content-Type": "application/json"})
    elif body is None:
        reply = api.http.post(path)
    else:
        reply = api.http.post(path, json=body)
    assert_envelope(reply, 400, 1001)


def test_a_hardware_device_validates_without_a_licence(api: Api) -> None:
    w = world(api.rt)
    hw = config(
        api.rt,
        w.prepaid,
        [{"id": 27, "value": "FGT60F"}, {"id": 28, "value": "FGHWFC247"}],
        product=101,
        name="hw",
    )
    creation.create_hardware(api.rt, OPERATOR, config_id=hw.id, serials=["FGT60FTK19000077"])
    body = {"serialNumber": "FGT60FTK19000077", "instanceId": "fgt-box", "nonce": nonce("hw")}
    reply = api.http.post(VALIDATE, json=body)
    assert reply.status_code == 200, reply.text
    answer = verify_answer(reply.json()["answer"], keys(api), nonce=nonce("hw"))
    assert (answer["verdict"], answer["licenceId"]) == ("VALID", None)


def test_a_bad_field_is_named_in_the_400_message(api: Api) -> None:
    short = api.http.post(ACTIVATE, json={**GOOD, "nonce": "abc"})
    assert short.json()["message"].startswith("nonce: ")
    missing = api.http.post(VALIDATE, json={"instanceId": ME, "nonce": nonce("x")})
    assert missing.json()["message"] == "serialNumber: Field required"


def test_a_json_body_is_understood_whatever_its_content_type(api: Api) -> None:
    """Agents on appliances do not always label their bodies (as FortiFlex clients, §3.1)."""
    record = vm(api)
    assert record.token is not None
    body = json.dumps(activation(record.token))
    reply = api.http.post(ACTIVATE, content=body, headers={"Content-Type": "text/plain"})
    assert reply.status_code == 200, reply.text
    verify_licence(reply.json()["licence"], keys(api), nonce=nonce("act"))
