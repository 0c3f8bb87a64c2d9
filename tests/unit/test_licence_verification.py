"""pointflex_verify: genuine licences and answers verify; everything else is refused.

Keys are generated here and documents signed by a tiny local helper, so these tests pin the
wire contract of ``docs/licence-protocol.md`` without the server's code.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from pointflex_verify import (
    ANSWER_CONTEXT,
    LICENCE_CONTEXT,
    KeySet,
    VerificationError,
    b64url_decode,
    b64url_encode,
    canonical_bytes,
    parse_instant,
    signed_message,
    verify_answer,
    verify_licence,
)

KID = "k-20261127-3f9a1c"
OTHER_KID = "k-20261201-77aa00"
INSTANCE = "4c9e6a3e-1d55-4f6e-9a0b-2f1c3d4e5f60"
NONCE = "q8Zk" + "A" * 28
LICENCE_ID = "lic_0f4e"
SERIAL = "FGVMMLTM26000001"


def public_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return b64url_encode(raw)


def sign(
    key: Ed25519PrivateKey, context: bytes, payload: dict[str, Any], kid: str = KID
) -> dict[str, Any]:
    """The server's side of the contract, in four lines."""
    signature = key.sign(signed_message(context, payload))
    return {"payload": payload, "kid": kid, "sig": b64url_encode(signature)}


def licence_payload(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "licence",
        "version": 1,
        "kid": KID,
        "nonce": NONCE,
        "licenceId": LICENCE_ID,
        "serialNumber": SERIAL,
        "accountId": 12345,
        "instanceId": INSTANCE,
        "productType": {"id": 1, "name": "FortiGate Virtual Machine - Service Bundle"},
        "sizing": {"vcpus": 2, "parameters": [{"id": 1, "name": "CPU", "value": "2"}]},
        "issuedAt": "2026-11-27T10:00:00Z",
        "expiresAt": "2027-01-01T08:00:00Z",
        "validationIntervalSeconds": 3600,
    }
    payload.update(changes)
    return payload


def answer_payload(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "answer",
        "version": 1,
        "kid": KID,
        "nonce": NONCE,
        "verdict": "VALID",
        "reason": None,
        "licenceId": LICENCE_ID,
        "serialNumber": SERIAL,
        "instanceId": INSTANCE,
        "checkedAt": "2026-11-27T11:00:00Z",
        "sizing": {"vcpus": 2, "parameters": []},
        "expiresAt": "2027-01-01T08:00:00Z",
        "validationIntervalSeconds": 3600,
    }
    payload.update(changes)
    return payload


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def other_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def keys(key: Ed25519PrivateKey) -> KeySet:
    return KeySet.of([(KID, key.public_key())])


@pytest.fixture
def licence(key: Ed25519PrivateKey) -> dict[str, Any]:
    return sign(key, LICENCE_CONTEXT, licence_payload())


@pytest.fixture
def answer(key: Ed25519PrivateKey) -> dict[str, Any]:
    return sign(key, ANSWER_CONTEXT, answer_payload())


# --- genuine documents ------------------------------------------------------------------------


def test_a_genuine_licence_verifies(licence: dict[str, Any], keys: KeySet) -> None:
    payload = verify_licence(licence, keys, instance_id=INSTANCE, nonce=NONCE)
    assert payload["licenceId"] == LICENCE_ID
    assert payload["sizing"]["vcpus"] == 2


def test_a_licence_verifies_without_instance_or_nonce(
    licence: dict[str, Any], keys: KeySet
) -> None:
    # Later, offline: the stored licence is checked without the request that fetched it.
    assert verify_licence(licence, keys)["serialNumber"] == SERIAL


def test_a_genuine_answer_verifies(answer: dict[str, Any], keys: KeySet) -> None:
    payload = verify_answer(answer, keys, nonce=NONCE, instance_id=INSTANCE, licence_id=LICENCE_ID)
    assert payload["verdict"] == "VALID"


@pytest.mark.parametrize("verdict", ["STOPPED", "EXPIRED", "SUPERSEDED", "DUPLICATE", "UNKNOWN"])
def test_every_documented_verdict_verifies(
    key: Ed25519PrivateKey, keys: KeySet, verdict: str
) -> None:
    document = sign(key, ANSWER_CONTEXT, answer_payload(verdict=verdict, sizing=None))
    assert verify_answer(document, keys, nonce=NONCE)["verdict"] == verdict


def test_a_retired_key_still_verifies_what_it_signed(
    key: Ed25519PrivateKey, other_key: Ed25519PrivateKey
) -> None:
    keys = KeySet.of([(KID, key.public_key()), (OTHER_KID, other_key.public_key())])
    old = sign(key, LICENCE_CONTEXT, licence_payload())
    new = sign(other_key, LICENCE_CONTEXT, licence_payload(kid=OTHER_KID), kid=OTHER_KID)
    assert verify_licence(old, keys)["kid"] == KID
    assert verify_licence(new, keys)["kid"] == OTHER_KID


# --- refused documents ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sizing", {"vcpus": 16, "parameters": []}),
        ("expiresAt", "2099-01-01T00:00:00Z"),
        ("serialNumber", "FGVMMLTM26000002"),
        ("validationIntervalSeconds", 360000),
        ("accountId", 1),
    ],
)
def test_a_tampered_licence_field_is_refused(
    licence: dict[str, Any], keys: KeySet, field: str, value: Any
) -> None:
    licence["payload"][field] = value
    with pytest.raises(VerificationError, match="signature"):
        verify_licence(licence, keys)


def test_a_tampered_verdict_is_refused(answer: dict[str, Any], keys: KeySet) -> None:
    answer["payload"]["verdict"] = "STOPPED"
    with pytest.raises(VerificationError, match="signature"):
        verify_answer(answer, keys, nonce=NONCE)


def test_a_tampered_signature_is_refused(licence: dict[str, Any], keys: KeySet) -> None:
    raw = bytearray(b64url_decode(licence["sig"]))
    raw[0] ^= 1
    licence["sig"] = b64url_encode(bytes(raw))
    with pytest.raises(VerificationError, match="signature"):
        verify_licence(licence, keys)


def test_a_document_signed_by_another_key_is_refused(
    other_key: Ed25519PrivateKey, keys: KeySet
) -> None:
    forged = sign(other_key, LICENCE_CONTEXT, licence_payload())  # claims the genuine kid
    with pytest.raises(VerificationError, match="signature"):
        verify_licence(forged, keys)


def test_an_unknown_key_id_is_refused(other_key: Ed25519PrivateKey, keys: KeySet) -> None:
    document = sign(other_key, LICENCE_CONTEXT, licence_payload(kid=OTHER_KID), kid=OTHER_KID)
    with pytest.raises(VerificationError, match="unknown key id"):
        verify_licence(document, keys)


def test_a_licence_presented_as_an_answer_is_refused(key: Ed25519PrivateKey, keys: KeySet) -> None:
    # Same signer, same fields an answer has: only the signing context tells them apart.
    document = sign(key, LICENCE_CONTEXT, answer_payload())
    with pytest.raises(VerificationError, match="signature"):
        verify_answer(document, keys, nonce=NONCE)


def test_an_answer_presented_as_a_licence_is_refused(answer: dict[str, Any], keys: KeySet) -> None:
    with pytest.raises(VerificationError, match="signature"):
        verify_licence(answer, keys)


def test_a_payload_of_the_wrong_type_is_refused_even_when_signed(
    key: Ed25519PrivateKey, keys: KeySet
) -> None:
    document = sign(key, ANSWER_CONTEXT, answer_payload(type="licence"))
    with pytest.raises(VerificationError, match="not a version 1 answer"):
        verify_answer(document, keys, nonce=NONCE)


def test_another_protocol_version_is_refused(key: Ed25519PrivateKey, keys: KeySet) -> None:
    document = sign(key, LICENCE_CONTEXT, licence_payload(version=2))
    with pytest.raises(VerificationError, match="not a version 1 licence"):
        verify_licence(document, keys)


def test_a_replayed_answer_is_refused(answer: dict[str, Any], keys: KeySet) -> None:
    # The answer was genuine for an earlier request; this request sent another nonce.
    with pytest.raises(VerificationError, match="nonce"):
        verify_answer(answer, keys, nonce="another-nonce-" + "B" * 20)


def test_a_licence_for_another_request_is_refused(licence: dict[str, Any], keys: KeySet) -> None:
    with pytest.raises(VerificationError, match="nonce"):
        verify_licence(licence, keys, nonce="another-nonce-" + "B" * 20)


def test_a_licence_of_another_instance_is_refused(licence: dict[str, Any], keys: KeySet) -> None:
    with pytest.raises(VerificationError, match="instanceId"):
        verify_licence(licence, keys, instance_id="a-copied-vm")


def test_an_answer_for_another_instance_or_licence_is_refused(
    answer: dict[str, Any], keys: KeySet
) -> None:
    with pytest.raises(VerificationError, match="instanceId"):
        verify_answer(answer, keys, nonce=NONCE, instance_id="a-copied-vm")
    with pytest.raises(VerificationError, match="licenceId"):
        verify_answer(answer, keys, nonce=NONCE, licence_id="lic_other")


def test_a_key_id_inside_that_differs_from_outside_is_refused(
    key: Ed25519PrivateKey, other_key: Ed25519PrivateKey
) -> None:
    keys = KeySet.of([(KID, key.public_key()), (OTHER_KID, other_key.public_key())])
    # Correctly signed by OTHER_KID's key, but the payload names KID.
    document = sign(other_key, LICENCE_CONTEXT, licence_payload(kid=KID), kid=OTHER_KID)
    with pytest.raises(VerificationError, match="key id outside"):
        verify_licence(document, keys)


def test_a_payload_with_a_float_is_refused(licence: dict[str, Any], keys: KeySet) -> None:
    licence["payload"]["sizing"] = {"vcpus": 2.0, "parameters": []}
    with pytest.raises(VerificationError, match="canonically"):
        verify_licence(licence, keys)


@pytest.mark.parametrize(
    "sig",
    ["", "a", "!!!!", "not base64 at all", "é" * 86, "+/+/", "abc=d"],
)
def test_a_malformed_signature_encoding_is_refused(
    licence: dict[str, Any], keys: KeySet, sig: str
) -> None:
    licence["sig"] = sig
    with pytest.raises(VerificationError):
        verify_licence(licence, keys)


@pytest.mark.parametrize("junk", ["!!!!", "    ", "\n\n\n\n", "..=="])
def test_junk_inside_a_genuine_signature_is_refused(
    licence: dict[str, Any], keys: KeySet, junk: str
) -> None:
    # A lenient decoder drops the junk and accepts the same signature spelled another way.
    licence["sig"] = licence["sig"][:10] + junk + licence["sig"][10:]
    with pytest.raises(VerificationError, match="base64url"):
        verify_licence(licence, keys)


def test_a_signature_in_the_standard_alphabet_is_refused(
    key: Ed25519PrivateKey, keys: KeySet
) -> None:
    # Find a signature that uses the URL-safe characters, then spell it with "+" and "/".
    nonce = NONCE
    for attempt in range(200):
        nonce = f"{NONCE[:-3]}{attempt:03d}"
        document = sign(key, LICENCE_CONTEXT, licence_payload(nonce=nonce))
        if "-" in document["sig"] or "_" in document["sig"]:
            break
    document["sig"] = document["sig"].replace("-", "+").replace("_", "/")
    with pytest.raises(VerificationError, match="base64url"):
        verify_licence(document, keys)


@pytest.mark.parametrize("missing", ["payload", "kid", "sig"])
def test_a_document_missing_a_part_is_refused(
    licence: dict[str, Any], keys: KeySet, missing: str
) -> None:
    del licence[missing]
    with pytest.raises(VerificationError, match="holds 'payload', 'kid' and 'sig'"):
        verify_licence(licence, keys)


@pytest.mark.parametrize("document", [None, [], "licence", 42])
def test_a_document_that_is_not_an_object_is_refused(document: Any, keys: KeySet) -> None:
    with pytest.raises(VerificationError):
        verify_licence(document, keys)


@pytest.mark.parametrize("missing", ["type", "version", "kid", "nonce", "instanceId"])
def test_a_signed_licence_missing_a_field_is_refused(
    key: Ed25519PrivateKey, keys: KeySet, missing: str
) -> None:
    payload = licence_payload()
    del payload[missing]
    document = sign(key, LICENCE_CONTEXT, payload)
    with pytest.raises(VerificationError):
        verify_licence(document, keys, instance_id=INSTANCE, nonce=NONCE)


@pytest.mark.parametrize("verdict", ["MAYBE", "valid", None, 1])
def test_an_unknown_or_missing_verdict_is_refused(
    key: Ed25519PrivateKey, keys: KeySet, verdict: Any
) -> None:
    payload = answer_payload(verdict=verdict)
    if verdict is None:
        del payload["verdict"]
    document = sign(key, ANSWER_CONTEXT, payload)
    with pytest.raises(VerificationError, match="unknown verdict"):
        verify_answer(document, keys, nonce=NONCE)


# --- key documents ----------------------------------------------------------------------------


def key_entry(kid: str, public_key: str, algorithm: str = "Ed25519") -> dict[str, Any]:
    return {
        "kid": kid,
        "algorithm": algorithm,
        "publicKey": public_key,
        "createdAt": "2026-11-27T10:00:00Z",
        "retiredAt": None,
    }


def test_a_key_document_is_read_by_key_id(
    key: Ed25519PrivateKey, other_key: Ed25519PrivateKey, licence: dict[str, Any]
) -> None:
    document = {
        "keys": [key_entry(KID, public_b64(key)), key_entry(OTHER_KID, public_b64(other_key))]
    }
    keys = KeySet.from_document(document)
    assert set(keys.keys) == {KID, OTHER_KID}
    assert verify_licence(licence, keys)["kid"] == KID


def test_keys_of_other_algorithms_are_ignored(key: Ed25519PrivateKey) -> None:
    document = {
        "keys": [
            key_entry("k-rsa", "AAAA", algorithm="RS256"),
            key_entry("k-none", "", algorithm="none"),
            "not an entry",
            key_entry(KID, public_b64(key)),
        ]
    }
    assert set(KeySet.from_document(document).keys) == {KID}


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_a_key_of_the_wrong_length_is_refused(length: int) -> None:
    document = {"keys": [key_entry(KID, b64url_encode(b"\x01" * length))]}
    with pytest.raises(VerificationError, match="32-byte"):
        KeySet.from_document(document)


def test_a_key_that_is_not_base64url_is_refused() -> None:
    with pytest.raises(VerificationError, match="base64url"):
        KeySet.from_document({"keys": [key_entry(KID, "not base64!")]})


@pytest.mark.parametrize("kid", [None, "", 7])
def test_a_key_without_a_usable_key_id_is_refused(key: Ed25519PrivateKey, kid: Any) -> None:
    entry = key_entry("x", public_b64(key))
    if kid is None:
        del entry["kid"]
    else:
        entry["kid"] = kid
    with pytest.raises(VerificationError, match="key id"):
        KeySet.from_document({"keys": [entry]})


@pytest.mark.parametrize("document", [{}, {"keys": {}}, {"keys": "x"}, [], None])
def test_a_key_document_without_a_key_list_is_refused(document: Any) -> None:
    with pytest.raises(VerificationError):
        KeySet.from_document(document)


def test_a_key_set_refuses_unknown_ids(keys: KeySet) -> None:
    with pytest.raises(VerificationError, match="unknown key id"):
        keys.get(OTHER_KID)


# --- canonical form and helpers ---------------------------------------------------------------


def test_canonical_bytes_do_not_depend_on_key_order() -> None:
    one = {"b": 1, "a": {"y": [1, 2, {"d": "x", "c": None}], "x": True}, "é": "ü"}
    two = {"é": "ü", "a": {"x": True, "y": [1, 2, {"c": None, "d": "x"}]}, "b": 1}
    assert canonical_bytes(one) == canonical_bytes(two)
    assert canonical_bytes(one) == (
        '{"a":{"x":true,"y":[1,2,{"c":null,"d":"x"}]},"b":1,"é":"ü"}'.encode()
    )


def test_key_order_does_not_change_what_verifies(licence: dict[str, Any], keys: KeySet) -> None:
    licence["payload"] = dict(reversed(list(copy.deepcopy(licence["payload"]).items())))
    assert verify_licence(licence, keys)["licenceId"] == LICENCE_ID


@pytest.mark.parametrize("value", [1.5, float("nan"), [0.0], {"x": {"y": 2.25}}])
def test_canonical_bytes_refuse_floats(value: Any) -> None:
    with pytest.raises(ValueError, match="floats"):
        canonical_bytes({"value": value})


def test_the_signed_message_names_its_context() -> None:
    assert signed_message(ANSWER_CONTEXT, {"a": 1}) == b'pointflex-answer-v1\n{"a":1}'
    assert signed_message(LICENCE_CONTEXT, {"a": 1}) == b'pointflex-licence-v1\n{"a":1}'


def test_base64url_round_trips_without_padding() -> None:
    for size in range(0, 70):
        data = bytes(range(size))
        text = b64url_encode(data)
        assert "=" not in text
        assert b64url_decode(text) == data


def test_instants_have_one_form() -> None:
    assert parse_instant("2026-11-27T10:00:00Z").isoformat() == "2026-11-27T10:00:00+00:00"
    for bad in ["2026-11-27T10:00:00", "2026-11-27 10:00:00Z", "2026-11-27T10:00:00.5Z", None]:
        with pytest.raises(VerificationError, match="bad instant"):
            parse_instant(bad)  # type: ignore[arg-type]
