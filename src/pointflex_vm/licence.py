"""Licence status and vCPU rules of the emulated FortiGate-VM — pure functions of the state.

No I/O and no clock of their own: every rule takes the VM's "now" as an argument, so the
thresholds (R70–R72, P4) and the FortiOS version rules (R75, R76, P5) are tested exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pointflex_verify import VerificationError, parse_instant
from pointflex_vm.state import PendingReboot, Signed, VmState, format_instant

# R71/R72: failures shorter than this leave the licence in Warning; from this length, Invalid.
WARNING_WINDOW = timedelta(days=30)
# R76: from this FortiOS version the VM applies vCPU changes itself at the next validation.
AUTO_VCPU_VERSION = (7, 2, 4)
# An unlicensed FortiGate-VM runs in evaluation mode on a single vCPU.
EVALUATION_VCPUS = 1
VALID = "VALID"
# The detail of a state that failed verification on load (pointflex_vm.integrity).
TAMPERED = "licence state failed verification (tampered?)"

_VERSION = re.compile(r"v?(\d+(?:\.\d+)*)")


class Status(StrEnum):
    PENDING = "Pending"
    VALID = "Valid"
    WARNING = "Warning"
    INVALID = "Invalid"


@dataclass(frozen=True)
class Assessment:
    status: Status
    detail: str  # one human sentence: why this status


@dataclass(frozen=True)
class Terms:
    """What a licence or a VALID answer grants."""

    vcpus: int | None  # None: the product has no vCPU parameter
    expires_at: datetime | None
    interval: int  # seconds between validations


# --- versions --------------------------------------------------------------------------------


def parse_version(text: str) -> tuple[int, ...]:
    """``"7.2.3"`` → ``(7, 2, 3)``: compared as numbers, so 7.10.0 is after 7.2.4."""
    match = _VERSION.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a FortiOS version: {text!r} (expected e.g. 7.2.3)")
    return tuple(int(part) for part in match.group(1).split("."))


def applies_vcpus_automatically(fortios: str) -> bool:
    parts = parse_version(fortios)
    # Pad so "7.3" compares as 7.3.0; tuples compare element by element, numerically.
    padded = parts + (0,) * (len(AUTO_VCPU_VERSION) - len(parts))
    return padded >= AUTO_VCPU_VERSION


# --- licence status (R70–R72, P4) --------------------------------------------------------------


def assess(state: VmState, now: datetime) -> Assessment:  # noqa: PLR0911 — R70–R72 in order, one return each
    if state.tampered is not None:
        # Nothing in the file can be believed until a genuine document replaces it.
        return Assessment(Status.INVALID, f"{TAMPERED}: {state.tampered}")
    if state.licence is None:
        return Assessment(Status.PENDING, "no licence installed; run: execute vm-license <token>")
    if state.last_verdict not in (None, VALID):
        # P4: a signed non-VALID verdict is definitive — no 30-day grace.
        reason = f" ({state.last_reason})" if state.last_reason else ""
        return Assessment(Status.INVALID, f"the server answered {state.last_verdict}{reason}")
    if state.expires_at is not None and now >= state.expires_at:
        return Assessment(
            Status.INVALID, f"the licence expired at {format_instant(state.expires_at)}"
        )
    if state.first_failure_at is not None:
        failing = now - state.first_failure_at
        if failing >= WARNING_WINDOW:
            return Assessment(
                Status.INVALID, f"validation has failed for {failing.days} days (30 or more)"
            )
        invalid_at = format_instant(state.first_failure_at + WARNING_WINDOW)
        return Assessment(
            Status.WARNING,
            f"validation has failed since {format_instant(state.first_failure_at)};"
            f" Invalid from {invalid_at}",
        )
    return Assessment(Status.VALID, "the last validation succeeded")


def next_validation_due(state: VmState) -> datetime | None:
    """When the VM validates next: one interval after its last attempt (success or not)."""
    if state.licence is None or state.validation_interval is None:
        return None
    times = [t for t in (state.last_attempt_at, state.last_validated_at) if t is not None]
    if not times:
        return None
    return max(times) + timedelta(seconds=state.validation_interval)


# --- recording outcomes ----------------------------------------------------------------------


def terms_of(payload: dict[str, Any]) -> Terms:
    """The grant in a verified licence or VALID answer; a malformed grant counts as a forgery."""
    sizing = payload.get("sizing")
    if not isinstance(sizing, dict):
        raise VerificationError("the document carries no sizing")
    vcpus = sizing.get("vcpus")
    if vcpus is not None and (not isinstance(vcpus, int) or isinstance(vcpus, bool) or vcpus < 1):
        raise VerificationError(f"sizing.vcpus is {vcpus!r}, expected a positive integer or null")
    expires = payload.get("expiresAt")
    expires_at = None if expires is None else parse_instant(expires)
    interval = payload.get("validationIntervalSeconds")
    if not isinstance(interval, int) or isinstance(interval, bool) or interval < 1:
        raise VerificationError(f"validationIntervalSeconds is {interval!r}")
    return Terms(vcpus=vcpus, expires_at=expires_at, interval=interval)


def record_activation(state: VmState, licence: Signed, terms: Terms, now: datetime) -> VmState:
    """A verified licence was installed: Valid from now (the caller then reboots the VM).

    Answers kept from an earlier licence are dropped: they answered about that one. (A licence
    issued again for the same token keeps its first ``issuedAt``, so an old answer could look
    newer than it.)
    """
    return replace(
        state,
        licence=licence,
        answer=None,
        valid_answer=None,
        allowed_vcpus=terms.vcpus,
        expires_at=terms.expires_at,
        validation_interval=terms.interval,
        last_validated_at=now,
        last_attempt_at=now,
        first_failure_at=None,
        last_verdict=VALID,
        last_reason=None,
        last_error=None,
        tampered=None,
    )


def grant_document(state: VmState) -> Signed | None:
    """The signed document the current allowance comes from: the last VALID answer, else the
    licence (answers are dropped when a licence is installed, so one kept is newer)."""
    return state.valid_answer or state.licence


def record_answer(
    state: VmState,
    answer: Signed,
    verdict: str,
    reason: str | None,
    terms: Terms | None,
    now: datetime,
) -> VmState:
    """A genuine signed answer arrived: it ends any failure window, whatever its verdict."""
    previous = grant_document(state)
    state = replace(
        state,
        answer=answer,
        last_validated_at=now,
        last_attempt_at=now,
        first_failure_at=None,
        last_verdict=verdict,
        last_reason=reason,
        last_error=None,
        tampered=None,
    )
    if verdict != VALID or terms is None:
        return state  # non-VALID answers carry no sizing: the grant is unchanged
    was_pending = state.pending_reboot is not None
    state = replace(
        state,
        valid_answer=answer,
        expires_at=terms.expires_at,
        validation_interval=terms.interval,
    )
    state = apply_allowance(state, terms.vcpus)
    if state.pending_reboot is None:
        return replace(state, lowered_from=None)
    if not was_pending:
        # The first unapplied lowering: keep the grant it lowered from as evidence.
        return replace(state, lowered_from=previous)
    return state


def record_failure(state: VmState, error: str, now: datetime) -> VmState:
    """No genuine answer (unreachable, server error, forged or replayed reply)."""
    first = state.first_failure_at if state.first_failure_at is not None else now
    return replace(state, last_attempt_at=now, first_failure_at=first, last_error=error)


# --- vCPUs (R75, R76, P5) ----------------------------------------------------------------------


def shown_allowance(state: VmState) -> int:
    """The allowance as `get system status` shows it."""
    if state.licence is None:
        return EVALUATION_VCPUS
    if state.allowed_vcpus is None:
        return state.hardware_vcpus  # no vCPU parameter: the hardware is the only limit
    return state.allowed_vcpus


def usable_limit(state: VmState) -> int:
    """How many vCPUs the VM may run: the allowance, never more than the hardware has."""
    return min(shown_allowance(state), state.hardware_vcpus)


def apply_allowance(state: VmState, vcpus: int | None) -> VmState:
    """A new allowance arrived with a VALID answer; apply it as this FortiOS version does."""
    before = shown_allowance(state)
    state = replace(state, allowed_vcpus=vcpus)
    limit = usable_limit(state)
    if applies_vcpus_automatically(state.fortios):
        # R76: raise and lowering both take effect now, no command needed.
        return replace(state, usable_vcpus=limit, pending_reboot=None)
    if state.usable_vcpus > limit:
        # P5: a lowering waits for a reboot; keep where the allowance was lowered from.
        start = state.pending_reboot.from_vcpus if state.pending_reboot else before
        return replace(state, pending_reboot=PendingReboot(start, shown_allowance(state)))
    # A raise (or an unchanged count) waits for `execute cpu add` or a reboot; nothing pending.
    return replace(state, pending_reboot=None)


def reboot(state: VmState) -> VmState:
    """A reboot starts FortiOS on every vCPU the allowance and the hardware permit."""
    return replace(state, usable_vcpus=usable_limit(state), pending_reboot=None, lowered_from=None)


def cpu_add(state: VmState, count: int) -> tuple[VmState, int]:
    """`execute cpu add n`: hot-add up to n vCPUs on top of the current count (R75).

    Never above the allowance nor the hardware, never while the state failed verification, and
    never removes any. Returns the new state and how many were added (0: nothing was added).
    """
    if state.tampered is not None:
        return state, 0
    target = min(state.usable_vcpus + count, usable_limit(state))
    added = max(0, target - state.usable_vcpus)
    return replace(state, usable_vcpus=state.usable_vcpus + added), added


def reboot_required(state: VmState) -> PendingReboot | None:
    """The lowering still to apply, if the VM runs more vCPUs than it may."""
    if state.usable_vcpus <= usable_limit(state):
        return None
    return state.pending_reboot or PendingReboot(state.usable_vcpus, shown_allowance(state))
