"""Create entitlements in a real browser: VMs (count, skip pending), hardware serials pasted
(the 100 limit, a malformed line), cloud (one per product per account, R28). Each test checks
the database after the clicks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from pointflex.bootstrap import Runtime
from pointflex.domain.programs import ProgramKind
from pointflex.services.access import accounts
from pointflex.services.access.api_users import Permission
from pointflex.services.context import read
from pointflex.services.points import programs
from pointflex.store.tables import entitlements, scheduled_activations
from tests.builders import FGT_ENT_2, FGT_HW, OPERATOR, config
from tests.web.conftest import PHONE, SignIn, no_horizontal_scroll, unlabelled_controls

E = entitlements
FWB_CLOUD = [{"id": 32, "value": "25"}, {"id": 33, "value": "2"}]


@dataclass(frozen=True)
class Setup:
    organization_id: int
    account_id: int
    program: str
    vm: int
    hardware: int
    cloud: int


@pytest.fixture
def setup(rt: Runtime) -> Setup:
    root = accounts.create_organization(rt, OPERATOR, "Acme", "Acme root")
    program = programs.register_program(
        rt,
        OPERATOR,
        account_id=root.id,
        kind=ProgramKind.PREPAID,
        start_date=date(2026, 1, 1),
        end_date=date(2027, 1, 1),
    )
    programs.add_pack(rt, OPERATOR, program.serial, 10_000)
    vm = config(rt, program.serial, FGT_ENT_2, name="vm-fgt")
    hardware = config(rt, program.serial, FGT_HW, product=101, name="hw-fgt")
    cloud = config(rt, program.serial, FWB_CLOUD, product=202, name="fwb-cloud")
    return Setup(root.organization_id, root.id, program.serial, vm.id, hardware.id, cloud.id)


def rows_of(rt: Runtime, config_id: int) -> list[Any]:
    with read(rt) as conn:
        return list(
            conn.execute(select(E).where(E.c.config_id == config_id).order_by(E.c.serial)).all()
        )


def test_vm_count_three_with_skip_pending(
    page: Page, rt: Runtime, setup: Setup, signed_in: SignIn
) -> None:
    signed_in(page, Permission.READWRITE, organization_id=setup.organization_id)
    page.goto("/create")
    assert unlabelled_controls(page) == []
    vm = page.locator("#vm")
    vm.get_by_label("Configuration").select_option(
        label=f"vm-fgt — FortiGate-VM Service Bundle ({setup.program})"
    )
    vm.get_by_label("Count", exact=True).fill("3")
    vm.get_by_label("Description").fill("branch firewalls")
    vm.get_by_label("Folder").fill("Branches/Paris")
    vm.get_by_label("Skip pending").check()
    vm.get_by_role("button", name="Create VM entitlements").click()

    created = page.locator("#vm-result [data-serial]")
    expect(created).to_have_count(3)
    rows = rows_of(rt, setup.vm)
    assert len(rows) == 3
    assert {r.status for r in rows} == {"ACTIVE"}
    assert {r.description for r in rows} == {"branch firewalls"}
    assert {r.folder_path for r in rows} == {"My Assets/Branches/Paris"}
    assert {r.termination_mode for r in rows} == {"FOLLOW_PROGRAM"}
    assert all(r.token_hash for r in rows)
    for row in rows:
        item = page.locator(f'#vm-result [data-serial="{row.serial}"]')
        expect(item.get_by_role("link", name=row.serial)).to_have_attribute(
            "href", f"/assets/{row.serial}"
        )
        token = item.locator("[data-token]").inner_text().removeprefix("Token: ")
        assert rt.vault.lookup_hash(token) == row.token_hash
    page.set_viewport_size(PHONE)
    assert no_horizontal_scroll(page)


def test_vm_without_skip_pending_and_with_an_end_date(
    page: Page, rt: Runtime, setup: Setup, signed_in: SignIn
) -> None:
    signed_in(page, Permission.ADMIN, organization_id=setup.organization_id)
    page.goto("/create")
    vm = page.locator("#vm")
    vm.get_by_label("End date").fill("2026-06-30")
    vm.get_by_role("button", name="Create VM entitlements").click()
    expect(page.locator("#vm-result [data-serial]")).to_have_count(1)
    (row,) = rows_of(rt, setup.vm)
    assert row.status == "PENDING"
    assert row.termination_mode == "USER_DEFINED"

    vm.get_by_label("End date").fill("2030-01-01")  # after the program end (R44)
    vm.get_by_role("button", name="Create VM entitlements").click()
    expect(page.locator("#vm-result [data-result=error]")).to_contain_text(
        "must not be later than the program end date"
    )
    assert len(rows_of(rt, setup.vm)) == 1


def test_hardware_serials_pasted(page: Page, rt: Runtime, setup: Setup, signed_in: SignIn) -> None:
    signed_in(page, Permission.READWRITE, organization_id=setup.organization_id)
    page.goto("/create")
    hw = page.locator("#hardware")
    hw.get_by_label("Device serial numbers").fill(
        "FGT60FTK20000001\nfgt60ftk20000002, FGT60FTK20000003\n\n"
    )
    hw.get_by_label("Description").fill("shop")
    hw.get_by_role("button", name="Add hardware").click()
    expect(page.locator("#hardware-result [data-serial]")).to_have_count(3)
    rows = rows_of(rt, setup.hardware)
    assert [r.serial for r in rows] == [
        "FGT60FTK20000001",
        "FGT60FTK20000002",
        "FGT60FTK20000003",
    ]
    assert {r.status for r in rows} == {"ACTIVE"}
    assert {r.description for r in rows} == {"shop"}
    assert all(r.token_hash is None for r in rows)


def test_hardware_refuses_101_serials(
    page: Page, rt: Runtime, setup: Setup, signed_in: SignIn
) -> None:
    signed_in(page, Permission.READWRITE, organization_id=setup.organization_id)
    page.goto("/create")
    hw = page.locator("#hardware")
    hw.get_by_label("Device serial numbers").fill(
        "\n".join(f"FGT60FTK2{n:07d}" for n in range(101))
    )
    hw.get_by_role("button", name="Add hardware").click()
    expect(page.locator("#hardware-result [data-result=error]")).to_contain_text(
        "at most 100 serials can be created at once, got 101. Nothing was created."
    )
    assert rows_of(rt, setup.hardware) == []


def test_hardware_refuses_a_malformed_serial_with_its_line(
    page: Page, rt: Runtime, setup: Setup, signed_in: SignIn
) -> None:
    signed_in(page, Permission.READWRITE, organization_id=setup.organization_id)
    page.goto("/create")
    hw = page.locator("#hardware")
    hw.get_by_label("Device serial numbers").fill("FGT60FTK20000001\nFG#1\nFGT60FTK20000003")
    hw.get_by_role("button", name="Add hardware").click()
    errors = page.locator("#hardware-result [data-line-errors] li")
    expect(errors).to_have_count(1)
    expect(errors).to_have_text("Line 2: “FG#1” is not a device serial number.")
    assert rows_of(rt, setup.hardware) == []

    hw.get_by_label("Device serial numbers").fill("FGT60FTK20000001,\nfgt60ftk20000001")
    hw.get_by_role("button", name="Add hardware").click()
    expect(errors).to_have_text("Line 2: FGT60FTK20000001 is already listed on line 1.")
    assert rows_of(rt, setup.hardware) == []


def test_cloud_once_then_refused(page: Page, rt: Runtime, setup: Setup, signed_in: SignIn) -> None:
    signed_in(page, Permission.READWRITE, organization_id=setup.organization_id)
    page.goto("/create")
    cloud = page.locator("#cloud")
    cloud.get_by_role("button", name="Create cloud entitlement").click()
    expect(page.locator("#cloud-result [data-serial]")).to_have_count(1)
    (row,) = rows_of(rt, setup.cloud)
    assert row.status == "ACTIVE"
    assert row.serial.startswith("FWBCPRIV")

    cloud.get_by_role("button", name="Create cloud entitlement").click()
    expect(page.locator("#cloud-result [data-result=error]")).to_contain_text(
        f"account {setup.account_id} already has {row.serial} for this cloud product; "
        "at most one per account"
    )
    assert len(rows_of(rt, setup.cloud)) == 1


def test_readonly_users_cannot_open_create(
    page: Page, rt: Runtime, setup: Setup, signed_in: SignIn, console_errors: Any
) -> None:
    signed_in(page, Permission.READONLY, organization_id=setup.organization_id)
    console_errors.allow("status of 403")
    page.goto("/create")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    assert rows_of(rt, setup.vm) == []


def test_hardware_with_a_start_date_is_scheduled_and_can_be_cancelled(
    page: Page, rt: Runtime, setup: Setup, signed_in: SignIn
) -> None:
    signed_in(page, Permission.READWRITE, organization_id=setup.organization_id)
    page.goto("/create")
    hw = page.locator("#hardware")
    # 150 serials: over the 100 of immediate creation, within the 1,000 of scheduling (R38).
    hw.get_by_label("Device serial numbers").fill(
        "\n".join(f"FGT60FTK3{n:07d}" for n in range(150))
    )
    hw.get_by_label("Folder").fill("Branches")
    hw.get_by_label("Start date").fill("2026-03-10")
    hw.get_by_role("button", name="Add hardware").click()
    expect(page.locator("#hardware-result [data-result=scheduled]")).to_contain_text(
        "Scheduled 150 serials for activation at 03:00 program time on 2026-03-10"
    )
    assert rows_of(rt, setup.hardware) == []  # nothing is active before the start date
    with read(rt) as conn:
        waiting = conn.execute(
            select(scheduled_activations.c.start_date, scheduled_activations.c.folder_path)
        ).all()
    assert len(waiting) == 150
    assert set(waiting) == {(date(2026, 3, 10), "My Assets/Branches")}

    page.goto("/create")
    row = page.locator("[data-scheduled=FGT60FTK30000007]")
    row.get_by_role("button", name="Cancel the scheduled activation of FGT60FTK30000007").click()
    expect(page.locator(".flash-success, [role=status]").first).to_contain_text(
        "The scheduled activation of FGT60FTK30000007 was cancelled."
    )
    expect(page.locator("[data-scheduled]")).to_have_count(149)
    with read(rt) as conn:
        state = conn.execute(
            select(scheduled_activations.c.state).where(
                scheduled_activations.c.serial == "FGT60FTK30000007"
            )
        ).scalar_one()
    assert state == "CANCELLED"
