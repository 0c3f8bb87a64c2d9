"""Shared helpers for the entitlements API tests: a world per test, reply checks, DB reads."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from pointflex.domain.configs import Config
from pointflex.services.access.accounts import get_account
from pointflex.services.access.api_users import Permission
from pointflex.store.tables import audit_log, entitlement_events, entitlements
from tests.api.conftest import Api
from tests.builders import FGT_HW, World, config, world

# The Entitlement item of the OAS examples (entitlements.openapi.json, entitlements/list): the
# keys in this order and these JSON types are what every client was built against (spec §5.3).
OAS_ENTITLEMENT = {
    "serialNumber": "FGVMELTM20000004",
    "description": "VM created for department X",
    "configId": 22,
    "accountId": 12345,
    "startDate": "2020-08-25 10:12:25",
    "endDate": "2020-09-12 12:13:37",
    "status": "STOPPED",
    "token": "07981E8F70FFB1281179",
    "tokenStatus": "USED",
}
OAS_POINTS = {"serialNumber": "FGVMELTM20000029", "accountId": 12345, "points": 425}
ENVELOPE = ["status", "message", "error"]
WIRE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
TOKEN = re.compile(r"^[0-9A-F]{20}$")
STATUSES = {"PENDING", "ACTIVE", "STOPPED", "EXPIRED", "GRACE_PERIOD"}
FAP_HW = [{"id": 55, "value": "FP231F"}, {"id": 56, "value": "FAPHWFC247"}]
EDR_CLOUD = [{"id": 46, "value": "FEDRPDR"}]


def items(reply: httpx.Response, count: int | None = None) -> list[dict[str, Any]]:
    """The ``entitlements`` of a success reply, after checking the envelope (§3.2)."""
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert list(body) == [*ENVELOPE, "entitlements"]
    assert body["status"] == 0
    assert body["error"] is None
    assert body["message"] == "Request processed successfully."
    found = body["entitlements"]
    assert isinstance(found, list)
    if count is not None:
        assert len(found) == count, found
    for item in found:
        check_entitlement(item)
    return list(found)


def points_items(reply: httpx.Response) -> list[dict[str, Any]]:
    """The PointsRecords of an ``entitlements/points`` reply (§4.16, §5.4)."""
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert list(body) == [*ENVELOPE, "entitlements"]
    assert body["status"] == 0
    for item in body["entitlements"]:
        check_points(item)
    return list(body["entitlements"])


def one(reply: httpx.Response) -> dict[str, Any]:
    """Single results are a 1-item list (§3.2, C22)."""
    return items(reply, 1)[0]


def check_entitlement(item: dict[str, Any]) -> None:
    """Same keys, order and JSON types as the OAS example; dates in the wire form (§7)."""
    assert list(item) == list(OAS_ENTITLEMENT)
    for key, example in OAS_ENTITLEMENT.items():
        assert type(item[key]) is type(example), (key, item[key])
    assert WIRE_DATE.match(item["startDate"])
    assert WIRE_DATE.match(item["endDate"])
    assert item["status"] in STATUSES
    if item["token"]:
        assert TOKEN.match(item["token"])
        assert item["tokenStatus"] in ("NOTUSED", "USED")
    else:  # hardware and cloud: "" for both (Q4)
        assert item["tokenStatus"] == ""


def check_points(item: dict[str, Any]) -> None:
    assert list(item) == list(OAS_POINTS)
    assert isinstance(item["serialNumber"], str)
    assert type(item["accountId"]) is int
    assert type(item["points"]) in (int, float)


def failed(reply: httpx.Response, http_status: int, code: int | None = None) -> dict[str, Any]:
    """The error envelope (§3.3): status -1, an ``error`` object with ``errorCode``; no data."""
    assert reply.status_code == http_status, reply.text
    body = reply.json()
    assert list(body) == ENVELOPE, body
    assert body["status"] == -1
    assert isinstance(body["error"], dict)
    assert type(body["error"]["errorCode"]) is int
    if code is not None:
        assert body["error"]["errorCode"] == code, body
    return dict(body)


@dataclass(frozen=True)
class Scene:
    """One organisation (root + member account), its programs, configurations and a token."""

    api: Api
    w: World
    org: int
    vm: Config  # FortiGate VM bundle, root account, prepaid program
    hw: Config  # FortiGate hardware, root account, prepaid program
    token: str  # an Admin API user scoped to the whole organisation

    def call(self, endpoint: str, body: Any, token: str | None = None) -> httpx.Response:
        return self.api.call(endpoint, body, token or self.token)

    def user(self, permission: Permission = Permission.ADMIN, account_id: int | None = None) -> str:
        if account_id is not None:
            return self.api.user(permission, account_id=account_id)
        return self.api.user(permission, organization_id=self.org)

    def config(self, parameters: list[dict[str, Any]], product: int, **kw: Any) -> Config:
        return config(self.api.rt, self.w.prepaid, parameters, product=product, **kw)

    def vm_serials(self, count: int = 1, **extra: Any) -> list[str]:
        body = {"configId": self.vm.id, "count": count, **extra}
        return [e["serialNumber"] for e in items(self.call("entitlements/vm/create", body))]

    def hw_serial(self, serial: str, *, stopped: bool = False) -> str:
        body = {"configId": self.hw.id, "serialNumbers": [serial]}
        items(self.call("entitlements/hardware/create", body), 1)
        if stopped:
            one(self.call("entitlements/stop", {"serialNumber": serial}))
        return serial


def scene(api: Api) -> Scene:
    w = world(api.rt)
    with api.rt.engine.connect() as conn:
        org = get_account(conn, w.root).organization_id
    vm = config(api.rt, w.prepaid)
    hw = config(api.rt, w.prepaid, FGT_HW, product=101, name="fgt-hw")
    return Scene(api, w, org, vm, hw, api.user(organization_id=org))


# --------------------------------------------------------------------------- database reads


def stored(api: Api, serial: str) -> Any:
    with api.rt.engine.connect() as conn:
        return conn.execute(select(entitlements).where(entitlements.c.serial == serial)).one()


def events(api: Api, serial: str) -> list[str]:
    with api.rt.engine.connect() as conn:
        query = (
            select(entitlement_events.c.kind)
            .where(entitlement_events.c.serial == serial)
            .order_by(entitlement_events.c.id)
        )
        return list(conn.execute(query).scalars())


def audits(api: Api, serial: str) -> list[Any]:
    with api.rt.engine.connect() as conn:
        query = (
            select(audit_log)
            .where(audit_log.c.object_type == "entitlement", audit_log.c.object_id == serial)
            .order_by(audit_log.c.id)
        )
        return list(conn.execute(query).all())


def count_entitlements(api: Api) -> int:
    with api.rt.engine.connect() as conn:
        return len(conn.execute(select(entitlements.c.serial)).all())
