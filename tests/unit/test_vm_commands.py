"""pointflex-vm's commands against a fake pointflex server (httpx.MockTransport).

The fake implements ``docs/licence-protocol.md`` (keys, activate, validate) in memory and signs
with a key made here, through ``pointflex_verify.signed_message`` — no database, no network.
It can also misbehave: be down, fail with 5xx, forge, tamper with or replay its answers.
"""

from __future__ import annotations

import io
import json
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from pointflex_verify import ANSWER_CONTEXT, LICENCE_CONTEXT, b64url_encode, signed_message
from pointflex_vm.cli import main
from pointflex_vm.commands import Console, new_vm
from pointflex_vm.licence import TAMPERED
from pointflex_vm.state import STATE_FILE, StateStore, VmState

HOST_NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
SERVER = "http://pointflex.test"
TOKEN = "D42B57491175A7B9BAD8"
SERIAL = "FGVMMLTM26000001"
INTERVAL = 3600
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")


def instant(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the fake server --------------------------------------------------------------------------


@dataclass
class Entitlement:
    serial: str
    vcpus: int | None
    status: str = "ACTIVE"  # ACTIVE, STOPPED, EXPIRED
    end: datetime | None = datetime(2027, 1, 1, 8, 0, tzinfo=UTC)


@dataclass
class Licence:
    licence_id: str
    serial: str
    instance_id: str
    token: str


@dataclass
class FakeServer:
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    kid: str = "k-20261127-aaaaaa"
    published: dict[str, Ed25519PrivateKey] = field(default_factory=dict)
    entitlements: dict[str, Entitlement] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # token → serial (current token only)
    licences: dict[str, Licence] = field(default_factory=dict)
    down: bool = False
    fail_with: int | None = None
    canned: httpx.Response | None = None  # returned as is, whatever the request
    # Change a signed reply document before it is sent (forging, tampering, replaying).
    meddle: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None
    requests: list[tuple[str, dict[str, Any] | None]] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)
    # The server's clock, which signs issuedAt and checkedAt: the host's, like the VM's before
    # `diagnose clock advance` (a VM clock behind a signed time counts as set back).
    now: datetime = HOST_NOW

    def __post_init__(self) -> None:
        self.published[self.kid] = self.key

    def add(self, serial: str = SERIAL, vcpus: int | None = 2, token: str = TOKEN) -> Entitlement:
        self.entitlements[serial] = Entitlement(serial, vcpus)
        self.tokens[token] = serial
        return self.entitlements[serial]

    def rotate(self) -> None:
        """A new active key; the old one stays published (as ``pointflex keys rotate``)."""
        self.key = Ed25519PrivateKey.generate()
        self.kid = f"k-rotated-{len(self.published)}"
        self.published[self.kid] = self.key

    def sign(self, context: bytes, payload: dict[str, Any]) -> dict[str, Any]:
        return sign_with(self.key, self.kid, context, payload)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]

    # -- protocol --

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.requests.append((request.url.path, body))
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if self.fail_with is not None:
            return httpx.Response(self.fail_with, text="Service Unavailable")
        if self.canned is not None:
            return self.canned
        if request.method == "GET" and request.url.path == "/.well-known/pointflex/keys.json":
            return httpx.Response(200, json=self.key_document())
        if request.method == "POST" and request.url.path == "/api/license/v1/activate":
            return self.activate(body or {})
        if request.method == "POST" and request.url.path == "/api/license/v1/validate":
            return self.validate(body or {})
        return httpx.Response(404, json=error_envelope(404, "no such route"))

    def key_document(self) -> dict[str, Any]:
        return {"keys": [key_entry(kid, key) for kid, key in self.published.items()]}

    def activate(self, body: dict[str, Any]) -> httpx.Response:
        assert NONCE_RE.match(body["nonce"])
        assert isinstance(body["hardwareVcpus"], int)
        serial = self.tokens.get(body["token"])
        if serial is None:
            return httpx.Response(404, json=error_envelope(1201, "Token not found."))
        entitlement = self.entitlements[serial]
        if entitlement.status != "ACTIVE":
            return httpx.Response(409, json=error_envelope(1202, "Entitlement is STOPPED."))
        held = [lic for lic in self.licences.values() if lic.token == body["token"]]
        if held and held[0].instance_id != body["instanceId"]:
            return httpx.Response(
                409, json=error_envelope(1203, "Token already used by another instance.")
            )
        licence = held[0] if held else self.issue(serial, body)
        payload = {
            "type": "licence",
            "version": 1,
            "kid": self.kid,
            "nonce": body["nonce"],
            "licenceId": licence.licence_id,
            "serialNumber": serial,
            "accountId": 12345,
            "instanceId": licence.instance_id,
            "productType": {"id": 1, "name": "FortiGate Virtual Machine - Service Bundle"},
            **self.grant(entitlement),
            "issuedAt": instant(self.now),
        }
        return self.reply("licence", self.sign(LICENCE_CONTEXT, payload))

    def issue(self, serial: str, body: dict[str, Any]) -> Licence:
        licence = Licence(f"lic_{secrets.token_hex(4)}", serial, body["instanceId"], body["token"])
        self.licences[licence.licence_id] = licence
        return licence

    def validate(self, body: dict[str, Any]) -> httpx.Response:
        assert NONCE_RE.match(body["nonce"])
        licence = self.licences.get(body.get("licenceId", ""))
        entitlement = self.entitlements.get(body["serialNumber"])
        latest = [lic for lic in self.licences.values() if lic.serial == body["serialNumber"]]
        verdict, extra = "VALID", {}
        if licence is None or entitlement is None or licence.serial != body["serialNumber"]:
            verdict = "UNKNOWN"
        elif licence.instance_id != body["instanceId"]:
            verdict = "DUPLICATE"
        elif latest[-1] is not licence:
            verdict = "SUPERSEDED"
        elif entitlement.status != "ACTIVE":
            verdict = entitlement.status
        else:
            extra = self.grant(entitlement)
        payload = {
            "type": "answer",
            "version": 1,
            "kid": self.kid,
            "nonce": body["nonce"],
            "verdict": verdict,
            "reason": None,
            "licenceId": body.get("licenceId"),
            "serialNumber": body["serialNumber"],
            "instanceId": body["instanceId"],
            "checkedAt": instant(self.now),
            **extra,
        }
        answer = self.sign(ANSWER_CONTEXT, payload)
        self.answers.append(answer)
        return self.reply("answer", answer)

    def grant(self, entitlement: Entitlement) -> dict[str, Any]:
        vcpus = entitlement.vcpus
        parameters = [] if vcpus is None else [{"id": 1, "name": "CPU", "value": str(vcpus)}]
        return {
            "sizing": {"vcpus": vcpus, "parameters": parameters},
            "expiresAt": None if entitlement.end is None else instant(entitlement.end),
            "validationIntervalSeconds": INTERVAL,
        }

    def reply(self, name: str, document: dict[str, Any]) -> httpx.Response:
        if self.meddle is not None:
            document = self.meddle(name, document)
        envelope = {"status": 0, "message": "Request processed successfully.", "error": None}
        return httpx.Response(200, json={**envelope, name: document})


def sign_with(
    key: Ed25519PrivateKey, kid: str, context: bytes, payload: dict[str, Any]
) -> dict[str, Any]:
    signature = key.sign(signed_message(context, payload))
    return {"payload": payload, "kid": kid, "sig": b64url_encode(signature)}


def key_entry(kid: str, key: Ed25519PrivateKey) -> dict[str, Any]:
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {
        "kid": kid,
        "algorithm": "Ed25519",
        "publicKey": b64url_encode(raw),
        "createdAt": "2026-11-27T10:00:00Z",
        "retiredAt": None,
    }


def error_envelope(code: int, message: str) -> dict[str, Any]:
    return {"status": -1, "message": message, "error": {"errorCode": code, "message": message}}


# --- the VM under test ------------------------------------------------------------------------


@dataclass
class Result:
    code: int
    out: str
    err: str

    def line(self, name: str) -> str:
        """The value of the `Name: value` line (the formats tests are told to grep)."""
        for line in self.out.splitlines():
            if line.startswith(name + ": "):
                return line[len(name) + 2 :]
        raise AssertionError(f"no {name!r} line in:\n{self.out}")


class Vm:
    def __init__(self, directory: Path, server: FakeServer) -> None:
        self.store = StateStore(directory)
        self.server = server
        self.http = httpx.Client(transport=server.transport())

    def run(self, line: str) -> Result:
        out, err = io.StringIO(), io.StringIO()
        code = Console(self.store, self.http, out, err, lambda: HOST_NOW).run(line)
        return Result(code, out.getvalue(), err.getvalue())

    def status(self) -> Result:
        result = self.run("get system status")
        assert result.code == 0, result.err
        return result

    @property
    def state(self) -> VmState:
        return self.store.load()

    @property
    def text(self) -> str:
        return self.store.path.read_text()

    def edit(self, change: Callable[[dict[str, Any]], Any]) -> None:
        """Edit state.json by hand, as an attacker with access to the VM's disk would."""
        data = json.loads(self.text)
        change(data)
        self.store.path.write_text(json.dumps(data, indent=2))


@pytest.fixture
def server() -> FakeServer:
    fake = FakeServer()
    fake.add()
    return fake


@pytest.fixture
def make_vm(tmp_path: Path, server: FakeServer) -> Iterator[Callable[..., Vm]]:
    made: list[Vm] = []

    def make(fortios: str = "7.2.3", cpus: int = 4, name: str = "vm") -> Vm:
        store = StateStore(tmp_path / name)
        store.save(new_vm(SERVER, fortios, cpus, f"uuid-{name}"))
        made.append(Vm(tmp_path / name, server))
        return made[-1]

    yield make
    for vm in made:
        vm.http.close()


@pytest.fixture
def vm(make_vm: Callable[..., Vm]) -> Vm:
    return make_vm()


def activated(vm: Vm) -> Vm:
    result = vm.run(f"execute vm-license {TOKEN}")
    assert result.code == 0, result.err
    return vm


# --- before a licence -------------------------------------------------------------------------


def test_a_new_vm_is_pending_on_one_vcpu(vm: Vm) -> None:
    status = vm.status()
    assert status.line("License Status") == "Pending"
    assert status.line("Serial-Number").startswith("FGVMEV")
    assert status.line("VM Resources") == "1 CPU/1 allowed"
    assert status.line("License Expiration Date") == "none"
    assert status.line("Reboot required") == "no"


def test_a_pending_vm_cannot_validate(vm: Vm) -> None:
    result = vm.run("diagnose validate")
    assert result.code == 1
    assert "No license installed" in result.err


# --- activation -------------------------------------------------------------------------------


def test_activation_installs_the_licence_and_reboots(vm: Vm, server: FakeServer) -> None:
    result = vm.run(f"execute vm-license {TOKEN}")
    assert result.code == 0, result.err
    assert "This operation will reboot the system !" in result.out
    assert "VM license install succeeded. Rebooting firewall." in result.out
    assert "System is started: 2 in use (2 allowed, 4 in hardware)." in result.out
    assert TOKEN not in result.out  # the token is a credential: masked
    status = vm.status()
    assert status.line("License Status") == "Valid"
    assert status.line("Serial-Number") == SERIAL
    assert status.line("License Verdict") == "VALID"
    assert status.line("License ID").startswith("lic_")
    assert status.line("VM Resources") == "2 CPU/2 allowed"
    assert status.line("vCPUs In Use") == "2"
    assert status.line("vCPUs Allowed") == "2"
    assert status.line("vCPUs Hardware") == "4"
    assert status.line("License Expiration Date") == "2027-01-01T08:00:00Z"
    assert status.line("Last Validation") == "2026-11-27T10:00:00Z"
    assert status.line("Next Validation") == "2026-11-27T11:00:00Z"


def test_activation_sends_the_documented_request(vm: Vm, server: FakeServer) -> None:
    activated(vm)
    assert server.paths() == ["/api/license/v1/activate", "/.well-known/pointflex/keys.json"]
    body = server.requests[0][1]
    assert body is not None
    assert set(body) == {"token", "instanceId", "productVersion", "hardwareVcpus", "nonce"}
    assert (body["instanceId"], body["productVersion"], body["hardwareVcpus"]) == (
        "uuid-vm",
        "7.2.3",
        4,
    )


def test_the_state_keeps_the_signed_licence_but_never_the_token(vm: Vm) -> None:
    activated(vm)
    text = (vm.store.directory / STATE_FILE).read_text()
    assert TOKEN not in text
    licence = json.loads(text)["licence"]
    assert set(licence) == {"payload", "kid", "sig"}
    assert [p.name for p in vm.store.directory.iterdir()] == [STATE_FILE]  # no temp file left


def test_activating_again_with_the_same_token_keeps_the_licence(vm: Vm) -> None:
    activated(vm)
    first = vm.status().line("License ID")
    activated(vm)
    assert vm.status().line("License ID") == first


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        (lambda s: s.tokens.clear(), "Token not found. (error 1201, HTTP 404)"),
        (lambda s: setattr(s.entitlements[SERIAL], "status", "STOPPED"), "STOPPED"),
        (lambda s: setattr(s, "down", True), "cannot reach http://pointflex.test"),
        (lambda s: setattr(s, "fail_with", 503), "HTTP 503"),
    ],
)
def test_a_refused_activation_fails_with_the_servers_message(
    vm: Vm, server: FakeServer, prepare: Callable[[FakeServer], Any], message: str
) -> None:
    prepare(server)
    result = vm.run(f"execute vm-license {TOKEN}")
    assert result.code == 1
    assert result.err.startswith("VM license install failed: ")
    assert message in result.err
    assert "succeeded" not in result.out
    assert vm.status().line("License Status") == "Pending"


def test_a_token_used_by_another_vm_is_refused(make_vm: Callable[..., Vm]) -> None:
    activated(make_vm(name="first"))
    result = make_vm(name="second").run(f"execute vm-license {TOKEN}")
    assert result.code == 1
    assert "Token already used by another instance. (error 1203, HTTP 409)" in result.err


def test_a_licence_signed_by_an_unpublished_key_is_refused(vm: Vm, server: FakeServer) -> None:
    forger = Ed25519PrivateKey.generate()
    server.meddle = lambda _, doc: sign_with(forger, doc["kid"], LICENCE_CONTEXT, doc["payload"])
    result = vm.run(f"execute vm-license {TOKEN}")
    assert result.code == 1
    assert "the reply does not verify" in result.err
    assert vm.status().line("License Status") == "Pending"


def test_a_licence_for_another_instance_is_refused(vm: Vm, server: FakeServer) -> None:
    def other_instance(_: str, doc: dict[str, Any]) -> dict[str, Any]:
        return server.sign(LICENCE_CONTEXT, {**doc["payload"], "instanceId": "someone-else"})

    server.meddle = other_instance
    result = vm.run(f"execute vm-license {TOKEN}")
    assert result.code == 1
    assert "instanceId" in result.err


# --- keys -------------------------------------------------------------------------------------


def test_keys_are_cached_and_refetched_for_an_unknown_key_id(vm: Vm, server: FakeServer) -> None:
    activated(vm)
    assert vm.run("diagnose validate").code == 0
    assert server.paths().count("/.well-known/pointflex/keys.json") == 1
    server.rotate()
    result = vm.run("diagnose validate")
    assert result.code == 0, result.err
    assert server.paths().count("/.well-known/pointflex/keys.json") == 2
    cached = vm.state.keys or {}
    assert {entry["kid"] for entry in cached["keys"]} == set(server.published)


# --- validation and verdicts (P4) -------------------------------------------------------------


def test_a_valid_answer(vm: Vm, server: FakeServer) -> None:
    activated(vm)
    result = vm.run("diagnose validate")
    assert result.code == 0
    assert result.out.splitlines() == [
        "Validation at 2026-11-27T10:00:00Z: VALID",
        "License Status: Valid",
    ]
    nonces = [body["nonce"] for _, body in server.requests if body]
    assert len(set(nonces)) == len(nonces)  # a fresh nonce per request


@pytest.mark.parametrize("verdict", ["STOPPED", "EXPIRED"])
def test_a_stopped_or_expired_entitlement_is_invalid_at_once(
    vm: Vm, server: FakeServer, verdict: str
) -> None:
    activated(vm)
    server.entitlements[SERIAL].status = verdict
    result = vm.run("diagnose validate")
    assert result.code == 0
    assert f"Validation at 2026-11-27T10:00:00Z: {verdict}" in result.out
    status = vm.status()
    assert status.line("License Status") == "Invalid"
    assert status.line("License Verdict") == verdict
    server.entitlements[SERIAL].status = "ACTIVE"  # reactivated: Valid again
    vm.run("diagnose validate")
    assert vm.status().line("License Status") == "Valid"


def test_a_regenerated_token_redeemed_elsewhere_supersedes(
    make_vm: Callable[..., Vm], server: FakeServer
) -> None:
    first = activated(make_vm(name="first"))
    server.tokens = {"NEWTOKEN000000000000": SERIAL}
    assert make_vm(name="second").run("execute vm-license NEWTOKEN000000000000").code == 0
    first.run("diagnose validate")
    assert first.status().line("License Status") == "Invalid"
    assert first.status().line("License Verdict") == "SUPERSEDED"


def test_a_cloned_vm_is_a_duplicate(tmp_path: Path, vm: Vm, server: FakeServer) -> None:
    activated(vm)
    code = main(
        ["--state", str(tmp_path / "clone"), "clone", "--from", str(vm.store.directory)],
        transport=server.transport(),
    )
    assert code == 0
    clone = Vm(tmp_path / "clone", server)
    assert clone.status().line("License Status") == "Valid"  # a copy believes its licence
    clone.run("diagnose validate")
    assert clone.status().line("License Status") == "Invalid"
    assert clone.status().line("License Verdict") == "DUPLICATE"
    assert vm.run("diagnose validate").code == 0
    assert vm.status().line("License Status") == "Valid"


# --- failed validations: unreachable, forged, replayed ----------------------------------------


def forge_answer(server: FakeServer) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    forger = Ed25519PrivateKey.generate()
    return lambda _, doc: sign_with(forger, doc["kid"], ANSWER_CONTEXT, doc["payload"])


def tamper_answer(server: FakeServer) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    def tamper(_: str, doc: dict[str, Any]) -> dict[str, Any]:
        return {**doc, "payload": {**doc["payload"], "verdict": "STOPPED", "sizing": None}}

    return tamper


def forge_with_own_key(server: FakeServer) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    # The forger names its own key id; the VM refetches the keys and still does not find it.
    forger = Ed25519PrivateKey.generate()
    return lambda _, doc: sign_with(
        forger, "k-forged", ANSWER_CONTEXT, {**doc["payload"], "kid": "k-forged"}
    )


def replay_answer(server: FakeServer) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    return lambda _, doc: server.answers[0]  # the answer recorded from the first request


@pytest.mark.parametrize(
    ("meddler", "message"),
    [
        (forge_answer, "signature does not verify"),
        (tamper_answer, "signature does not verify"),
        (forge_with_own_key, "unknown key id 'k-forged'"),
        (replay_answer, "nonce is"),
    ],
)
def test_a_forged_or_replayed_answer_counts_as_a_failed_validation(
    vm: Vm,
    server: FakeServer,
    meddler: Callable[[FakeServer], Callable[[str, dict[str, Any]], dict[str, Any]]],
    message: str,
) -> None:
    activated(vm)
    assert vm.run("diagnose validate").code == 0  # a genuine answer, recorded by the fake
    server.entitlements[SERIAL].status = "STOPPED"  # a forger would hide this: it must not win
    server.meddle = meddler(server)
    result = vm.run("diagnose validate")
    assert result.code == 1
    assert "Validation at 2026-11-27T10:00:00Z failed: the reply does not verify" in result.err
    assert message in result.err
    status = vm.status()
    assert status.line("License Status") == "Warning"  # never a verdict, never Valid
    assert status.line("License Verdict") == "VALID"  # the last genuine verdict
    assert status.line("Validation Failing Since") == "2026-11-27T10:00:00Z"
    assert message in status.line("Last Validation Error")


@pytest.mark.parametrize("failure", ["down", "503", "404-html", "200-html", "200-list"])
def test_an_unreachable_server_gives_a_warning(vm: Vm, server: FakeServer, failure: str) -> None:
    activated(vm)
    if failure == "down":
        server.down = True
    elif failure == "503":
        server.fail_with = 503
    elif failure == "200-list":
        server.canned = httpx.Response(200, json=[])
    else:
        server.canned = httpx.Response(int(failure[:3]), text="<html>")
    result = vm.run("diagnose validate")
    assert result.code == 1
    assert "failed:" in result.err
    assert "License Status: Warning" in result.out
    assert vm.status().line("License Status") == "Warning"


def test_a_reply_without_an_answer_is_a_failed_validation(vm: Vm, server: FakeServer) -> None:
    activated(vm)
    server.canned = httpx.Response(200, json={"status": 0, "answer": None})
    result = vm.run("diagnose validate")
    assert result.code == 1
    assert "carries no signed answer" in result.err


# --- the clock --------------------------------------------------------------------------------


def test_the_clock_advances_without_validating_before_the_due_time(
    vm: Vm, server: FakeServer
) -> None:
    activated(vm)
    before = len(server.requests)
    result = vm.run("diagnose clock advance 59m")
    assert result.code == 0
    assert result.out.splitlines() == ["System time: 2026-11-27T10:59:00Z", "License Status: Valid"]
    assert len(server.requests) == before
    show = vm.run("diagnose clock show")
    assert show.out.splitlines() == [
        "System time: 2026-11-27T10:59:00Z",
        "Clock offset: +0d 00h 59m 00s (3540 s)",
        "Next Validation: 2026-11-27T11:00:00Z",
    ]


def test_a_due_validation_runs_at_its_own_time(vm: Vm) -> None:
    activated(vm)
    result = vm.run("diagnose clock advance 1h")
    assert "Validation at 2026-11-27T11:00:00Z: VALID" in result.out
    assert vm.status().line("Last Validation") == "2026-11-27T11:00:00Z"


def test_a_long_jump_validates_at_the_first_and_last_due_times(vm: Vm, server: FakeServer) -> None:
    activated(vm)
    before = len(server.requests)
    result = vm.run("diagnose clock advance 2d")
    assert [line for line in result.out.splitlines() if line.startswith("Validation")] == [
        "Validation at 2026-11-27T11:00:00Z: VALID",
        "Validation at 2026-11-29T10:00:00Z: VALID",
    ]
    assert len(server.requests) == before + 2
    assert "System time: 2026-11-29T10:00:00Z" in result.out


def test_an_unreachable_server_is_recorded_while_the_clock_moves(
    vm: Vm, server: FakeServer
) -> None:
    activated(vm)
    server.down = True
    result = vm.run("diagnose clock advance 29d")
    assert result.code == 0  # recorded, not raised
    assert "Validation at 2026-11-27T11:00:00Z failed: cannot reach" in result.out
    status = vm.status()
    assert status.line("License Status") == "Warning"
    assert status.line("Validation Failing Since") == "2026-11-27T11:00:00Z"
    vm.run("diagnose clock advance 1d")  # 29d 23h after the first failure
    assert vm.status().line("License Status") == "Warning"
    vm.run("diagnose clock advance 1h")  # exactly 30 days
    status = vm.status()
    assert status.line("License Status") == "Invalid"
    assert status.line("System time") == "2026-12-27T11:00:00Z"
    server.down = False  # the server is back: the next validation restores the licence
    vm.run("diagnose clock advance 1h")
    assert vm.status().line("License Status") == "Valid"


def test_a_verdict_during_a_jump_is_definitive(vm: Vm, server: FakeServer) -> None:
    activated(vm)
    server.entitlements[SERIAL].status = "STOPPED"
    result = vm.run("diagnose clock advance 1h")
    assert "Validation at 2026-11-27T11:00:00Z: STOPPED" in result.out
    assert "License Status: Invalid" in result.out


def test_a_licence_past_its_end_is_invalid_even_if_the_server_says_valid(
    vm: Vm, server: FakeServer
) -> None:
    server.entitlements[SERIAL].end = HOST_NOW + timedelta(days=10)
    activated(vm)
    vm.run("diagnose clock advance 9d")
    assert vm.status().line("License Status") == "Valid"
    vm.run("diagnose clock advance 1d")
    status = vm.status()
    assert status.line("License Status") == "Invalid"
    assert status.line("License Status Detail") == "the licence expired at 2026-12-07T10:00:00Z"


@pytest.mark.parametrize("spec", ["1", "d", "1w", "-1d", "1.5d", "1d2h", "36501d", "9" * 30 + "d"])
def test_a_malformed_clock_step_is_a_usage_error(vm: Vm, spec: str) -> None:
    result = vm.run(f"diagnose clock advance {spec}")
    assert result.code == 2
    assert "diagnose clock advance" in result.err
    assert vm.state.clock_offset == 0


# --- vCPUs (R75, R76, P5) ---------------------------------------------------------------------


def test_7_2_3_a_raise_needs_cpu_add(vm: Vm, server: FakeServer) -> None:
    activated(vm)
    server.entitlements[SERIAL].vcpus = 4
    vm.run("diagnose validate")
    assert vm.status().line("VM Resources") == "2 CPU/4 allowed"
    result = vm.run("execute cpu add 1")
    assert (result.code, result.out) == (
        0,
        "Added 1 vCPU(s): 3 in use (4 allowed, 4 in hardware).\n",
    )
    assert (
        vm.run("execute cpu add 8").out == "Added 1 vCPU(s): 4 in use (4 allowed, 4 in hardware).\n"
    )
    result = vm.run("execute cpu add 1")
    assert result.code == 1
    assert result.err == "No vCPU added: 4 in use (4 allowed, 4 in hardware).\n"


def test_7_2_3_a_lowering_needs_a_reboot(vm: Vm, server: FakeServer) -> None:
    server.entitlements[SERIAL].vcpus = 4
    activated(vm)
    server.entitlements[SERIAL].vcpus = 2
    vm.run("diagnose validate")
    status = vm.status()
    assert status.line("VM Resources") == "4 CPU/2 allowed"
    assert status.line("Reboot required") == "yes (vCPU allowance lowered from 4 to 2)"
    result = vm.run("execute reboot")
    assert result.code == 0
    assert result.out.splitlines() == [
        "The system is going down NOW !!",
        "Validation at 2026-11-27T10:00:00Z: VALID",
        "System is started: 2 in use (2 allowed, 4 in hardware).",
    ]
    status = vm.status()
    assert status.line("VM Resources") == "2 CPU/2 allowed"
    assert status.line("Reboot required") == "no"


def test_7_2_3_a_reboot_picks_up_a_raise_from_the_server(vm: Vm, server: FakeServer) -> None:
    activated(vm)
    server.entitlements[SERIAL].vcpus = 4
    vm.run("execute reboot")  # validates while booting
    assert vm.status().line("VM Resources") == "4 CPU/4 allowed"


def test_a_reboot_while_the_server_is_down_still_reboots(vm: Vm, server: FakeServer) -> None:
    server.entitlements[SERIAL].vcpus = 4
    activated(vm)
    server.entitlements[SERIAL].vcpus = 2
    vm.run("diagnose validate")
    server.down = True
    result = vm.run("execute reboot")
    assert result.code == 0
    assert "failed: cannot reach" in result.out
    status = vm.status()
    assert status.line("VM Resources") == "2 CPU/2 allowed"
    assert status.line("License Status") == "Warning"


@pytest.mark.parametrize("version", ["7.2.4", "7.10.0"])
def test_7_2_4_vcpu_changes_apply_at_the_next_validation(
    make_vm: Callable[..., Vm], server: FakeServer, version: str
) -> None:
    vm = activated(make_vm(fortios=version))
    server.entitlements[SERIAL].vcpus = 4
    vm.run("diagnose clock advance 1h")
    assert vm.status().line("VM Resources") == "4 CPU/4 allowed"
    server.entitlements[SERIAL].vcpus = 1
    vm.run("diagnose clock advance 1h")
    status = vm.status()
    assert status.line("VM Resources") == "1 CPU/1 allowed"
    assert status.line("Reboot required") == "no"


def test_7_2_3_does_not_apply_vcpu_changes_by_itself(
    make_vm: Callable[..., Vm], server: FakeServer
) -> None:
    vm = activated(make_vm(fortios="7.2.3"))
    server.entitlements[SERIAL].vcpus = 4
    vm.run("diagnose clock advance 1h")
    assert vm.status().line("VM Resources") == "2 CPU/4 allowed"


def test_the_hardware_limits_the_vcpus(make_vm: Callable[..., Vm], server: FakeServer) -> None:
    server.entitlements[SERIAL].vcpus = 8
    vm = activated(make_vm(cpus=2))
    status = vm.status()
    assert status.line("VM Resources") == "2 CPU/8 allowed"
    assert status.line("vCPUs Hardware") == "2"


# --- the state file is verified on every load --------------------------------------------------


def tampered_detail(status: Result) -> str:
    """The reason after the fixed prefix of a state that failed verification."""
    assert status.line("License Status") == "Invalid", status.out
    detail = status.line("License Status Detail")
    assert detail.startswith(TAMPERED + ": "), detail
    return detail[len(TAMPERED) + 2 :]


def assert_intact(vm: Vm) -> None:
    """A genuine state loads, is shown and is saved again byte for byte unchanged."""
    before = vm.text
    assert vm.state.tampered is None
    status = vm.status()
    assert TAMPERED not in status.out
    assert vm.run("diagnose clock show").code == 0
    assert vm.text == before


def stop(server: FakeServer) -> None:
    server.entitlements[SERIAL].status = "STOPPED"


@pytest.mark.parametrize(
    "history",
    [
        [],
        ["diagnose validate"],
        ["diagnose clock advance 3h"],
        ["diagnose validate", stop, "diagnose validate"],
        [lambda s: setattr(s, "down", True), "diagnose clock advance 2d"],
        [lambda s: s.rotate(), "diagnose validate", "execute reboot"],
    ],
    ids=["activated", "validated", "validated-by-the-clock", "stopped", "failing", "rotated"],
)
def test_a_genuine_state_round_trips_unchanged(
    vm: Vm, server: FakeServer, history: list[str | Callable[[FakeServer], Any]]
) -> None:
    activated(vm)
    for step in history:
        if isinstance(step, str):
            vm.run(step)
        else:
            step(server)
    assert_intact(vm)


def test_a_genuine_pending_lowering_round_trips_unchanged(vm: Vm, server: FakeServer) -> None:
    server.entitlements[SERIAL].vcpus = 4
    activated(vm)
    server.entitlements[SERIAL].vcpus = 3
    vm.run("diagnose validate")
    server.entitlements[SERIAL].vcpus = 2
    vm.run("diagnose validate")
    stop(server)
    vm.run("diagnose validate")  # a STOPPED answer keeps the grant and the pending lowering
    assert vm.status().line("Reboot required") == "yes (vCPU allowance lowered from 4 to 2)"
    assert json.loads(vm.text)["lowered_from"]["payload"]["type"] == "licence"
    assert_intact(vm)


def test_a_pending_vm_and_a_clone_round_trip_unchanged(
    tmp_path: Path, vm: Vm, server: FakeServer
) -> None:
    assert_intact(vm)
    activated(vm)
    vm.run("diagnose validate")
    assert (
        main(
            ["--state", str(tmp_path / "clone"), "clone", "--from", str(vm.store.directory)],
            transport=server.transport(),
        )
        == 0
    )
    clone = Vm(tmp_path / "clone", server)
    assert_intact(clone)  # a copy believes the licence it copied (R73)
    clone.run("diagnose validate")
    assert clone.status().line("License Verdict") == "DUPLICATE"
    assert_intact(clone)


def test_the_state_keeps_the_signed_answers_and_their_nonces(vm: Vm, server: FakeServer) -> None:
    activated(vm)
    vm.run("diagnose validate")
    data = json.loads(vm.text)
    sent = [body["nonce"] for _, body in server.requests if body]
    assert data["licence_nonce"] == data["licence"]["payload"]["nonce"] == sent[0]
    assert data["answer_nonce"] == data["answer"]["payload"]["nonce"] == sent[1]
    assert data["valid_answer"] == data["answer"] == server.answers[-1]
    assert data["tampered"] is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("allowed_vcpus", 8),
        ("allowed_vcpus", None),  # "no vCPU parameter": the hardware would be the limit
        ("expires_at", "2099-01-01T00:00:00Z"),
        ("expires_at", None),
        ("validation_interval", 31536000),
        ("last_verdict", "STOPPED"),
        ("last_reason", "REMOVED"),
    ],
)
def test_an_edited_grant_is_detected_and_grants_nothing(
    make_vm: Callable[..., Vm], field: str, value: Any
) -> None:
    vm = activated(make_vm(cpus=8))
    vm.run("diagnose validate")
    vm.edit(lambda data: data.update({field: value}))
    status = vm.status()
    assert field in tampered_detail(status)
    assert "the signed documents say" in status.line("License Status Detail")
    # What the VM may run comes from the signed documents, not from the edited field.
    assert status.line("VM Resources") == "2 CPU/2 allowed"
    assert status.line("License Expiration Date") == "2027-01-01T08:00:00Z"
    assert status.line("License Verdict") == "VALID"
    added = vm.run("execute cpu add 6")
    assert added.code == 1
    assert added.err.splitlines() == [
        "No vCPU added: 2 in use (2 allowed, 8 in hardware).",
        f"License Status Detail: {status.line('License Status Detail')}",
    ]
    rebooted = vm.run("execute reboot")  # validates, but the vCPUs run still do not fit
    assert "System is started: 2 in use (2 allowed, 8 in hardware)." in rebooted.out
    assert vm.status().line("License Status") == "Valid"  # a genuine answer replaced it all
    assert_intact(vm)


def test_a_stopped_verdict_edited_to_valid_stays_invalid(vm: Vm, server: FakeServer) -> None:
    activated(vm)
    stop(server)
    vm.run("diagnose validate")
    vm.edit(lambda data: data.update(last_verdict="VALID", last_reason=None))
    status = vm.status()
    assert "last_verdict is 'VALID' but the signed documents say 'STOPPED'" in tampered_detail(
        status
    )
    assert status.line("License Verdict") == "STOPPED"
    # Also once the cache agrees again: the mark stays until a genuine answer.
    vm.edit(lambda data: data.update(last_verdict="STOPPED"))
    assert vm.status().line("License Status") == "Invalid"
    assert vm.state.tampered is not None
    vm.run("diagnose validate")  # still stopped: Invalid for that reason now
    status = vm.status()
    assert status.line("License Status Detail") == "the server answered STOPPED"
    server.entitlements[SERIAL].status = "ACTIVE"
    vm.run("diagnose validate")
    assert vm.status().line("License Status") == "Valid"


def test_the_mark_survives_commands_that_save_the_state(vm: Vm) -> None:
    activated(vm)
    vm.edit(lambda data: data.update(allowed_vcpus=4))
    assert vm.run("diagnose clock advance 10m").code == 0  # saves, with the derived cache
    assert json.loads(vm.text)["allowed_vcpus"] == 2
    assert "allowed_vcpus is 4" in tampered_detail(vm.status())


def edit_licence_vcpus(data: dict[str, Any]) -> None:
    sizing = data["licence"]["payload"]["sizing"]
    sizing["vcpus"] = 8
    sizing["parameters"] = [{"id": 1, "name": "CPU", "value": "8"}]
    data["allowed_vcpus"] = 8


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (edit_licence_vcpus, "the stored licence does not verify: the licence's signature"),
        (
            lambda data: data["licence"]["payload"].update(expiresAt="2099-01-01T00:00:00Z"),
            "the stored licence does not verify: the licence's signature",
        ),
        (
            lambda data: data.update(licence_nonce="another-nonce-0000000000"),
            "the stored licence does not verify: nonce is",
        ),
    ],
)
def test_an_edited_licence_is_detected_until_the_vm_is_activated_again(
    make_vm: Callable[..., Vm], edit: Callable[[dict[str, Any]], Any], reason: str
) -> None:
    vm = activated(make_vm(cpus=8))
    vm.edit(edit)
    status = vm.status()
    assert reason in tampered_detail(status)
    # Nothing verifies: nothing is granted beyond evaluation mode.
    assert status.line("vCPUs Allowed") == "1"
    assert status.line("License Verdict") == "none"
    assert status.line("License Expiration Date") == "none"
    assert vm.run("execute cpu add 6").code == 1
    # A genuine answer does not replace the licence: still Invalid, and said so at once.
    validated = vm.run("diagnose validate")
    assert "Validation at 2026-11-27T10:00:00Z: VALID" in validated.out
    assert "License Status: Invalid" in validated.out
    assert vm.status().line("License Status") == "Invalid"
    activated(vm)  # the same token again: the same licence, signed again
    assert vm.status().line("License Status") == "Valid"
    assert vm.status().line("VM Resources") == "2 CPU/2 allowed"
    assert_intact(vm)


@pytest.mark.parametrize(
    "keys",
    [
        {"keys": []},
        {"keys": [key_entry("k-mine", Ed25519PrivateKey.generate())]},
        {"keys": [key_entry("k-20261127-aaaaaa", Ed25519PrivateKey.generate())]},  # same kid
        {"keys": 1},
    ],
)
def test_an_edited_key_document_is_fetched_again(
    vm: Vm, server: FakeServer, keys: dict[str, Any]
) -> None:
    activated(vm)
    vm.edit(lambda data: data.update(keys=keys))
    assert re.search("key document is unusable|does not verify", tampered_detail(vm.status()))
    # While the state is marked, the VM fetches the published keys again instead of using its
    # cache; with them the stored licence verifies again.
    assert vm.run("diagnose validate").code == 0
    assert vm.status().line("License Status") == "Valid"
    assert_intact(vm)


def test_an_edited_answer_is_detected_until_a_new_answer(vm: Vm, server: FakeServer) -> None:
    activated(vm)
    stop(server)
    vm.run("diagnose validate")

    def unstop(data: dict[str, Any]) -> None:
        data["answer"]["payload"]["verdict"] = "VALID"
        data["last_verdict"] = "VALID"

    vm.edit(unstop)
    assert "the stored answer does not verify" in tampered_detail(vm.status())
    server.entitlements[SERIAL].status = "ACTIVE"
    vm.run("diagnose validate")
    assert vm.status().line("License Status") == "Valid"
    assert_intact(vm)


def test_an_earlier_genuine_answer_put_back_is_detected(vm: Vm, server: FakeServer) -> None:
    activated(vm)
    vm.run("diagnose validate")
    stop(server)
    vm.run("diagnose validate")
    # The VALID answer recorded earlier, swapped in for the STOPPED one (nonce left as is).
    vm.edit(lambda data: data.update(answer=server.answers[0], last_verdict="VALID"))
    assert "the stored answer does not verify: nonce is" in tampered_detail(vm.status())


def test_a_consistent_rollback_to_the_last_valid_answer_holds_until_the_next_validation(
    vm: Vm, server: FakeServer
) -> None:
    activated(vm)
    vm.run("diagnose validate")
    stop(server)
    vm.run("diagnose validate")

    def revert(data: dict[str, Any]) -> None:
        data.update(answer=data["valid_answer"], answer_nonce=data["valid_answer_nonce"])
        data.update(last_verdict="VALID")

    vm.edit(revert)  # the answer and its nonce kept consistent: the STOPPED one is still gone
    status = vm.status()
    assert status.line("License Status") == "Valid"  # a full rollback: the known limit (doc)
    vm.run("diagnose validate")  # ... which lasts until the next validation
    assert vm.status().line("License Verdict") == "STOPPED"


@pytest.mark.parametrize(
    "change",
    [
        {"usable_vcpus": 8},
        {"usable_vcpus": 8, "pending_reboot": {"from_vcpus": 8, "to_vcpus": 2}},
        {"usable_vcpus": 0},
    ],
)
def test_more_vcpus_in_use_than_the_documents_explain_is_detected(
    make_vm: Callable[..., Vm], change: dict[str, Any]
) -> None:
    vm = activated(make_vm(cpus=8))
    vm.edit(lambda data: data.update(change))
    tampered_detail(vm.status())
    assert vm.run("execute cpu add 1").code == 1
    rebooted = vm.run("execute reboot")
    assert "System is started: 2 in use (2 allowed, 8 in hardware)." in rebooted.out
    assert vm.status().line("License Status") == "Invalid"  # until a genuine answer
    vm.run("diagnose validate")
    assert vm.status().line("License Status") == "Valid"
    assert_intact(vm)


def test_a_pending_lowering_cannot_be_inflated(
    make_vm: Callable[..., Vm], server: FakeServer
) -> None:
    server.entitlements[SERIAL].vcpus = 4
    vm = activated(make_vm(cpus=8))
    server.entitlements[SERIAL].vcpus = 2
    vm.run("diagnose validate")
    assert vm.status().line("Reboot required") == "yes (vCPU allowance lowered from 4 to 2)"
    vm.edit(
        lambda data: data.update(usable_vcpus=8, pending_reboot={"from_vcpus": 8, "to_vcpus": 2})
    )
    assert "the signed documents lower from 4 to 2" in tampered_detail(vm.status())
    vm.edit(lambda data: data.update(pending_reboot={"from_vcpus": 4, "to_vcpus": 2}))
    assert vm.status().line("License Status") == "Invalid"
    vm.run("execute reboot")
    assert vm.status().line("VM Resources") == "2 CPU/2 allowed"


def test_a_pending_lowering_on_7_2_4_is_detected(
    make_vm: Callable[..., Vm], server: FakeServer
) -> None:
    vm = activated(make_vm(fortios="7.2.4", cpus=8))
    vm.edit(
        lambda data: data.update(usable_vcpus=4, pending_reboot={"from_vcpus": 4, "to_vcpus": 2})
    )
    assert "applies vCPU changes itself" in tampered_detail(vm.status())


def test_a_clock_set_back_is_detected(vm: Vm, server: FakeServer) -> None:
    activated(vm)
    server.down = True
    vm.run("diagnose clock advance 31d")
    assert vm.status().line("License Status") == "Invalid"  # 30 days of failed validations
    vm.edit(lambda data: data.update(clock_offset=0))  # back to before the failures
    assert "is behind its own last record" in tampered_detail(vm.status())
    vm.edit(lambda data: data.update(clock_offset=-3600))
    assert "clock_offset is negative" in tampered_detail(vm.status())


def test_a_clock_behind_a_signed_time_is_detected(vm: Vm, server: FakeServer) -> None:
    activated(vm)
    server.now = HOST_NOW + timedelta(days=2)  # the server's clock is two days ahead
    vm.run("diagnose validate")
    # Hiding its own records does not help: the answer is signed two days later.
    vm.edit(lambda data: data.update(last_validated_at=None, last_attempt_at=None))
    assert "behind the newest signed time (2026-11-29T10:00:00Z)" in tampered_detail(vm.status())


def test_a_validation_postponed_by_hand_is_detected(vm: Vm) -> None:
    activated(vm)
    vm.edit(lambda data: data.update(last_attempt_at="2027-06-01T00:00:00Z"))
    assert "is behind its own last record" in tampered_detail(vm.status())


@pytest.mark.parametrize("name", ["answer", "valid_answer", "lowered_from"])
def test_documents_without_a_licence_are_detected(make_vm: Callable[..., Vm], name: str) -> None:
    donor = activated(make_vm(name="donor"))
    donor.run("diagnose validate")
    answer = json.loads(donor.text)["answer"]
    vm = make_vm(name="empty")
    vm.edit(lambda data: data.update({name: answer, f"{name}_nonce": answer["payload"]["nonce"]}))
    assert f"{name} is kept without a licence" in tampered_detail(vm.status())


def test_a_format_1_state_is_refused_with_a_hint(
    tmp_path: Path, server: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cli(tmp_path, server, "init", "--server", SERVER)
    path = tmp_path / "cli" / STATE_FILE
    path.write_text(json.dumps({**json.loads(path.read_text()), "format": 1}))
    assert cli(tmp_path, server, "get", "system", "status") == 1
    assert "format 1" in capsys.readouterr().err


# --- command line -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "execute vm-license",
        "execute vm-license A B",
        "get system",
        "execute cpu add",
        "execute cpu add two",
        "execute cpu add 0",
        "diagnose clock",
        "show full-configuration",
    ],
)
def test_a_malformed_command_is_a_usage_error(vm: Vm, line: str) -> None:
    result = vm.run(line)
    assert result.code == 2
    assert result.err.startswith(("usage:", "unknown command:"))


def test_help_lists_the_commands(vm: Vm) -> None:
    result = vm.run("help")
    assert result.code == 0
    assert "execute vm-license <token>" in result.out
    assert "diagnose clock advance <N>d|h|m" in result.out


def cli(tmp_path: Path, server: FakeServer, *words: str) -> int:
    return main(
        ["--state", str(tmp_path / "cli"), *words],
        transport=server.transport(),
        host_now=lambda: HOST_NOW,
    )


def test_the_cli_runs_one_command_and_exits_with_its_code(
    tmp_path: Path, server: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(tmp_path, server, "init", "--server", SERVER + "/", "--uuid", "u-1") == 0
    assert "VM UUID u-1" in capsys.readouterr().out
    assert cli(tmp_path, server, "execute", "vm-license", TOKEN) == 0
    assert cli(tmp_path, server, "get", "system", "status") == 0
    out = capsys.readouterr().out
    assert "License Status: Valid" in out
    assert "License Server: http://pointflex.test\n" in out
    server.tokens.clear()
    assert cli(tmp_path, server, "execute", "vm-license", "BADTOKEN") == 1
    assert "Token not found." in capsys.readouterr().err
    assert cli(tmp_path, server, "execute", "fly") == 2


def test_the_cli_reads_commands_in_a_console(
    tmp_path: Path,
    server: FakeServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert cli(tmp_path, server, "init", "--server", SERVER, "--fortios", "7.4.1") == 0
    capsys.readouterr()
    lines = (
        f"execute vm-license {TOKEN}\n\nexecute fly\nget system status\nexit\nget system status\n"
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    assert cli(tmp_path, server) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("FGVM # This operation will reboot the system !")
    assert captured.out.count("FGVM # ") == 5  # stops at `exit`
    assert captured.out.count("License Status: Valid") == 1
    assert "unknown command: execute fly" in captured.err


def test_the_console_ends_at_end_of_input(
    tmp_path: Path,
    server: FakeServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cli(tmp_path, server, "init", "--server", SERVER)
    monkeypatch.setattr("sys.stdin", io.StringIO("diagnose clock show\n"))
    assert cli(tmp_path, server) == 0
    assert capsys.readouterr().out.endswith("FGVM # \n")


@pytest.mark.parametrize(
    "words",
    [
        ["init"],
        ["init", "--server", "pointflex.test"],
        ["init", "--server", SERVER, "--fortios", "seven"],
        ["init", "--server", SERVER, "--cpus", "0"],
        ["clone"],
    ],
)
def test_bad_setup_arguments_are_usage_errors(
    tmp_path: Path, server: FakeServer, words: list[str]
) -> None:
    assert cli(tmp_path, server, *words) == 2


def test_the_state_option_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["get", "system", "status"]) == 2
    assert "--state" in capsys.readouterr().err


def test_commands_need_an_initialised_state(
    tmp_path: Path, server: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(tmp_path, server, "get", "system", "status") == 1
    assert "run 'pointflex-vm --state DIR init' first" in capsys.readouterr().err


def test_init_refuses_to_overwrite_a_vm(
    tmp_path: Path, server: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(tmp_path, server, "init", "--server", SERVER) == 0
    assert cli(tmp_path, server, "init", "--server", SERVER) == 1
    assert "already exists" in capsys.readouterr().err


@pytest.mark.parametrize(
    "change",
    [
        {"usable_vcpus": "two"},
        {"format": 99},
        {"last_attempt_at": "yesterday"},
        {"licence": {"payload": {}, "kid": "k", "sig": ""}},
        {"pending_reboot": {"from": 4}},
        {"licence_nonce": 5},
        {"allowed_vcpus": "8"},
        {"answer": "VALID"},
    ],
)
def test_a_damaged_state_file_is_reported(
    tmp_path: Path,
    server: FakeServer,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, Any],
) -> None:
    cli(tmp_path, server, "init", "--server", SERVER)
    path = tmp_path / "cli" / STATE_FILE
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, **change}))
    assert cli(tmp_path, server, "get", "system", "status") == 1
    assert "state" in capsys.readouterr().err
