"""Configurations in a real browser: the form generated from the catalogue, the live
estimate, refusals, editing with the warning, enable/disable, and ReadOnly users. Each test
checks the database after the clicks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from pointflex.bootstrap import Runtime
from pointflex.domain.programs import ProgramKind
from pointflex.services.access import accounts
from pointflex.services.access.api_users import Permission
from pointflex.services.context import read
from pointflex.services.entitlements import creation
from pointflex.services.points import prices, programs
from pointflex.store.tables import config_versions, configurations
from pointflex.web.render import points
from tests.builders import FGT_ENT_2, OPERATOR, config
from tests.web.conftest import PHONE, SignIn, no_horizontal_scroll, unlabelled_controls

C = configurations


@dataclass(frozen=True)
class Org:
    organization_id: int
    account_id: int
    program: str


@pytest.fixture
def org(rt: Runtime) -> Org:
    root = accounts.create_organization(rt, OPERATOR, "Acme", "Acme root")
    program = programs.register_program(
        rt,
        OPERATOR,
        account_id=root.id,
        kind=ProgramKind.PREPAID,
        start_date=date(2026, 1, 1),
        end_date=date(2027, 1, 1),
    )
    return Org(root.organization_id, root.id, program.serial)


def config_rows(rt: Runtime) -> list[Any]:
    with read(rt) as conn:
        return list(conn.execute(select(C).order_by(C.c.id)).all())


def stored(rt: Runtime, config_id: int) -> Any:
    with read(rt) as conn:
        return conn.execute(select(C).where(C.c.id == config_id)).one()


def choose_fortigate_vm(page: Page) -> None:
    page.get_by_label("Product type").select_option(label="FortiGate-VM Service Bundle")
    expect(page.get_by_label("Number of CPUs")).to_be_visible()


def test_create_a_fortigate_vm_configuration_from_the_generated_form(
    page: Page, rt: Runtime, org: Org, signed_in: SignIn
) -> None:
    signed_in(page, Permission.READWRITE, organization_id=org.organization_id)
    page.goto("/configs")
    expect(page.get_by_text("No configurations yet.")).to_be_visible()
    page.get_by_role("link", name="New configuration").click()
    page.get_by_label("Name").fill("branch-fgt")
    choose_fortigate_vm(page)

    cpus = page.get_by_label("Number of CPUs")
    assert cpus.get_attribute("min") == "1"
    assert cpus.get_attribute("max") == "96"
    expect(page.locator("#p1-help")).to_contain_text("A whole number from 1 to 96")
    expect(page.locator("#p10-help")).to_contain_text(
        "The maximum depends on Number of CPUs: 10 from 1, 25 from 2, 50 from 4, 500 from 8."
    )
    cpus.fill("4")
    page.get_by_label("Service Package").select_option("ENT")
    page.get_by_label("Number of VDOMs").fill("20")
    page.get_by_role("checkbox", name=re.compile("FGTAVDB")).check()
    page.get_by_role("checkbox", name=re.compile("FGTFAMS")).check()

    wire = [
        {"id": 1, "value": "4"},
        {"id": 2, "value": "ENT"},
        {"id": 10, "value": "20"},
        {"id": 43, "value": "FGTAVDB"},
        {"id": 44, "value": "FGTFAMS"},
    ]
    expected, _, _ = prices.estimate(
        rt, OPERATOR, program_serial=org.program, product_type_id=1, parameters=wire, count=1
    )
    assert expected > 0
    expect(page.locator("[data-estimate]")).to_have_text(points(expected))
    assert unlabelled_controls(page) == []
    page.set_viewport_size(PHONE)
    assert no_horizontal_scroll(page)

    page.get_by_role("button", name="Create configuration").click()
    page.wait_for_url(re.compile(r"/configs/\d+$"))
    expect(page.locator("#flash")).to_contain_text("Configuration branch-fgt created.")
    (row,) = config_rows(rt)
    assert row.name == "branch-fgt"
    assert row.program_serial == org.program
    assert row.product_type_id == 1
    assert row.account_id == org.account_id
    assert row.status == "ACTIVE"
    assert row.parameters == {
        "1": "4",
        "2": "ENT",
        "10": "20",
        "43": ["FGTAVDB"],
        "44": ["FGTFAMS"],
        "45": "NONE",
    }


def test_an_out_of_range_value_is_refused_and_nothing_is_saved(
    page: Page, rt: Runtime, org: Org, signed_in: SignIn
) -> None:
    signed_in(page, Permission.ADMIN, organization_id=org.organization_id)
    page.goto("/configs/new")
    page.get_by_label("Name").fill("too-big")
    choose_fortigate_vm(page)
    page.get_by_label("Number of CPUs").fill("200")
    page.get_by_label("Service Package").select_option("FC")
    expect(page.locator("[data-estimate-error]")).to_contain_text("out of range 1-96")

    page.get_by_role("button", name="Create configuration").click()
    expect(page.locator("#form-error")).to_contain_text("value 200 is out of range 1-96")
    assert page.url.endswith("/configs/new")
    expect(page.get_by_label("Number of CPUs")).to_have_value("200")
    expect(page.get_by_label("Name")).to_have_value("too-big")
    assert config_rows(rt) == []

    # The dependent cap (R54): 2 vCPUs allow at most 25 VDOMs.
    page.get_by_label("Number of CPUs").fill("2")
    page.get_by_label("Number of VDOMs").fill("30")
    page.get_by_role("button", name="Create configuration").click()
    expect(page.locator("#form-error")).to_contain_text(
        "Parameter id 10 value 30 exceeds the maximum of 25"
    )
    # The message also shows next to the field concerned.
    expect(page.locator("#p10-error")).to_contain_text("exceeds the maximum of 25")
    expect(page.get_by_label("Number of VDOMs")).to_have_attribute("aria-invalid", "true")
    assert config_rows(rt) == []


def test_edit_warns_with_the_count_and_saves(
    page: Page, rt: Runtime, org: Org, signed_in: SignIn
) -> None:
    made = config(rt, org.program, FGT_ENT_2, name="fgt-2")
    creation.create_vm(rt, OPERATOR, config_id=made.id, count=2, skip_pending=True)
    signed_in(page, Permission.READWRITE, organization_id=org.organization_id)
    page.goto("/configs")
    row = page.locator(f'tr[data-config-id="{made.id}"]')
    expect(row.locator("[data-count]")).to_have_text("2")
    expect(row).to_contain_text("Number of CPUs: 2 · Service Package: ENT")
    row.get_by_role("link", name="fgt-2").click()

    expect(page.locator("#change-warning")).to_contain_text(
        "applies to every entitlement using this configuration: 2 entitlements"
    )
    expect(page.get_by_label("Number of CPUs")).to_have_value("2")
    expect(page.get_by_label("Service Package")).to_have_value("ENT")
    page.get_by_label("Name").fill("fgt-4")
    page.get_by_label("Number of CPUs").fill("4")
    expected, _, _ = prices.estimate(
        rt,
        OPERATOR,
        program_serial=org.program,
        product_type_id=1,
        parameters=[{"id": 1, "value": "4"}, {"id": 2, "value": "ENT"}],
        count=1,
    )
    expect(page.locator("[data-estimate]")).to_have_text(points(expected))
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#flash")).to_contain_text("Configuration fgt-4 saved.")
    after = stored(rt, made.id)
    assert after.name == "fgt-4"
    assert after.parameters["1"] == "4"
    assert after.parameters["2"] == "ENT"
    with read(rt) as conn:
        versions = conn.execute(
            select(func.count()).where(config_versions.c.config_id == made.id)
        ).scalar_one()
    assert versions == 2

    # A refused change shows its message next to the form, and nothing changes.
    page.get_by_label("Number of CPUs").fill("0")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#form-error")).to_contain_text("value 0 is out of range 1-96")
    expect(page.locator("#p1-error")).to_be_visible()
    assert stored(rt, made.id).parameters["1"] == "4"
    assert stored(rt, made.id).name == "fgt-4"


def test_disable_and_enable_change_the_status(
    page: Page, rt: Runtime, org: Org, signed_in: SignIn
) -> None:
    made = config(rt, org.program, FGT_ENT_2, name="fgt")
    signed_in(page, Permission.READWRITE, organization_id=org.organization_id)
    page.goto("/configs")
    page.get_by_role("button", name="Disable fgt").click()
    expect(page.locator("#flash")).to_contain_text("Configuration fgt disabled.")
    row = page.locator(f'tr[data-config-id="{made.id}"]')
    expect(row.locator("[data-status]")).to_have_text("DISABLED")
    assert stored(rt, made.id).status == "DISABLED"

    page.get_by_role("button", name="Enable fgt").click()
    expect(row.locator("[data-status]")).to_have_text("ACTIVE")
    assert stored(rt, made.id).status == "ACTIVE"
    page.set_viewport_size(PHONE)
    assert no_horizontal_scroll(page)
    assert unlabelled_controls(page) == []

    page.goto(f"/configs/{made.id}")
    page.get_by_role("button", name="Disable").click()
    expect(page.locator(".page-head [data-status]")).to_have_text("DISABLED")
    assert stored(rt, made.id).status == "DISABLED"


def test_readonly_users_see_no_create_or_edit(
    page: Page, rt: Runtime, org: Org, signed_in: SignIn, console_errors: Any
) -> None:
    made = config(rt, org.program, FGT_ENT_2, name="fgt")
    signed_in(page, Permission.READONLY, organization_id=org.organization_id)
    page.goto("/configs")
    expect(page.locator(f'tr[data-config-id="{made.id}"]')).to_be_visible()
    expect(page.get_by_role("link", name="New configuration")).to_have_count(0)
    expect(page.get_by_role("button")).to_have_count(1)  # Sign out only
    page.goto(f"/configs/{made.id}")
    expect(page.get_by_role("heading", name="fgt")).to_be_visible()
    expect(page.locator("#config-form")).to_have_count(0)
    expect(page.get_by_role("button", name="Disable")).to_have_count(0)
    console_errors.allow("status of 403")
    page.goto("/configs/new")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    assert len(config_rows(rt)) == 1
    assert stored(rt, made.id).status == "ACTIVE"
