"""My Assets in a real browser: filters, sorting, paging, selections, the confirmed bulk
actions (stop, reactivate, remove), the refusals (R41, R60) and the exports (P1), each
checked in the database afterwards."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date

import openpyxl
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from pointflex.bootstrap import Runtime
from pointflex.domain.dates import PACIFIC, day_start
from pointflex.services.context import read
from pointflex.services.entitlements import changes, creation
from pointflex.store.tables import entitlements as E
from tests.builders import FGT_HW, OPERATOR, config, world
from tests.web.conftest import (
    DESKTOP,
    PHONE,
    SignIn,
    no_horizontal_scroll,
    save_screenshot,
    unlabelled_controls,
)


@dataclass(frozen=True)
class Assets:
    root: int
    vms: list[str]
    hardware: list[str]
    program: str


def build(rt: Runtime, *, vms: int = 6, hardware: int = 0) -> Assets:
    w = world(rt)
    vm = config(rt, w.prepaid, account_id=w.root)
    made = (
        creation.create_vm(rt, OPERATOR, config_id=vm.id, count=vms, skip_pending=True)
        if vms
        else []
    )
    serials: list[str] = []
    if hardware:
        hw = config(rt, w.prepaid, FGT_HW, product=101, name="hw", account_id=w.root)
        serials = [f"FGT60FTK19{i:06d}" for i in range(hardware)]
        for start in range(0, hardware, 100):
            creation.create_hardware(
                rt, OPERATOR, config_id=hw.id, serials=serials[start : start + 100]
            )
    return Assets(w.root, sorted(e.serial for e in made), serials, w.prepaid)


def stored(rt: Runtime, serials: list[str]) -> dict[str, tuple[str, object, str, object]]:
    with read(rt) as conn:
        rows = conn.execute(
            select(E.c.serial, E.c.status, E.c.end_at, E.c.termination_mode, E.c.removed_at).where(
                E.c.serial.in_(serials)
            )
        ).all()
    return {r.serial: (r.status, r.end_at, r.termination_mode, r.removed_at) for r in rows}


def statuses(rt: Runtime, serials: list[str]) -> dict[str, str]:
    return {s: v[0] for s, v in stored(rt, serials).items()}


def row(page: Page, serial: str) -> Locator:
    return page.locator(f'tr[data-serial="{serial}"]')


def select_rows(page: Page, serials: list[str]) -> None:
    for serial in serials:
        row(page, serial).get_by_role("checkbox").check()


def confirm_action(page: Page, button: str) -> None:
    page.locator("#bulk-bar").get_by_role("button", name=button, exact=True).click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Confirm").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("[data-result]")).to_be_visible()


def test_single_stop_by_selecting_one_row(page: Page, rt: Runtime, signed_in: SignIn) -> None:
    a = build(rt, vms=3)
    signed_in(page, account_id=a.root)
    page.goto("/assets")
    expect(page.locator("#bulk-bar")).to_be_hidden()
    assert unlabelled_controls(page) == []
    select_rows(page, [a.vms[0]])
    expect(page.locator("#bulk-bar")).to_be_visible()
    page.locator("#bulk-bar").get_by_role("button", name="Stop", exact=True).click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(a.vms[0])
    assert statuses(rt, a.vms) == dict.fromkeys(a.vms, "ACTIVE")  # nothing before Confirm
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.locator(f'[data-result-serial="{a.vms[0]}"]')).to_contain_text("changed")
    expect(row(page, a.vms[0]).locator('[data-column="status"]')).to_have_text("STOPPED")
    assert statuses(rt, a.vms) == {a.vms[0]: "STOPPED", a.vms[1]: "ACTIVE", a.vms[2]: "ACTIVE"}


def test_bulk_stop_of_several(page: Page, rt: Runtime, signed_in: SignIn) -> None:
    a = build(rt, vms=5)
    signed_in(page, account_id=a.root)
    page.goto("/assets")
    chosen = a.vms[1:4]
    select_rows(page, chosen)
    expect(page.locator("#selection-count")).to_have_text("3 selected")
    confirm_action(page, "Stop")
    for serial in chosen:
        expect(row(page, serial).locator('[data-column="status"]')).to_have_text("STOPPED")
    assert statuses(rt, a.vms) == {s: "STOPPED" if s in chosen else "ACTIVE" for s in a.vms}


def naive_utc(value: object) -> object:
    from datetime import UTC, datetime

    assert isinstance(value, datetime)
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def test_bulk_reactivate_follow_program_and_user_defined(
    page: Page, rt: Runtime, signed_in: SignIn
) -> None:
    a = build(rt, vms=4)
    changes.stop(rt, OPERATOR, a.vms)
    signed_in(page, account_id=a.root)
    page.goto("/assets")
    select_rows(page, a.vms[:2])
    page.locator("#bulk-bar").get_by_role("button", name="Reactivate").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog.get_by_text("Termination Mode")).to_be_visible()
    dialog.get_by_label("Follow Program").check()
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.locator('[data-changed="yes"]')).to_have_count(2)
    now = stored(rt, a.vms)
    assert [now[s][0] for s in a.vms] == ["ACTIVE", "ACTIVE", "STOPPED", "STOPPED"]
    assert {now[s][2] for s in a.vms[:2]} == {"FOLLOW_PROGRAM"}

    # The table reloads after the action (and the selection with it): wait for it.
    expect(row(page, a.vms[0]).locator('[data-column="status"]')).to_have_text("ACTIVE")
    select_rows(page, a.vms[2:])
    page.locator("#bulk-bar").get_by_role("button", name="Reactivate").click()
    dialog.get_by_label("User Defined").check()
    dialog.get_by_label("Expiration date").fill("2026-09-30")
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.locator(f'[data-result-serial="{a.vms[3]}"]')).to_contain_text("changed")
    expect(page.locator('[data-changed="yes"]')).to_have_count(2)
    expected = naive_utc(day_start(date(2026, 9, 30), PACIFIC))
    now = stored(rt, a.vms)
    for serial in a.vms[2:]:
        status, end, mode, _ = now[serial]
        assert (status, mode, naive_utc(end)) == ("ACTIVE", "USER_DEFINED", expected)


def test_hardware_removal_and_its_limits(page: Page, rt: Runtime, signed_in: SignIn) -> None:
    a = build(rt, vms=0, hardware=104)
    hw = a.hardware
    changes.stop(rt, OPERATOR, hw[:103])  # hw[103] stays ACTIVE
    signed_in(page, account_id=a.root)

    # An ACTIVE serial in the selection refuses the whole request: nothing removed.
    page.goto(f"/assets?q_serial={hw[100][:-2]}")  # hw[100..103]
    select_rows(page, hw[101:104])
    page.locator("#bulk-bar").get_by_role("button", name="Remove").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog.locator("[data-refusal]")).to_contain_text("only STOPPED or EXPIRED")
    expect(dialog.get_by_role("button", name="Confirm")).to_have_count(0)
    dialog.get_by_role("button", name="Close").click()
    assert all(v[3] is None for v in stored(rt, hw).values())

    # STOPPED hardware is removed.
    page.goto(f"/assets?q_serial={hw[100][:-2]}")
    select_rows(page, hw[101:103])
    confirm_action(page, "Remove")
    expect(page.locator('[data-changed="yes"]')).to_have_count(2)
    expect(row(page, hw[101])).to_have_count(0)
    now = stored(rt, hw)
    assert {s for s, v in now.items() if v[3] is not None} == set(hw[101:103])

    # More than 100 at once is refused: the filter matches 101 STOPPED ones.
    page.goto("/assets?status=STOPPED")
    expect(page.locator("#assets-count")).to_contain_text("101 entitlements")
    page.get_by_label("Select all 101 matching").check()
    page.locator("#bulk-bar").get_by_role("button", name="Remove").click()
    expect(dialog.locator("[data-refusal]")).to_contain_text("at most 100")
    expect(dialog.get_by_role("button", name="Confirm")).to_have_count(0)
    assert {s for s, v in stored(rt, hw).items() if v[3] is not None} == set(hw[101:103])


def test_mixed_product_types_are_refused(page: Page, rt: Runtime, signed_in: SignIn) -> None:
    a = build(rt, vms=2, hardware=1)
    signed_in(page, account_id=a.root)
    page.goto("/assets")
    select_rows(page, [a.vms[0], a.hardware[0]])
    page.locator("#bulk-bar").get_by_role("button", name="Stop", exact=True).click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog.locator("[data-refusal]")).to_contain_text("one product type")
    expect(dialog.get_by_role("button", name="Confirm")).to_have_count(0)
    assert set(statuses(rt, [*a.vms, *a.hardware]).values()) == {"ACTIVE"}

    # As the seed advises: filter by product type, then act on the page.
    dialog.get_by_role("button", name="Close").click()
    page.get_by_label("Product type").select_option("1")
    expect(page.locator("[data-assets-table] tbody tr")).to_have_count(2)
    assert "product=1" in page.url
    page.get_by_label("Select all on this page").check()
    confirm_action(page, "Stop")
    expect(page.locator('[data-changed="yes"]')).to_have_count(2)
    now = statuses(rt, [*a.vms, *a.hardware])
    assert now == {a.vms[0]: "STOPPED", a.vms[1]: "STOPPED", a.hardware[0]: "ACTIVE"}


def export_download(page: Page, fmt: str, *, right_click: bool) -> bytes:
    if right_click:
        page.locator("[data-assets-table] tbody tr").first.click(button="right")
    else:
        page.locator("#bulk-bar").get_by_role("button", name="Export").click()
    menu = page.locator("#export-menu")
    expect(menu).to_be_visible()
    with page.expect_download() as info:
        menu.get_by_role("menuitem", name=f"Export as {fmt.upper()}").click()
    path = info.value.path()
    with open(path, "rb") as handle:
        return handle.read()


def test_exports_by_button_and_right_click(page: Page, rt: Runtime, signed_in: SignIn) -> None:
    a = build(rt, vms=5)
    signed_in(page, account_id=a.root)
    page.goto("/assets")
    chosen = a.vms[1:3]
    select_rows(page, chosen)
    for right_click in (False, True):
        data = export_download(page, "csv", right_click=right_click)
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
        assert [r["Serial Number"] for r in rows] == chosen
        assert all(r["Token"] for r in rows)
        data = export_download(page, "xlsx", right_click=right_click)
        sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).active
        assert sheet is not None
        cells = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert cells[0][0] == "Serial Number"
        assert [r[0] for r in cells[1:]] == chosen
        data = export_download(page, "json", right_click=right_click)
        parsed = json.loads(data)
        items = parsed if isinstance(parsed, list) else next(iter(parsed.values()))
        assert [i["serialNumber"] for i in items] == chosen
    # Nothing selected: the filtered view.
    page.goto(f"/assets?q_serial={a.vms[4]}")
    data = export_download(page, "csv", right_click=True)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["Serial Number"] for r in rows] == [a.vms[4]]


def test_filters_paging_and_sorting(page: Page, rt: Runtime, signed_in: SignIn) -> None:
    a = build(rt, vms=120)
    changes.stop(rt, OPERATOR, a.vms[10:15])
    signed_in(page, account_id=a.root)
    page.goto("/assets")
    body = page.locator("[data-assets-table] tbody tr")
    expect(body).to_have_count(50)
    first_page = body.first.get_attribute("data-serial")
    assert first_page == a.vms[0]
    page.get_by_role("link", name="Next").click()
    expect(body.first).to_have_attribute("data-serial", a.vms[50])  # page 2 differs
    assert page.url.endswith("/assets?page=2")
    page.get_by_role("link", name="Serial number").click()  # descending
    expect(body.first).to_have_attribute("data-serial", a.vms[-1])
    assert "dir=desc" in page.url
    page.get_by_role("link", name="Serial number").click()  # ascending again
    expect(body.first).to_have_attribute("data-serial", a.vms[0])
    page.get_by_role("link", name="Serial number").click()
    expect(body.first).to_have_attribute("data-serial", a.vms[-1])
    page.get_by_label("Status").select_option("STOPPED")
    expect(body).to_have_count(5)
    assert "status=STOPPED" in page.url
    assert sorted(r.get_attribute("data-serial") or "" for r in body.all()) == a.vms[10:15]
    with read(rt) as conn:
        stopped = conn.execute(select(E.c.serial).where(E.c.status == "STOPPED")).scalars().all()
    assert sorted(stopped) == a.vms[10:15]
    page.reload()  # the filtered view is linkable
    expect(body).to_have_count(5)


def test_a_selection_survives_paging_and_is_dropped_by_a_new_filter(
    page: Page, rt: Runtime, signed_in: SignIn
) -> None:
    a = build(rt, vms=60)
    signed_in(page, account_id=a.root)
    page.goto("/assets")
    body = page.locator("[data-assets-table] tbody tr")
    select_rows(page, [a.vms[1], a.vms[2]])
    page.get_by_role("link", name="Next").click()
    expect(body.first).to_have_attribute("data-serial", a.vms[50])
    select_rows(page, [a.vms[55]])
    expect(page.locator("#selection-count")).to_have_text("3 selected")
    page.get_by_role("link", name="Previous").click()
    expect(body.first).to_have_attribute("data-serial", a.vms[0])
    expect(row(page, a.vms[1]).get_by_role("checkbox")).to_be_checked()
    expect(row(page, a.vms[0]).get_by_role("checkbox")).not_to_be_checked()
    page.locator("#bulk-bar").get_by_role("button", name="Stop", exact=True).click()
    dialog = page.locator("#confirm-dialog")
    for serial in (a.vms[1], a.vms[2], a.vms[55]):
        expect(dialog).to_contain_text(serial)
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.locator('[data-changed="yes"]')).to_have_count(3)
    stopped = {a.vms[1], a.vms[2], a.vms[55]}
    assert statuses(rt, a.vms) == {s: "STOPPED" if s in stopped else "ACTIVE" for s in a.vms}
    expect(page.locator("#bulk-bar")).to_be_hidden()  # the action done, nothing stays selected

    select_rows(page, [a.vms[3]])
    expect(page.locator("#selection-count")).to_have_text("1 selected")
    page.get_by_label("Status").select_option("ACTIVE")  # a new filter starts afresh
    expect(page.locator("#assets-count")).to_contain_text("57 entitlements")
    expect(page.locator("#bulk-bar")).to_be_hidden()
    expect(page.locator("#carried-serials input")).to_have_count(0)


def test_select_all_matching_acts_on_every_filtered_row(
    page: Page, rt: Runtime, signed_in: SignIn
) -> None:
    a = build(rt, vms=125)
    changes.stop(rt, OPERATOR, a.vms[:5])
    signed_in(page, account_id=a.root)
    page.goto("/assets?status=ACTIVE")
    expect(page.locator("#assets-count")).to_contain_text("120 entitlements")
    page.get_by_label("Select all 120 matching").check()
    expect(page.locator("#selection-count")).to_have_text("All 120 matching selected")
    save_screenshot(page, "my-assets", caret="initial")
    page.locator("#bulk-bar").get_by_role("button", name="Stop", exact=True).click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_contain_text("120")
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.locator('[data-changed="yes"]')).to_have_count(120)
    assert set(statuses(rt, a.vms).values()) == {"STOPPED"}


def test_fits_a_phone(page: Page, rt: Runtime, signed_in: SignIn) -> None:
    a = build(rt, vms=3)
    signed_in(page, account_id=a.root)
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    page.goto("/assets")
    select_rows(page, a.vms[:1])
    assert no_horizontal_scroll(page)
    assert unlabelled_controls(page) == []
    page.set_viewport_size(DESKTOP)  # type: ignore[arg-type]
    assert no_horizontal_scroll(page)


def test_read_only_users_see_no_bulk_actions_but_can_export(
    page: Page, rt: Runtime, signed_in: SignIn
) -> None:
    from pointflex.services.access.api_users import Permission

    a = build(rt, vms=2)
    signed_in(page, Permission.READONLY, account_id=a.root)
    page.goto("/assets")
    select_rows(page, a.vms[:1])
    bar = page.locator("#bulk-bar")
    expect(bar.get_by_role("button", name="Export")).to_be_visible()
    expect(bar.get_by_role("button", name="Stop", exact=True)).to_have_count(0)
    data = export_download(page, "csv", right_click=False)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["Serial Number"] for r in rows] == a.vms[:1]
    assert set(statuses(rt, a.vms).values()) == {"ACTIVE"}
