"""Who may see and change entitlements: tenant isolation and permissions (R63–R66, §2.7)."""

from __future__ import annotations

from typing import Any

from pointflex.services.access.api_users import Permission
from tests.api.conftest import Api
from tests.api.entitlement_support import (
    EDR_CLOUD,
    count_entitlements,
    events,
    failed,
    items,
    one,
    points_items,
    scene,
    stored,
)

FORBIDDEN, NOT_FOUND = 1102, 1201
MARCH = {"startDate": "2026-03-01", "endDate": "2026-03-31"}
MUTATIONS = [
    "entitlements/vm/create",
    "entitlements/hardware/create",
    "entitlements/cloud/create",
    "entitlements/update",
    "entitlements/stop",
    "entitlements/reactivate",
    "entitlements/vm/token",
    "entitlements/transfer",
    "entitlements/hardware/remove",
]


def test_another_organisation_gets_404_and_never_data_from_every_endpoint_R63_R66(
    api: Api,
) -> None:
    a = scene(api)
    (a_vm,) = a.vm_serials(1, skipPending=True)
    a_token = one(a.call("entitlements/list", {"configId": a.vm.id}))["token"]
    a_hw = a.hw_serial("FGT60FTK19000010", stopped=True)
    a_cloud = a.config(EDR_CLOUD, 206, name="edr")
    b = scene(api)  # a second organisation with its own world and its own API user
    (b_vm,) = b.vm_serials(1)
    requests: list[tuple[str, dict[str, Any]]] = [
        ("entitlements/list", {"configId": a.vm.id}),
        ("entitlements/list", {"configId": str(a.vm.id), "serialNumber": a_vm}),
        ("entitlements/list", {"accountId": a.w.root, "programSerialNumber": a.w.prepaid}),
        ("entitlements/list", {"accountId": a.w.root, "programSerialNumber": b.w.prepaid}),
        ("entitlements/list", {"accountId": b.w.root, "programSerialNumber": a.w.prepaid}),
        ("entitlements/vm/create", {"configId": a.vm.id, "endDate": "2026-06-30"}),
        ("entitlements/hardware/create", {"configId": a.hw.id, "serialNumbers": ["FGT60F0001"]}),
        ("entitlements/cloud/create", {"configId": a_cloud.id}),
        ("entitlements/update", {"serialNumber": a_vm, "description": "mine now"}),
        ("entitlements/update", {"serialNumber": a_vm, "endDate": "2026-06-30"}),
        ("entitlements/update", {"serialNumber": b_vm, "configId": a.vm.id}),
        ("entitlements/stop", {"serialNumber": a_vm}),
        ("entitlements/reactivate", {"serialNumber": a_hw}),
        ("entitlements/vm/token", {"serialNumber": a_vm}),
        ("entitlements/points", {**MARCH, "configId": a.vm.id}),
        ("entitlements/points", {**MARCH, "programSerialNumber": a.w.prepaid}),
        (
            "entitlements/points",
            {**MARCH, "accountId": a.w.root, "programSerialNumber": b.w.prepaid},
        ),
        ("entitlements/points", {**MARCH, "configId": b.vm.id, "serialNumber": a_vm}),
        ("entitlements/transfer", {"serialNumbers": [a_vm], "targetAccountId": b.w.member}),
        ("entitlements/transfer", {"serialNumbers": [b_vm], "targetAccountId": a.w.member}),
        (
            "entitlements/transfer",
            {"serialNumbers": [b_vm], "targetAccountId": b.w.member, "targetConfigId": a.vm.id},
        ),
        (
            "entitlements/transfer",
            {"serialNumbers": [a_vm], "accountId": b.w.root, "programSerialNumber": a.w.prepaid},
        ),
        ("entitlements/hardware/remove", {"serialNumbers": [a_hw]}),
    ]
    for endpoint, body in requests:
        reply = b.call(endpoint, body)
        assert reply.status_code == 404, (endpoint, body, reply.text)
        failed(reply, 404, NOT_FOUND)
        assert a_token not in reply.text
        assert str(a.w.root) not in reply.json()["message"]
    # "Not found" reads the same whether the serial exists elsewhere or nowhere at all.
    unknown = b.call("entitlements/stop", {"serialNumber": "FGVMMLTM26999999"}).json()
    hidden = b.call("entitlements/stop", {"serialNumber": a_vm}).json()
    assert hidden["message"] == unknown["message"].replace("FGVMMLTM26999999", a_vm)
    # Nothing of organisation A changed, and B's own entitlement stayed where it was.
    assert events(api, a_vm) == ["CREATED"]
    assert events(api, a_hw) == ["CREATED", "STOPPED"]
    assert stored(api, a_hw).removed_at is None
    assert (stored(api, b_vm).account_id, stored(api, b_vm).config_id) == (b.w.root, b.vm.id)
    assert count_entitlements(api) == 3
    # Lists only ever show the caller's own entitlements.
    own = {"accountId": b.w.root, "programSerialNumber": b.w.prepaid}
    assert [e["serialNumber"] for e in items(b.call("entitlements/list", own))] == [b_vm]
    assert [
        e["serialNumber"] for e in items(b.call("entitlements/list", {"configId": b.vm.id}))
    ] == [b_vm]
    assert points_items(b.call("entitlements/points", {**MARCH, **own})) == []


def test_a_member_account_user_sees_only_its_own_account_R65(api: Api) -> None:
    s = scene(api)
    (root_vm,) = s.vm_serials(1)
    (moved,) = s.vm_serials(1)
    body = {"serialNumbers": [moved], "accountId": s.w.member, "programSerialNumber": s.w.prepaid}
    member_config = one(s.call("entitlements/transfer", body))["configId"]
    member = s.user(account_id=s.w.member)
    scope = {"accountId": s.w.member, "programSerialNumber": s.w.prepaid}
    reply = s.call("entitlements/list", scope, member)
    assert [e["serialNumber"] for e in items(reply)] == [moved]
    assert one(s.call("entitlements/list", {"configId": member_config}, member))["accountId"] == (
        s.w.member
    )
    root_scope = {"accountId": s.w.root, "programSerialNumber": s.w.prepaid}
    failed(s.call("entitlements/list", root_scope, member), 404)
    failed(s.call("entitlements/list", {"configId": s.vm.id}, member), 404)
    failed(s.call("entitlements/stop", {"serialNumber": root_vm}, member), 404)
    back = {"serialNumbers": [moved], "accountId": s.w.root, "programSerialNumber": s.w.prepaid}
    failed(s.call("entitlements/transfer", back, member), 404)  # root is out of its scope
    assert stored(api, root_vm).status == "PENDING"
    assert stored(api, moved).account_id == s.w.member
    # The organisation-wide user sees both accounts.
    assert [e["serialNumber"] for e in items(s.call("entitlements/list", root_scope))] == [root_vm]


def test_a_read_only_user_gets_403_on_every_mutation_and_may_still_read_R64_section_2_7(
    api: Api,
) -> None:
    s = scene(api)
    (vm,) = s.vm_serials(1, skipPending=True)
    hw = s.hw_serial("FGT60FTK19000010", stopped=True)
    cloud = s.config(EDR_CLOUD, 206, name="edr")
    readonly = s.user(Permission.READONLY)
    bodies: dict[str, dict[str, Any]] = {
        "entitlements/vm/create": {"configId": s.vm.id, "count": 2},
        "entitlements/hardware/create": {"configId": s.hw.id, "serialNumbers": ["FGT60F0002"]},
        "entitlements/cloud/create": {"configId": cloud.id},
        "entitlements/update": {"serialNumber": vm, "description": "changed"},
        "entitlements/stop": {"serialNumber": vm},
        "entitlements/reactivate": {"serialNumber": hw},
        "entitlements/vm/token": {"serialNumber": vm},
        "entitlements/transfer": {"serialNumbers": [vm], "targetAccountId": s.w.member},
        "entitlements/hardware/remove": {"serialNumbers": [hw]},
    }
    assert sorted(bodies) == sorted(MUTATIONS)
    for endpoint, body in bodies.items():
        failed(s.call(endpoint, body, readonly), 403, FORBIDDEN)
        # Permission comes first: even a request naming nothing that exists is refused so.
        failed(s.call(endpoint, {"serialNumber": "X", "configId": 999_999}, readonly), 403)
    assert count_entitlements(api) == 2
    assert events(api, vm) == ["CREATED"]
    assert events(api, hw) == ["CREATED", "STOPPED"]
    assert stored(api, vm).description == ""
    assert stored(api, hw).removed_at is None
    listed = items(s.call("entitlements/list", {"configId": s.vm.id}, readonly), 1)
    assert listed[0]["serialNumber"] == vm
    assert (
        points_items(s.call("entitlements/points", {**MARCH, "configId": s.vm.id}, readonly)) == []
    )
