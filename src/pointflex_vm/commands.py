"""FortiOS-like commands of the emulated VM: parsing, dispatch and output.

Each command loads the state, re-verifies it (:mod:`pointflex_vm.integrity`), acts, prints,
and saves the state if it changed — also when the command fails, because a failed validation
(or a state found tampered with) is itself something the VM must remember.
The line formats printed here are a contract (``docs/pointflex-vm.md``): end-to-end tests
grep them.
"""

from __future__ import annotations

import hashlib
import re
import uuid as uuid_module
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TextIO

import httpx

from pointflex_verify import VerificationError
from pointflex_vm import integrity
from pointflex_vm import licence as rules
from pointflex_vm.client import LicenceClient, ProtocolError, new_nonce
from pointflex_vm.state import Signed, StateError, StateStore, VmState, format_instant
from pointflex_vm.trust import KeyCache, check_answer, check_licence

HostClock = Callable[[], datetime]

_CLOCK_STEP = re.compile(r"(\d+)([dhm])")
_MINUTES = {"d": 24 * 60, "h": 60, "m": 1}
_MAX_CLOCK_STEP_DAYS = 36500  # a century: beyond, datetime arithmetic would overflow


def system_now() -> datetime:
    # Whole seconds, like every instant of the protocol.
    return datetime.now(UTC).replace(microsecond=0)


class UsageError(Exception):
    """The command line is wrong (exit code 2)."""


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]
    arguments: tuple[str, ...]
    summary: str
    action: Callable[[Console, list[str]], int]
    needs_state: bool = True


class Console:
    """Runs command lines against one VM's state and one pointflex server."""

    def __init__(
        self,
        store: StateStore,
        http: httpx.Client,
        out: TextIO,
        err: TextIO,
        host_now: HostClock = system_now,
    ) -> None:
        self.store = store
        self.http = http
        self.out = out
        self.err = err
        self.host_now = host_now
        self.state: VmState | None = None

    def run(self, line: str) -> int:
        """Exit code: 0 done, 1 the command failed, 2 the command line is wrong."""
        words = line.split()
        if not words:
            return 0
        try:
            command, args = find_command(words)
            if not command.needs_state:
                return command.action(self, args)
            loaded = self.store.load()
            vm_now = self.host_now() + timedelta(seconds=loaded.clock_offset)
            self.state = integrity.on_load(loaded, vm_now)
            try:
                return command.action(self, args)
            finally:
                if self.state != loaded:
                    self.store.save(self.vm)
        except UsageError as exc:
            self._error(str(exc))
            return 2
        except StateError as exc:
            self._error(str(exc))
            return 1

    # --- helpers -----------------------------------------------------------------------------

    @property
    def vm(self) -> VmState:
        if self.state is None:
            raise RuntimeError("a command runs on a loaded state")
        return self.state

    def now(self) -> datetime:
        """The VM's clock: the host's plus the offset `diagnose clock advance` accumulated."""
        return self.host_now() + timedelta(seconds=self.vm.clock_offset)

    def _print(self, text: str) -> None:
        print(text, file=self.out)

    def _error(self, text: str) -> None:
        print(text, file=self.err)

    def _client(self) -> LicenceClient:
        return LicenceClient(self.vm.server, self.http)

    def _key_cache(self) -> KeyCache:
        # A state that failed verification may hold an edited key document: fetch the published
        # one again (trusted as at the first activation) rather than believe it.
        cached = None if self.vm.tampered is not None else self.vm.keys
        return KeyCache(cached, self._client().fetch_keys)

    def _keep_keys(self, cache: KeyCache) -> None:
        if cache.document is not self.vm.keys:
            self.state = replace(self.vm, keys=cache.document)

    def _resources(self) -> str:
        vm = self.vm
        allowed = rules.shown_allowance(vm)
        return f"{vm.usable_vcpus} in use ({allowed} allowed, {vm.hardware_vcpus} in hardware)"

    def _validate_at(self, when: datetime) -> tuple[str, bool]:
        """One validation, dated `when` on the VM's clock. Failures are recorded, not raised."""
        payload = self.vm.licence_payload
        if payload is None:
            raise RuntimeError("only a licensed VM validates")
        licence_id, serial = str(payload["licenceId"]), str(payload["serialNumber"])
        nonce = new_nonce()
        cache = self._key_cache()
        try:
            document = self._client().validate(
                licence_id=licence_id,
                serial_number=serial,
                instance_id=self.vm.uuid,
                product_version=self.vm.fortios,
                nonce=nonce,
            )
            answer = check_answer(
                document,
                cache,
                nonce=nonce,
                instance_id=self.vm.uuid,
                licence_id=licence_id,
                serial_number=serial,
            )
        except (ProtocolError, VerificationError) as exc:
            # A forged or replayed reply is no verdict: it counts as a failed validation.
            self._keep_keys(cache)
            error = _describe(exc)
            self.state = rules.record_failure(self.vm, error, when)
            return f"Validation at {format_instant(when)} failed: {error}", False
        self._keep_keys(cache)
        recorded = rules.record_answer(
            self.vm, Signed(document, nonce), answer.verdict, answer.reason, answer.terms, when
        )
        self.state = integrity.settle(recorded)
        reason = f" ({answer.reason})" if answer.reason else ""
        return f"Validation at {format_instant(when)}: {answer.verdict}{reason}", True

    def _boot(self) -> None:
        self.state = rules.reboot(self.vm)
        self._print(f"System is started: {self._resources()}.")

    # --- commands ----------------------------------------------------------------------------

    def _vm_license(self, args: list[str]) -> int:
        token = args[0]
        self._print("This operation will reboot the system !")
        self._print(f"Requesting license: token {_mask(token)}, server {self.vm.server}")
        nonce = new_nonce()
        cache = self._key_cache()
        try:
            document = self._client().activate(
                token=token,
                instance_id=self.vm.uuid,
                product_version=self.vm.fortios,
                hardware_vcpus=self.vm.hardware_vcpus,
                nonce=nonce,
            )
            _, terms = check_licence(document, cache, instance_id=self.vm.uuid, nonce=nonce)
        except (ProtocolError, VerificationError) as exc:
            self._keep_keys(cache)
            self._error(f"VM license install failed: {_describe(exc)}")
            return 1
        self._keep_keys(cache)
        self.state = rules.record_activation(self.vm, Signed(document, nonce), terms, self.now())
        self._print("VM license install succeeded. Rebooting firewall.")
        self._print("The system is going down NOW !!")
        self._boot()
        self.state = integrity.settle(self.vm)
        return 0

    def _status(self, args: list[str]) -> int:
        for line in status_lines(self.vm, self.now()):
            self._print(line)
        return 0

    def _cpu_add(self, args: list[str]) -> int:
        if not args[0].isdigit() or int(args[0]) < 1:
            raise UsageError("usage: execute cpu add <n> (n a positive integer)")
        self.state, added = rules.cpu_add(self.vm, int(args[0]))
        if added == 0:
            self._error(f"No vCPU added: {self._resources()}.")
            if self.vm.tampered is not None:
                self._error(f"License Status Detail: {rules.assess(self.vm, self.now()).detail}")
            return 1
        self._print(f"Added {added} vCPU(s): {self._resources()}.")
        return 0

    def _reboot(self, args: list[str]) -> int:
        self._print("The system is going down NOW !!")
        if self.vm.licence is not None:
            # FortiOS checks its licence while booting; a failure is recorded like any other.
            self._print(self._validate_at(self.now())[0])
        self._boot()
        return 0

    def _validate(self, args: list[str]) -> int:
        if self.vm.licence is None:
            self._error("No license installed; run: execute vm-license <token>")
            return 1
        line, ok = self._validate_at(self.now())
        (self._print if ok else self._error)(line)
        self._print(f"License Status: {rules.assess(self.vm, self.now()).status}")
        return 0 if ok else 1

    def _advance(self, args: list[str]) -> int:
        match = _CLOCK_STEP.fullmatch(args[0])
        if match is None:
            raise UsageError("usage: diagnose clock advance <N>d|h|m (e.g. 31d, 2h, 90m)")
        minutes = int(match.group(1)) * _MINUTES[match.group(2)]
        if minutes > _MAX_CLOCK_STEP_DAYS * _MINUTES["d"]:
            raise UsageError(f"diagnose clock advance: at most {_MAX_CLOCK_STEP_DAYS}d at once")
        delta = timedelta(minutes=minutes)
        start = self.now()
        target = start + delta
        # Validations that fall due inside the jump run at their own instant. Only the first
        # and the last are sent: the server between them is the same server, so the ones in
        # the middle could only repeat the same answer (or the same failure).
        due = rules.next_validation_due(self.vm)
        if due is not None and due <= target:
            self._print(self._validate_at(max(due, start))[0])
            due = rules.next_validation_due(self.vm)
            interval = self.vm.validation_interval
            if due is not None and interval is not None and due <= target:
                step = timedelta(seconds=interval)
                self._print(self._validate_at(due + (target - due) // step * step)[0])
        offset = self.vm.clock_offset + int(delta.total_seconds())
        self.state = replace(self.vm, clock_offset=offset)
        self._print(f"System time: {format_instant(self.now())}")
        self._print(f"License Status: {rules.assess(self.vm, self.now()).status}")
        return 0

    def _clock_show(self, args: list[str]) -> int:
        due = rules.next_validation_due(self.vm)
        self._print(f"System time: {format_instant(self.now())}")
        self._print(f"Clock offset: {_format_offset(self.vm.clock_offset)}")
        self._print(f"Next Validation: {_instant_or(due, 'none')}")
        return 0

    def _help(self, args: list[str]) -> int:
        for command in COMMANDS:
            self._print(f"{usage_of(command):<38} {command.summary}")
        return 0

    def _exit(self, args: list[str]) -> int:
        return 0


COMMANDS = (
    Command(
        ("execute", "vm-license"),
        ("<token>",),
        "install a licence, then reboot",
        Console._vm_license,
    ),
    Command(("get", "system", "status"), (), "licence status and vCPUs", Console._status),
    Command(("execute", "cpu", "add"), ("<n>",), "hot-add n vCPUs", Console._cpu_add),
    Command(("execute", "reboot"), (), "reboot (applies vCPU changes)", Console._reboot),
    Command(("diagnose", "validate"), (), "validate the licence now", Console._validate),
    Command(
        ("diagnose", "clock", "advance"),
        ("<N>d|h|m",),
        "move the VM's clock forward",
        Console._advance,
    ),
    Command(("diagnose", "clock", "show"), (), "show the VM's clock", Console._clock_show),
    Command(("help",), (), "list the commands", Console._help, needs_state=False),
    Command(("exit",), (), "end the session", Console._exit, needs_state=False),
)


def usage_of(command: Command) -> str:
    return " ".join(command.words + command.arguments)


def find_command(words: list[str]) -> tuple[Command, list[str]]:
    for command in COMMANDS:
        size = len(command.words)
        if tuple(words[:size]) == command.words:
            args = words[size:]
            if len(args) != len(command.arguments):
                raise UsageError(f"usage: {usage_of(command)}")
            return command, args
    raise UsageError(f"unknown command: {' '.join(words)} (try: help)")


def status_lines(vm: VmState, now: datetime) -> list[str]:
    """`get system status`: one `Name: value` per line, names fixed (see the doc)."""
    payload = vm.licence_payload or {}
    assessment = rules.assess(vm, now)
    verdict = vm.last_verdict or "none"
    if vm.last_reason:
        verdict += f" ({vm.last_reason})"
    pending = rules.reboot_required(vm)
    reboot = (
        f"yes (vCPU allowance lowered from {pending.from_vcpus} to {pending.to_vcpus})"
        if pending
        else "no"
    )
    allowed = rules.shown_allowance(vm)
    return [
        f"Version: FortiGate-VM64 v{vm.fortios} (pointflex-vm)",
        f"Serial-Number: {payload.get('serialNumber') or evaluation_serial(vm.uuid)}",
        f"VM UUID: {vm.uuid}",
        f"License Server: {vm.server}",
        f"License Status: {assessment.status}",
        f"License Status Detail: {assessment.detail}",
        f"License Verdict: {verdict}",
        f"License ID: {payload.get('licenceId') or 'none'}",
        f"License Expiration Date: {_instant_or(vm.expires_at, 'none')}",
        f"Last Validation: {_instant_or(vm.last_validated_at, 'never')}",
        f"Validation Failing Since: {_instant_or(vm.first_failure_at, 'none')}",
        f"Last Validation Error: {vm.last_error or 'none'}",
        f"Next Validation: {_instant_or(rules.next_validation_due(vm), 'none')}",
        f"VM Resources: {vm.usable_vcpus} CPU/{allowed} allowed",
        f"vCPUs In Use: {vm.usable_vcpus}",
        f"vCPUs Allowed: {allowed}",
        f"vCPUs Hardware: {vm.hardware_vcpus}",
        f"Reboot required: {reboot}",
        f"System time: {format_instant(now)}",
    ]


def evaluation_serial(vm_uuid: str) -> str:
    """An unlicensed FortiGate-VM shows an FGVMEV serial; derived from the UUID so it is stable."""
    return "FGVMEV" + hashlib.sha256(vm_uuid.encode()).hexdigest()[:10].upper()


def new_vm(server: str, fortios: str, cpus: int, vm_uuid: str | None) -> VmState:
    return VmState(
        uuid=vm_uuid or str(uuid_module.uuid4()),
        server=server.rstrip("/"),
        fortios=fortios,
        hardware_vcpus=cpus,
        usable_vcpus=min(rules.EVALUATION_VCPUS, cpus),
    )


def _describe(exc: Exception) -> str:
    if isinstance(exc, VerificationError):
        return f"the reply does not verify: {exc}"
    return str(exc)


def _mask(token: str) -> str:
    # The token is a credential: show only enough to recognise it.
    return "*" * max(len(token) - 4, 0) + token[-4:]


def _instant_or(value: datetime | None, missing: str) -> str:
    return missing if value is None else format_instant(value)


def _format_offset(seconds: int) -> str:
    sign = "-" if seconds < 0 else "+"
    rest = abs(seconds)
    days, rest = divmod(rest, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{days}d {hours:02d}h {minutes:02d}m {secs:02d}s ({seconds} s)"
