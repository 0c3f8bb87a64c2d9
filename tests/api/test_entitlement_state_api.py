"""update, stop, reactivate and vm/token over real HTTP (spec §4.12–4.15, §6.2)."""

from __future__ import annotations

import pytest

from pointflex.errors import NotFound
from pointflex.services.entitlements.transfers import mark_token_used
from tests.api.conftest import V2, Api
from tests.api.entitlement_support import (
    EDR_CLOUD,
    audits,
    events,
    failed,
    one,
    scene,
    stored,
)
from tests.builders import FGT_ENT_4

ALREADY_IN_STATE, INVALID_STATE, WRONG_PRODUCT = 1302, 1301, 1303


# --------------------------------------------------------------------------- stop / reactivate


def test_terraform_destroy_stops_a_pending_entitlement_P2_Q21(api: Api) -> None:
    s = scene(api)
    (serial,) = s.vm_serials(1)
    # TF reads the entitlement, then stops it because it is not STOPPED yet.
    read = one(s.call("entitlements/list", {"configId": str(s.vm.id), "serialNumber": serial}))
    assert read["status"] == "PENDING"
    reply = s.call("entitlements/stop", {"serialNumber": serial})
    item = one(reply)
    assert (item["serialNumber"], item["status"]) == (serial, "STOPPED")
    assert stored(api, serial).status == "STOPPED"
    assert events(api, serial) == ["CREATED", "STOPPED"]
    audit = audits(api, serial)[-1]
    assert audit.action == "entitlement.stop"
    assert (audit.before, audit.after) == ({"status": "PENDING"}, {"status": "STOPPED"})
    assert audit.request_id == reply.headers["X-Request-ID"]


def test_a_request_id_given_by_the_client_is_echoed_and_audited(api: Api) -> None:
    s = scene(api)
    (serial,) = s.vm_serials(1)
    reply = api.http.post(
        f"{V2}/entitlements/stop",
        json={"serialNumber": serial},
        headers={"Authorization": f"Bearer {s.token}", "X-Request-ID": "change-4711"},
    )
    assert reply.status_code == 200, reply.text
    assert reply.headers["X-Request-ID"] == "change-4711"
    assert audits(api, serial)[-1].request_id == "change-4711"


def test_ansible_reactivate_on_active_is_409_with_an_error_code_and_changes_nothing_C16(
    api: Api,
) -> None:
    s = scene(api)
    (serial,) = s.vm_serials(1, skipPending=True)
    body = failed(
        s.call("entitlements/reactivate", {"serialNumber": serial}), 409, ALREADY_IN_STATE
    )
    assert "errorCode" in body["error"]  # the exact check Ansible makes
    assert events(api, serial) == ["CREATED"]
    assert [a.action for a in audits(api, serial)] == ["entitlement.create"]
    # Ansible then drives a real cycle and reads entitlements[0].status each time.
    stopped = s.call("entitlements/stop", {"serialNumber": serial}).json()
    assert stopped["entitlements"][0]["status"] == "STOPPED"
    again = s.call("entitlements/reactivate", {"serialNumber": serial}).json()
    assert again["entitlements"][0]["status"] == "ACTIVE"
    assert stored(api, serial).status == "ACTIVE"
    assert events(api, serial) == ["CREATED", "STOPPED", "REACTIVATED"]
    assert audits(api, serial)[-1].action == "entitlement.reactivate"


def test_stopping_a_stopped_entitlement_is_409_and_changes_nothing_P2(api: Api) -> None:
    s = scene(api)
    serial = s.hw_serial("FGT60FTK19000010", stopped=True)  # hardware stops like VMs (R40)
    failed(s.call("entitlements/stop", {"serialNumber": serial}), 409, ALREADY_IN_STATE)
    assert events(api, serial) == ["CREATED", "STOPPED"]


def test_terraform_retrieve_vm_group_takes_a_pending_entitlement_by_reactivating_it(
    api: Api,
) -> None:
    """fortiflexvm_retrieve_vm_group with retrieve_status ["STOPPED", "PENDING"]: the task's
    name goes into the description, then entitlements/reactivate; an error means "skip"."""
    s = scene(api)
    (serial,) = s.vm_serials(1, folderPath="My Assets/asg")
    claim = {"serialNumber": serial, "configId": str(s.vm.id), "description": "tf-task-7"}
    assert s.call("entitlements/update", claim).status_code == 200
    reply = s.call("entitlements/reactivate", {"serialNumber": serial})
    assert reply.status_code == 200, reply.text
    (item,) = reply.json()["entitlements"]
    assert (item["status"], item["tokenStatus"], item["description"]) == (
        "ACTIVE",
        "NOTUSED",
        "tf-task-7",
    )
    assert stored(api, serial).status == "ACTIVE"
    assert events(api, serial)[-1] == "REACTIVATED"
    again = s.call("entitlements/reactivate", {"serialNumber": serial})
    failed(again, 409, ALREADY_IN_STATE)  # ANS inspects the errorCode and warns


# --------------------------------------------------------------------------- update


def test_terraform_update_with_empty_description_clears_it_and_null_keeps_it_C17(
    api: Api,
) -> None:
    s = scene(api)
    (serial,) = s.vm_serials(1, description="owned by tf")
    keep = {"serialNumber": serial, "configId": str(s.vm.id), "description": None}
    assert one(s.call("entitlements/update", keep))["description"] == "owned by tf"
    assert one(s.call("entitlements/update", {"serialNumber": serial}))["description"] == (
        "owned by tf"
    )
    assert events(api, serial) == ["CREATED"]  # nothing to change
    clear = {"serialNumber": serial, "configId": str(s.vm.id), "description": ""}
    assert one(s.call("entitlements/update", clear))["description"] == ""
    assert stored(api, serial).description == ""
    assert events(api, serial) == ["CREATED", "DESCRIPTION_CHANGED"]
    audit = audits(api, serial)[-1]
    assert audit.action == "entitlement.update"
    assert (audit.before["description"], audit.after["description"]) == ("owned by tf", "")


def test_update_with_the_current_values_is_a_no_op_even_when_stopped_OAS_R47(api: Api) -> None:
    s = scene(api)
    (serial,) = s.vm_serials(1, description="as read")
    current = one(s.call("entitlements/stop", {"serialNumber": serial}))
    echo = {
        "serialNumber": serial,
        "configId": current["configId"],
        "description": current["description"],
        "endDate": current["endDate"],  # a Follow Program end, sent back as read
    }
    assert one(s.call("entitlements/update", echo)) == current
    row = stored(api, serial)
    assert (row.termination_mode, row.status) == ("FOLLOW_PROGRAM", "STOPPED")
    assert events(api, serial) == ["CREATED", "STOPPED"]
    assert [a.action for a in audits(api, serial)] == ["entitlement.create", "entitlement.stop"]


def test_update_end_date_becomes_user_defined_and_empty_or_null_leave_it_R44_R47(
    api: Api,
) -> None:
    s = scene(api)
    (serial,) = s.vm_serials(1, skipPending=True)
    for unchanged in ("", None):
        item = one(s.call("entitlements/update", {"serialNumber": serial, "endDate": unchanged}))
        assert item["endDate"] == "2027-01-01 00:00:00"
    assert events(api, serial) == ["CREATED"]
    item = one(s.call("entitlements/update", {"serialNumber": serial, "endDate": "2026-10-25"}))
    assert item["endDate"] == "2026-10-25 00:00:00"
    row = stored(api, serial)
    assert row.termination_mode == "USER_DEFINED"
    assert events(api, serial) == ["CREATED", "END_DATE_CHANGED"]
    for bad in ("2027-01-02", "2026-03-01", "soon"):
        failed(s.call("entitlements/update", {"serialNumber": serial, "endDate": bad}), 400)
    one(s.call("entitlements/stop", {"serialNumber": serial}))
    later = {"serialNumber": serial, "endDate": "2026-11-30"}
    failed(s.call("entitlements/update", later), 409, INVALID_STATE)  # STOPPED: no end change
    assert stored(api, serial).end_at == row.end_at


def test_update_moves_to_a_configuration_of_the_same_product_type_R51_P12(api: Api) -> None:
    s = scene(api)
    bigger = s.config(FGT_ENT_4, 1, name="fgt-4")
    (serial,) = s.vm_serials(1)
    item = one(s.call("entitlements/update", {"serialNumber": serial, "configId": str(bigger.id)}))
    assert item["configId"] == bigger.id
    assert stored(api, serial).config_id == bigger.id
    assert events(api, serial) == ["CREATED", "CONFIG_CHANGED"]
    to_hw = {"serialNumber": serial, "configId": s.hw.id}
    failed(s.call("entitlements/update", to_hw), 409, WRONG_PRODUCT)
    failed(s.call("entitlements/update", {"serialNumber": serial, "configId": 999_999}), 404)
    assert stored(api, serial).config_id == bigger.id


# --------------------------------------------------------------------------- vm/token


def test_python_client_regenerates_and_reads_entitlements_0_token_C22_R32(api: Api) -> None:
    s = scene(api)
    (serial,) = s.vm_serials(1, skipPending=True)
    (before,) = s.call("entitlements/list", {"configId": s.vm.id}).json()["entitlements"]
    mark_token_used(api.rt, before["token"])
    reply = s.call("entitlements/vm/token", {"serialNumber": serial})
    token = reply.json()["entitlements"][0]["token"]
    item = one(reply)
    assert token != before["token"]
    assert item["tokenStatus"] == "NOTUSED"
    assert item["status"] == "ACTIVE"
    assert stored(api, serial).token_status == "NOTUSED"
    assert events(api, serial)[-1] == "TOKEN_REGENERATED"
    assert audits(api, serial)[-1].action == "entitlement.regenerate_token"
    with pytest.raises(NotFound):  # the old token can never be redeemed again (R32)
        mark_token_used(api.rt, before["token"])
    assert mark_token_used(api.rt, token).token_status == "USED"


def test_vm_token_works_while_stopped_but_not_on_hardware_or_cloud_R34(api: Api) -> None:
    s = scene(api)
    (serial,) = s.vm_serials(1)
    one(s.call("entitlements/stop", {"serialNumber": serial}))
    assert one(s.call("entitlements/vm/token", {"serialNumber": serial}))["status"] == "STOPPED"
    hw = s.hw_serial("FGT60FTK19000010")
    failed(s.call("entitlements/vm/token", {"serialNumber": hw}), 409, WRONG_PRODUCT)
    cloud = s.config(EDR_CLOUD, 206, name="edr")
    cloud_serial = one(s.call("entitlements/cloud/create", {"configId": cloud.id}))["serialNumber"]
    failed(s.call("entitlements/vm/token", {"serialNumber": cloud_serial}), 409, WRONG_PRODUCT)
    assert events(api, hw) == ["CREATED"]
    assert events(api, cloud_serial) == ["CREATED"]


# --------------------------------------------------------------------------- bad requests


@pytest.mark.parametrize(
    "endpoint",
    [
        "entitlements/update",
        "entitlements/stop",
        "entitlements/reactivate",
        "entitlements/vm/token",
    ],
)
def test_single_serial_endpoints_need_a_serial_and_know_unknown_ones_section_3_3(
    api: Api, endpoint: str
) -> None:
    s = scene(api)
    failed(s.call(endpoint, {}), 400)
    failed(s.call(endpoint, {"serialNumber": ""}), 400)
    failed(s.call(endpoint, {"serialNumber": None}), 400)
    failed(s.call(endpoint, {"serialNumber": "FGVMMLTM26999999"}), 404)
