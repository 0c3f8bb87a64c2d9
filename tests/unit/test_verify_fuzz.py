"""pointflex_verify under Hypothesis: whatever arrives, only VerificationError comes out, and
nothing but the genuine, unmodified document for this request verifies.

Derandomised (a fixed seed per test) with a bounded number of examples, so CI runs the same
cases every time in a few seconds. The signing key is fixed too.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

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

FUZZ = settings(
    derandomize=True,
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
KID = "k-20261127-3f9a1c"
OTHER_KID = "k-20261201-77aa00"
NONCE = "q8Zk3vT1xW9yLmN2pR5s"
INSTANCE = "4c9e2f0a-7d1b-4e8a-9f3c-2b6d5e1a0c47"
KEYS = KeySet.of([(KID, KEY.public_key()), (OTHER_KID, OTHER_KEY.public_key())])

# --------------------------------------------------------------------------- strategies

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=16,
)
# Values a signed payload may hold: no floats (canonical_bytes refuses them).
exact_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=16,
)
# Documents shaped like signed ones, with any of the three fields of any type.
document_like = st.fixed_dictionaries(
    {},
    optional={
        "payload": json_values | st.dictionaries(st.text(max_size=8), json_values, max_size=6),
        "kid": st.sampled_from([KID, OTHER_KID, ""]) | json_values,
        "sig": st.text(alphabet="ABCDEFGHabcdefgh0123456789-_=+/", max_size=90) | json_values,
    },
)
anything = json_values | document_like | st.binary(max_size=64)
extra_fields = st.dictionaries(
    st.text(max_size=10).filter(lambda k: k not in ("type", "version", "kid", "nonce")),
    exact_values,
    max_size=4,
)


def licence_payload(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        **(extra or {}),
        "type": "licence",
        "version": 1,
        "kid": KID,
        "nonce": NONCE,
        "licenceId": "lic_0f4e",
        "serialNumber": "FGVMMLTM26000001",
        "instanceId": INSTANCE,
        "sizing": {"vcpus": 2, "parameters": [{"id": 1, "name": "CPU", "value": "2"}]},
        "issuedAt": "2026-11-27T10:00:00Z",
        "expiresAt": None,
    }


def answer_payload() -> dict[str, Any]:
    return {
        "type": "answer",
        "version": 1,
        "kid": KID,
        "nonce": NONCE,
        "verdict": "VALID",
        "licenceId": "lic_0f4e",
        "serialNumber": "FGVMMLTM26000001",
        "instanceId": INSTANCE,
        "checkedAt": "2026-11-27T11:00:00Z",
    }


def sign(context: bytes, payload: dict[str, Any], kid: str = KID) -> dict[str, Any]:
    key = KEY if kid == KID else OTHER_KEY
    return {
        "payload": payload,
        "kid": kid,
        "sig": b64url_encode(key.sign(signed_message(context, payload))),
    }


def verify_either(document: Any) -> None:
    """Every verifier on ``document``; each must refuse it."""
    with pytest.raises(VerificationError):
        verify_licence(document, KEYS)
    with pytest.raises(VerificationError):
        verify_licence(document, KEYS, instance_id=INSTANCE, nonce=NONCE)
    with pytest.raises(VerificationError):
        verify_answer(document, KEYS, nonce=NONCE)


def only_verification_errors(call: Callable[[], object]) -> None:
    """``call`` returns, or raises VerificationError; anything else escapes and fails."""
    with contextlib.suppress(VerificationError):
        call()


# --------------------------------------------------------------------------- arbitrary input


@FUZZ
@given(document=anything)
def test_arbitrary_documents_are_refused_with_verification_error_only(document: Any) -> None:
    verify_either(document)


@FUZZ
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_parsed_as_json_are_refused_with_verification_error_only(
    raw: bytes,
) -> None:
    try:
        document = json.loads(raw)
    except ValueError:  # not JSON (UnicodeDecodeError included): the network layer's error
        document = raw
    verify_either(document)


@FUZZ
@given(
    payload=st.dictionaries(st.text(max_size=8), json_values, max_size=6),
    kid=st.sampled_from([KID, OTHER_KID]),
)
def test_arbitrary_payloads_with_a_well_formed_signature_are_refused(
    payload: dict[str, Any], kid: str
) -> None:
    document = {"payload": payload, "kid": kid, "sig": b64url_encode(b"\x00" * 64)}
    verify_either(document)


@FUZZ
@given(
    document=anything
    | st.fixed_dictionaries({"keys": st.lists(document_like | json_values, max_size=4)})
)
def test_arbitrary_key_documents_give_a_key_set_or_verification_error(document: Any) -> None:
    only_verification_errors(lambda: KeySet.from_document(document))


@FUZZ
@given(
    entries=st.lists(
        st.fixed_dictionaries(
            {"algorithm": st.just("Ed25519"), "kid": st.text(min_size=1, max_size=8)},
            optional={"publicKey": st.binary(max_size=40).map(b64url_encode) | json_values},
        ),
        max_size=3,
    )
)
def test_ed25519_key_entries_of_any_content_give_a_key_set_or_verification_error(
    entries: list[dict[str, Any]],
) -> None:
    only_verification_errors(lambda: KeySet.from_document({"keys": entries}))


@FUZZ
@given(text=st.text(max_size=40) | json_values)
def test_arbitrary_instants_parse_or_raise_verification_error(text: Any) -> None:
    only_verification_errors(lambda: parse_instant(text))


@FUZZ
@given(text=st.text(alphabet="ABCabc019-_=+/ \n", max_size=20) | json_values)
def test_base64url_decoding_accepts_only_the_canonical_spelling(text: Any) -> None:
    try:
        raw = b64url_decode(text)
    except VerificationError:
        return
    assert b64url_encode(raw) == text  # one spelling per byte string: no padding, no stray bits


@FUZZ
@given(raw=st.binary(max_size=100))
def test_base64url_round_trips(raw: bytes) -> None:
    assert b64url_decode(b64url_encode(raw)) == raw


# --------------------------------------------------------------------------- canonical form


@FUZZ
@given(payload=st.dictionaries(st.text(max_size=8), exact_values, max_size=6))
def test_canonical_encoding_round_trips_and_ignores_key_order(payload: dict[str, Any]) -> None:
    encoded = canonical_bytes(payload)
    decoded = json.loads(encoded.decode("utf-8"))
    assert decoded == payload
    assert canonical_bytes(decoded) == encoded
    assert canonical_bytes(dict(reversed(list(payload.items())))) == encoded
    assert (
        encoded
        == json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )


@FUZZ
@given(payload=st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_canonical_encoding_refuses_floats_anywhere(payload: dict[str, Any]) -> None:
    def has_float(value: Any) -> bool:
        if isinstance(value, float):
            return True
        if isinstance(value, dict):
            return any(has_float(v) for v in value.values())
        if isinstance(value, list):
            return any(has_float(v) for v in value)
        return False

    if has_float(payload):
        with pytest.raises(ValueError, match="floats are not allowed"):
            canonical_bytes(payload)
    else:
        assert json.loads(canonical_bytes(payload)) == payload


# --------------------------------------------------------------------------- genuine documents


@FUZZ
@given(extra=extra_fields)
def test_a_genuinely_signed_licence_verifies(extra: dict[str, Any]) -> None:
    payload = licence_payload(extra)
    document = sign(LICENCE_CONTEXT, payload)
    assert verify_licence(document, KEYS, instance_id=INSTANCE, nonce=NONCE) == payload
    # and again after the trip over the wire
    assert verify_licence(json.loads(json.dumps(document)), KEYS, nonce=NONCE) == payload


# --------------------------------------------------------------------------- mutations


@FUZZ
@given(data=st.data())
def test_any_single_byte_change_to_a_signed_licence_is_refused(data: st.DataObject) -> None:
    original = sign(LICENCE_CONTEXT, licence_payload())
    wire = json.dumps(original).encode("utf-8")
    index = data.draw(st.integers(0, len(wire) - 1), label="index")
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != wire[index]), label="byte")
    mutated = wire[:index] + bytes([byte]) + wire[index + 1 :]
    try:
        document = json.loads(mutated)
    except ValueError:
        return  # no longer JSON: refused before it reaches the verifier
    assume(document != original)  # e.g. \u00e9 -> \u00E9 spells the same document
    with pytest.raises(VerificationError):
        verify_licence(document, KEYS, nonce=NONCE)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside ``value`` (dict keys and list indexes)."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


@FUZZ
@given(data=st.data(), replacement=exact_values)
def test_any_change_to_a_payload_field_is_refused(data: st.DataObject, replacement: Any) -> None:
    document = sign(LICENCE_CONTEXT, licence_payload())
    path = data.draw(st.sampled_from(_paths(document["payload"])), label="path")
    target: Any = document["payload"]
    for part in path[:-1]:
        target = target[part]
    assume(target[path[-1]] != replacement or type(target[path[-1]]) is not type(replacement))
    target[path[-1]] = replacement
    with pytest.raises(VerificationError):
        verify_licence(document, KEYS)


@FUZZ
@given(key=st.text(max_size=10), value=exact_values)
def test_an_added_payload_field_is_refused(key: str, value: Any) -> None:
    document = sign(LICENCE_CONTEXT, licence_payload())
    assume(key not in document["payload"])
    document["payload"][key] = value
    with pytest.raises(VerificationError):
        verify_licence(document, KEYS)


@FUZZ
@given(kid=st.text(max_size=20) | json_values)
def test_any_other_kid_is_refused(kid: Any) -> None:
    document = sign(LICENCE_CONTEXT, licence_payload())
    assume(kid != KID)
    document["kid"] = kid
    with pytest.raises(VerificationError):
        verify_licence(document, KEYS)


def test_a_licence_signed_by_another_published_key_under_its_own_kid_is_refused() -> None:
    """The payload names KID; signing it with OTHER_KID's key, under OTHER_KID, must fail."""
    with pytest.raises(VerificationError):
        verify_licence(sign(LICENCE_CONTEXT, licence_payload(), kid=OTHER_KID), KEYS)


@FUZZ
@given(data=st.data())
def test_any_change_to_the_signature_is_refused(data: st.DataObject) -> None:
    document = sign(LICENCE_CONTEXT, licence_payload())
    sig: str = document["sig"]
    index = data.draw(st.integers(0, len(sig) - 1), label="index")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/. "
    char = data.draw(st.sampled_from(alphabet).filter(lambda c: c != sig[index]), label="char")
    document["sig"] = sig[:index] + char + sig[index + 1 :]
    with pytest.raises(VerificationError):
        verify_licence(document, KEYS)


@pytest.mark.parametrize("suffix", ["=", "==", "==="])
def test_base64_padding_on_the_signature_is_refused(suffix: str) -> None:
    document = sign(LICENCE_CONTEXT, licence_payload())
    document["sig"] += suffix
    with pytest.raises(VerificationError):
        verify_licence(document, KEYS)


@FUZZ
@given(separators=st.sampled_from([(", ", ": "), (",", ": "), (", ", ":")]), sort=st.booleans())
def test_a_signature_over_a_non_canonical_form_is_refused(
    separators: tuple[str, str], sort: bool
) -> None:
    payload = licence_payload()
    loose = json.dumps(payload, sort_keys=sort, separators=separators).encode()
    signature = KEY.sign(LICENCE_CONTEXT + b"\n" + loose)
    document = {"payload": payload, "kid": KID, "sig": b64url_encode(signature)}
    with pytest.raises(VerificationError):
        verify_licence(document, KEYS)


def test_a_licence_does_not_pass_as_an_answer_nor_an_answer_as_a_licence() -> None:
    licence = sign(ANSWER_CONTEXT, licence_payload())  # right bytes, wrong context
    answer = sign(LICENCE_CONTEXT, answer_payload())
    with pytest.raises(VerificationError):
        verify_licence(licence, KEYS)
    with pytest.raises(VerificationError):
        verify_answer(answer, KEYS, nonce=NONCE)


# --------------------------------------------------------------------------- nonces


@FUZZ
@given(nonce=st.text(max_size=40))
def test_a_licence_or_answer_for_another_nonce_is_refused(nonce: str) -> None:
    assume(nonce != NONCE)
    with pytest.raises(VerificationError):
        verify_licence(sign(LICENCE_CONTEXT, licence_payload()), KEYS, nonce=nonce)
    with pytest.raises(VerificationError):
        verify_answer(sign(ANSWER_CONTEXT, answer_payload()), KEYS, nonce=nonce)


@FUZZ
@given(value=st.none() | st.just(MISSING := object()) | json_values)
def test_an_answer_with_a_missing_or_wrong_nonce_is_refused(value: Any) -> None:
    assume(value != NONCE)
    payload = answer_payload()
    if value is MISSING:
        del payload["nonce"]
    else:
        payload["nonce"] = value
    try:
        document = sign(ANSWER_CONTEXT, payload)
    except ValueError:
        return  # a float nonce cannot even be signed
    with pytest.raises(VerificationError):
        verify_answer(document, KEYS, nonce=NONCE)
    assert (
        verify_answer(sign(ANSWER_CONTEXT, answer_payload()), KEYS, nonce=NONCE)["verdict"]
        == "VALID"
    )


@FUZZ
@given(verdict=json_values)
def test_a_signed_answer_with_any_unknown_verdict_is_refused(verdict: Any) -> None:
    payload = {**answer_payload(), "verdict": verdict}
    try:
        document = sign(ANSWER_CONTEXT, payload)
    except ValueError:
        return  # floats cannot be signed
    if verdict in ("VALID", "STOPPED", "EXPIRED", "SUPERSEDED", "DUPLICATE", "UNKNOWN"):
        assert verify_answer(document, KEYS, nonce=NONCE)["verdict"] == verdict
    else:
        with pytest.raises(VerificationError):
            verify_answer(document, KEYS, nonce=NONCE)


def test_an_absurdly_nested_payload_is_refused_not_crashed() -> None:
    nested: Any = "x"
    for _ in range(5000):
        nested = [nested]
    document = {
        "payload": {"type": "licence", "deep": nested},
        "kid": KID,
        "sig": b64url_encode(b"\x00" * 64),
    }
    with pytest.raises(VerificationError):
        verify_licence(document, KEYS)


def test_the_fixed_key_is_the_published_one() -> None:
    """The key set the tests use is the one a key document with KEY would give."""
    raw = KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    keys = KeySet.from_document(
        {"keys": [{"kid": KID, "algorithm": "Ed25519", "publicKey": b64url_encode(raw)}]}
    )
    payload = licence_payload()
    assert verify_licence(sign(LICENCE_CONTEXT, payload), keys) == payload


def test_a_signature_respelled_in_its_unused_trailing_bits_is_refused() -> None:
    """64 bytes take 86 base64 characters, whose last 4 bits carry nothing: the decoder alone
    would read ``...A`` and ``...B`` as the same signature."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    document = sign(LICENCE_CONTEXT, licence_payload())
    sig: str = document["sig"]
    twin = sig[:-1] + alphabet[alphabet.index(sig[-1]) ^ 1]
    assert twin != sig
    document["sig"] = twin
    with pytest.raises(VerificationError, match="canonical"):
        verify_licence(document, KEYS)
