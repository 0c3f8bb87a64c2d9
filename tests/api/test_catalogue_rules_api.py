"""Catalogue rules as FortiFlex applies them, at every boundary, over real HTTP on both
backends: FortiSASE ranges and steps, the vCPU -> VDOM cap of FortiGate-VM A La Carte, FortiDLP's
BPS add-on kept 90 days, FortiGate hardware's FortiConverter add-on, legacy values a documented
client still sends, and the Terraform provider's optional FortiManager / A La Carte parameters.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from pointflex.clock import ManualClock
from tests.api.conftest import Api
from tests.builders import World, world

SASE = 205


def create(
    api: Api, product: int, parameters: list[dict[str, Any]], w: World | None = None
) -> tuple[int, Any]:
    """configs/create as the clients send it, in ``w`` or a new world: ``(HTTP status, body)``."""
    w = w or world(api.rt)
    token = api.user(account_id=w.root)
    body = {
        "programSerialNumber": w.prepaid,
        "name": f"p{product}",
        "productTypeId": product,
        "parameters": parameters,
    }
    reply = api.call("configs/create", body, token)
    return reply.status_code, reply.json()


def sase(**values: int) -> list[dict[str, Any]]:
    given = {"users": 50, **values}
    ids = {"users": 48, "bandwidth": 50, "ips": 51}
    return [{"id": 49, "value": "FSASESTD"}] + [
        {"id": ids[name], "value": value} for name, value in given.items()
    ]


def stored(body: Any) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for parameter in body["configs"]["parameters"]:
        found.setdefault(parameter["id"], []).append(parameter["value"])
    return found


@pytest.mark.parametrize(
    ("field", "value", "accepted"),
    [
        ("users", 25, False),
        ("users", 49, False),
        ("users", 50, True),
        ("users", 60, False),  # not 50 + 25k
        ("users", 75, True),
        ("users", 50_000, True),
        ("users", 50_025, False),
        ("bandwidth", 0, False),
        ("bandwidth", 24, False),
        ("bandwidth", 25, True),
        ("bandwidth", 30, False),
        ("bandwidth", 10_000, True),
        ("bandwidth", 10_025, False),
        ("ips", 0, False),
        ("ips", 3, False),
        ("ips", 4, True),
        ("ips", 6, False),
        ("ips", 8, True),
        ("ips", 65_532, True),
        ("ips", 65_534, False),  # the range's end, but not a multiple of 4
        ("ips", 65_536, False),
    ],
)
def test_fortisase_counts_are_in_fortiflex_ranges_and_steps(
    api: Api, field: str, value: int, accepted: bool
) -> None:
    status, body = create(api, SASE, sase(**{field: value}))
    assert status == (200 if accepted else 400), body
    if not accepted:
        assert body["error"]["errorCode"] == 1001 or body["status"] == -1


def test_fortisase_bandwidth_and_dedicated_ips_default_to_their_minimum(api: Api) -> None:
    status, body = create(api, SASE, sase())
    assert status == 200, body
    assert stored(body)[50] == ["25"]
    assert stored(body)[51] == ["4"]


@pytest.mark.parametrize(
    ("cpus", "vdoms", "accepted"),
    [
        (1, 10, True),
        (1, 11, False),
        (2, 25, True),
        (3, 26, False),
        (4, 50, True),
        (7, 51, False),
        (8, 500, True),
        (96, 500, True),
    ],
)
def test_a_la_carte_vdoms_are_capped_by_vcpus_as_the_bundle(
    api: Api, cpus: int, vdoms: int, accepted: bool
) -> None:
    parameters = [
        {"id": 6, "value": str(cpus)},
        {"id": 8, "value": "FC247"},
        {"id": 11, "value": vdoms},
    ]
    status, body = create(api, 4, parameters)
    assert status == (200 if accepted else 400), body
    if not accepted:
        assert (
            f"exceeds the maximum of {10 if cpus == 1 else 25 if cpus < 4 else 50}"
            in (body["message"])
        )


def test_terraform_leaves_out_a_la_carte_vdoms_and_gets_zero(api: Api) -> None:
    status, body = create(api, 4, [{"id": 6, "value": "2"}, {"id": 8, "value": "FC247"}])
    assert status == 200, body
    assert stored(body)[11] == ["0"]


def test_terraform_leaves_out_fortimanager_devices_and_adoms_and_gets_1_and_0(api: Api) -> None:
    status, body = create(api, 2, [])
    assert status == 200, body
    assert stored(body)[30] == ["1"]
    assert stored(body)[9] == ["0"]
    refused, _ = create(api, 2, [{"id": 30, "value": 0}])
    assert refused == 400


def test_fortigate_hardware_takes_the_fortiConverter_add_on(api: Api) -> None:
    parameters = [
        {"id": 27, "value": "FGT60F"},
        {"id": 28, "value": "FGHWFC247"},
        {"id": 29, "value": "FGHWFCSS"},
    ]
    status, body = create(api, 101, parameters)
    assert status == 200, body
    assert stored(body)[29] == ["FGHWFCSS"]


@pytest.mark.parametrize(
    ("product", "parameters"),
    [
        (4, [{"id": 6, "value": "1"}, {"id": 8, "value": "FC247"}, {"id": 7, "value": "FURL"}]),
        (4, [{"id": 6, "value": "1"}, {"id": 8, "value": "FC247"}, {"id": 12, "value": "FMGC"}]),
        (9, [{"id": 25, "value": "2"}, {"id": 26, "value": "FDVSTD"}]),
        (11, [{"id": 73, "value": "32"}, {"id": 74, "value": "FMLBASE"}]),
        (1, [{"id": 1, "value": "2"}, {"id": 2, "value": "ENT"}, {"id": 43, "value": "FGTFCSS"}]),
    ],
)
def test_legacy_values_a_documented_client_sends_are_accepted(
    api: Api, product: int, parameters: list[dict[str, Any]]
) -> None:
    status, body = create(api, product, parameters)
    assert status == 200, body


def test_tools_metadata_marks_legacy_values(api: Api) -> None:
    w = world(api.rt)
    token = api.user(account_id=w.root)
    products = api.call("tools/metadata", {}, token).json()["productTypes"]
    lcs = next(p for p in products if p["productTypeId"] == 4)
    guard = next(p for p in lcs["parameters"] if p["parameterId"] == 7)
    described = {v["value"]: v["description"] for v in guard["validValues"]}
    assert described["FURL"].endswith("(legacy)")
    assert not described["IPS"].endswith("(legacy)")


DLP = [{"id": 90, "value": "DLPSTD"}, {"id": 91, "value": 25}]


def test_fortidlp_bps_add_on_stays_enabled_for_90_days(api: Api) -> None:
    clock = api.rt.clock
    assert isinstance(clock, ManualClock)
    w = world(api.rt)
    status, created = create(api, 212, [*DLP, {"id": 92, "value": "BPS"}], w)
    assert status == 200, created
    config_id = created["configs"]["id"]
    without = {"id": config_id, "parameters": [*DLP, {"id": 92, "value": "NONE"}]}
    renamed = {"id": config_id, "name": "dlp-2", "parameters": [*DLP, {"id": 92, "value": "BPS"}]}

    clock.advance(timedelta(days=89, hours=23))
    token = api.user(account_id=w.root)  # bearer tokens last an hour
    early = api.call("configs/update", without, token)
    assert early.status_code == 400, early.text
    assert "must stay enabled for at least 90 days" in early.json()["message"]
    assert api.call("configs/update", renamed, token).status_code == 200  # BPS kept: fine
    clock.advance(timedelta(hours=1))
    token = api.user(account_id=w.root)
    late = api.call("configs/update", without, token)
    assert late.status_code == 200, late.text
    assert stored(late.json())[92] == ["NONE"]
    # Chosen again, the 90 days start again.
    again = api.call(
        "configs/update", {**without, "parameters": [*DLP, {"id": 92, "value": "BPS"}]}, token
    )
    assert again.status_code == 200
    clock.advance(timedelta(days=30))
    token = api.user(account_id=w.root)
    assert api.call("configs/update", without, token).status_code == 400
