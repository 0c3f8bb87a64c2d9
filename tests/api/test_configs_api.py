"""configs/list, create, update, enable and disable over real HTTP (spec §4.3–§4.6, §5.2).

Requests are built the way the clients send them: Terraform (string ids, int parameter values,
repeated list ids, read-only ids omitted), Ansible (``name: null`` on update, ``"NONE"`` for an
empty list) and the Python clients (``{}``/``[]`` bodies, string account ids).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from pointflex.errors import ConfigDisabled
from pointflex.services.access.accounts import get_account
from pointflex.services.access.api_users import Permission
from pointflex.services.configs import configurations as configs
from pointflex.services.entitlements import creation
from pointflex.store.tables import audit_log, config_versions
from tests.api.conftest import Api
from tests.builders import OPERATOR, World, config, world

CONFIG_KEYS = [
    "id",
    "name",
    "programSerialNumber",
    "accountId",
    "status",
    "productType",
    "parameters",
]


def _org(api: Api, account_id: int) -> int:
    with api.rt.engine.connect() as conn:
        return get_account(conn, account_id).organization_id


def _org_user(api: Api, w: World, permission: Permission = Permission.ADMIN) -> str:
    return api.user(permission, organization_id=_org(api, w.root))


def _assert_config_shape(item: dict[str, Any]) -> None:
    """The OAS Config: keys in order, integer ids, every parameter value a string (§5.2, C7)."""
    assert list(item) == CONFIG_KEYS
    assert type(item["id"]) is int
    assert type(item["accountId"]) is int
    assert list(item["productType"]) == ["id", "name"]
    assert type(item["productType"]["id"]) is int
    for param in item["parameters"]:
        assert list(param) == ["id", "name", "value"]
        assert type(param["id"]) is int
        assert isinstance(param["value"], str)


def _assert_error(reply: Any, http_status: int, text: str | None = None) -> dict[str, Any]:
    assert reply.status_code == http_status, reply.text
    body: dict[str, Any] = reply.json()
    assert body["status"] == -1
    assert isinstance(body["error"], dict)
    assert "errorCode" in body["error"]
    if text is not None:
        assert text in body["message"]
    return body


def _pairs(item: dict[str, Any]) -> list[tuple[int, str]]:
    return [(p["id"], p["value"]) for p in item["parameters"]]


def _count(api: Api, query: Any) -> int:
    with api.rt.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


# --------------------------------------------------------------------------- create


def test_create_as_terraform_sends_it_returns_one_config_object_C6_C7_C8_C10_Q1(api: Api) -> None:
    w = world(api.rt)
    token = _org_user(api, w)
    reply = api.call(
        "configs/create",
        {
            "programSerialNumber": w.prepaid,
            "name": "tf-fgt",
            "productTypeId": "1",  # numeric string (C6)
            "accountId": str(w.member),
            "parameters": [
                {"id": 1, "value": 4},  # TF sends numbers for numeric parameters (C7)
                {"id": "2", "value": "ENT"},
                {"id": 10, "value": 5},
                {"id": 43, "value": "FGTISSS"},  # a list parameter repeats its id (C8)
                {"id": 43, "value": "FGTAVDB"},
                {"id": 44, "value": "NONE"},  # an empty list (C8)
            ],
        },
        token,
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert list(body) == ["status", "message", "error", "configs"]
    assert (body["status"], body["error"]) == (0, None)
    item = body["configs"]
    assert isinstance(item, dict)  # Q1: one object, not a 1-item list (ANS, PY)
    _assert_config_shape(item)
    assert item["name"] == "tf-fgt"
    assert (item["programSerialNumber"], item["accountId"]) == (w.prepaid, w.member)
    assert item["status"] == "ACTIVE"
    assert item["productType"]["id"] == 1
    assert _pairs(item) == [
        (1, "4"),
        (2, "ENT"),
        (10, "5"),
        (43, "FGTAVDB"),
        (43, "FGTISSS"),
        (44, "NONE"),
        (45, "NONE"),
    ]
    stored = configs.get_config(api.rt, OPERATOR, item["id"])
    assert stored.account_id == w.member
    assert stored.status == "ACTIVE"
    assert stored.values == {
        1: "4",
        2: "ENT",
        10: "5",
        43: ("FGTAVDB", "FGTISSS"),
        44: (),
        45: "NONE",
    }


def test_create_ignores_read_only_parameter_ids_and_shows_their_value_C9(api: Api) -> None:
    w = world(api.rt)
    token = api.user(account_id=w.root)
    reply = api.call(
        "configs/create",
        {
            "programSerialNumber": w.prepaid,
            "name": "edr",
            "productTypeId": 206,
            "parameters": [
                {"id": 46, "value": "FEDRPDR"},
                {"id": 47, "value": "12345"},  # read-only endpoints: ignored
                {"id": 52, "value": "NONE"},
            ],
        },
        token,
    )
    assert reply.status_code == 200, reply.text
    item = reply.json()["configs"]
    _assert_config_shape(item)
    assert (47, "0") in _pairs(item)  # the derived value, not the one sent
    assert 47 not in configs.get_config(api.rt, OPERATOR, item["id"]).values


def test_create_defaults_to_the_callers_account(api: Api) -> None:
    w = world(api.rt)
    token = api.user(account_id=w.member)
    body = {
        "programSerialNumber": w.prepaid,
        "name": "mine",
        "productTypeId": 1,
        "parameters": [{"id": 1, "value": "2"}, {"id": 2, "value": "FC"}],
    }
    item = api.call("configs/create", body, token).json()["configs"]
    assert item["accountId"] == w.member
    assert configs.get_config(api.rt, OPERATOR, item["id"]).account_id == w.member


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"programSerialNumber": None}, "programSerialNumber is required"),
        ({"name": None}, "name is required"),
        ({"name": "   "}, "name is required"),
        ({"productTypeId": None}, "productTypeId is required"),
        ({"productTypeId": "one"}, "productTypeId must be a whole number"),
        ({"productTypeId": 999}, "product type 999 does not exist"),
        ({"parameters": None}, "parameters is required"),
        ({"parameters": {"id": 1, "value": "2"}}, "parameters must be a list"),
        ({"parameters": [{"id": 2, "value": "ENT"}]}, "Parameter id 1"),
        ({"parameters": [{"id": 1, "value": 200}, {"id": 2, "value": "ENT"}]}, "Parameter id 1"),
        ({"parameters": [{"id": 1, "value": 2}, {"id": 2, "value": "XYZ"}]}, "Parameter id 2"),
        (
            {
                "parameters": [
                    {"id": 1, "value": 1},
                    {"id": 2, "value": "FC"},
                    {"id": 10, "value": 11},
                ]
            },
            "Parameter id 10",
        ),
        (
            {
                "parameters": [
                    {"id": 1, "value": 2},
                    {"id": 2, "value": "FC"},
                    {"id": 99, "value": 1},
                ]
            },
            "Parameter id 99",
        ),
        (
            {
                "parameters": [
                    {"id": 1, "value": 2},
                    {"id": 2, "value": "FC"},
                    {"id": 43, "value": "NONE"},
                    {"id": 43, "value": "FGTAVDB"},
                ]
            },
            "Parameter id 43",
        ),
    ],
)
def test_create_refuses_bad_input_with_400_and_parameter_id_wording_C15(
    api: Api, change: dict[str, Any], message: str
) -> None:
    w = world(api.rt)
    token = api.user(account_id=w.root)
    body = {
        "programSerialNumber": w.prepaid,
        "name": "bad",
        "productTypeId": 1,
        "parameters": [{"id": 1, "value": "2"}, {"id": 2, "value": "ENT"}],
        **change,
    }
    _assert_error(api.call("configs/create", body, token), 400, message)
    assert configs.list_configs(api.rt, OPERATOR, w.prepaid) == []


def test_create_wording_lets_clients_rewrite_the_parameter_name_C15(api: Api) -> None:
    w = world(api.rt)
    token = api.user(account_id=w.root)
    body = {
        "programSerialNumber": w.prepaid,
        "name": "bad",
        "productTypeId": 1,
        "parameters": [{"id": 1, "value": 200}, {"id": 2, "value": "ENT"}],
    }
    reply = _assert_error(api.call("configs/create", body, token), 400)
    assert reply["message"] == "Parameter id 1 value 200 is out of range 1-96"
    assert reply["error"]["message"] == reply["message"]


# --------------------------------------------------------------------------- list


def test_list_needs_the_program_serial_400(api: Api) -> None:
    w = world(api.rt)
    token = api.user(account_id=w.root)
    for body in ({}, [], None, {"accountId": w.root}):
        _assert_error(api.call("configs/list", body, token), 400, "programSerialNumber")


def test_list_without_account_returns_every_visible_account_R65(api: Api) -> None:
    w = world(api.rt)
    at_root = config(api.rt, w.prepaid, name="root-cfg", account_id=w.root)
    at_member = config(api.rt, w.prepaid, name="member-cfg", account_id=w.member)
    config(api.rt, w.postpaid, name="other-program", account_id=w.member)

    org_reply = api.call("configs/list", {"programSerialNumber": w.prepaid}, _org_user(api, w))
    assert org_reply.status_code == 200
    listed = org_reply.json()["configs"]
    assert [c["id"] for c in listed] == [at_root.id, at_member.id]
    for item in listed:
        _assert_config_shape(item)
        # Defaults are shown too; empty lists as one "NONE" entry (C8).
        assert _pairs(item) == [
            (1, "2"),
            (2, "ENT"),
            (10, "0"),
            (43, "NONE"),
            (44, "NONE"),
            (45, "NONE"),
        ]

    # A member account's user sees its own configurations only, never its siblings' (R65).
    member = api.user(account_id=w.member)
    mine = api.call("configs/list", {"programSerialNumber": w.prepaid}, member).json()["configs"]
    assert [c["id"] for c in mine] == [at_member.id]


def test_list_filters_by_account_given_as_a_string_C6(api: Api) -> None:
    w = world(api.rt)
    config(api.rt, w.prepaid, name="root-cfg", account_id=w.root)
    at_member = config(api.rt, w.prepaid, name="member-cfg", account_id=w.member)
    token = _org_user(api, w)
    body = {"programSerialNumber": w.prepaid, "accountId": str(w.member)}
    listed = api.call("configs/list", body, token).json()["configs"]
    assert [(c["id"], c["accountId"]) for c in listed] == [(at_member.id, w.member)]


def test_list_of_an_account_out_of_scope_is_404_R63(api: Api) -> None:
    w = world(api.rt)
    config(api.rt, w.prepaid, name="root-cfg", account_id=w.root)
    member = api.user(account_id=w.member)
    body = {"programSerialNumber": w.prepaid, "accountId": w.root}
    reply = _assert_error(api.call("configs/list", body, member), 404)
    assert "configs" not in reply


# --------------------------------------------------------------------------- update


def test_update_as_ansible_sends_it_keeps_the_name_and_replaces_the_parameters(api: Api) -> None:
    w = world(api.rt)
    before = config(
        api.rt,
        w.prepaid,
        [{"id": 1, "value": "2"}, {"id": 2, "value": "ENT"}, {"id": 43, "value": "FGTAVDB"}],
        name="keep-me",
    )
    token = api.user(account_id=w.root)
    # Ansible: every option of the product, numbers as ints, [] as "NONE", and name null.
    body = {
        "name": None,
        "id": before.id,
        "parameters": [
            {"id": 1, "value": 4},
            {"id": 2, "value": "ATP"},
            {"id": 10, "value": 0},
            {"id": 43, "value": "NONE"},
            {"id": 44, "value": "FGTFAMS"},
            {"id": 45, "value": "NONE"},
        ],
    }
    reply = api.call("configs/update", body, token)
    assert reply.status_code == 200, reply.text
    item = reply.json()["configs"]
    _assert_config_shape(item)
    assert (item["id"], item["name"], item["status"]) == (before.id, "keep-me", "ACTIVE")
    assert _pairs(item) == [
        (1, "4"),
        (2, "ATP"),
        (10, "0"),
        (43, "NONE"),
        (44, "FGTFAMS"),
        (45, "NONE"),
    ]
    after = configs.get_config(api.rt, OPERATOR, before.id)
    assert after.name == "keep-me"
    assert after.values[1] == "4"
    assert after.values[43] == ()
    assert after.values[44] == ("FGTFAMS",)
    # R52: a new dated parameter version, which every entitlement on the config is billed by.
    versions = select(func.count()).where(config_versions.c.config_id == before.id)
    assert _count(api, versions) == 2


def test_update_as_terraform_sends_it_with_a_string_id_C6(api: Api) -> None:
    w = world(api.rt)
    before = config(api.rt, w.prepaid, name="old")
    token = api.user(account_id=w.root)
    body = {
        "id": str(before.id),
        "name": "new",
        "parameters": [{"id": 1, "value": 2}, {"id": 2, "value": "ENT"}],
    }
    item = api.call("configs/update", body, token).json()["configs"]
    assert (item["id"], item["name"]) == (before.id, "new")
    assert configs.get_config(api.rt, OPERATOR, before.id).name == "new"
    # Same parameters: no new version (nothing changed for billing).
    versions = select(func.count()).where(config_versions.c.config_id == before.id)
    assert _count(api, versions) == 1


def test_update_of_the_name_alone_keeps_the_parameters(api: Api) -> None:
    w = world(api.rt)
    before = config(api.rt, w.prepaid, name="old")
    token = api.user(account_id=w.root)
    item = api.call("configs/update", {"id": before.id, "name": "renamed"}, token).json()["configs"]
    assert item["name"] == "renamed"
    assert configs.get_config(api.rt, OPERATOR, before.id).values == before.values


def test_update_refuses_bad_parameters_and_changes_nothing_C15(api: Api) -> None:
    w = world(api.rt)
    before = config(api.rt, w.prepaid, name="old")
    token = api.user(account_id=w.root)
    body = {"id": before.id, "name": "new", "parameters": [{"id": 1, "value": "97"}]}
    _assert_error(api.call("configs/update", body, token), 400, "Parameter id 1 value 97")
    unchanged = configs.get_config(api.rt, OPERATOR, before.id)
    assert (unchanged.name, unchanged.values) == ("old", before.values)


def test_update_refuses_lowering_an_increase_only_parameter_R53(api: Api) -> None:
    w = world(api.rt)
    siem = config(
        api.rt,
        w.prepaid,
        [{"id": 66, "value": 20}, {"id": 67, "value": 1000}, {"id": 68, "value": 500}],
        product=209,
        name="siem",
    )
    token = api.user(account_id=w.root)
    lower = {
        "id": siem.id,
        "parameters": [{"id": 66, "value": 10}, {"id": 67, "value": 500}, {"id": 68, "value": 500}],
    }
    _assert_error(api.call("configs/update", lower, token), 400, "Parameter id 67 cannot be")
    assert configs.get_config(api.rt, OPERATOR, siem.id).values[67] == "1000"

    higher = {
        "id": siem.id,
        "parameters": [
            {"id": 66, "value": 10},
            {"id": 67, "value": 1500},
            {"id": 68, "value": 500},
        ],
    }
    item = api.call("configs/update", higher, token).json()["configs"]
    assert (67, "1500") in _pairs(item)
    assert (66, "10") in _pairs(item)
    assert configs.get_config(api.rt, OPERATOR, siem.id).values[67] == "1500"


def test_update_needs_an_id_400(api: Api) -> None:
    w = world(api.rt)
    token = api.user(account_id=w.root)
    for body in ({}, [], {"name": "x"}, {"id": None}, {"id": "abc"}):
        _assert_error(api.call("configs/update", body, token), 400, "id")


def test_update_refuses_an_empty_name(api: Api) -> None:
    w = world(api.rt)
    before = config(api.rt, w.prepaid, name="old")
    token = api.user(account_id=w.root)
    _assert_error(api.call("configs/update", {"id": before.id, "name": " "}, token), 400)
    assert configs.get_config(api.rt, OPERATOR, before.id).name == "old"


# --------------------------------------------------------------------------- enable / disable


def test_disable_and_enable_are_idempotent_and_return_the_object_Q22_C10(api: Api) -> None:
    w = world(api.rt)
    cfg = config(api.rt, w.prepaid)
    token = api.user(account_id=w.root)
    for _ in range(2):
        reply = api.call("configs/disable", {"id": str(cfg.id)}, token)
        assert reply.status_code == 200, reply.text
        item = reply.json()["configs"]
        _assert_config_shape(item)
        assert item["status"] == "DISABLED"
    assert configs.get_config(api.rt, OPERATOR, cfg.id).status == "DISABLED"
    for _ in range(2):
        item = api.call("configs/enable", {"id": cfg.id}, token).json()["configs"]
        assert item["status"] == "ACTIVE"
    assert configs.get_config(api.rt, OPERATOR, cfg.id).status == "ACTIVE"
    # Asking for the current status changed nothing: one audit row per real change (P13).
    actions = select(audit_log.c.action).where(
        audit_log.c.object_type == "config", audit_log.c.object_id == str(cfg.id)
    )
    with api.rt.engine.connect() as conn:
        assert conn.execute(actions.order_by(audit_log.c.id)).scalars().all() == [
            "config.create",
            "config.disable",
            "config.enable",
        ]


def test_disabled_config_takes_no_new_entitlements_but_keeps_the_old_ones_R52_P12(
    api: Api,
) -> None:
    w = world(api.rt)
    cfg = config(api.rt, w.prepaid)
    (existing,) = creation.create_vm(api.rt, OPERATOR, config_id=cfg.id, skip_pending=True)
    token = api.user(account_id=w.root)
    assert api.call("configs/disable", {"id": cfg.id}, token).json()["configs"]["status"] == (
        "DISABLED"
    )
    with pytest.raises(ConfigDisabled) as refused:
        creation.create_vm(api.rt, OPERATOR, config_id=cfg.id)
    assert refused.value.http_status == 409
    from pointflex.services.entitlements.views import get_entitlement

    with api.rt.engine.connect() as conn:
        still = get_entitlement(api.rt, conn, OPERATOR, existing.serial)
    assert still.status.value == "ACTIVE"


def test_enable_and_disable_need_an_id_400(api: Api) -> None:
    w = world(api.rt)
    token = api.user(account_id=w.root)
    for endpoint in ("configs/enable", "configs/disable"):
        _assert_error(api.call(endpoint, {}, token), 400, "id is required")
        _assert_error(api.call(endpoint, None, token), 400, "id is required")


def test_unknown_configuration_is_404(api: Api) -> None:
    w = world(api.rt)
    token = api.user(account_id=w.root)
    for endpoint, body in (
        ("configs/update", {"id": 424242, "name": "x"}),
        ("configs/enable", {"id": 424242}),
        ("configs/disable", {"id": "424242"}),
    ):
        reply = _assert_error(api.call(endpoint, body, token), 404)
        assert "configs" not in reply


def test_unknown_program_is_404(api: Api) -> None:
    w = world(api.rt)
    token = api.user(account_id=w.root)
    _assert_error(api.call("configs/list", {"programSerialNumber": "ELAVMR9999999999"}, token), 404)


# --------------------------------------------------------------------------- scope and permission


def test_another_organisation_gets_404_never_data_R63_R65(api: Api) -> None:
    ours = world(api.rt)
    theirs = world(api.rt)
    cfg = config(api.rt, ours.prepaid, name="secret", account_id=ours.member)
    outsider = _org_user(api, theirs)

    for endpoint, body in (
        ("configs/list", {"programSerialNumber": ours.prepaid}),
        ("configs/list", {"programSerialNumber": ours.prepaid, "accountId": ours.member}),
        ("configs/update", {"id": cfg.id, "name": "stolen"}),
        ("configs/disable", {"id": cfg.id}),
        ("configs/enable", {"id": cfg.id}),
        (
            "configs/create",
            {
                "programSerialNumber": ours.prepaid,
                "name": "intruder",
                "productTypeId": 1,
                "parameters": [{"id": 1, "value": "2"}, {"id": 2, "value": "ENT"}],
            },
        ),
        (
            "configs/create",
            {
                "programSerialNumber": theirs.prepaid,
                "accountId": ours.member,
                "name": "intruder",
                "productTypeId": 1,
                "parameters": [{"id": 1, "value": "2"}, {"id": 2, "value": "ENT"}],
            },
        ),
    ):
        reply = _assert_error(api.call(endpoint, body, outsider), 404)
        assert "secret" not in reply["message"]
    # Its own program lists nothing of ours.
    own = api.call("configs/list", {"programSerialNumber": theirs.prepaid}, outsider).json()
    assert own["configs"] == []
    stored = configs.get_config(api.rt, OPERATOR, cfg.id)
    assert (stored.name, stored.status) == ("secret", "ACTIVE")
    assert [c.id for c in configs.list_configs(api.rt, OPERATOR, ours.prepaid)] == [cfg.id]


def test_a_member_account_cannot_touch_a_sibling_accounts_config_R65(api: Api) -> None:
    w = world(api.rt)
    root_cfg = config(api.rt, w.prepaid, name="root-only", account_id=w.root)
    member = api.user(account_id=w.member)
    _assert_error(api.call("configs/update", {"id": root_cfg.id, "name": "x"}, member), 404)
    _assert_error(api.call("configs/disable", {"id": root_cfg.id}, member), 404)
    assert configs.get_config(api.rt, OPERATOR, root_cfg.id).status == "ACTIVE"


def test_read_only_user_gets_403_on_every_write_R64(api: Api) -> None:
    w = world(api.rt)
    cfg = config(api.rt, w.prepaid, name="stays")
    reader = api.user(Permission.READONLY, account_id=w.root)
    for endpoint, body in (
        (
            "configs/create",
            {
                "programSerialNumber": w.prepaid,
                "name": "nope",
                "productTypeId": 1,
                "parameters": [{"id": 1, "value": "2"}, {"id": 2, "value": "ENT"}],
            },
        ),
        ("configs/create", {}),  # refused before its body is even looked at
        ("configs/update", {"id": cfg.id, "name": "nope"}),
        ("configs/disable", {"id": cfg.id}),
        ("configs/enable", {"id": cfg.id}),
    ):
        _assert_error(api.call(endpoint, body, reader), 403)
    listed = api.call("configs/list", {"programSerialNumber": w.prepaid}, reader)
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()["configs"]] == [cfg.id]
    stored = configs.list_configs(api.rt, OPERATOR, w.prepaid)
    assert [(c.name, c.status) for c in stored] == [("stays", "ACTIVE")]


def test_read_write_user_may_write(api: Api) -> None:
    w = world(api.rt)
    writer = api.user(Permission.READWRITE, account_id=w.root)
    body = {
        "programSerialNumber": w.prepaid,
        "name": "rw",
        "productTypeId": 1,
        "parameters": [{"id": 1, "value": "2"}, {"id": 2, "value": "ENT"}],
    }
    reply = api.call("configs/create", body, writer)
    assert reply.status_code == 200
    assert configs.get_config(api.rt, OPERATOR, reply.json()["configs"]["id"]).name == "rw"


def test_missing_token_is_401_on_every_configs_call_C2(api: Api) -> None:
    for endpoint in ("list", "create", "update", "enable", "disable"):
        reply = api.call(f"configs/{endpoint}", {}, None)
        assert reply.status_code == 401
        assert reply.json() == {"status": -1, "message": "Invalid security token.", "error": None}
        # The token is checked before the body is read: no validation detail leaks out.
        garbled = api.http.post(f"/ES/api/fortiflex/v2/configs/{endpoint}", content=b"{")
        assert garbled.status_code == 401
