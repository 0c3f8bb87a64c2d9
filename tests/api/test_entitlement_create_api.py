"""entitlements/list and the three creates over real HTTP (spec §4.7–4.9, §4.11)."""

from __future__ import annotations

import json

from pointflex.services.configs import configurations as configs
from pointflex.services.entitlements import creation
from tests.api.conftest import Api
from tests.api.entitlement_support import (
    EDR_CLOUD,
    audits,
    count_entitlements,
    events,
    failed,
    items,
    one,
    scene,
    stored,
)
from tests.builders import OPERATOR

PROGRAM_END = "2027-01-01 00:00:00"  # the builders' programs end on 2027-01-01 (Pacific)


# --------------------------------------------------------------------------- vm/create


def test_terraform_creates_one_vm_with_a_string_config_id_pending_with_a_token_R24_C6(
    api: Api,
) -> None:
    s = scene(api)
    body = {
        "configId": str(s.vm.id),
        "count": 1,
        "description": "tf",
        "folderPath": "My Assets/tf",
    }
    reply = s.call("entitlements/vm/create", body)
    item = one(reply)
    assert item["status"] == "PENDING"
    assert item["tokenStatus"] == "NOTUSED"
    assert (item["configId"], item["accountId"], item["description"]) == (s.vm.id, s.w.root, "tf")
    assert item["startDate"] == "2026-03-02 10:00:00"  # creation time, Pacific
    assert item["endDate"] == PROGRAM_END  # no endDate: Follow Program (R43)
    row = stored(api, item["serialNumber"])
    assert (row.status, row.folder_path, row.termination_mode) == (
        "PENDING",
        "My Assets/tf",
        "FOLLOW_PROGRAM",
    )
    assert events(api, item["serialNumber"]) == ["CREATED"]
    (audit,) = audits(api, item["serialNumber"])
    assert audit.action == "entitlement.create"
    assert audit.actor.startswith("api:")
    assert audit.request_id == reply.headers["X-Request-ID"]


def test_python_client_defaults_skip_pending_true_and_end_date_null_C18_C19_R25(
    api: Api,
) -> None:
    s = scene(api)
    body = {
        "configId": s.vm.id,
        "count": 2,
        "description": "py",
        "endDate": None,
        "folderPath": None,
        "skipPending": True,
    }
    created = items(s.call("entitlements/vm/create", body), 2)
    assert [e["status"] for e in created] == ["ACTIVE", "ACTIVE"]
    assert {e["endDate"] for e in created} == {PROGRAM_END}
    assert len({e["serialNumber"] for e in created}) == 2
    for item in created:
        row = stored(api, item["serialNumber"])
        assert (row.status, row.termination_mode, row.folder_path) == (
            "ACTIVE",
            "FOLLOW_PROGRAM",
            "My Assets",
        )


def test_vm_create_accepts_string_count_and_lenient_skip_pending_C6_section_3_4(
    api: Api,
) -> None:
    s = scene(api)
    pending = items(
        s.call(
            "entitlements/vm/create", {"configId": s.vm.id, "count": "3", "skipPending": "false"}
        ),
        3,
    )
    assert {e["status"] for e in pending} == {"PENDING"}
    active = one(s.call("entitlements/vm/create", {"configId": s.vm.id, "skipPending": 1}))
    assert active["status"] == "ACTIVE"  # count absent: 1
    empty = one(s.call("entitlements/vm/create", {"configId": s.vm.id, "endDate": ""}))
    assert empty["endDate"] == PROGRAM_END  # "" is Follow Program too (§3.4)
    assert count_entitlements(api) == 5


def test_vm_create_refuses_count_zero_and_above_the_limit_and_creates_nothing_Q15_Q11(
    api: Api,
) -> None:
    s = scene(api)
    limit = api.rt.settings.max_vm_count
    for count in ("0", 0, -1, limit + 1, "three", True):
        reply = s.call("entitlements/vm/create", {"configId": s.vm.id, "count": count})
        failed(reply, 400)
    assert (
        "at least 1"
        in s.call("entitlements/vm/create", {"configId": s.vm.id, "count": "0"}).json()["message"]
    )
    assert count_entitlements(api) == 0


def test_vm_create_end_date_in_every_section_7_format_is_user_defined_in_program_time_R42_P11(
    api: Api,
) -> None:
    s = scene(api)
    cases = {
        "2026-06-30": "2026-06-30 00:00:00",
        "2026-07-01 08:15:00": "2026-07-01 08:15:00",
        "2026-07-01T12:30": "2026-07-01 12:30:00",
        "2026-07-01T13": "2026-07-01 13:00:00",
        "2026-07-01T14:00:00.250": "2026-07-01 14:00:00",
        "2026-07-02T19:00:00Z": "2026-07-02 12:00:00",  # UTC → Pacific daylight time
        "2026-07-03T12:00:00+02:00": "2026-07-03 03:00:00",
    }
    for sent, shown in cases.items():
        item = one(s.call("entitlements/vm/create", {"configId": s.vm.id, "endDate": sent}))
        assert item["endDate"] == shown, sent
        assert stored(api, item["serialNumber"]).termination_mode == "USER_DEFINED"


def test_vm_create_refuses_end_dates_in_the_past_or_after_the_program_R44(api: Api) -> None:
    s = scene(api)
    for end in ("2026-03-02", "2025-12-31 10:00:00", "2027-01-02", "31/12/2026", "2026-02-30"):
        reply = s.call("entitlements/vm/create", {"configId": s.vm.id, "endDate": end})
        failed(reply, 400)
    assert count_entitlements(api) == 0


def test_vm_create_needs_a_config_id_and_an_existing_configuration_section_3_3(api: Api) -> None:
    s = scene(api)
    failed(s.call("entitlements/vm/create", {"count": 1}), 400)
    failed(s.call("entitlements/vm/create", {"configId": "abc"}), 400)
    failed(s.call("entitlements/vm/create", {"configId": 999_999}), 404)
    failed(s.call("entitlements/vm/create", None), 400)  # no body at all is {}: no configId


def test_vm_create_on_a_hardware_or_disabled_configuration_is_refused_R29_P12(api: Api) -> None:
    s = scene(api)
    failed(s.call("entitlements/vm/create", {"configId": s.hw.id}), 409, 1303)
    configs.set_config_status(api.rt, OPERATOR, s.vm.id, "DISABLED")
    failed(s.call("entitlements/vm/create", {"configId": s.vm.id}), 409, 1304)
    assert count_entitlements(api) == 0


# --------------------------------------------------------------------------- hardware/create


def test_hardware_create_is_active_with_empty_token_fields_R27_Q4(api: Api) -> None:
    s = scene(api)
    body = {
        "configId": str(s.hw.id),
        "serialNumbers": ["FGT60FTK19000010", "fgt60ftk19000013"],
        "endDate": None,
    }
    created = items(s.call("entitlements/hardware/create", body), 2)
    assert [e["serialNumber"] for e in created] == ["FGT60FTK19000010", "FGT60FTK19000013"]
    for item in created:
        assert (item["status"], item["token"], item["tokenStatus"]) == ("ACTIVE", "", "")
        assert item["endDate"] == PROGRAM_END
        row = stored(api, item["serialNumber"])
        assert (row.status, row.form_factor, row.token_enc) == ("ACTIVE", "HARDWARE", None)
        assert events(api, item["serialNumber"]) == ["CREATED"]


def test_hardware_create_limits_and_duplicates_create_nothing_R38(api: Api) -> None:
    s = scene(api)
    too_many = [f"FGT60FTK19{n:06d}" for n in range(101)]
    reply = s.call("entitlements/hardware/create", {"configId": s.hw.id, "serialNumbers": too_many})
    failed(reply, 400, 1004)
    failed(s.call("entitlements/hardware/create", {"configId": s.hw.id}), 400)
    failed(s.call("entitlements/hardware/create", {"configId": s.hw.id, "serialNumbers": []}), 400)
    assert count_entitlements(api) == 0
    s.hw_serial("FGT60FTK19000010")
    again = {"configId": s.hw.id, "serialNumbers": ["FGT60FTK19000011", "FGT60FTK19000010"]}
    failed(s.call("entitlements/hardware/create", again), 409, 1307)
    assert count_entitlements(api) == 1
    vm_on_hw = {"configId": s.vm.id, "serialNumbers": ["FGT60FTK19000099"]}
    failed(s.call("entitlements/hardware/create", vm_on_hw), 409, 1303)


# --------------------------------------------------------------------------- cloud/create


def test_cloud_create_is_one_active_entitlement_without_token_R27_R28_Q4(api: Api) -> None:
    s = scene(api)
    cloud = s.config(EDR_CLOUD, 206, name="edr")
    body = {"configId": cloud.id, "count": 1, "description": "edr", "folderPath": "My Assets/c"}
    item = one(s.call("entitlements/cloud/create", body))
    assert (item["status"], item["token"], item["tokenStatus"]) == ("ACTIVE", "", "")
    assert item["description"] == "edr"
    assert item["endDate"] == PROGRAM_END
    assert stored(api, item["serialNumber"]).form_factor == "CLOUD"
    # At most one per cloud product per account (R28).
    failed(s.call("entitlements/cloud/create", {"configId": cloud.id}), 409, 1307)
    assert count_entitlements(api) == 1


def test_cloud_create_count_must_be_one_section_4_11(api: Api) -> None:
    s = scene(api)
    cloud = s.config(EDR_CLOUD, 206, name="edr")
    failed(s.call("entitlements/cloud/create", {"configId": cloud.id, "count": "2"}), 400)
    failed(s.call("entitlements/cloud/create", {"configId": cloud.id, "count": 0}), 400)
    failed(s.call("entitlements/cloud/create", {"configId": s.vm.id}), 409, 1303)
    assert count_entitlements(api) == 0


# --------------------------------------------------------------------------- list


def test_terraform_reads_one_entitlement_by_config_id_string_and_serial_C20_C6(api: Api) -> None:
    s = scene(api)
    serials = s.vm_serials(3)
    reply = s.call("entitlements/list", {"configId": str(s.vm.id), "serialNumber": serials[1]})
    item = one(reply)
    assert item["serialNumber"] == serials[1]
    older = {"configId": s.vm.id}  # clients before TF 2.3.0 send only the scope
    assert [e["serialNumber"] for e in items(s.call("entitlements/list", older), 3)] == serials


def test_list_by_account_and_program_with_exact_filters_section_4_7(api: Api) -> None:
    s = scene(api)
    (stopped,) = s.vm_serials(1, description="team a")
    (active,) = s.vm_serials(1, description="team ab", skipPending=True)
    (pending,) = s.vm_serials(1)
    one(s.call("entitlements/stop", {"serialNumber": stopped}))
    s.hw_serial("FGT60FTK19000010")
    scope = {"accountId": str(s.w.root), "programSerialNumber": s.w.prepaid}

    def listed(**filters: str) -> list[str]:
        reply = s.call("entitlements/list", {**scope, **filters})
        return [e["serialNumber"] for e in items(reply)]

    assert listed() == sorted([stopped, active, pending, "FGT60FTK19000010"])
    assert listed(description="team a") == [stopped]  # exact, not "contains"
    assert listed(status="STOPPED") == [stopped]
    assert listed(status="ACTIVE") == sorted([active, "FGT60FTK19000010"])
    assert listed(tokenStatus="NOTUSED") == sorted([stopped, active, pending])
    assert listed(serialNumber=pending.lower()) == [pending]
    assert listed(serialNumber="FGVMMLTM26999999") == []
    assert listed(status="", description="") == listed()  # "" is "not given" (§3.1)
    # All three scope fields together are allowed too (OAS example).
    both = s.call("entitlements/list", {**scope, "configId": s.hw.id})
    assert [e["serialNumber"] for e in items(both)] == ["FGT60FTK19000010"]


def test_list_without_a_complete_scope_is_400_section_4_7(api: Api) -> None:
    s = scene(api)
    s.vm_serials(1)
    for body in (None, {}, [], {"accountId": s.w.root}, {"programSerialNumber": s.w.prepaid}):
        failed(s.call("entitlements/list", body), 400)
    failed(s.call("entitlements/list", {"configId": "x1"}), 400)
    failed(s.call("entitlements/list", {"configId": 999_999}), 404)


def test_list_streams_every_match_without_pagination_section_4_7(api: Api) -> None:
    s = scene(api)
    creation.create_vm(api.rt, OPERATOR, config_id=s.vm.id, count=1000)
    creation.create_vm(api.rt, OPERATOR, config_id=s.vm.id, count=234, skip_pending=True)
    reply = s.call("entitlements/list", {"configId": s.vm.id})
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["transfer-encoding"] == "chunked"  # streamed, not built in memory
    body = json.loads(reply.content)
    found = items(reply, 1234)
    assert body["entitlements"] == found
    serials = [e["serialNumber"] for e in found]
    assert serials == sorted(serials)
    assert len(set(serials)) == 1234
    assert sum(e["status"] == "ACTIVE" for e in found) == 234
