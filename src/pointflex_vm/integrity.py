"""Re-verifying the state file: what the VM may run follows from signed documents only.

The state file is as easy to edit as any file on the VM's disk. So the VM never believes the
grant fields it caches there (``allowed_vcpus``, ``expires_at``, ``validation_interval``,
``last_verdict``, ``last_reason``): on every load it verifies the signed documents it kept —
the licence and the last answers, each with the nonce of the request it answered — against
the cached key document, derives the grant from them, and compares. Its own runtime facts
(vCPUs in use, a pending reboot, the clock offset, failure times) are local, but must agree
with the derived grant: more vCPUs in use than allowed needs a pending lowering that a signed
document explains, and the VM's clock may not run behind its own records or the newest signed
time it holds.

A state that fails is marked ``tampered`` (persisted, so it stays Invalid) until the VM records
a new genuine document: ``execute vm-license`` or a validation answer. What it may run until
then is what the documents that still verify grant — nothing beyond evaluation mode if they do
not. ``docs/pointflex-vm.md`` ("State file") states what this does and does not protect.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from pointflex_verify import KeySet, VerificationError, parse_instant
from pointflex_vm.licence import (
    EVALUATION_VCPUS,
    VALID,
    Terms,
    applies_vcpus_automatically,
    shown_allowance,
    usable_limit,
)
from pointflex_vm.state import PendingReboot, Signed, VmState, format_instant
from pointflex_vm.trust import Answer, answer_of, licence_terms

# How far the VM's clock may run behind a time it recorded or a signed time it holds before
# that counts as a clock set back: hosts and servers never agree to the second.
CLOCK_TOLERANCE = timedelta(minutes=5)
# The cache re-derived from the signed documents on every load.
CACHED_FIELDS = (
    "allowed_vcpus",
    "expires_at",
    "validation_interval",
    "last_verdict",
    "last_reason",
)


class Tampering(Exception):
    """The stored documents do not verify, or do not fit together."""


@dataclass(frozen=True)
class Derived:
    """What the stored signed documents say."""

    terms: Terms  # the grant of the latest VALID document (licence or VALID answer)
    verdict: str  # of the last answer; VALID when only the licence is held
    reason: str | None
    lowered_from: Terms | None  # the grant a pending lowering started from
    newest: datetime  # the newest signed instant held (issuedAt, checkedAt)


def on_load(state: VmState, now: datetime) -> VmState:
    """The state as loaded, checked; ``now`` is the VM's clock (host + offset).

    Unchanged when it verifies (a mark from an earlier load stays); otherwise marked
    ``tampered`` and carrying only what the documents that verify grant.
    """
    try:
        derived = derive(state)
    except Tampering as exc:
        return untrusted(state, str(exc))
    expected = with_derived(state, derived)
    problem = (
        _field_problem(state, expected)
        or _vcpu_problem(expected, derived)
        or _clock_problem(expected, derived, now)
    )
    if problem is None:
        return state
    return replace(expected, tampered=problem)


def settle(state: VmState) -> VmState:
    """After the VM recorded a genuine document: the cache re-derived, the mark recomputed.

    The new document replaced the one it supersedes, so a state that failed only through its
    cache or an old answer is whole again; an edited licence still fails (only a new
    activation replaces it), and so do more vCPUs in use than the grant explains.
    """
    try:
        derived = derive(state)
    except Tampering as exc:
        return untrusted(state, str(exc))
    settled = with_derived(state, derived)
    return replace(settled, tampered=_vcpu_problem(settled, derived))


def untrusted(state: VmState, problem: str) -> VmState:
    """The documents do not verify: nothing is granted beyond evaluation mode."""
    return replace(
        state,
        allowed_vcpus=None if state.licence is None else EVALUATION_VCPUS,
        expires_at=None,
        validation_interval=None,  # no validation is scheduled; asked for, one still runs
        last_verdict=None,
        last_reason=None,
        pending_reboot=None,
        lowered_from=None,
        tampered=problem,
    )


def with_derived(state: VmState, derived: Derived | None) -> VmState:
    """The state with its cache replaced by what the documents say."""
    if derived is None:
        return replace(
            state,
            allowed_vcpus=None,
            expires_at=None,
            validation_interval=None,
            last_verdict=None,
            last_reason=None,
        )
    return replace(
        state,
        allowed_vcpus=derived.terms.vcpus,
        expires_at=derived.terms.expires_at,
        validation_interval=derived.terms.interval,
        last_verdict=derived.verdict,
        last_reason=derived.reason,
    )


# --- the documents ----------------------------------------------------------------------------


def derive(state: VmState) -> Derived | None:
    """What the stored documents grant (None: no licence). Raises :class:`Tampering`."""
    if state.licence is None:
        for name in ("answer", "valid_answer", "lowered_from"):
            if getattr(state, name) is not None:
                raise Tampering(f"{name} is kept without a licence")
        return None
    keys = _keys(state.keys)
    try:
        licence, terms = licence_terms(state.licence.document, keys, nonce=state.licence.nonce)
        issued = _instant(licence, "issuedAt")
    except VerificationError as exc:
        raise Tampering(f"the stored licence does not verify: {exc}") from None
    # Answers are not tied to this VM's UUID: a clone keeps those its original received (R73).
    about = _About(licence_id=licence["licenceId"], serial=licence["serialNumber"])
    grant, granted_at = _grant(state, keys, about, terms, issued)
    verdict, reason, newest = _last_verdict(state, keys, about, granted_at)
    lowered = None
    if state.lowered_from is not None:
        lowered = _evidence(state.lowered_from, keys, about)
    return Derived(grant, verdict, reason, lowered, newest)


def _grant(
    state: VmState, keys: KeySet, about: _About, terms: Terms, issued: datetime
) -> tuple[Terms, datetime]:
    """The grant in force and when it was signed: the kept VALID answer's, else the licence's."""
    if state.valid_answer is None:
        return terms, issued
    answer, checked = _stored_answer(state.valid_answer, "valid_answer", keys, about)
    if answer.terms is None:
        raise Tampering(f"valid_answer is a {answer.verdict} answer")
    if checked < issued:
        raise Tampering("valid_answer was signed before the licence was issued")
    return answer.terms, checked


def _last_verdict(
    state: VmState, keys: KeySet, about: _About, granted_at: datetime
) -> tuple[str, str | None, datetime]:
    """The last answer's verdict, reason and signing time; VALID at the grant without one."""
    if state.answer is None:
        if state.valid_answer is not None:
            raise Tampering("valid_answer is kept without a last answer")
        return VALID, None, granted_at
    answer, checked = _stored_answer(state.answer, "answer", keys, about)
    if checked < granted_at:
        raise Tampering("the last answer was signed before the grant it should follow")
    if answer.verdict == VALID and state.answer != state.valid_answer:
        raise Tampering("the last answer is VALID but is not the kept VALID answer")
    return answer.verdict, answer.reason, checked


@dataclass(frozen=True)
class _About:
    """The licence every stored answer must be about."""

    licence_id: str
    serial: str


def _keys(document: Mapping[str, Any] | None) -> KeySet:
    if document is None:
        return KeySet({})  # every document then names an unknown key id
    try:
        return KeySet.from_document(document)
    except VerificationError as exc:
        raise Tampering(f"the cached key document is unusable: {exc}") from None


def _stored_answer(
    record: Signed, name: str, keys: KeySet, about: _About
) -> tuple[Answer, datetime]:
    try:
        return _verified_answer(record, keys, about)
    except VerificationError as exc:
        raise Tampering(f"the stored {name} does not verify: {exc}") from None


def _verified_answer(record: Signed, keys: KeySet, about: _About) -> tuple[Answer, datetime]:
    payload, answer = answer_of(
        record.document,
        keys,
        nonce=record.nonce,
        licence_id=about.licence_id,
        serial_number=about.serial,
    )
    return answer, _instant(payload, "checkedAt")


def _evidence(record: Signed, keys: KeySet, about: _About) -> Terms:
    """The grant a pending lowering started from: the licence or a VALID answer."""
    try:
        if record.payload.get("type") == "licence":
            payload, terms = licence_terms(record.document, keys, nonce=record.nonce)
            if payload["licenceId"] != about.licence_id:
                raise VerificationError(f"licenceId is {payload['licenceId']!r}")
            return terms
        answer, _ = _verified_answer(record, keys, about)
        if answer.terms is None:
            raise VerificationError(f"it is a {answer.verdict} answer")
        return answer.terms
    except VerificationError as exc:
        raise Tampering(f"lowered_from does not verify: {exc}") from None


def _instant(payload: Mapping[str, Any], name: str) -> datetime:
    text = payload.get(name)
    if not isinstance(text, str):
        raise VerificationError(f"{name} is {text!r}, expected an instant")
    return parse_instant(text)


# --- the cache and the local facts ------------------------------------------------------------


def _field_problem(state: VmState, expected: VmState) -> str | None:
    for name in CACHED_FIELDS:
        found, wanted = getattr(state, name), getattr(expected, name)
        if found != wanted:
            return f"{name} is {_show(found)} but the signed documents say {_show(wanted)}"
    return None


def _vcpu_problem(state: VmState, derived: Derived | None) -> str | None:
    """More vCPUs in use than allowed is only legal while a signed lowering awaits a reboot."""
    if state.hardware_vcpus < 1 or state.usable_vcpus < 1:
        return "a VM runs on at least one vCPU"
    limit = usable_limit(state)
    pending = state.pending_reboot
    if pending is not None:
        return _pending_reboot_problem(state, derived, pending)
    if state.lowered_from is not None:
        return "lowered_from is kept but no reboot is pending"
    if state.usable_vcpus > limit:
        return f"{state.usable_vcpus} vCPUs in use but the signed documents allow {limit}"
    return None


def _pending_reboot_problem(
    state: VmState, derived: Derived | None, pending: PendingReboot
) -> str | None:
    """A pending reboot must finish a lowering that a signed document explains."""
    if applies_vcpus_automatically(state.fortios):
        return f"a reboot is pending on FortiOS {state.fortios}, which applies vCPU changes itself"
    if derived is None or derived.lowered_from is None:
        return "a reboot is pending for a lowering no signed document explains"
    granted = derived.lowered_from.vcpus
    before = state.hardware_vcpus if granted is None else granted
    after = shown_allowance(state)
    if (pending.from_vcpus, pending.to_vcpus) != (before, after):
        return (
            f"the pending reboot lowers from {pending.from_vcpus} to {pending.to_vcpus}"
            f" but the signed documents lower from {before} to {after}"
        )
    if state.usable_vcpus > min(before, state.hardware_vcpus):
        return (
            f"{state.usable_vcpus} vCPUs in use but even before the lowering {before} were allowed"
        )
    return None


def _clock_problem(state: VmState, derived: Derived | None, now: datetime) -> str | None:
    """The VM's clock only moves forward: not behind its own records nor a signed time."""
    if state.clock_offset < 0:
        return "clock_offset is negative: the VM's clock only moves forward"
    recorded = [
        t for t in (state.last_attempt_at, state.last_validated_at, state.first_failure_at) if t
    ]
    if recorded and now + CLOCK_TOLERANCE < max(recorded):
        return (
            f"the VM's clock ({format_instant(now)}) is behind its own last record"
            f" ({format_instant(max(recorded))}): clock_offset moved back?"
        )
    if derived is not None and now + CLOCK_TOLERANCE < derived.newest:
        return (
            f"the VM's clock ({format_instant(now)}) is behind the newest signed time"
            f" ({format_instant(derived.newest)}): clock_offset moved back?"
        )
    return None


def _show(value: object) -> str:
    if isinstance(value, datetime):
        return format_instant(value)
    return "null" if value is None else repr(value)
