"""Issue 4 end to end: real server processes, real ``pointflex-vm`` processes, the real v2 API.

Every FortiFlex action (configs, entitlements, tokens, stop, reactivate, hardware) goes over
HTTP to a ``pointflex serve`` process; every instance is a ``pointflex-vm`` subprocess with
its own state directory; time passes for real processes through
``POINTFLEX_CLOCK_OFFSET_SECONDS`` (servers, the accrual CLI) and ``diagnose clock advance``
(the VM). Nothing is mocked. Rules: R24–R36, R41, R46, R68–R76, P3–P5.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select

from pointflex.config import Settings
from pointflex.domain.dates import PACIFIC, local_day
from pointflex.store.tables import consumption, entitlement_events
from pointflex_verify import KeySet, VerificationError, verify_answer, verify_licence
from tests.api.servers import ServeProcess
from tests.builders import FGT_HW
from tests.e2e import vm
from tests.e2e.conftest import Flex, Servers, pacific_today, run_cli
from tests.e2e.vm import describe

VALIDATE = "/api/license/v1/validate"
WELL_KNOWN = "/.well-known/pointflex/keys.json"

NewVm = Callable[..., Path]


# --------------------------------------------------------------------------- helpers


def published_keys(server: ServeProcess) -> KeySet:
    reply = httpx.get(server.base_url + WELL_KNOWN, timeout=30)
    assert reply.status_code == 200, reply.text
    return KeySet.from_document(reply.json())


def nonce() -> str:
    return secrets.token_urlsafe(24)


def ask(server: ServeProcess, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/license/v1/validate; the signed answer document."""
    reply = httpx.post(server.base_url + VALIDATE, json=body, timeout=30)
    assert reply.status_code == 200, reply.text
    envelope = reply.json()
    assert (envelope["status"], envelope["error"]) == (0, None), envelope
    document: dict[str, Any] = envelope["answer"]
    return document


def resources(state_dir: Path) -> tuple[int, int, str]:
    """(vCPUs in use, vCPUs allowed, the Reboot required line) from `get system status`."""
    shown = vm.status(state_dir)
    return int(shown["vCPUs In Use"]), int(shown["vCPUs Allowed"]), shown["Reboot required"]


def assert_tampered(state_dir: Path, reason: str) -> str:
    """`get system status` says Invalid because the state failed verification, for `reason`."""
    shown = vm.status(state_dir)
    detail = shown["License Status Detail"]
    assert shown["License Status"] == "Invalid", shown
    assert detail.startswith("licence state failed verification (tampered?): "), detail
    assert reason in detail, detail
    return detail


def charged(engine: Engine, serial: str) -> dict[date, Decimal]:
    """The consumption rows of one serial, by day (each day at most once: asserted)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(consumption.c.day, consumption.c.points).where(consumption.c.serial == serial)
        ).all()
    days = [row.day for row in rows]
    assert len(days) == len(set(days)), f"a day charged twice: {rows}"
    return {row.day: Decimal(row.points) for row in rows}


def accrue(settings: Settings, *, through: date, offset_days: int) -> None:
    """``pointflex points accrue --through DAY`` in a CLI process ``offset_days`` ahead."""
    done = run_cli(
        settings, "points", "accrue", "--through", through.isoformat(), offset_days=offset_days
    )
    assert "Accrued" in done.stdout, done.stdout


def first_event_day(engine: Engine, serial: str, kind: str) -> date:
    with engine.connect() as conn:
        at = conn.execute(
            select(entitlement_events.c.at)
            .where(entitlement_events.c.serial == serial, entitlement_events.c.kind == kind)
            .order_by(entitlement_events.c.id)
        ).first()
    assert at is not None, f"no {kind} event for {serial}"
    return local_day(at[0], PACIFIC)


def points_over(flex: Flex, serial: str, start: date, end: date) -> list[dict[str, Any]]:
    """entitlements/points for one serial over [start, end]: [] when nothing was charged."""
    found = flex.call(
        "entitlements/points",
        {
            "programSerialNumber": flex.org.prepaid,
            "accountId": flex.org.root,
            "serialNumber": serial,
            "startDate": start.isoformat(),
            "endDate": end.isoformat(),
        },
    )["entitlements"]
    return list(found)


def licensed_vm(flex: Flex, new_vm: NewVm, name: str, vcpus: int = 2, **init: Any) -> Path:
    """A VM licensed with a new entitlement's token (a configuration of its own)."""
    created = flex.vm_entitlement(flex.vm_config(vcpus, name=f"cfg-{name}"))
    state_dir = new_vm(name, **init)
    vm.license_vm(state_dir, created["token"])
    return state_dir


# --------------------------------------------------------------------------- scenarios


def test_a_stolen_token_is_revoked_once_the_owner_redeems_the_regenerated_one(
    flex: Flex, new_vm: NewVm
) -> None:
    created = flex.vm_entitlement(flex.vm_config(2))
    serial, t1 = created["serialNumber"], created["token"]
    assert (created["status"], created["tokenStatus"]) == ("PENDING", "NOTUSED")  # R24
    thief, owner = new_vm("thief"), new_vm("owner")

    vm.license_vm(thief, t1)  # the thief redeems the token first
    assert vm.status(thief)["License Status"] == "Valid"
    shown = flex.entitlement(serial)
    assert (shown["status"], shown["tokenStatus"]) == ("ACTIVE", "USED")  # R26

    regenerated = flex.change("vm/token", serial)  # R32
    t2 = regenerated["token"]
    assert t2
    assert t2 != t1
    assert regenerated["tokenStatus"] == "NOTUSED"
    # Regenerating alone revokes nothing: the thief's licence holds until T2 is redeemed (R33).
    assert vm.validate(thief) == ("VALID", "Valid")

    vm.license_vm(owner, t2)
    assert vm.status(owner)["Serial-Number"] == serial
    assert vm.validate(thief) == ("SUPERSEDED", "Invalid")  # P4: at once, no 30 days
    assert vm.status(thief)["License Verdict"] == "SUPERSEDED"
    assert vm.validate(owner) == ("VALID", "Valid")

    # T1 can never be redeemed again: not by a fresh instance, not by the thief that used it.
    third = new_vm("third")
    for instance in (third, thief):
        refused = vm.run(instance, "execute", "vm-license", t1, expect=1)
        # docs/error-codes.md: 1201 is "an unknown or regenerated token".
        assert "VM license install failed:" in refused.stderr, describe(refused)
        assert "(error 1201, HTTP 404)" in refused.stderr, describe(refused)
        assert "succeeded" not in refused.stdout, describe(refused)
    # T2 is single-use too (R31): used by the owner, so refused to anyone else (1301).
    refused = vm.run(third, "execute", "vm-license", t2, expect=1)
    assert "VM license install failed:" in refused.stderr, describe(refused)
    assert "(error 1301, HTTP 409)" in refused.stderr, describe(refused)
    assert vm.status(third)["License Status"] == "Pending"
    assert vm.status(thief)["License Status"] == "Invalid"
    assert vm.validate(owner) == ("VALID", "Valid")
    shown = flex.entitlement(serial)
    assert (shown["status"], shown["token"], shown["tokenStatus"]) == ("ACTIVE", t2, "USED")


def test_vcpu_changes_wait_for_reboot_or_cpu_add_before_7_2_4_and_apply_at_validation_after(
    flex: Flex, new_vm: NewVm
) -> None:
    # FortiOS 7.2.3 on 8 hardware vCPUs, licensed for 4; the configuration itself is changed.
    config_id = flex.vm_config(4, name="fos-723")
    old = new_vm("fos-723", fortios="7.2.3", cpus=8)
    vm.license_vm(old, flex.vm_entitlement(config_id)["token"])
    assert resources(old) == (4, 4, "no")  # activation reboots onto the allowance

    flex.set_vcpus(config_id, 2)  # lowering (P5, R75): only a reboot applies it
    assert vm.validate(old) == ("VALID", "Valid")
    assert resources(old) == (4, 2, "yes (vCPU allowance lowered from 4 to 2)")
    rebooted = vm.run(old, "execute", "reboot")
    assert "System is started: 2 in use (2 allowed, 8 in hardware)." in rebooted.stdout
    assert resources(old) == (2, 2, "no")

    flex.set_vcpus(config_id, 6)  # raising: used after `execute cpu add`
    assert vm.validate(old) == ("VALID", "Valid")
    assert resources(old) == (2, 6, "no")
    added = vm.run(old, "execute", "cpu", "add", "4")
    assert "Added 4 vCPU(s): 6 in use (6 allowed, 8 in hardware)." in added.stdout
    assert resources(old) == (6, 6, "no")

    # FortiOS 7.2.4 (R76): both directions apply at the next validation, no command. Here the
    # entitlement is moved to other configurations (entitlements/update) instead.
    four, two, six = (flex.vm_config(n, name=f"fos-724-{n}") for n in (4, 2, 6))
    created = flex.vm_entitlement(four)
    new = new_vm("fos-724", fortios="7.2.4", cpus=8)
    vm.license_vm(new, created["token"])
    assert resources(new) == (4, 4, "no")
    flex.call("entitlements/update", {"serialNumber": created["serialNumber"], "configId": two})
    assert vm.validate(new) == ("VALID", "Valid")
    assert resources(new) == (2, 2, "no")
    flex.call("entitlements/update", {"serialNumber": created["serialNumber"], "configId": six})
    assert vm.validate(new) == ("VALID", "Valid")
    assert resources(new) == (6, 6, "no")


def test_a_stopped_entitlement_is_invalid_at_once_and_charged_only_on_days_it_was_active(
    settings: Settings, engine: Engine, servers: Servers, flex: Flex, new_vm: NewVm
) -> None:
    config_id = flex.vm_config(2)
    created = flex.vm_entitlement(config_id)
    serial = created["serialNumber"]
    machine = new_vm("a")
    vm.license_vm(machine, created["token"])
    assert vm.validate(machine) == ("VALID", "Valid")

    # Day D, on the real clock: stop, reactivate and stop again. Asserted below: D is charged
    # once at one day's rate (tools/calc), D+1 (stopped all day) not at all, and the later
    # reactivation day D+2 once at one day's rate.
    assert flex.change("stop", serial)["status"] == "STOPPED"
    assert vm.validate(machine) == ("STOPPED", "Invalid")  # P4: Invalid at once
    assert vm.status(machine)["License Verdict"] == "STOPPED"
    assert flex.change("reactivate", serial)["status"] == "ACTIVE"
    assert vm.validate(machine) == ("VALID", "Valid")
    assert flex.change("stop", serial)["status"] == "STOPPED"
    assert vm.validate(machine) == ("STOPPED", "Invalid")
    day = first_event_day(engine, serial, "STOPPED")
    rate = flex.call(
        "tools/calc",
        {
            "programSerialNumber": flex.org.prepaid,
            "productTypeId": 1,
            "parameters": [{"id": 1, "value": "2"}, {"id": 2, "value": "ENT"}],
        },
    )["points"]["current"]
    assert Decimal(str(rate)) > 0

    # Two days later (a CLI process 2 days ahead) D and D+1 are over: accrue them.
    accrue(settings, through=day + timedelta(days=1), offset_days=2)
    days = charged(engine, serial)
    # D: one row, one day's rate, although the entitlement was ACTIVE in two stretches that
    # day (activation → stop, reactivate → stop). D+1: stopped all day, no row at all.
    assert days.get(day) == Decimal(str(rate)), days
    assert day + timedelta(days=1) not in days, days
    assert points_over(flex, serial, day + timedelta(days=1), day + timedelta(days=1)) == []

    # Day D+2: reactivated through a server process running 2 days ahead. (Reactivating on D
    # instead, after D+1 had been accrued as a stopped day, would contradict the history.) The
    # VM keeps asking the real-clock server: the verdict depends on the status, not the time.
    later = Flex(servers.start(offset_days=2).base_url, flex.org)
    assert later.change("reactivate", serial)["status"] == "ACTIVE"
    assert vm.validate(machine) == ("VALID", "Valid")
    accrue(settings, through=day + timedelta(days=2), offset_days=3)
    days = charged(engine, serial)
    # The reactivation day is charged exactly once (one row, one day's rate); D is unchanged.
    assert days == {day: Decimal(str(rate)), day + timedelta(days=2): Decimal(str(rate))}, days
    (total,) = points_over(flex, serial, day, day + timedelta(days=2))
    assert Decimal(str(total["points"])) == 2 * Decimal(str(rate))


def test_a_removed_hardware_serial_validates_expired_with_reason_removed(
    server: ServeProcess, flex: Flex
) -> None:
    hw_config = flex.call(
        "configs/create",
        {
            "programSerialNumber": flex.org.prepaid,
            "accountId": flex.org.root,
            "name": "hw",
            "productTypeId": 101,
            "parameters": FGT_HW,
        },
    )["configs"]["id"]
    device = f"FGT60FTK26{secrets.randbelow(10**6):06d}"
    (item,) = flex.call(
        "entitlements/hardware/create", {"configId": hw_config, "serialNumbers": [device]}
    )["entitlements"]
    assert (item["serialNumber"], item["status"], item["token"]) == (device, "ACTIVE", "")  # R27
    keys = published_keys(server)
    instance = "hw-device-e2e"

    def hardware_verdict() -> tuple[str, str | None]:
        # A hardware device holds no licence: it validates by serial, without licenceId.
        sent = nonce()
        document = ask(server, {"serialNumber": device, "instanceId": instance, "nonce": sent})
        answer = verify_answer(document, keys, nonce=sent, instance_id=instance)
        assert (answer["serialNumber"], answer["licenceId"]) == (device, None), answer
        return answer["verdict"], answer["reason"]

    assert hardware_verdict() == ("VALID", None)
    assert flex.change("stop", device)["status"] == "STOPPED"
    assert hardware_verdict() == ("STOPPED", None)
    removed = flex.call("entitlements/hardware/remove", {"serialNumbers": [device]})
    assert removed == {"status": 0, "message": removed["message"], "error": None}
    assert hardware_verdict() == ("EXPIRED", "REMOVED")
    listed = flex.call(
        "entitlements/list",
        {"accountId": flex.org.root, "programSerialNumber": flex.org.prepaid},
    )["entitlements"]
    assert device not in {e["serialNumber"] for e in listed}  # R41: no longer managed


def test_an_entitlement_past_its_end_date_validates_expired(
    servers: Servers, server: ServeProcess, flex: Flex, new_vm: NewVm
) -> None:
    tomorrow = pacific_today() + timedelta(days=1)
    created = flex.vm_entitlement(flex.vm_config(2), endDate=tomorrow.isoformat())  # User Defined
    assert created["endDate"].startswith(tomorrow.isoformat()), created
    machine = new_vm("a")
    vm.license_vm(machine, created["token"])
    assert vm.validate(machine) == ("VALID", "Valid")
    assert vm.status(machine)["License Expiration Date"] != "none"

    # Two days later: the server process is replaced, at the same address the VM stored, by
    # one running 2 days ahead; the VM moves its own clock as far.
    server.stop()
    later = servers.start(offset_days=2, port=server.port)
    advanced = vm.run(machine, "diagnose", "clock", "advance", "2d")
    verdicts = [line for line in advanced.stdout.splitlines() if line.startswith("Validation at")]
    assert verdicts, describe(advanced)
    assert all(line.endswith(": EXPIRED") for line in verdicts), describe(advanced)
    assert "License Status: Invalid" in advanced.stdout, describe(advanced)
    assert vm.validate(machine) == ("EXPIRED", "Invalid")
    shown = vm.status(machine)
    assert (shown["License Status"], shown["License Verdict"]) == ("Invalid", "EXPIRED")
    assert Flex(later.base_url, flex.org).entitlement(created["serialNumber"])["status"] == (
        "EXPIRED"  # R46
    )


def test_tampered_documents_foreign_keys_and_replayed_answers_are_refused(  # noqa: PLR0915 — one scenario, step by step
    server: ServeProcess, flex: Flex, new_vm: NewVm
) -> None:
    created = flex.vm_entitlement(flex.vm_config(2, name="cfg-a"))
    serial, token = created["serialNumber"], created["token"]
    machine = new_vm("a", cpus=8)
    vm.license_vm(machine, token)
    state = vm.load_state(machine)
    licence, me = state["licence"], state["uuid"]  # the signed licence exactly as received
    keys = published_keys(server)
    payload = verify_licence(licence, keys, instance_id=me)
    assert payload["sizing"]["vcpus"] == 2

    # A real licence with one field changed no longer verifies.
    for path, value in (
        (("sizing", "vcpus"), 8),
        (("expiresAt",), "2099-01-01T00:00:00Z"),
        (("instanceId",), "another-instance"),
        (("serialNumber",), "FGVMMLTM99999999"),
        (("validationIntervalSeconds",), 999999),
    ):
        tampered = copy.deepcopy(licence)
        target = tampered["payload"]
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        with pytest.raises(VerificationError):
            verify_licence(tampered, keys)

    # A real answer: genuine for its own request, refused under another key or for another one.
    request = {"licenceId": payload["licenceId"], "serialNumber": payload["serialNumber"]}
    first = nonce()
    answer = ask(server, {**request, "instanceId": me, "nonce": first})
    genuine = verify_answer(answer, keys, nonce=first, instance_id=me)
    assert genuine["verdict"] == "VALID"
    impostor = KeySet({answer["kid"]: Ed25519PrivateKey.generate().public_key()})
    with pytest.raises(VerificationError):  # same key id, another key
        verify_answer(answer, impostor, nonce=first)
    with pytest.raises(VerificationError):
        verify_licence(licence, impostor)
    with pytest.raises(VerificationError):  # a key set without the signing key id
        verify_answer(answer, KeySet({}), nonce=first)
    second = nonce()
    with pytest.raises(VerificationError):  # the recorded answer replayed for a new request
        verify_answer(answer, keys, nonce=second)
    fresh = ask(server, {**request, "instanceId": me, "nonce": second})
    assert verify_answer(fresh, keys, nonce=second)["verdict"] == "VALID"
    forged = copy.deepcopy(answer)
    forged["payload"]["verdict"] = "STOPPED"
    with pytest.raises(VerificationError):
        verify_answer(forged, keys, nonce=first)
    with pytest.raises(VerificationError):  # a licence is never an answer
        verify_answer(licence, keys, nonce=payload["nonce"])

    # The VM re-verifies its state file on every load and derives what it may run from the
    # signed documents it keeps, never from the fields it caches next to them.
    # 1. Its stored licence edited to grant 8 vCPUs on 8-vCPU hardware: the licence no longer
    #    verifies, so nothing beyond evaluation mode is granted, until the VM is activated again.
    state["licence"]["payload"]["sizing"]["vcpus"] = 8
    for parameter in state["licence"]["payload"]["sizing"]["parameters"]:
        if parameter["id"] == 1:
            parameter["value"] = "8"
    vm.save_state(machine, state)
    with pytest.raises(VerificationError):
        verify_licence(vm.load_state(machine)["licence"], keys)
    assert_tampered(machine, "the stored licence does not verify")
    assert resources(machine)[:2] == (2, 1)
    nothing = vm.run(machine, "execute", "cpu", "add", "6", expect=1)
    assert "No vCPU added: 2 in use (1 allowed, 8 in hardware)." in nothing.stderr
    assert vm.validate(machine) == ("VALID", "Invalid")  # an answer does not mend a licence
    vm.license_vm(machine, token)  # the same token again: the same licence, signed again
    assert vm.status(machine)["License Status"] == "Valid"
    assert resources(machine) == (2, 2, "no")

    # 2. The cached allowance set to 8 by hand: detected, and no vCPU can be added.
    vm.edit_state(machine, allowed_vcpus=8)
    detail = assert_tampered(machine, "allowed_vcpus is 8 but the signed documents say 2")
    assert resources(machine) == (2, 2, "no")
    nothing = vm.run(machine, "execute", "cpu", "add", "6", expect=1)
    assert "No vCPU added: 2 in use (2 allowed, 8 in hardware)." in nothing.stderr
    assert f"License Status Detail: {detail}" in nothing.stderr
    rebooted = vm.run(machine, "execute", "reboot")
    assert "System is started: 2 in use (2 allowed, 8 in hardware)." in rebooted.stdout
    assert vm.status(machine)["License Status"] == "Valid"  # the reboot's genuine answer
    assert resources(machine) == (2, 2, "no")

    # 3. A STOPPED verdict turned back into VALID by hand: still Invalid (P4), now as tampered.
    assert flex.change("stop", serial)["status"] == "STOPPED"
    assert vm.validate(machine) == ("STOPPED", "Invalid")
    vm.edit_state(machine, last_verdict="VALID", last_reason=None)
    assert_tampered(machine, "last_verdict is 'VALID' but the signed documents say 'STOPPED'")
    assert vm.status(machine)["License Verdict"] == "STOPPED"
    assert flex.change("reactivate", serial)["status"] == "ACTIVE"
    assert vm.validate(machine) == ("VALID", "Valid")
    assert resources(machine) == (2, 2, "no")

    # A licence id made up in the state file is no licence the server knows.
    forger = machine.parent / "vm-forger"
    forger.mkdir()
    forged_state = vm.load_state(machine)
    forged_state["licence"]["payload"]["licenceId"] = "lic_" + "0" * 32
    vm.save_state(forger, forged_state)
    assert_tampered(forger, "the stored licence does not verify")
    assert vm.validate(forger) == ("UNKNOWN", "Invalid")
    assert vm.validate(machine) == ("VALID", "Valid")


def test_a_cloned_vm_is_a_duplicate_and_the_original_stays_valid(
    flex: Flex, new_vm: NewVm, tmp_path: Path
) -> None:
    original = licensed_vm(flex, new_vm, "original")
    assert vm.validate(original) == ("VALID", "Valid")
    clone = tmp_path / "vm-clone"
    vm.run(clone, "clone", "--from", str(original))
    before, copied = vm.status(original), vm.status(clone)
    assert copied["License ID"] == before["License ID"] != "none"
    assert copied["VM UUID"] != before["VM UUID"]

    assert vm.validate(clone) == ("DUPLICATE", "Invalid")  # R73, P4
    assert vm.status(clone)["License Verdict"] == "DUPLICATE"
    assert vm.validate(original) == ("VALID", "Valid")
    rebooted = vm.run(clone, "execute", "reboot")  # a reboot does not help the copy
    assert ": DUPLICATE" in rebooted.stdout, describe(rebooted)
    assert vm.status(clone)["License Status"] == "Invalid"
    assert vm.status(original)["License Status"] == "Valid"


def test_an_unreachable_server_gives_warning_then_invalid_after_30_days(
    server: ServeProcess, flex: Flex, new_vm: NewVm
) -> None:
    machine = licensed_vm(flex, new_vm, "a")
    assert vm.validate(machine) == ("VALID", "Valid")
    due = vm.status(machine)["Next Validation"]
    server.stop()

    advanced = vm.run(machine, "diagnose", "clock", "advance", "1d")
    assert "failed: cannot reach" in advanced.stdout, describe(advanced)
    assert "License Status: Warning" in advanced.stdout, describe(advanced)
    shown = vm.status(machine)
    assert (shown["License Status"], shown["License Verdict"]) == ("Warning", "VALID")
    assert shown["Validation Failing Since"] == due  # the first missed validation (R71)

    # 29 days 23 hours after the first missed validation: still Warning; 30 days: Invalid (R72).
    for step in ("28d", "1d"):
        assert (
            "License Status: Warning"
            in vm.run(machine, "diagnose", "clock", "advance", step).stdout
        )
    advanced = vm.run(machine, "diagnose", "clock", "advance", "1h")
    assert "License Status: Invalid" in advanced.stdout, describe(advanced)
    shown = vm.status(machine)
    assert shown["License Status"] == "Invalid"
    assert shown["License Status Detail"].startswith("validation has failed for 30 days")
    assert vm.validate(machine, expect=1)[1] == "Invalid"
