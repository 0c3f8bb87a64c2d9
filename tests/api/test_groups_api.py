"""groups/list (v2 and legacy v1) and groups/nexttoken over real HTTP (spec §4.19–§4.21, §5.5).

Groups are asset folders: implicit, made by entitlements' ``folderPath``; their counts are the
VM tokens in them (NOTUSED = available, USED = used). Next token hands out the unused token of
the lowest serial, and nothing when none is left (Q20); regenerating a token makes its
entitlement eligible again (R36).
"""

from __future__ import annotations

from typing import Any

from pointflex.services.access.accounts import get_account
from pointflex.services.access.api_users import Permission
from pointflex.services.configs import configurations as configs
from pointflex.services.entitlements import changes, creation
from pointflex.services.entitlements.transfers import mark_token_used
from pointflex.services.entitlements.views import Entitlement
from tests.api.conftest import Api
from tests.builders import FGT_HW, OPERATOR, World, config, world

V1 = "/ES/api/flexvm/v1"
GROUP_KEYS = ["folderPath", "accountId", "availableTokens", "usedTokens"]
ENTITLEMENT_KEYS = [
    "serialNumber",
    "description",
    "configId",
    "accountId",
    "startDate",
    "endDate",
    "status",
    "token",
    "tokenStatus",
]


def _org_user(api: Api, w: World, permission: Permission = Permission.ADMIN) -> str:
    with api.rt.engine.connect() as conn:
        org = get_account(conn, w.root).organization_id
    return api.user(permission, organization_id=org)


def _vms(
    api: Api, config_id: int, count: int, folder: str | None = None, **extra: Any
) -> list[Entitlement]:
    return creation.create_vm(
        api.rt, OPERATOR, config_id=config_id, count=count, folder_path=folder, **extra
    )


def _redeem(api: Api, item: Entitlement) -> None:
    assert item.token is not None
    mark_token_used(api.rt, item.token)


def _assert_error(reply: Any, http_status: int, text: str | None = None) -> dict[str, Any]:
    assert reply.status_code == http_status, reply.text
    body: dict[str, Any] = reply.json()
    assert body["status"] == -1
    assert isinstance(body["error"], dict)
    assert "errorCode" in body["error"]
    if text is not None:
        assert text in body["message"]
    return body


def _v1(api: Api, endpoint: str, body: Any, token: str) -> Any:
    return api.http.post(
        f"{V1}/{endpoint}", json=body, headers={"Authorization": f"Bearer {token}"}
    )


def _table(groups: list[dict[str, Any]]) -> list[tuple[str, int, int, int]]:
    return [
        (g["folderPath"], g["accountId"], g["availableTokens"], g["usedTokens"]) for g in groups
    ]


# --------------------------------------------------------------------------- groups/list (v2)


def test_groups_list_counts_vm_tokens_per_folder_under_both_keys_C11_Q2(api: Api) -> None:
    w = world(api.rt)
    vm = config(api.rt, w.prepaid, account_id=w.root)
    hw = config(api.rt, w.prepaid, FGT_HW, product=101, name="hw", account_id=w.root)
    pool = _vms(api, vm.id, 3, "My Assets/Department A")
    _redeem(api, pool[0])
    _vms(api, vm.id, 1)  # the root folder
    _vms(api, vm.id, 2, "Department B", skip_pending=True)  # "My Assets/" is implied
    creation.create_hardware(
        api.rt, OPERATOR, config_id=hw.id, serials=["FGT60FTK19000010"], folder_path="Hardware"
    )
    creation.create_hardware(
        api.rt, OPERATOR, config_id=hw.id, serials=["FGT60FTK19000011"], folder_path="Retired"
    )
    changes.stop(api.rt, OPERATOR, ["FGT60FTK19000011"])
    changes.remove_hardware(api.rt, OPERATOR, ["FGT60FTK19000011"])  # no longer managed

    token = api.user(account_id=w.root)
    reply = api.call("groups/list", {"accountId": str(w.root)}, token)  # ANS: a string (C6)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert list(body) == ["status", "message", "error", "groups", "fortiCareAssetGroups"]
    assert body["groups"] == body["fortiCareAssetGroups"]
    for group in body["groups"]:
        assert list(group) == GROUP_KEYS
        assert all(type(group[k]) is int for k in GROUP_KEYS[1:])
    assert _table(body["groups"]) == [
        ("My Assets", w.root, 1, 0),
        ("My Assets/Department A", w.root, 2, 1),
        ("My Assets/Department B", w.root, 2, 0),
        ("My Assets/Hardware", w.root, 0, 0),  # a folder with FortiFlex items, but no tokens
    ]


def test_groups_list_is_one_accounts_folders_only(api: Api) -> None:
    w = world(api.rt)
    at_root = config(api.rt, w.prepaid, account_id=w.root)
    at_member = config(api.rt, w.prepaid, name="m", account_id=w.member)
    _vms(api, at_root.id, 1, "Shared")
    _vms(api, at_member.id, 2, "Shared")
    token = _org_user(api, w)
    groups = api.call("groups/list", {"accountId": w.member}, token).json()["groups"]
    assert _table(groups) == [("My Assets/Shared", w.member, 2, 0)]


def test_groups_list_of_an_account_without_entitlements_is_empty(api: Api) -> None:
    w = world(api.rt)
    token = api.user(Permission.READONLY, account_id=w.member)
    body = api.call("groups/list", {"accountId": w.member}, token).json()
    assert (body["status"], body["groups"], body["fortiCareAssetGroups"]) == (0, [], [])


def test_groups_list_needs_an_account_id_400(api: Api) -> None:
    w = world(api.rt)
    token = api.user(account_id=w.root)
    for body in ({}, [], None, {"accountId": None}, {"accountId": ""}):
        _assert_error(api.call("groups/list", body, token), 400, "accountId is required")
    _assert_error(api.call("groups/list", {"accountId": "abc"}, token), 400, "accountId")


def test_groups_list_of_an_account_out_of_scope_is_404_R63(api: Api) -> None:
    ours = world(api.rt)
    theirs = world(api.rt)
    cfg = config(api.rt, ours.prepaid, account_id=ours.root)
    _vms(api, cfg.id, 2, "Secret folder")
    for token, account in (
        (_org_user(api, theirs), ours.root),  # another organisation
        (api.user(account_id=ours.member), ours.root),  # a sibling account (R65)
        (api.user(account_id=ours.root), 987654),  # no such account
    ):
        reply = _assert_error(api.call("groups/list", {"accountId": account}, token), 404)
        assert "groups" not in reply
        assert "Secret" not in reply["message"]


# --------------------------------------------------------------------------- v1 groups/list


def test_v1_groups_list_covers_every_account_in_scope_C12(api: Api) -> None:
    ours = world(api.rt)
    theirs = world(api.rt)
    at_root = config(api.rt, ours.prepaid, account_id=ours.root)
    at_member = config(api.rt, ours.prepaid, name="m", account_id=ours.member)
    elsewhere = config(api.rt, theirs.prepaid, name="x", account_id=theirs.root)
    _redeem(api, _vms(api, at_root.id, 2, "Pool")[0])
    _vms(api, at_member.id, 1, "Pool")
    _vms(api, elsewhere.id, 5, "Pool")

    org = _org_user(api, ours)
    # Terraform's body when no account is configured: accountId 0 (ignored).
    for body in ({}, [], {"accountId": 0}):
        reply = _v1(api, "groups/list", body, org)
        assert reply.status_code == 200, reply.text
        data = reply.json()
        assert list(data) == ["status", "message", "error", "groups"]
        assert _table(data["groups"]) == [
            ("My Assets/Pool", ours.root, 1, 1),
            ("My Assets/Pool", ours.member, 1, 0),
        ]
        assert all(list(g) == GROUP_KEYS for g in data["groups"])

    member = api.user(Permission.READONLY, account_id=ours.member)
    assert _table(_v1(api, "groups/list", {}, member).json()["groups"]) == [
        ("My Assets/Pool", ours.member, 1, 0)
    ]
    # The lenient path rules apply to the v1 prefix as well (C5).
    reply = api.http.post(
        "/es/api/flexvm/v1/groups/list/", headers={"Authorization": f"Bearer {member}"}
    )
    assert reply.status_code == 200
    assert len(reply.json()["groups"]) == 1


def test_v1_groups_list_needs_a_token_C2(api: Api) -> None:
    reply = api.http.post(f"{V1}/groups/list", json={})
    assert reply.status_code == 401
    assert reply.json() == {"status": -1, "message": "Invalid security token.", "error": None}


# --------------------------------------------------------------------------- groups/nexttoken


def test_nexttoken_returns_the_lowest_unused_serial_as_a_1_item_list_R36(api: Api) -> None:
    w = world(api.rt)
    cfg = config(api.rt, w.prepaid, account_id=w.root)
    pool = _vms(api, cfg.id, 3, "My Assets/Scale set", description="asg")
    _redeem(api, pool[0])
    token = api.user(Permission.READONLY, account_id=w.root)  # a read: READONLY may ask

    reply = api.call("groups/nexttoken", {"folderPath": "My Assets/Scale set"}, token)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert list(body) == ["status", "message", "error", "entitlements"]
    (item,) = body["entitlements"]
    assert list(item) == ENTITLEMENT_KEYS
    assert (item["serialNumber"], item["token"]) == (pool[1].serial, pool[1].token)
    assert (item["status"], item["tokenStatus"]) == ("PENDING", "NOTUSED")
    assert (item["configId"], item["accountId"], item["description"]) == (cfg.id, w.root, "asg")

    # Asking again reserves nothing: the same token until it is redeemed.
    again = api.call("groups/nexttoken", {"configId": str(cfg.id)}, token).json()
    assert again["entitlements"][0]["serialNumber"] == pool[1].serial
    _redeem(api, pool[1])
    after = api.call("groups/nexttoken", {"configId": cfg.id}, token).json()
    assert after["entitlements"][0]["serialNumber"] == pool[2].serial


def test_nexttoken_filters_by_folder_and_config_together(api: Api) -> None:
    w = world(api.rt)
    first = config(api.rt, w.prepaid, name="a", account_id=w.root)
    second = config(api.rt, w.prepaid, name="b", account_id=w.root)
    _vms(api, first.id, 1, "Blue")
    _vms(api, second.id, 1, "Green")
    wanted = _vms(api, second.id, 1, "Blue")[0]
    token = api.user(account_id=w.root)
    # Ansible passes the folder as typed; the root may be written in any case.
    body = {"configId": second.id, "folderPath": "my assets/Blue", "accountId": str(w.root)}
    item = api.call("groups/nexttoken", body, token).json()["entitlements"][0]
    assert item["serialNumber"] == wanted.serial


def test_nexttoken_status_filter_takes_a_list_or_a_single_string_C21(api: Api) -> None:
    w = world(api.rt)
    cfg = config(api.rt, w.prepaid, account_id=w.root)
    pending = _vms(api, cfg.id, 1, "Mixed")[0]
    active = _vms(api, cfg.id, 1, "Mixed", skip_pending=True)[0]
    stopped = _vms(api, cfg.id, 1, "Mixed", skip_pending=True)[0]
    changes.stop(api.rt, OPERATOR, [stopped.serial])
    token = api.user(account_id=w.root)

    def first(status: Any) -> str:
        body = {"folderPath": "Mixed", "status": status}
        reply = api.call("groups/nexttoken", body, token)
        assert reply.status_code == 200, reply.text
        return str(reply.json()["entitlements"][0]["serialNumber"])

    assert first(["ACTIVE", "PENDING"]) == pending.serial  # TF and ANS send a list
    assert first(["ACTIVE"]) == active.serial
    assert first("active") == active.serial  # a single string, any case
    assert first(["STOPPED"]) == stopped.serial
    assert first([]) == pending.serial  # an empty list filters nothing
    _assert_error(
        api.call("groups/nexttoken", {"folderPath": "Mixed", "status": ["EXPIRED"]}, token), 404
    )
    _assert_error(
        api.call("groups/nexttoken", {"folderPath": "Mixed", "status": ["RUNNING"]}, token),
        400,
        "RUNNING",
    )


def test_nexttoken_with_nothing_left_is_a_404_envelope_Q20(api: Api) -> None:
    w = world(api.rt)
    cfg = config(api.rt, w.prepaid, account_id=w.root)
    hw = config(api.rt, w.prepaid, FGT_HW, product=101, name="hw", account_id=w.root)
    for item in _vms(api, cfg.id, 2, "Drained"):
        _redeem(api, item)
    creation.create_hardware(
        api.rt, OPERATOR, config_id=hw.id, serials=["FGT60FTK19000012"], folder_path="Drained"
    )
    token = api.user(account_id=w.root)
    for body in ({"folderPath": "Drained"}, {"configId": cfg.id}, {"folderPath": "Nowhere"}):
        reply = _assert_error(api.call("groups/nexttoken", body, token), 404, "no unused token")
        assert reply["error"]["errorCode"] == 1202
        assert "entitlements" not in reply


def test_a_regenerated_token_makes_its_entitlement_eligible_again_R36(api: Api) -> None:
    w = world(api.rt)
    cfg = config(api.rt, w.prepaid, account_id=w.root)
    pool = _vms(api, cfg.id, 2, "Recycled")
    for item in pool:
        _redeem(api, item)
    token = api.user(account_id=w.root)
    _assert_error(api.call("groups/nexttoken", {"folderPath": "Recycled"}, token), 404)

    fresh = changes.regenerate_token(api.rt, OPERATOR, pool[1].serial)
    reply = api.call("groups/nexttoken", {"folderPath": "Recycled"}, token)
    assert reply.status_code == 200, reply.text
    item = reply.json()["entitlements"][0]
    assert (item["serialNumber"], item["token"]) == (pool[1].serial, fresh.token)
    assert item["token"] != pool[1].token
    assert item["tokenStatus"] == "NOTUSED"
    groups = api.call("groups/list", {"accountId": w.root}, token).json()["groups"]
    assert _table(groups) == [("My Assets/Recycled", w.root, 1, 1)]


def test_nexttoken_needs_an_account_a_config_or_a_folder_400(api: Api) -> None:
    w = world(api.rt)
    token = api.user(account_id=w.root)
    for body in (
        {},
        [],
        {"status": ["ACTIVE"]},
        {"accountId": 0, "configId": 0},  # "not set" values
        {"configId": 0, "folderPath": ""},  # Terraform and Ansible "not set" values
        {"configId": None, "folderPath": None},
    ):
        _assert_error(api.call("groups/nexttoken", body, token), 400, "configId or folderPath")
    _assert_error(api.call("groups/nexttoken", {"configId": "twelve"}, token), 400, "configId")


def test_nexttoken_never_hands_out_another_scopes_token_R63(api: Api) -> None:
    ours = world(api.rt)
    theirs = world(api.rt)
    at_root = config(api.rt, ours.prepaid, account_id=ours.root)
    _vms(api, at_root.id, 2, "Pool")
    outsider = _org_user(api, theirs)
    sibling = api.user(account_id=ours.member)
    for token, body in (
        (outsider, {"configId": at_root.id}),
        (outsider, {"folderPath": "Pool"}),
        (outsider, {"folderPath": "Pool", "accountId": ours.root}),
        (sibling, {"configId": at_root.id}),
        (sibling, {"folderPath": "Pool"}),
        (sibling, {"folderPath": "Pool", "accountId": ours.root}),
    ):
        reply = _assert_error(api.call("groups/nexttoken", body, token), 404)
        assert "entitlements" not in reply


def test_v1_nexttoken_serves_older_clients_without_an_account(api: Api) -> None:
    w = world(api.rt)
    cfg = config(api.rt, w.prepaid, account_id=w.root)
    wanted = _vms(api, cfg.id, 1, "Legacy")[0]
    token = api.user(account_id=w.root)
    # Ansible 2.0.x: folderPath and configId only, "" / 0 when not set.
    reply = _v1(api, "groups/nexttoken", {"folderPath": "My Assets/Legacy"}, token)
    assert reply.status_code == 200, reply.text
    assert reply.json()["entitlements"][0]["serialNumber"] == wanted.serial
    _assert_error(_v1(api, "groups/nexttoken", {"folderPath": "", "configId": 0}, token), 400)


# --------------------------------------------------------------------------- by account alone


def test_nexttoken_by_account_alone_as_terraform_and_ansible_send_it(api: Api) -> None:
    """TF's groups_nexttoken: "Either account_id or config_id is required"; Ansible's
    groups_nexttoken_info: accountId or configId, sent as a string."""
    w = world(api.rt)
    first = config(api.rt, w.prepaid, account_id=w.root)
    second = config(api.rt, w.prepaid, account_id=w.root, name="fgt-b")
    used, fresh = _vms(api, first.id, 2, "A")
    _redeem(api, used)
    (later,) = _vms(api, second.id, 1, "B")
    token = api.user(account_id=w.root)
    for account in (w.root, str(w.root)):
        reply = api.call("groups/nexttoken", {"accountId": account}, token)
        assert reply.status_code == 200, reply.text
        (item,) = reply.json()["entitlements"]
        assert (item["serialNumber"], item["token"]) == (fresh.serial, fresh.token)
        assert item["accountId"] == w.root
    narrowed = api.call("groups/nexttoken", {"accountId": str(w.root), "folderPath": "B"}, token)
    assert narrowed.json()["entitlements"][0]["serialNumber"] == later.serial
    by_config = api.call("groups/nexttoken", {"accountId": w.root, "configId": second.id}, token)
    assert by_config.json()["entitlements"][0]["serialNumber"] == later.serial


def test_nexttoken_by_account_takes_the_status_filter(api: Api) -> None:
    w = world(api.rt)
    cfg = config(api.rt, w.prepaid, account_id=w.root)
    (pending,) = _vms(api, cfg.id, 1)
    (active,) = _vms(api, cfg.id, 1, skip_pending=True)
    token = api.user(account_id=w.root)
    for status, serial in (("ACTIVE", active.serial), (["PENDING"], pending.serial)):
        reply = api.call("groups/nexttoken", {"accountId": w.root, "status": status}, token)
        assert reply.json()["entitlements"][0]["serialNumber"] == serial
    stopped = api.call("groups/nexttoken", {"accountId": w.root, "status": "STOPPED"}, token)
    assert "account" in _assert_error(stopped, 404)["message"]


def test_nexttoken_by_account_skips_disabled_configurations(api: Api) -> None:
    w = world(api.rt)
    off = config(api.rt, w.prepaid, account_id=w.root)
    on = config(api.rt, w.prepaid, account_id=w.root, name="fgt-on")
    _vms(api, off.id, 1)
    (wanted,) = _vms(api, on.id, 1)
    configs.set_config_status(api.rt, OPERATOR, off.id, configs.DISABLED)
    token = api.user(account_id=w.root)
    reply = api.call("groups/nexttoken", {"accountId": w.root}, token)
    assert reply.json()["entitlements"][0]["serialNumber"] == wanted.serial


def test_nexttoken_by_account_never_reaches_another_organisation(api: Api) -> None:
    ours = world(api.rt)
    theirs = world(api.rt)
    _vms(api, config(api.rt, ours.prepaid, account_id=ours.root).id, 2)
    _vms(api, config(api.rt, theirs.prepaid, account_id=theirs.root).id, 2)
    outsider = _org_user(api, theirs)
    sibling = api.user(account_id=ours.member)
    for token, account in ((outsider, ours.root), (outsider, str(ours.root)), (sibling, ours.root)):
        reply = _assert_error(api.call("groups/nexttoken", {"accountId": account}, token), 404)
        assert "entitlements" not in reply
    own = api.call("groups/nexttoken", {"accountId": theirs.root}, outsider)
    assert own.json()["entitlements"][0]["accountId"] == theirs.root
