"""pointflex's own API over real HTTP: program forecasts and monthly statements."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest

from pointflex.clock import ManualClock
from pointflex.services.access.accounts import get_account
from pointflex.services.context import read
from pointflex.services.entitlements import creation
from pointflex.services.points import programs
from pointflex.services.points.accrual import accrue_through
from tests.api.conftest import Api
from tests.builders import OPERATOR, World, config, world

V1 = "/api/pointflex/v1"
RATE = Decimal("6.39")
CREATED = date(2026, 3, 2)  # the clock's day (tests/conftest.py START)


@pytest.fixture
def charged(api: Api, clock: ManualClock) -> World:
    """Two VMs since 2 March on the prepaid program with 10,000 points; 2–4 March accrued."""
    w = world(api.rt)
    programs.add_pack(api.rt, OPERATOR, w.prepaid, 10_000)
    vm = config(api.rt, w.prepaid)
    creation.create_vm(api.rt, OPERATOR, config_id=vm.id, count=2, skip_pending=True)
    clock.set(clock.now() + timedelta(days=3))
    accrue_through(api.rt, CREATED + timedelta(days=2))
    return w


def get(api: Api, path: str, token: str | None) -> tuple[int, str, dict[str, str]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    reply = api.http.get(V1 + path, headers=headers)
    return reply.status_code, reply.text, dict(reply.headers)


def org_of(api: Api, account_id: int) -> int:
    with read(api.rt) as conn:
        return get_account(conn, account_id).organization_id


def test_forecast_answers_the_envelope_with_the_projection(api: Api, charged: World) -> None:
    token = api.user(account_id=charged.root)
    reply = api.http.get(
        f"{V1}/programs/{charged.prepaid}/forecast", headers={"Authorization": f"Bearer {token}"}
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["status"] == 0
    f = body["forecast"]
    assert f["programSerialNumber"] == charged.prepaid
    assert Decimal(f["balance"]) == 10_000 - 2 * RATE * 3
    assert Decimal(f["burnPerDay"]) == 2 * RATE
    assert f["zeroDate"] is None
    assert Decimal(f["shortfallToEnd"]) == 0


def test_forecast_needs_a_token_and_hides_other_organisations(api: Api, charged: World) -> None:
    status, text, _ = get(api, f"/programs/{charged.prepaid}/forecast", None)
    assert status == 401
    assert "Invalid security token." in text
    other = world(api.rt)
    outsider = api.user(account_id=other.root)
    status, text, _ = get(api, f"/programs/{charged.prepaid}/forecast", outsider)
    assert status == 404
    assert '"status":-1' in text.replace(" ", "")


def test_all_forecasts_list_the_programs_of_the_callers_organisation(
    api: Api, charged: World
) -> None:
    token = api.user(organization_id=org_of(api, charged.root))
    reply = api.http.get(f"{V1}/programs/forecast", headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 200
    serials = {f["programSerialNumber"] for f in reply.json()["forecasts"]}
    assert serials == {charged.prepaid, charged.postpaid}


def test_statement_in_json_csv_and_html(api: Api, charged: World) -> None:
    token = api.user(organization_id=org_of(api, charged.root))
    path = f"/programs/{charged.prepaid}/statements/2026-03"
    status, text, _ = get(api, path, token)
    assert status == 200
    body = api.http.get(V1 + path, headers={"Authorization": f"Bearer {token}"}).json()
    st = body["statement"]
    assert Decimal(st["consumption"]) == 2 * RATE * 3
    assert Decimal(st["opening"]) + Decimal(st["credits"]) - Decimal(st["consumption"]) == (
        Decimal(st["closing"])
    )
    assert st["complete"] is False
    assert st["chargedThrough"] == "2026-03-04"
    assert len(st["charges"]) == 6
    assert st["partialScope"] is False
    status, text, headers = get(api, path + "?format=csv", token)
    assert status == 200
    assert headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sum((Decimal(r["points"]) for r in rows), Decimal(0)) == 2 * RATE * 3
    status, text, headers = get(api, path + "?format=html", token)
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    assert all(r["serial"] in text for r in rows)
    assert "default-src 'none'" in headers["content-security-policy"]


def test_a_user_of_one_member_account_gets_no_balance(api: Api, charged: World) -> None:
    token = api.user(account_id=charged.root)  # the organisation also has a branch account
    reply = api.http.get(
        f"{V1}/programs/{charged.prepaid}/statements/2026-03",
        headers={"Authorization": f"Bearer {token}"},
    )
    st = reply.json()["statement"]
    assert st["partialScope"] is True
    assert "closing" not in st
    assert Decimal(st["consumption"]) == 2 * RATE * 3  # both VMs are the root account's


def test_statement_refuses_a_bad_month_and_a_bad_format(api: Api, charged: World) -> None:
    token = api.user(account_id=charged.root)
    status, text, _ = get(api, f"/programs/{charged.prepaid}/statements/2026-3", token)
    assert status == 400
    assert "YYYY-MM" in text
    status, _, _ = get(api, f"/programs/{charged.prepaid}/statements/2026-03?format=pdf", token)
    assert status == 400
