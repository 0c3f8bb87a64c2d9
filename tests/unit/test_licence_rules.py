"""Licence rules without I/O (domain/licensing.py): request field checks and the verdict order
of docs/licence-protocol.md (UNKNOWN, DUPLICATE, SUPERSEDED, EXPIRED/REMOVED, STOPPED, VALID)."""

from __future__ import annotations

from typing import Any

import pytest

from pointflex.domain.entitlements import Status
from pointflex.domain.licensing import (
    MAX_INSTANCE_ID,
    MAX_PRODUCT_VERSION,
    MAX_TOKEN,
    REMOVED,
    UNKNOWN,
    Judgement,
    Verdict,
    check_instance_id,
    check_nonce,
    check_product_version,
    check_token,
    entitlement_verdict,
    licence_verdict,
)
from pointflex.errors import InvalidInput

NOT_A_STRING: Any = 1234567890123456789


# --- nonce ---------------------------------------------------------------------------------


@pytest.mark.parametrize("nonce", ["a" * 16, "A-b_c" * 4, "0" * 128])
def test_a_nonce_of_16_to_128_url_safe_characters_is_accepted(nonce: str) -> None:
    assert check_nonce(nonce) == nonce


@pytest.mark.parametrize(
    "nonce", ["", "a" * 15, "a" * 129, "a" * 15 + "=", "a" * 15 + " ", "é" * 16]
)
def test_a_nonce_too_short_too_long_or_outside_the_alphabet_is_refused(nonce: str) -> None:
    with pytest.raises(InvalidInput, match="nonce must be 16 to 128 characters"):
        check_nonce(nonce)


def test_a_nonce_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(InvalidInput, match="nonce"):
        check_nonce(NOT_A_STRING)


# --- instance id ---------------------------------------------------------------------------


def test_an_instance_id_up_to_the_column_width_is_kept_as_given() -> None:
    assert check_instance_id(" vm-1 ") == " vm-1 "
    assert check_instance_id("x" * MAX_INSTANCE_ID) == "x" * MAX_INSTANCE_ID


@pytest.mark.parametrize("instance_id", ["", "   ", "\t\n", NOT_A_STRING])
def test_an_empty_blank_or_non_string_instance_id_is_refused(instance_id: Any) -> None:
    with pytest.raises(InvalidInput, match="instanceId must not be empty"):
        check_instance_id(instance_id)


@pytest.mark.parametrize("instance_id", ["x" * (MAX_INSTANCE_ID + 1), "vm\x00-1", "vm-1\n"])
def test_an_instance_id_too_long_or_with_control_characters_is_refused(instance_id: str) -> None:
    with pytest.raises(InvalidInput, match=f"at most {MAX_INSTANCE_ID} printable"):
        check_instance_id(instance_id)


# --- product version -----------------------------------------------------------------------


def test_a_missing_product_version_becomes_the_empty_string() -> None:
    assert check_product_version(None) == ""
    assert check_product_version("") == ""


def test_a_product_version_up_to_the_column_width_is_kept() -> None:
    assert check_product_version("v7.4.3 build2573") == "v7.4.3 build2573"
    assert check_product_version("9" * MAX_PRODUCT_VERSION) == "9" * MAX_PRODUCT_VERSION


@pytest.mark.parametrize("version", ["9" * (MAX_PRODUCT_VERSION + 1), "v7.4\x1b[31m"])
def test_a_product_version_too_long_or_not_printable_is_refused(version: str) -> None:
    with pytest.raises(InvalidInput, match=f"at most {MAX_PRODUCT_VERSION} printable"):
        check_product_version(version)


# --- token ---------------------------------------------------------------------------------


def test_a_token_up_to_the_maximum_length_is_kept() -> None:
    assert check_token("0123456789ABCDEF0123") == "0123456789ABCDEF0123"
    assert check_token("F" * MAX_TOKEN) == "F" * MAX_TOKEN


@pytest.mark.parametrize("token", ["", "  ", NOT_A_STRING])
def test_an_empty_blank_or_non_string_token_is_refused(token: Any) -> None:
    with pytest.raises(InvalidInput, match="token must not be empty"):
        check_token(token)


def test_a_token_longer_than_any_token_is_refused() -> None:
    with pytest.raises(InvalidInput, match=f"at most {MAX_TOKEN} characters"):
        check_token("F" * (MAX_TOKEN + 1))


# --- verdicts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (Status.ACTIVE, Judgement(Verdict.VALID)),
        (Status.GRACE_PERIOD, Judgement(Verdict.VALID)),
        (Status.STOPPED, Judgement(Verdict.STOPPED)),
        (Status.EXPIRED, Judgement(Verdict.EXPIRED)),
        (Status.PENDING, UNKNOWN),
    ],
)
def test_the_entitlement_status_decides_the_verdict_of_a_licence_that_checks_out(
    status: Status, expected: Judgement
) -> None:
    assert entitlement_verdict(status, removed=False) == expected


@pytest.mark.parametrize("status", list(Status))
def test_a_removed_hardware_serial_is_expired_with_reason_removed_whatever_its_status(
    status: Status,
) -> None:
    assert entitlement_verdict(status, removed=True) == Judgement(Verdict.EXPIRED, REMOVED)


def test_an_unknown_verdict_has_no_reason() -> None:
    assert UNKNOWN.verdict is Verdict.UNKNOWN
    assert UNKNOWN.reason is None


def test_a_licence_held_by_another_instance_is_a_duplicate_before_anything_else() -> None:
    judged = licence_verdict(
        holder_instance="vm-1",
        asking_instance="vm-copy",
        superseded=True,
        status=Status.EXPIRED,
        removed=True,
    )
    assert judged == Judgement(Verdict.DUPLICATE)


def test_a_superseded_licence_comes_before_the_entitlement_status() -> None:
    judged = licence_verdict(
        holder_instance="vm-1",
        asking_instance="vm-1",
        superseded=True,
        status=Status.STOPPED,
        removed=True,
    )
    assert judged == Judgement(Verdict.SUPERSEDED)


@pytest.mark.parametrize(
    ("status", "removed", "expected"),
    [
        (Status.ACTIVE, False, Judgement(Verdict.VALID)),
        (Status.ACTIVE, True, Judgement(Verdict.EXPIRED, REMOVED)),
        (Status.STOPPED, False, Judgement(Verdict.STOPPED)),
        (Status.EXPIRED, False, Judgement(Verdict.EXPIRED)),
    ],
)
def test_the_holders_own_current_licence_is_judged_by_its_entitlement(
    status: Status, removed: bool, expected: Judgement
) -> None:
    judged = licence_verdict(
        holder_instance="vm-1",
        asking_instance="vm-1",
        superseded=False,
        status=status,
        removed=removed,
    )
    assert judged == expected


def test_verdicts_are_the_wire_strings() -> None:
    assert [v.value for v in Verdict] == [
        "UNKNOWN",
        "DUPLICATE",
        "SUPERSEDED",
        "EXPIRED",
        "STOPPED",
        "VALID",
    ]
