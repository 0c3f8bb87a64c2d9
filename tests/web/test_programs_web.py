"""Programs & points in a real browser: the list shows the user's programs only, the details
page shows the database's ledger, and the report (table and CSV) equals the service's."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

from playwright.sync_api import Page, expect
from sqlalchemy import select

from pointflex.bootstrap import Runtime
from pointflex.clock import ManualClock
from pointflex.domain.programs import ProgramKind
from pointflex.domain.usage import GroupBy
from pointflex.services.access import accounts
from pointflex.services.access.api_users import Permission
from pointflex.services.context import read
from pointflex.services.points import programs
from pointflex.services.points.usage import report
from pointflex.store.tables import point_ledger
from pointflex.web.render import points
from tests.builders import OPERATOR
from tests.history import build_history
from tests.web.conftest import PHONE, SignIn, no_horizontal_scroll, unlabelled_controls


def table_rows(page: Page, selector: str) -> list[list[str]]:
    rows = page.locator(f"{selector} tbody tr")
    return [
        [c.strip() for c in rows.nth(i).locator("td").all_inner_texts()]
        for i in range(rows.count())
    ]


def test_the_list_shows_the_users_programs_only(
    page: Page, rt: Runtime, clock: ManualClock, signed_in: SignIn
) -> None:
    h = build_history(rt, clock, days=10)
    other = accounts.create_organization(rt, OPERATOR, "Globex", "Globex root")
    theirs = programs.register_program(
        rt,
        OPERATOR,
        account_id=other.id,
        kind=ProgramKind.PREPAID,
        start_date=date(2026, 1, 1),
        end_date=date(2027, 1, 1),
    )
    signed_in(page, Permission.READONLY, organization_id=h.organization_id)
    page.goto("/programs")
    serials = page.locator("#programs-table tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.serial)"
    )
    assert sorted(serials) == sorted([h.world.prepaid, h.world.postpaid])
    expect(page.get_by_text(theirs.serial)).to_have_count(0)
    prepaid = page.locator(f'tr[data-serial="{h.world.prepaid}"]')
    balance = programs.balance(rt, OPERATOR, h.world.prepaid)
    expect(prepaid.locator('[data-figure="balance"]')).to_have_text(points(balance))
    postpaid = page.locator(f'tr[data-serial="{h.world.postpaid}"]')
    expect(postpaid.locator('[data-figure="balance"]')).to_have_text("—")
    # Another organisation's program is "not found", not shown.
    assert page.request.get(f"/programs/{theirs.serial}").status == 404
    assert page.request.get(f"/programs/{theirs.serial}/report.csv").status == 404
    page.set_viewport_size(PHONE)
    assert no_horizontal_scroll(page)


def test_the_details_page_shows_the_ledger_and_no_pack_form(
    page: Page, rt: Runtime, clock: ManualClock, signed_in: SignIn
) -> None:
    h = build_history(rt, clock, days=10)
    programs.adjust(rt, OPERATOR, h.world.prepaid, Decimal("-123.45"), "goodwill correction")
    signed_in(page, Permission.READONLY, organization_id=h.organization_id)
    page.goto("/programs")
    page.get_by_role("link", name=h.world.prepaid).click()
    expect(page.get_by_role("heading", name=h.world.prepaid)).to_be_visible()

    L = point_ledger
    with read(rt) as conn:
        stored = conn.execute(
            select(L)
            .where(L.c.program_serial == h.world.prepaid)
            .order_by(L.c.day.desc(), L.c.id.desc())
        ).all()
    assert len(stored) == 2
    expected = [[r.day.isoformat(), r.kind, points(r.points), r.reference, r.note] for r in stored]
    assert table_rows(page, "#ledger-table") == expected
    assert expected[0][1:] == ["ADJUSTMENT", "-123.45", "", "goodwill correction"]
    expect(page.locator("[data-pack]")).to_have_count(1)
    expect(page.locator("[data-pack]")).to_contain_text("50,000.00")
    expect(page.locator("#packs-note")).to_contain_text("added by the platform operator")
    expect(page.locator("#packs form")).to_have_count(0)
    balance = programs.balance(rt, OPERATOR, h.world.prepaid)
    expect(page.locator('[data-figure="balance"]')).to_have_text(points(balance))
    assert unlabelled_controls(page) == []
    page.set_viewport_size(PHONE)
    assert no_horizontal_scroll(page)


def test_the_report_by_entitlement_and_its_csv_equal_the_service(
    page: Page, rt: Runtime, clock: ManualClock, signed_in: SignIn
) -> None:
    h = build_history(rt, clock, days=20)
    start, end = h.today - timedelta(days=15), h.today - timedelta(days=1)
    signed_in(page, Permission.ADMIN, organization_id=h.organization_id)
    page.goto(f"/programs/{h.world.prepaid}")
    expect(page.locator("#packs form")).to_have_count(0)  # packs are the operator's
    page.get_by_label("Group by").select_option("entitlement")
    page.get_by_label("From").fill(start.isoformat())
    page.get_by_label("To").fill(end.isoformat())
    page.get_by_role("button", name="Show report").click()
    expect(page.locator("#report-title")).to_be_visible()
    expect(page.get_by_label("Group by")).to_have_value("entitlement")

    rows = report(rt, OPERATOR, h.world.prepaid, GroupBy.ENTITLEMENT, start, end)
    assert len(rows) > 1
    shown = table_rows(page, "#report-table")
    assert shown == [[r.label, str(r.entitlements), points(r.points)] for r in rows]
    total = sum((r.points for r in rows), Decimal("0"))
    expect(page.locator("[data-report-total]")).to_have_text(points(total))

    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8") as f:
        parsed = list(csv.reader(io.StringIO(f.read())))
    assert parsed[0] == ["Entitlement", "Entitlements", "Points"]
    assert parsed[1:] == [[r.label, str(r.entitlements), f"{r.points:.2f}"] for r in rows]
    assert [[a, b, f"{Decimal(c):,.2f}"] for a, b, c in parsed[1:]] == shown

    response = page.request.get(
        f"/programs/{h.world.prepaid}/report.csv?group=day&start={start}&end={end}"
    )
    assert response.headers["content-type"].startswith("text/csv")
    by_day = report(rt, OPERATOR, h.world.prepaid, GroupBy.DAY, start, end)
    lines = list(csv.reader(io.StringIO(response.text())))
    assert lines[0][0] == "Day"
    assert len(lines) == len(by_day) + 1
