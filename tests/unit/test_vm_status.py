"""pointflex-vm's pure rules: licence status (R70–R72, P4, expiry) and vCPUs (R75, R76, P5)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pointflex_verify import VerificationError
from pointflex_vm.licence import (
    WARNING_WINDOW,
    Status,
    Terms,
    applies_vcpus_automatically,
    apply_allowance,
    assess,
    cpu_add,
    next_validation_due,
    parse_version,
    reboot,
    reboot_required,
    record_activation,
    record_answer,
    record_failure,
    shown_allowance,
    terms_of,
    usable_limit,
)
from pointflex_vm.state import PendingReboot, Signed, StateError, VmState, from_json, to_json

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# The pure rules only carry the signed documents; pointflex_vm.integrity verifies them (and is
# tested against a signing fake server in test_vm_commands.py).
LICENCE = Signed(
    {"payload": {"licenceId": "lic_1", "serialNumber": "FGVMMLTM26000001"}, "kid": "k"},
    "nonce-activation-0001",
)
ANSWER = Signed({"payload": {"type": "answer"}, "kid": "k"}, "nonce-validation-0001")
DEFINITIVE = ["STOPPED", "EXPIRED", "SUPERSEDED", "DUPLICATE", "UNKNOWN"]


def terms(vcpus: int | None = 2, expires_at: datetime | None = None) -> Terms:
    return Terms(vcpus=vcpus, expires_at=expires_at, interval=3600)


def fresh_vm(fortios: str = "7.2.3", cpus: int = 4) -> VmState:
    return VmState(
        uuid="vm-1", server="http://pf", fortios=fortios, hardware_vcpus=cpus, usable_vcpus=1
    )


def licensed_vm(
    vcpus: int | None = 2,
    fortios: str = "7.2.3",
    cpus: int = 4,
    expires_at: datetime | None = None,
) -> VmState:
    """A VM right after `execute vm-license` and its reboot, at T0."""
    return reboot(record_activation(fresh_vm(fortios, cpus), LICENCE, terms(vcpus, expires_at), T0))


def valid(state: VmState, vcpus: int | None, at: datetime = T0 + HOUR) -> VmState:
    return record_answer(state, ANSWER, "VALID", None, terms(vcpus), at)


# --- status -----------------------------------------------------------------------------------


def test_a_vm_without_licence_is_pending() -> None:
    assert assess(fresh_vm(), T0).status is Status.PENDING


def test_an_activated_vm_is_valid() -> None:
    assert assess(licensed_vm(), T0).status is Status.VALID


def test_a_failed_validation_gives_a_warning() -> None:
    vm = record_failure(licensed_vm(), "cannot reach", T0 + HOUR)
    assessment = assess(vm, T0 + HOUR)
    assert assessment.status is Status.WARNING
    assert "2026-12-27T11:00:00Z" in assessment.detail  # when it turns Invalid


def test_warning_lasts_until_just_before_30_days_of_failure() -> None:
    first = T0 + HOUR
    vm = record_failure(licensed_vm(), "down", first)
    vm = record_failure(vm, "down", first + 10 * DAY)  # later failures keep the first date
    assert vm.first_failure_at == first
    assert assess(vm, first + WARNING_WINDOW - timedelta(seconds=1)).status is Status.WARNING


def test_invalid_at_exactly_30_days_of_failure() -> None:
    first = T0 + HOUR
    vm = record_failure(licensed_vm(), "down", first)
    assert timedelta(days=30) == WARNING_WINDOW
    assert assess(vm, first + timedelta(days=30)).status is Status.INVALID
    assert assess(vm, first + timedelta(days=300)).status is Status.INVALID


def test_the_window_counts_from_the_first_failure_not_the_last_success() -> None:
    # Valid at T0, silent for 20 days (no validation attempted), then the server is down.
    first = T0 + 20 * DAY
    vm = record_failure(licensed_vm(), "down", first)
    assert assess(vm, T0 + 31 * DAY).status is Status.WARNING
    assert assess(vm, first + 30 * DAY).status is Status.INVALID


def test_a_successful_validation_ends_the_warning_and_restarts_the_window() -> None:
    vm = record_failure(licensed_vm(), "down", T0 + HOUR)
    vm = valid(vm, 2, at=T0 + 29 * DAY)
    assert vm.first_failure_at is None
    assert assess(vm, T0 + 29 * DAY).status is Status.VALID
    vm = record_failure(vm, "down again", T0 + 40 * DAY)
    assert assess(vm, T0 + 69 * DAY).status is Status.WARNING
    assert assess(vm, T0 + 70 * DAY).status is Status.INVALID


def test_an_invalid_vm_recovers_when_the_server_answers_valid() -> None:
    vm = record_failure(licensed_vm(), "down", T0)
    assert assess(vm, T0 + 45 * DAY).status is Status.INVALID
    vm = valid(vm, 2, at=T0 + 45 * DAY)
    assert assess(vm, T0 + 45 * DAY).status is Status.VALID


@pytest.mark.parametrize("verdict", DEFINITIVE)
def test_a_definitive_verdict_is_invalid_at_once(verdict: str) -> None:
    # P4: no 30-day grace when the server has answered.
    vm = record_answer(licensed_vm(), ANSWER, verdict, None, None, T0 + HOUR)
    assessment = assess(vm, T0 + HOUR)
    assert assessment.status is Status.INVALID
    assert verdict in assessment.detail


def test_the_reason_of_a_verdict_is_shown() -> None:
    vm = record_answer(licensed_vm(), ANSWER, "EXPIRED", "REMOVED", None, T0 + HOUR)
    assert assess(vm, T0 + HOUR).detail == "the server answered EXPIRED (REMOVED)"


@pytest.mark.parametrize("verdict", DEFINITIVE)
def test_an_unreachable_server_after_a_verdict_does_not_restore_a_warning(verdict: str) -> None:
    vm = record_answer(licensed_vm(), ANSWER, verdict, None, None, T0 + HOUR)
    vm = record_failure(vm, "down", T0 + 2 * HOUR)
    assert assess(vm, T0 + 2 * HOUR).status is Status.INVALID


def test_a_valid_answer_after_a_stop_makes_the_vm_valid_again() -> None:
    vm = record_answer(licensed_vm(), ANSWER, "STOPPED", None, None, T0 + HOUR)
    vm = valid(vm, 2, at=T0 + 2 * HOUR)
    assert assess(vm, T0 + 2 * HOUR).status is Status.VALID


def test_a_definitive_verdict_keeps_the_grant() -> None:
    vm = record_answer(licensed_vm(vcpus=2), ANSWER, "STOPPED", None, None, T0 + HOUR)
    assert vm.allowed_vcpus == 2
    assert vm.last_verdict == "STOPPED"
    assert vm.first_failure_at is None


def test_a_licence_past_its_end_is_invalid() -> None:
    end = T0 + 10 * DAY
    vm = licensed_vm(expires_at=end)
    assert assess(vm, end - timedelta(seconds=1)).status is Status.VALID
    assert assess(vm, end).status is Status.INVALID
    assert "expired at 2026-12-07T10:00:00Z" in assess(vm, end).detail


def test_an_expired_licence_stays_invalid_while_the_server_is_unreachable() -> None:
    end = T0 + 10 * DAY
    vm = record_failure(licensed_vm(expires_at=end), "down", end - DAY)
    assert assess(vm, end - HOUR).status is Status.WARNING
    assert assess(vm, end).status is Status.INVALID


def test_a_valid_answer_carries_the_new_end_date() -> None:
    vm = licensed_vm(expires_at=T0 + 10 * DAY)
    vm = record_answer(vm, ANSWER, "VALID", None, terms(2, T0 + 100 * DAY), T0 + 9 * DAY)
    assert assess(vm, T0 + 50 * DAY).status is Status.VALID


def test_the_next_validation_is_one_interval_after_the_last_attempt() -> None:
    assert next_validation_due(fresh_vm()) is None
    vm = licensed_vm()
    assert next_validation_due(vm) == T0 + HOUR
    vm = record_failure(vm, "down", T0 + HOUR)
    assert next_validation_due(vm) == T0 + 2 * HOUR


# --- terms of a signed document ---------------------------------------------------------------


def payload(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "sizing": {"vcpus": 4, "parameters": []},
        "expiresAt": "2027-01-01T08:00:00Z",
        "validationIntervalSeconds": 3600,
    }
    base.update(changes)
    return base


def test_terms_are_read_from_a_payload() -> None:
    assert terms_of(payload()) == Terms(4, datetime(2027, 1, 1, 8, tzinfo=UTC), 3600)
    assert terms_of(payload(expiresAt=None, sizing={"vcpus": None})).vcpus is None


@pytest.mark.parametrize(
    "changes",
    [
        {"sizing": None},
        {"sizing": {"vcpus": 0}},
        {"sizing": {"vcpus": "4"}},
        {"sizing": {"vcpus": True}},
        {"expiresAt": "tomorrow"},
        {"validationIntervalSeconds": 0},
        {"validationIntervalSeconds": None},
    ],
)
def test_malformed_terms_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(VerificationError):
        terms_of(payload(**changes))


# --- versions ---------------------------------------------------------------------------------


def test_versions_compare_numerically() -> None:
    assert parse_version("7.10.0") > parse_version("7.2.4")
    assert parse_version("v7.2.3") == (7, 2, 3)


@pytest.mark.parametrize(
    ("version", "automatic"),
    [
        ("7.2.3", False),
        ("7.2.4", True),
        ("7.2.10", True),
        ("7.0.12", False),
        ("6.4.15", False),
        ("7.10.0", True),
        ("7.4.1", True),
        ("7.3", True),
        ("7.2", False),
        ("8", True),
    ],
)
def test_vcpus_apply_automatically_from_7_2_4(version: str, automatic: bool) -> None:
    assert applies_vcpus_automatically(version) is automatic


@pytest.mark.parametrize("text", ["", "seven", "7.2.x", "7..2", "7.2.3-beta"])
def test_a_malformed_version_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a FortiOS version"):
        parse_version(text)


# --- vCPUs ------------------------------------------------------------------------------------


def test_an_unlicensed_vm_runs_on_one_vcpu() -> None:
    vm = fresh_vm(cpus=8)
    assert shown_allowance(vm) == 1
    assert reboot(vm).usable_vcpus == 1


def test_activation_and_reboot_use_the_allowance() -> None:
    assert licensed_vm(vcpus=2).usable_vcpus == 2


def test_the_hardware_caps_the_allowance() -> None:
    vm = licensed_vm(vcpus=8, cpus=4)
    assert shown_allowance(vm) == 8
    assert vm.usable_vcpus == usable_limit(vm) == 4


def test_a_licence_without_a_vcpu_count_allows_the_hardware() -> None:
    vm = licensed_vm(vcpus=None, cpus=6)
    assert shown_allowance(vm) == 6
    assert vm.usable_vcpus == 6


def test_7_2_3_a_raise_waits_for_cpu_add() -> None:
    vm = valid(licensed_vm(vcpus=2), 4)
    assert vm.usable_vcpus == 2
    assert reboot_required(vm) is None
    vm, added = cpu_add(vm, 1)
    assert (added, vm.usable_vcpus) == (1, 3)
    vm, added = cpu_add(vm, 5)  # never above the allowance
    assert (added, vm.usable_vcpus) == (1, 4)
    vm, added = cpu_add(vm, 1)
    assert (added, vm.usable_vcpus) == (0, 4)


def test_7_2_3_cpu_add_never_exceeds_the_hardware() -> None:
    vm = valid(licensed_vm(vcpus=2, cpus=3), 8)
    vm, added = cpu_add(vm, 4)
    assert (added, vm.usable_vcpus) == (1, 3)


def test_7_2_3_a_raise_also_applies_at_reboot() -> None:
    vm = valid(licensed_vm(vcpus=2), 4)
    assert reboot(vm).usable_vcpus == 4


def test_7_2_3_a_lowering_waits_for_a_reboot() -> None:
    vm = valid(licensed_vm(vcpus=4), 2)
    assert vm.usable_vcpus == 4
    assert reboot_required(vm) == PendingReboot(from_vcpus=4, to_vcpus=2)
    vm, added = cpu_add(vm, 1)  # cpu add never removes vCPUs
    assert (added, vm.usable_vcpus) == (0, 4)
    vm = reboot(vm)
    assert vm.usable_vcpus == 2
    assert reboot_required(vm) is None
    assert vm.pending_reboot is None


def test_7_2_3_a_second_lowering_keeps_where_it_started() -> None:
    vm = valid(valid(licensed_vm(vcpus=4), 3), 1, at=T0 + 2 * HOUR)
    assert reboot_required(vm) == PendingReboot(from_vcpus=4, to_vcpus=1)


def test_7_2_3_a_lowering_undone_before_the_reboot_needs_no_reboot() -> None:
    vm = valid(valid(licensed_vm(vcpus=4), 2), 4, at=T0 + 2 * HOUR)
    assert reboot_required(vm) is None
    assert vm.usable_vcpus == 4


def test_7_2_3_a_lowering_above_what_runs_needs_no_reboot() -> None:
    vm = valid(licensed_vm(vcpus=2), 4)  # raised, but no cpu add: 2 in use
    vm = valid(vm, 3, at=T0 + 2 * HOUR)
    assert vm.usable_vcpus == 2
    assert reboot_required(vm) is None


def test_7_2_3_a_reboot_required_survives_a_state_round_trip() -> None:
    vm = valid(licensed_vm(vcpus=4), 2)
    assert reboot_required(from_json(to_json(vm))) == PendingReboot(4, 2)


@pytest.mark.parametrize("version", ["7.2.4", "7.4.3", "7.10.0"])
def test_7_2_4_a_raise_applies_at_the_next_validation(version: str) -> None:
    vm = licensed_vm(vcpus=2, fortios=version)
    assert vm.usable_vcpus == 2
    vm = valid(vm, 4)
    assert vm.usable_vcpus == 4
    assert reboot_required(vm) is None


@pytest.mark.parametrize("version", ["7.2.4", "7.4.3", "7.10.0"])
def test_7_2_4_a_lowering_applies_at_the_next_validation(version: str) -> None:
    vm = valid(licensed_vm(vcpus=4, fortios=version), 2)
    assert vm.usable_vcpus == 2
    assert reboot_required(vm) is None


def test_7_2_4_still_respects_the_hardware() -> None:
    vm = valid(licensed_vm(vcpus=2, fortios="7.2.4", cpus=3), 8)
    assert vm.usable_vcpus == 3


def test_apply_allowance_alone_changes_only_vcpus() -> None:
    vm = licensed_vm(vcpus=4)
    changed = apply_allowance(vm, 2)
    assert replace(changed, allowed_vcpus=4, pending_reboot=None) == vm


# --- signed documents and the tamper mark -----------------------------------------------------


def answer(n: int) -> Signed:
    return Signed({"payload": {"type": "answer", "n": n}, "kid": "k"}, f"nonce-validation-{n:04d}")


def test_answers_are_kept_with_their_nonces() -> None:
    vm = record_answer(licensed_vm(), answer(1), "VALID", None, terms(2), T0 + HOUR)
    assert (vm.answer, vm.valid_answer) == (answer(1), answer(1))
    vm = record_answer(vm, answer(2), "STOPPED", None, None, T0 + 2 * HOUR)
    assert (vm.answer, vm.valid_answer) == (answer(2), answer(1))  # the grant stays with 1
    assert vm.licence == LICENCE


def test_a_new_licence_drops_the_answers_about_the_old_one() -> None:
    vm = record_answer(licensed_vm(), answer(1), "STOPPED", None, None, T0 + HOUR)
    vm = record_activation(vm, LICENCE, terms(2), T0 + 2 * HOUR)
    assert (vm.answer, vm.valid_answer, vm.last_verdict) == (None, None, "VALID")


def test_a_lowering_keeps_the_grant_it_lowered_from() -> None:
    vm = record_answer(licensed_vm(vcpus=4), answer(1), "VALID", None, terms(3), T0 + HOUR)
    assert vm.lowered_from == LICENCE  # the first unapplied lowering: from the licence's 4
    vm = record_answer(vm, answer(2), "VALID", None, terms(2), T0 + 2 * HOUR)
    assert vm.lowered_from == LICENCE  # a second one keeps where it started
    assert reboot_required(vm) == PendingReboot(4, 2)
    assert reboot(vm).lowered_from is None
    vm = record_answer(vm, answer(3), "VALID", None, terms(4), T0 + 3 * HOUR)
    assert (vm.pending_reboot, vm.lowered_from) == (None, None)  # raised back: nothing pending


def test_a_state_marked_tampered_is_invalid_and_adds_no_vcpu() -> None:
    vm = replace(licensed_vm(vcpus=4), usable_vcpus=2, tampered="allowed_vcpus is 8")
    assessment = assess(vm, T0)
    assert assessment.status is Status.INVALID
    assert assessment.detail == (
        "licence state failed verification (tampered?): allowed_vcpus is 8"
    )
    assert cpu_add(vm, 2) == (vm, 0)
    assert assess(replace(fresh_vm(), tampered="x"), T0).status is Status.INVALID


def test_a_genuine_document_clears_the_mark() -> None:
    vm = replace(licensed_vm(), tampered="edited")
    assert record_answer(vm, answer(1), "STOPPED", None, None, T0).tampered is None
    assert record_activation(vm, LICENCE, terms(2), T0).tampered is None
    assert record_failure(vm, "down", T0).tampered == "edited"  # a failure proves nothing


def test_the_whole_state_survives_a_round_trip() -> None:
    vm = record_answer(licensed_vm(vcpus=4), answer(1), "VALID", None, terms(2), T0 + HOUR)
    vm = record_answer(vm, answer(2), "STOPPED", "why", None, T0 + 2 * HOUR)
    vm = replace(record_failure(vm, "down", T0 + 3 * HOUR), tampered="edited", clock_offset=60)
    data = to_json(vm)
    assert data["answer"] == answer(2).document
    assert data["answer_nonce"] == answer(2).nonce
    assert data["lowered_from_nonce"] == LICENCE.nonce
    assert from_json(data) == vm


def test_a_format_1_state_is_refused() -> None:
    with pytest.raises(StateError, match="format 1"):
        from_json({**to_json(licensed_vm()), "format": 1})
