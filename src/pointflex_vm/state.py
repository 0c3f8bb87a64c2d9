"""The VM's persistent state: one JSON file in the state directory, replaced atomically.

The file stands in for what a FortiGate-VM keeps on its disk: its identity (the VM UUID the
licence is bound to), its licence as received, the cached public keys, the outcome of its
validations and its vCPUs. Every write goes to a temporary file that then replaces the old one
(``os.replace``), so a crash never leaves half a state behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from pointflex_verify import VerificationError, parse_instant

STATE_FILE = "state.json"
STATE_FORMAT = 1


class StateError(Exception):
    """The state directory is missing, not initialised, or its file is unreadable."""


@dataclass(frozen=True)
class PendingReboot:
    """A lowered vCPU allowance the running VM has not applied yet (FortiOS < 7.2.4)."""

    from_vcpus: int
    to_vcpus: int


@dataclass(frozen=True)
class VmState:
    uuid: str  # the instance fingerprint sent as instanceId
    server: str  # base URL of the pointflex server, no trailing slash
    fortios: str  # emulated FortiOS version, e.g. "7.2.3"
    hardware_vcpus: int  # vCPUs the hypervisor gives the VM
    usable_vcpus: int  # vCPUs FortiOS is currently using
    licence: dict[str, Any] | None = None  # the signed licence document, as received
    keys: dict[str, Any] | None = None  # cached key document (GET .well-known/.../keys.json)
    # What the latest licence or VALID answer granted (None: the licence carries no count).
    allowed_vcpus: int | None = None
    expires_at: datetime | None = None
    validation_interval: int | None = None  # seconds
    # Last genuine signed answer (any verdict) or activation, on the VM's clock.
    last_validated_at: datetime | None = None
    last_attempt_at: datetime | None = None
    # First failed validation after the last genuine answer: the R71/R72 window starts here.
    first_failure_at: datetime | None = None
    last_verdict: str | None = None
    last_reason: str | None = None
    last_error: str | None = None  # why the last attempt failed, for the status display
    pending_reboot: PendingReboot | None = None
    clock_offset: int = 0  # seconds the VM's clock runs ahead of the host's

    @property
    def licence_payload(self) -> dict[str, Any] | None:
        if self.licence is None:
            return None
        payload = self.licence.get("payload")
        return payload if isinstance(payload, dict) else None


_TIME_FIELDS = ("expires_at", "last_validated_at", "last_attempt_at", "first_failure_at")


def format_instant(value: datetime) -> str:
    """The protocol's instant form; the VM keeps whole seconds like the server does."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def to_json(state: VmState) -> dict[str, Any]:
    data = asdict(state)
    for name in _TIME_FIELDS:
        value = getattr(state, name)
        data[name] = None if value is None else format_instant(value)
    return {"format": STATE_FORMAT, **data}


def from_json(data: dict[str, Any]) -> VmState:
    try:
        if data.get("format") != STATE_FORMAT:
            raise StateError(f"unsupported state format {data.get('format')!r}")
        known = {f.name for f in fields(VmState)}
        values: dict[str, Any] = {k: v for k, v in data.items() if k in known}
        for name in _TIME_FIELDS:
            text = values.get(name)
            values[name] = None if text is None else parse_instant(text)
        pending = values.get("pending_reboot")
        values["pending_reboot"] = None if pending is None else PendingReboot(**pending)
        state = VmState(**values)
    except (TypeError, VerificationError) as exc:
        raise StateError(f"the state file is damaged: {exc}") from exc
    _check_types(state)
    return state


def _check_types(state: VmState) -> None:
    # A hand-edited file must fail here, with a clear message, not later in arithmetic.
    for name in ("uuid", "server", "fortios"):
        if not isinstance(getattr(state, name), str):
            raise StateError(f"the state file is damaged: {name} is not a string")
    for name in ("hardware_vcpus", "usable_vcpus", "clock_offset"):
        if not isinstance(getattr(state, name), int):
            raise StateError(f"the state file is damaged: {name} is not an integer")
    if state.licence is not None:
        payload = state.licence_payload or {}
        if not all(isinstance(payload.get(k), str) for k in ("licenceId", "serialNumber")):
            raise StateError("the state file is damaged: the licence has no licenceId/serialNumber")


class StateStore:
    """The state file of one VM directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / STATE_FILE

    def exists(self) -> bool:
        return self.path.is_file()

    def load(self) -> VmState:
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
