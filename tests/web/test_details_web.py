"""The entitlement details page in a real browser: the seed's single stop and single
reactivation (both termination modes), Modify, token regeneration, ReadOnly users, the history
and the points chart. Each test checks the database after the clicks.

The single stop starts in My Assets and clicks the serial, as the seed says; the other tests
open /assets/{serial} directly, which is where that click leads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from pointflex.bootstrap import Runtime
from pointflex.clock import ManualClock
from pointflex.domain.dates import PACIFIC, day_start
from pointflex.domain.ends import RequestedEnd
from pointflex.services.access.api_users import Permission
from pointflex.services.context import read
from pointflex.services.entitlements import changes, creation
from pointflex.services.entitlements.details import CHART_DAYS
from pointflex.services.entitlements.transfers import locked_token_serial
from pointflex.store.tables import configurations, consumption, entitlement_events, entitlements
from pointflex.web.render import points
from tests.builders import FGT_ENT_2, FGT_HW, OPERATOR, config
from tests.history import build_history
from tests.web.conftest import (
    PHONE,
    SignIn,
    no_horizontal_scroll,
    save_screenshot,
    unlabelled_controls,
)

E = entitlements


@dataclass(frozen=True)
class Setup:
    serial: str  # an ACTIVE VM with a few weeks of charged days
    organization_id: int
    program: str
    other_config: int  # same product type, program and account
    program_end: date
    today: date


@pytest.fixture
def setup(rt: Runtime, clock: ManualClock) -> Setup:
    h = build_history(rt, clock, days=30, ends_in_days=120)
    with read(rt) as conn:
        small = conn.execute(
            select(configurations.c.id).where(configurations.c.name == "fgt-2")
        ).scalar_one()
        serial = conn.execute(
            select(consumption.c.serial)
            .join(E, E.c.serial == consumption.c.serial)
            .where(E.c.config_id == small, E.c.status == "ACTIVE")
            .group_by(consumption.c.serial)
            .order_by(func.count().desc(), consumption.c.serial)
            .limit(1)
        ).scalar_one()
    other = config(rt, h.world.prepaid, FGT_ENT_2, name="fgt-2-other")
    return Setup(
        serial,
        h.organization_id,
        h.world.prepaid,
        other.id,
        h.today + timedelta(days=120),
        h.today,
    )


def row(rt: Runtime, serial: str) -> Any:
    with read(rt) as conn:
        return conn.execute(select(E).where(E.c.serial == serial)).one()


def events(rt: Runtime, serial: str) -> list[Any]:
    ev = entitlement_events.c
    with read(rt) as conn:
        return list(
            conn.execute(
                select(ev.at, ev.kind, ev.status, ev.actor)
                .where(ev.serial == serial)
                .order_by(ev.at.desc(), ev.id.desc())
            ).all()
        )


def field(page: Page, name: str) -> str:
    return page.locator(f'[data-field="{name}"]').inner_text().strip()


def test_single_stop_as_the_seed(page: Page, rt: Runtime, setup: Setup, signed_in: SignIn) -> None:
    signed_in(page, organization_id=setup.organization_id)
    # Go to Flex Entitlements > My Assets, and click the serial number.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My Assets").click()
    page.get_by_role("link", name=setup.serial, exact=True).click()
    page.wait_for_url(f"**/assets/{setup.serial}")
    expect(page.get_by_role("heading", name=setup.serial, exact=True)).to_be_visible()
    assert field(page, "status") == "ACTIVE"
    page.get_by_role("button", name="Stop").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(setup.serial)
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.locator(".flash-success")).to_contain_text("STOPPED")
    assert field(page, "status") == "STOPPED"
    assert row(rt, setup.serial).status == "STOPPED"
    latest = events(rt, setup.serial)[0]
    assert (latest.kind, latest.status) == ("STOPPED", "STOPPED")
    expect(page.locator("#history tbody tr").first).to_contain_text("STOPPED")
    # Stopped: Reactivate and Modify are offered, Stop is not.
    expect(page.get_by_role("button", name="Stop")).to_have_count(0)
    expect(page.get_by_role("link", name="Reactivate")).to_be_visible()


def test_cancel_stop_changes_nothing(
    page: Page, rt: Runtime, setup: Setup, signed_in: SignIn
) -> None:
    signed_in(page, organization_id=setup.organization_id)
    page.goto(f"/assets/{setup.serial}")
    page.get_by_role("button", name="Stop").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("dialog")).to_be_hidden()
    assert row(rt, setup.serial).status == "ACTIVE"


def open_reactivation(page: Page, serial: str) -> None:
    page.goto(f"/assets/{serial}")
    assert field(page, "status") == "STOPPED"
    page.get_by_role("link", name="Reactivate").click()
    expect(page.get_by_role("heading", name=f"Reactivate {serial}")).to_be_visible()


def test_single_reactivate_follow_program(
    page: Page, rt: Runtime, setup: Setup, signed_in: SignIn
) -> None:
    # A User Defined end first, so that choosing Follow Program is a real change.
    changes.update_entitlement(
        rt,
        OPERATOR,
        setup.serial,
        end=RequestedEnd.at(day_start(setup.today + timedelta(days=30), PACIFIC)),
    )
    changes.stop(rt, OPERATOR, [setup.serial])
    signed_in(page, organization_id=setup.organization_id)
    open_reactivation(page, setup.serial)
    date_input = page.get_by_label("Expiration date")
    expect(date_input).to_be_visible()  # User Defined is the current mode
    page.get_by_label("Follow Program").check()
    expect(date_input).to_be_hidden()
    page.get_by_role("button", name="Submit").click()
    expect(page.locator(".flash-success")).to_contain_text("ACTIVE")
    assert field(page, "status") == "ACTIVE"
    stored = row(rt, setup.serial)
    assert stored.status == "ACTIVE"
    assert stored.termination_mode == "FOLLOW_PROGRAM"
    assert stored.end_at == day_start(setup.program_end, PACIFIC)
    assert events(rt, setup.serial)[0].status == "ACTIVE"
    assert "REACTIVATED" in [e.kind for e in events(rt, setup.serial)[:2]]


def test_a_pending_vm_can_be_reactivated_as_fortiflex_allows(
    page: Page, rt: Runtime, setup: Setup, signed_in: SignIn
) -> None:
    (pending,) = creation.create_vm(rt, OPERATOR, config_id=row(rt, setup.serial).config_id)
    signed_in(page, organization_id=setup.organization_id)
    page.goto(f"/assets/{pending.serial}")
    assert field(page, "status") == "PENDING"
    page.get_by_role("link", name="Reactivate").click()
    page.get_by_role("button", name="Submit").click()
    expect(page.locator(".flash-success")).to_contain_text("ACTIVE")
    assert field(page, "status") == "ACTIVE"
    stored = row(rt, pending.serial)
    assert (stored.status, stored.token_status) == ("ACTIVE", "NOTUSED")
    assert [e.kind for e in events(rt, pending.serial)][:2] == ["REACTIVATED", "CREATED"]


def test_single_reactivate_user_defined_with_changes(
    page: Page, rt: Runtime, setup: Setup, signed_in: SignIn
) -> None:
    changes.stop(rt, OPERATOR, [setup.serial])
    signed_in(page, organization_id=setup.organization_id)
    open_reactivation(page, setup.serial)
    page.get_by_label("Description").fill("rebuilt edge VM")
    page.get_by_label("Configuration").select_option(str(setup.other_config))
    expect(page.get_by_label("Expiration date")).to_be_hidden()
    page.get_by_label("User Defined").check()
    wanted = setup.today + timedelta(days=45)
    page.get_by_label("Expiration date").fill(wanted.isoformat())
    page.get_by_role("button", name="Submit").click()
    expect(page.locator(".flash-success")).to_contain_text("ACTIVE")
    stored = row(rt, setup.serial)
    assert stored.status == "ACTIVE"
    assert stored.termination_mode == "USER_DEFINED"
    assert stored.end_at == day_start(wanted, PACIFIC)
    assert stored.description == "rebuilt edge VM"
    assert stored.config_id == setup.other_config
    assert field(page, "end") == wanted.isoformat()
    assert field(page, "termination") == "User Defined"


def test_modify_description_and_configuration(
    page: Page, rt: Runtime, setup: Setup, signed_in: SignIn
) -> None:
    signed_in(page, organization_id=setup.organization_id)
    page.goto(f"/assets/{setup.serial}")
    page.get_by_role("link", name="Modify").click()
    form = page.locator("#modify")
    expect(form).to_contain_text("applies from the next accrued day")
    page.get_by_label("Description").fill("branch office firewall")
    page.get_by_label("Configuration").select_option(str(setup.other_config))
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash-success")).to_contain_text("updated")
    stored = row(rt, setup.serial)
    assert stored.description == "branch office firewall"
    assert stored.config_id == setup.other_config
    assert stored.termination_mode == "FOLLOW_PROGRAM"  # untouched
    assert field(page, "description") == "branch office firewall"
    kinds = {e.kind for e in events(rt, setup.serial)[:2]}
    assert kinds == {"CONFIG_CHANGED", "DESCRIPTION_CHANGED"}


def test_end_date_beyond_program_end_is_refused(
    page: Page, rt: Runtime, setup: Setup, signed_in: SignIn
) -> None:
    before = row(rt, setup.serial)
    count = len(events(rt, setup.serial))
    signed_in(page, organization_id=setup.organization_id)
    page.goto(f"/assets/{setup.serial}?action=modify")
    page.get_by_label("Description").fill("should not be saved")
    page.get_by_label("User Defined").check()
    date_input = page.get_by_label("Expiration date")
    assert date_input.get_attribute("max") == setup.program_end.isoformat()
    # The browser keeps the date within max; the server must refuse it on its own too.
    date_input.evaluate("el => el.removeAttribute('max')")
    date_input.fill((setup.program_end + timedelta(days=10)).isoformat())
    page.get_by_role("button", name="Save").click()
    message = page.locator(".flash-danger")
    expect(message).to_contain_text("Nothing was changed")
    expect(message).to_contain_text("program end date")
    after = row(rt, setup.serial)
    assert (after.end_at, after.termination_mode, after.description) == (
        before.end_at,
        before.termination_mode,
        before.description,
    )
    assert len(events(rt, setup.serial)) == count


def test_regenerate_token(page: Page, rt: Runtime, setup: Setup, signed_in: SignIn) -> None:
    old_hash = row(rt, setup.serial).token_hash
    signed_in(page, organization_id=setup.organization_id)
    page.goto(f"/assets/{setup.serial}")
    old_token = field(page, "token")
    page.get_by_role("button", name="Regenerate token").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("must be injected into the VM")
    expect(dialog).to_contain_text(setup.serial)
    dialog.get_by_role("button", name="Regenerate").click()
    expect(page.locator(".flash-success")).to_contain_text("new token")
    new_token = field(page, "token")
    assert new_token != old_token
    assert field(page, "token-status") == "NOTUSED"
    stored = row(rt, setup.serial)
    assert stored.token_hash != old_hash
    assert stored.token_status == "NOTUSED"
    with read(rt) as conn:
        assert locked_token_serial(rt, conn, old_token) is None  # never redeemable again
        assert locked_token_serial(rt, conn, new_token) == setup.serial
    assert events(rt, setup.serial)[0].kind == "TOKEN_REGENERATED"


def test_readonly_sees_no_actions_and_a_forged_post_is_refused(
    page: Page, rt: Runtime, setup: Setup, signed_in: SignIn
) -> None:
    signed_in(page, Permission.READONLY, organization_id=setup.organization_id)
    page.goto(f"/assets/{setup.serial}")
    assert field(page, "status") == "ACTIVE"
    for name in ("Stop", "Regenerate token", "Confirm"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    for name in ("Reactivate", "Modify"):
        expect(page.get_by_role("link", name=name)).to_have_count(0)
    # Even ?action=modify shows no form.
    page.goto(f"/assets/{setup.serial}?action=modify")
    expect(page.locator("form[action$='/modify']")).to_have_count(0)
    # A forged request with the user's own CSRF token: refused by require_write.
    headers = json.loads(page.locator("body").get_attribute("hx-headers") or "{}")
    for action in ("stop", "token", "modify"):
        answer = page.request.post(
            f"/assets/{setup.serial}/{action}",
            headers=headers,
            form={"description": "forged"},
            max_redirects=0,
        )
        assert answer.status == 403, action
    stored = row(rt, setup.serial)
    assert stored.status == "ACTIVE"
    assert stored.description != "forged"
    assert events(rt, setup.serial)[0].kind != "TOKEN_REGENERATED"


def test_history_chart_and_layout(page: Page, rt: Runtime, setup: Setup, signed_in: SignIn) -> None:
    changes.update_entitlement(rt, OPERATOR, setup.serial, description="edge VM")
    signed_in(page, organization_id=setup.organization_id)
    page.goto(f"/assets/{setup.serial}")
    stored = row(rt, setup.serial)
    assert field(page, "serial") == setup.serial
    assert field(page, "program") == setup.program
    assert field(page, "description") == "edge VM"
    assert field(page, "folder") == stored.folder_path
    expect(page.locator('[data-field="config"] a')).to_have_attribute(
        "href", f"/configs/{stored.config_id}"
    )
    # History: every event, newest first.
    expected = events(rt, setup.serial)
    rows = page.locator("#history tbody tr")
    expect(rows).to_have_count(len(expected))
    assert [r.split("\t")[1] for r in rows.all_inner_texts()] == [e.kind for e in expected]
    assert rows.first.inner_text().split("\t")[1] == "DESCRIPTION_CHANGED"
    assert rows.last.inner_text().split("\t")[1] == "CREATED"
    # Times are the program's wall-clock time (Los Angeles), as its billing days are.
    expect(page.locator("#history thead")).to_contain_text("Time (America/Los_Angeles)")
    created_at = expected[-1].at.astimezone(ZoneInfo("America/Los_Angeles"))
    assert rows.last.inner_text().split("\t")[0] == created_at.strftime("%Y-%m-%d %H:%M:%S")
    # Chart: 90 days ending yesterday, the database's points.
    data = json.loads(page.locator("#points-chart").text_content() or "{}")
    assert len(data["x"]) == len(data["y"]) == CHART_DAYS
    yesterday = setup.today - timedelta(days=1)
    start = yesterday - timedelta(days=CHART_DAYS - 1)
    with read(rt) as conn:
        total = conn.execute(
            select(func.coalesce(func.sum(consumption.c.points), 0)).where(
                consumption.c.serial == setup.serial,
                consumption.c.day >= start,
                consumption.c.day <= yesterday,
            )
        ).scalar_one()
    total = Decimal(total).quantize(Decimal("0.01"))
    assert total > 0
    assert round(sum(data["y"]), 2) == float(total)
    assert field(page, "points-total") == points(total)
    expect(page.locator(".chart-box .uplot canvas")).to_have_count(1)
    save_screenshot(page, "details", full_page=True)
    # With the reactivation form open, at 1280×800 and on a 375px phone.
    changes.stop(rt, OPERATOR, [setup.serial])
    page.goto(f"/assets/{setup.serial}?action=reactivate")
    page.get_by_label("User Defined").check()
    assert unlabelled_controls(page) == []
    assert no_horizontal_scroll(page)
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    page.goto(f"/assets/{setup.serial}?action=reactivate")
    assert no_horizontal_scroll(page)
    assert unlabelled_controls(page) == []


def test_unknown_serial_is_not_found(
    page: Page, setup: Setup, signed_in: SignIn, console_errors: Any
) -> None:
    console_errors.allow("status of 404")
    signed_in(page, organization_id=setup.organization_id)
    answer = page.goto("/assets/FGVMNOSUCH0000")
    assert answer is not None
    assert answer.status == 404


def test_pending_vm_stop_and_end_date_change(
    page: Page, rt: Runtime, setup: Setup, signed_in: SignIn
) -> None:
    other = creation.create_vm(rt, OPERATOR, config_id=setup.other_config)[0].serial
    assert row(rt, other).status == "PENDING"
    signed_in(page, organization_id=setup.organization_id)
    page.goto(f"/assets/{other}")
    # PENDING: the end date may still change (R47).
    page.get_by_role("link", name="Modify").click()
    page.get_by_label("User Defined").check()
    wanted = setup.today + timedelta(days=20)
    page.get_by_label("Expiration date").fill(wanted.isoformat())
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash-success")).to_contain_text("updated")
    stored = row(rt, other)
    assert (stored.termination_mode, stored.end_at) == ("USER_DEFINED", day_start(wanted, PACIFIC))
    assert events(rt, other)[0].kind == "END_DATE_CHANGED"
    # Stop from PENDING (P2).
    page.get_by_role("button", name="Stop").click()
    page.get_by_role("dialog").get_by_role("button", name="Confirm").click()
    expect(page.locator(".flash-success")).to_contain_text("STOPPED")
    assert row(rt, other).status == "STOPPED"
    # STOPPED: configuration and description only, no end date (R47).
    page.get_by_role("link", name="Modify").click()
    expect(page.locator("#modify")).to_contain_text("only while the entitlement is PENDING")
    expect(page.locator("#modify input[type=radio]")).to_have_count(0)


def test_hardware_has_no_token_regeneration(
    page: Page, rt: Runtime, setup: Setup, signed_in: SignIn
) -> None:
    hw_config = config(rt, setup.program, FGT_HW, product=101, name="hw-fgt")
    (hw,) = creation.create_hardware(
        rt, OPERATOR, config_id=hw_config.id, serials=["FGT60FTK19000077"]
    )
    signed_in(page, organization_id=setup.organization_id)
    page.goto(f"/assets/{hw.serial}")
    expect(page.get_by_role("heading", name=hw.serial, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Regenerate token")).to_have_count(0)
    # A forged regeneration is refused by the services; nothing changes.
    headers = json.loads(page.locator("body").get_attribute("hx-headers") or "{}")
    before = row(rt, hw.serial)
    answer = page.request.post(f"/assets/{hw.serial}/token", headers=headers, max_redirects=0)
    assert answer.status == 303
    page.goto(f"/assets/{hw.serial}")
    expect(page.locator(".flash-danger")).to_contain_text("Nothing was changed")
    assert row(rt, hw.serial).token_hash == before.token_hash
