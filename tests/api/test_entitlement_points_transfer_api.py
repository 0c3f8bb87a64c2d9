"""entitlements/points, transfer and hardware/remove over real HTTP (§4.10, §4.16, §4.18)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from pointflex.clock import ManualClock
from pointflex.services.points.accrual import accrue_through
from pointflex.store.tables import configurations
from tests.api.conftest import Api
from tests.api.entitlement_support import (
    ENVELOPE,
    FAP_HW,
    Scene,
    audits,
    events,
    failed,
    items,
    one,
    points_items,
    scene,
    stored,
)
from tests.builders import FGT_HW, config

DAILY = 6.39  # illustrative price of a 2-vCPU FortiGate-VM Enterprise bundle a day (P9)
INVALID_DATE, LIMIT, MIXED, WRONG_PRODUCT, INVALID_STATE = 1003, 1004, 1005, 1303, 1301


def accrue(s: Scene, clock: ManualClock, program: str, through: date) -> Scene:
    """Let ``through`` end (02:00 or 03:00 Pacific the day after) and accrue up to it.

    Returns the scene with a fresh access token: the old one expired while the clock moved.
    """
    clock.set(datetime.combine(through + timedelta(days=1), time(10), tzinfo=UTC))
    accrue_through(s.api.rt, through, program_serial=program)
    return replace(s, token=s.user())


# --------------------------------------------------------------------------- points


def test_points_per_entitlement_are_json_numbers_for_the_range_R22_R13_section_5_4(
    api: Api, clock: ManualClock
) -> None:
    s = scene(api)
    (active,) = s.vm_serials(1, skipPending=True)  # ACTIVE from Monday 2 March
    s.vm_serials(1)  # PENDING days are not charged (R13)
    s = accrue(s, clock, s.w.prepaid, date(2026, 3, 4))
    expected = [{"serialNumber": active, "accountId": s.w.root, "points": round(3 * DAILY, 2)}]
    march = {"startDate": "2026-03-01", "endDate": "2026-03-31"}
    scopes = [
        {"configId": str(s.vm.id)},
        {"accountId": str(s.w.root), "programSerialNumber": s.w.prepaid},
        {"programSerialNumber": s.w.prepaid},  # the Python client may leave accountId out
        {"configId": s.vm.id, "serialNumber": active.lower()},
    ]
    for scope in scopes:
        found = points_items(s.call("entitlements/points", {**march, **scope}))
        assert found == expected, scope
        assert isinstance(found[0]["points"], float)
    one_day = {"startDate": "2026-03-03T00:00:00", "endDate": "2026-03-03 23:59:59"}
    found = points_items(s.call("entitlements/points", {**one_day, "configId": s.vm.id}))
    assert [r["points"] for r in found] == [DAILY]
    other_config = s.call("entitlements/points", {**march, "configId": s.hw.id})
    assert points_items(other_config) == []


def test_points_need_start_and_end_dates_and_a_scope_Q17(api: Api) -> None:
    s = scene(api)
    scope = {"configId": s.vm.id}
    failed(s.call("entitlements/points", {**scope, "endDate": "2026-03-31"}), 400)
    failed(s.call("entitlements/points", {**scope, "startDate": "2026-03-01"}), 400)
    failed(s.call("entitlements/points", {**scope, "startDate": "", "endDate": None}), 400)
    bad = {**scope, "startDate": "2026-03-01", "endDate": "March"}
    failed(s.call("entitlements/points", bad), 400, INVALID_DATE)
    backwards = {**scope, "startDate": "2026-03-02", "endDate": "2026-03-01"}
    failed(s.call("entitlements/points", backwards), 400, INVALID_DATE)
    dates = {"startDate": "2026-03-01", "endDate": "2026-03-31"}
    failed(s.call("entitlements/points", dates), 400)
    failed(s.call("entitlements/points", {**dates, "accountId": s.w.root}), 400)
    failed(s.call("entitlements/points", {**dates, "configId": 999_999}), 404)
    failed(
        s.call("entitlements/points", {**dates, **scope, "serialNumber": "FGVMMLTM26999999"}), 404
    )


def test_points_never_include_days_older_than_90_days_R22(api: Api, clock: ManualClock) -> None:
    s = scene(api)
    postpaid = config(api.rt, s.w.postpaid, name="fgt-postpaid")
    body = {"configId": postpaid.id, "skipPending": True}
    serial = one(s.call("entitlements/vm/create", body))["serialNumber"]
    s = accrue(s, clock, s.w.postpaid, date(2026, 6, 9))  # today is 10 June
    since_march = {"configId": postpaid.id, "startDate": "2026-03-01", "endDate": "2026-06-09"}
    (found,) = points_items(s.call("entitlements/points", since_march))
    # 10 June − 90 days = 12 March: the 90 days 12 March … 9 June, not the 100 since 2 March.
    assert found == {"serialNumber": serial, "accountId": s.w.root, "points": round(90 * DAILY, 2)}
    too_old = {"configId": postpaid.id, "startDate": "2026-03-01", "endDate": "2026-03-11"}
    assert points_items(s.call("entitlements/points", too_old)) == []


# --------------------------------------------------------------------------- transfer


def test_vendor_transfer_moves_serials_and_makes_a_matching_config_in_the_target_C13_Q10(
    api: Api,
) -> None:
    s = scene(api)
    serials = s.vm_serials(2, skipPending=True)
    body = {
        "sourceAccountId": s.w.root,
        "sourceConfigId": str(s.vm.id),
        "targetAccountId": str(s.w.member),
        "targetConfigId": None,
        "serialNumbers": serials,
    }
    reply = s.call("entitlements/transfer", body)
    moved = items(reply, 2)
    assert [e["serialNumber"] for e in moved] == serials
    assert {e["accountId"] for e in moved} == {s.w.member}
    (target_config,) = {e["configId"] for e in moved}
    assert target_config != s.vm.id
    assert {e["status"] for e in moved} == {"ACTIVE"}
    with api.rt.engine.connect() as conn:
        made = conn.execute(
            select(configurations).where(configurations.c.id == target_config)
        ).one()
    assert (made.account_id, made.product_type_id) == (s.w.member, 1)
    for serial in serials:
        row = stored(api, serial)
        assert (row.account_id, row.config_id, row.status) == (s.w.member, target_config, "ACTIVE")
        assert events(api, serial)[-1] == "TRANSFERRED"
        audit = audits(api, serial)[-1]
        assert audit.action == "entitlement.transfer"
        assert audit.before == {"accountId": s.w.root, "configId": s.vm.id}
    # And back, naming the target configuration explicitly.
    back = {**body, "sourceAccountId": s.w.member, "sourceConfigId": target_config}
    back.update(targetAccountId=s.w.root, targetConfigId=s.vm.id)
    assert {e["configId"] for e in items(s.call("entitlements/transfer", back), 2)} == {s.vm.id}
    assert stored(api, serials[0]).account_id == s.w.root


def test_python_client_transfer_shape_reuses_an_identical_target_config_C13_Q10(
    api: Api,
) -> None:
    s = scene(api)
    twin = config(api.rt, s.w.prepaid, name="member twin", account_id=s.w.member)
    (serial,) = s.vm_serials(1)
    body = {"serialNumbers": [serial], "accountId": s.w.member, "programSerialNumber": s.w.prepaid}
    item = one(s.call("entitlements/transfer", body))
    assert (item["accountId"], item["configId"], item["status"]) == (s.w.member, twin.id, "PENDING")
    assert (stored(api, serial).account_id, stored(api, serial).config_id) == (s.w.member, twin.id)


def test_transfer_refusals_move_nothing_section_4_18_R51(api: Api) -> None:
    s = scene(api)
    (serial,) = s.vm_serials(1)
    member_hw = config(api.rt, s.w.prepaid, FGT_HW, product=101, account_id=s.w.member)
    cases = [
        ({"serialNumbers": [serial]}, 400),
        ({"serialNumbers": [], "accountId": s.w.member, "programSerialNumber": s.w.prepaid}, 400),
        ({"serialNumbers": [serial], "accountId": s.w.member}, 400),
        (
            {
                "serialNumbers": [serial],
                "accountId": s.w.member,
                "programSerialNumber": s.w.postpaid,
            },
            400,
        ),
        (
            {
                "serialNumbers": [serial],
                "sourceAccountId": s.w.member,
                "targetAccountId": s.w.member,
            },
            400,
        ),
        ({"serialNumbers": [serial], "sourceConfigId": s.vm.id}, 400),
        (
            {
                "serialNumbers": [serial],
                "targetAccountId": s.w.member,
                "targetConfigId": member_hw.id,
            },
            409,
        ),
        ({"serialNumbers": ["FGVMMLTM26999999"], "targetAccountId": s.w.member}, 404),
    ]
    for body, status in cases:
        failed(s.call("entitlements/transfer", body), status)
    assert stored(api, serial).account_id == s.w.root
    assert events(api, serial) == ["CREATED"]


# --------------------------------------------------------------------------- hardware/remove


def test_hardware_remove_takes_stopped_serials_out_of_management_and_keeps_history_R41(
    api: Api,
) -> None:
    s = scene(api)
    first = s.hw_serial("FGT60FTK19000010", stopped=True)
    second = s.hw_serial("FGT60FTK19000011", stopped=True)
    reply = s.call("entitlements/hardware/remove", {"serialNumbers": [first, second.lower()]})
    assert reply.status_code == 200
    body = reply.json()
    assert list(body) == ENVELOPE
    assert (body["status"], body["error"]) == (0, None)
    for serial in (first, second):
        assert stored(api, serial).removed_at is not None
        assert events(api, serial) == ["CREATED", "STOPPED", "REMOVED"]
        assert audits(api, serial)[-1].action == "entitlement.remove"
    assert items(s.call("entitlements/list", {"configId": s.hw.id})) == []


def test_hardware_remove_is_all_or_nothing_R41(api: Api) -> None:
    s = scene(api)
    stopped = s.hw_serial("FGT60FTK19000010", stopped=True)
    active = s.hw_serial("FGT60FTK19000011")
    body = {"serialNumbers": [stopped, active]}
    failed(s.call("entitlements/hardware/remove", body), 409, INVALID_STATE)
    for serial in (stopped, active):
        assert stored(api, serial).removed_at is None
        assert "REMOVED" not in events(api, serial)
    (vm,) = s.vm_serials(1)
    one(s.call("entitlements/stop", {"serialNumber": vm}))
    with_vm = {"serialNumbers": [stopped, vm]}
    failed(s.call("entitlements/hardware/remove", with_vm), 409, WRONG_PRODUCT)
    assert stored(api, stopped).removed_at is None


def test_hardware_remove_limits_and_mixed_product_types_are_refused_R41_R60(api: Api) -> None:
    s = scene(api)
    too_many = [f"FGT60FTK19{n:06d}" for n in range(101)]
    failed(s.call("entitlements/hardware/remove", {"serialNumbers": too_many}), 400, LIMIT)
    failed(s.call("entitlements/hardware/remove", {"serialNumbers": []}), 400)
    failed(s.call("entitlements/hardware/remove", {}), 400)
    failed(s.call("entitlements/hardware/remove", {"serialNumbers": ["FGT60FTK19999999"]}), 404)
    fap = s.config(FAP_HW, 102, name="fap")
    fgt = s.hw_serial("FGT60FTK19000010", stopped=True)
    one(
        s.call(
            "entitlements/hardware/create",
            {"configId": fap.id, "serialNumbers": ["FP231FTF20000001"]},
        )
    )
    one(s.call("entitlements/stop", {"serialNumber": "FP231FTF20000001"}))
    mixed = {"serialNumbers": [fgt, "FP231FTF20000001"]}
    failed(s.call("entitlements/hardware/remove", mixed), 400, MIXED)
    assert stored(api, fgt).removed_at is None
