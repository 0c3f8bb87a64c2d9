"""The VM's persistent state: one JSON file in the state directory, replaced atomically.

The file stands in for what a FortiGate-VM keeps on its disk: its identity (the VM UUID the
licence is bound to), the signed documents it received (the licence, the last answers), the
cached public keys, its own runtime facts (vCPUs in use, clock, failed validations) and a
cache of what the signed documents grant. Every write goes to a temporary file that then
replaces the old one (``os.replace``), so a crash never leaves half a state behind.

The file is not trusted for what the VM may run: :mod:`pointflex_vm.integrity` re-verifies the
signed documents on every load and derives the grant from them (``docs/pointflex-vm.md``).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from pointflex_verify import VerificationError, parse_instant

STATE_FILE = "state.json"
# 2: the signed answers and the nonces are kept, the grant is re-derived from them on load.
STATE_FORMAT = 2


class StateError(Exception):
    """The state directory is missing, not initialised, or its file is unreadable."""


@dataclass(frozen=True)
class PendingReboot:
    """A lowered vCPU allowance the running VM has not applied yet (FortiOS < 7.2.4)."""

    from_vcpus: int
    to_vcpus: int


@dataclass(frozen=True)
class Signed:
    """A signed document exactly as received, with the nonce the VM sent in its request.

    The reply repeats the nonce inside its signed payload, so the pair shows which request
    the document answered; both are checked again on every load.
    """

    document: dict[str, Any]
    nonce: str

    @property
    def payload(self) -> dict[str, Any]:
        payload = self.document.get("payload")
        return payload if isinstance(payload, dict) else {}


@dataclass(frozen=True)
class VmState:
    uuid: str  # the instance fingerprint sent as instanceId
    server: str  # base URL of the pointflex server, no trailing slash
    fortios: str  # emulated FortiOS version, e.g. "7.2.3"
    hardware_vcpus: int  # vCPUs the hypervisor gives the VM
    usable_vcpus: int  # vCPUs FortiOS is currently using
    keys: dict[str, Any] | None = None  # cached key document (GET .well-known/.../keys.json)
    # --- signed documents, as received (the source of everything the VM may run) ---
    licence: Signed | None = None  # the licence and its activation nonce
    answer: Signed | None = None  # the last genuine answer since the licence (any verdict)
    valid_answer: Signed | None = None  # the last VALID answer since the licence
    # The grant (licence or VALID answer) in force before the first unapplied lowering: it
    # explains why more vCPUs run than allowed while a reboot is pending.
    lowered_from: Signed | None = None
    # --- a cache of what the signed documents say; re-derived and compared on every load ---
    allowed_vcpus: int | None = None  # None: the licence carries no vCPU count
    expires_at: datetime | None = None
    validation_interval: int | None = None  # seconds
    last_verdict: str | None = None
    last_reason: str | None = None
    # --- the VM's own runtime facts (local, as trusted as the VM's disk) ---
    # Last genuine signed answer or activation, on the VM's clock.
    last_validated_at: datetime | None = None
    last_attempt_at: datetime | None = None
    # First failed validation after the last genuine answer: the R71/R72 window starts here.
    first_failure_at: datetime | None = None
    last_error: str | None = None  # why the last attempt failed, for the status display
    pending_reboot: PendingReboot | None = None
    clock_offset: int = 0  # seconds the VM's clock runs ahead of the host's
    # Why the state failed verification; Invalid until a genuine document replaces it.
    tampered: str | None = None

    @property
    def licence_payload(self) -> dict[str, Any] | None:
        return None if self.licence is None else self.licence.payload


_TIME_FIELDS = ("expires_at", "last_validated_at", "last_attempt_at", "first_failure_at")
SIGNED_FIELDS = ("licence", "answer", "valid_answer", "lowered_from")


def format_instant(value: datetime) -> str:
    """The protocol's instant form; the VM keeps whole seconds like the server does."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def to_json(state: VmState) -> dict[str, Any]:
    """The file's form: each signed document under its name, its nonce under ``<name>_nonce``."""
    data: dict[str, Any] = {"format": STATE_FORMAT}
    for item in fields(VmState):
        value = getattr(state, item.name)
        if item.name in SIGNED_FIELDS:
            data[item.name] = None if value is None else value.document
            data[item.name + "_nonce"] = None if value is None else value.nonce
        elif item.name in _TIME_FIELDS:
            data[item.name] = None if value is None else format_instant(value)
        elif isinstance(value, PendingReboot):
            data[item.name] = {"from_vcpus": value.from_vcpus, "to_vcpus": value.to_vcpus}
        else:
            data[item.name] = value
    return data


def from_json(data: dict[str, Any]) -> VmState:
    """Parse the file; a malformed one raises :class:`StateError`. Nothing is verified here."""
    version = data.get("format")
    if version == 1:
        raise StateError(
            "the state file has format 1, which kept no signed answers; initialise a new VM"
            " ('pointflex-vm --state DIR init') and activate it again"
        )
    if version != STATE_FORMAT:
        raise StateError(f"unsupported state format {version!r}")
    try:
        known = {f.name for f in fields(VmState)}
        values: dict[str, Any] = {k: v for k, v in data.items() if k in known}
        for name in _TIME_FIELDS:
            text = values.get(name)
            values[name] = None if text is None else parse_instant(text)
        for name in SIGNED_FIELDS:
            values[name] = _signed(name, values.get(name), data.get(name + "_nonce"))
        pending = values.get("pending_reboot")
        values["pending_reboot"] = None if pending is None else PendingReboot(**pending)
        state = VmState(**values)
    except (TypeError, VerificationError) as exc:
        raise StateError(f"the state file is damaged: {exc}") from exc
    _check_types(state)
    return state


def _signed(name: str, document: Any, nonce: Any) -> Signed | None:
    if document is None and nonce is None:
        return None
    if not isinstance(document, dict):
        raise StateError(f"the state file is damaged: {name} is not a signed document")
    if not isinstance(nonce, str):
        raise StateError(f"the state file is damaged: {name}_nonce is not a string")
    return Signed(document, nonce)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_types(state: VmState) -> None:
    # A hand-edited file must fail here, with a clear message, not later in arithmetic.
    _check_scalars(state)
    if state.keys is not None and not isinstance(state.keys, dict):
        raise StateError("the state file is damaged: keys is not a key document")
    pending = state.pending_reboot
    if pending is not None and not (_is_int(pending.from_vcpus) and _is_int(pending.to_vcpus)):
        raise StateError("the state file is damaged: pending_reboot holds no vCPU counts")
    if state.licence is not None:
        payload = state.licence.payload
        if not all(isinstance(payload.get(k), str) for k in ("licenceId", "serialNumber")):
            raise StateError("the state file is damaged: the licence has no licenceId/serialNumber")


def _check_scalars(state: VmState) -> None:
    for name in ("uuid", "server", "fortios"):
        if not isinstance(getattr(state, name), str):
            raise StateError(f"the state file is damaged: {name} is not a string")
    for name in ("hardware_vcpus", "usable_vcpus", "clock_offset"):
        if not _is_int(getattr(state, name)):
            raise StateError(f"the state file is damaged: {name} is not an integer")
    for name in ("allowed_vcpus", "validation_interval"):
        if getattr(state, name) is not None and not _is_int(getattr(state, name)):
            raise StateError(f"the state file is damaged: {name} is not an integer")
    for name in ("last_verdict", "last_reason", "last_error", "tampered"):
        if getattr(state, name) is not None and not isinstance(getattr(state, name), str):
            raise StateError(f"the state file is damaged: {name} is not a string")


class StateStore:
    """The state file of one VM directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / STATE_FILE

    def exists(self) -> bool:
        return self.path.is_file()

    def load(self) -> VmState:
        """The state as written; :func:`pointflex_vm.integrity.on_load` then verifies it."""
        if not self.exists():
            raise StateError(
                f"{self.directory} holds no VM state; run 'pointflex-vm --state DIR init' first"
            )
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StateError(f"cannot read {self.path}: {exc}") from exc
        if not isinstance(data, dict):
            raise StateError(f"{self.path} does not hold a JSON object")
        return from_json(data)

    def save(self, state: VmState) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        text = json.dumps(to_json(state), indent=2, sort_keys=True) + "\n"
        fd, temp = tempfile.mkstemp(dir=self.directory, prefix=".state.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())  # the data is on disk before the name points at it
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
