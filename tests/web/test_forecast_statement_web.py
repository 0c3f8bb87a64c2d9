"""Forecasts on the dashboard and monthly statements from the program page, in a browser."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

from playwright.sync_api import Page, expect

from pointflex.bootstrap import Runtime
from pointflex.clock import ManualClock
from pointflex.services.access.api_users import Permission
from pointflex.services.points.forecasts import forecast
from pointflex.services.points.statements import statement
from pointflex.web.render import points
from tests.builders import OPERATOR
from tests.history import build_history
from tests.web.conftest import SignIn, unlabelled_controls


def test_the_dashboard_shows_each_programs_forecast(
    page: Page, rt: Runtime, clock: ManualClock, signed_in: SignIn
) -> None:
    h = build_history(rt, clock, days=10)
    signed_in(page, Permission.READONLY, organization_id=h.organization_id)
    page.goto("/")
    prepaid = forecast(rt, OPERATOR, h.world.prepaid)
    block = page.locator(f'[data-forecast="{h.world.prepaid}"]')
    expect(block.locator('[data-figure="projected-burn"]')).to_have_text(points(prepaid.burn_today))
    expect(block.locator('[data-figure="shortfall"]')).to_have_text(points(prepaid.shortfall))
    postpaid = forecast(rt, OPERATOR, h.world.postpaid)
    other = page.locator(f'[data-forecast="{h.world.postpaid}"]')
    expect(other.locator('[data-figure="month-projection"]')).to_have_text(
        points(postpaid.month_total)
    )


def test_a_statement_is_viewed_and_downloaded_from_the_program_page(
    page: Page, rt: Runtime, clock: ManualClock, signed_in: SignIn
) -> None:
    h = build_history(rt, clock, days=40)
    month = f"{h.today - timedelta(days=h.today.day):%Y-%m}"  # last month: complete
    signed_in(page, Permission.READONLY, organization_id=h.organization_id)
    page.goto(f"/programs/{h.world.prepaid}")
    assert unlabelled_controls(page) == []
    page.locator("#statement-month").select_option(month)
    page.get_by_role("button", name="View statement").click()
    expected = statement(rt, OPERATOR, h.world.prepaid, month)
    expect(page.locator("#status")).to_contain_text("Complete month.")
    expect(page.locator('[data-figure="closing"]')).to_have_text(points(expected.summary.closing))
    assert page.locator("#charges tbody tr").count() == len(expected.lines)
    reply = page.request.get(f"/programs/{h.world.prepaid}/statement?month={month}&format=csv")
    assert reply.status == 200
    rows = list(csv.DictReader(io.StringIO(reply.text())))
    assert sum((Decimal(r["points"]) for r in rows), Decimal(0)) == expected.summary.consumption


def test_a_statement_month_out_of_range_is_a_clear_400_page(
    page: Page, rt: Runtime, clock: ManualClock, signed_in: SignIn
) -> None:
    h = build_history(rt, clock, days=3)
    signed_in(page, Permission.READONLY, organization_id=h.organization_id)
    page.goto(f"/programs/{h.world.prepaid}")  # signed in; the page's own requests follow
    for month in ("9999-12", "0001-01"):
        reply = page.request.get(f"/programs/{h.world.prepaid}/statement?month={month}")
        assert reply.status == 400, month
        assert "out of range" in reply.text(), reply.text()[:500]
