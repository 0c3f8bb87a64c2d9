"""The dashboard in a real browser: the figures shown are the database's, the charts are
drawn, the page fits 1280×800 and a 375px phone, and every control is labelled."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

from playwright.sync_api import Locator, Page, expect
from sqlalchemy import func, select

from pointflex.bootstrap import Runtime
from pointflex.clock import ManualClock
from pointflex.domain.money import CENT
from pointflex.services.access.api_users import Permission
from pointflex.services.context import read
from pointflex.services.points.dashboard import CHART_DAYS, dashboard
from pointflex.store.tables import consumption, point_ledger
from pointflex.web.render import points
from tests.builders import OPERATOR
from tests.history import build_history, leave_days_of_points
from tests.web.conftest import (
    DESKTOP,
    PHONE,
    SignIn,
    no_horizontal_scroll,
    save_screenshot,
    unlabelled_controls,
)


def consumed(rt: Runtime, serial: str, start: date, end: date) -> Decimal:
    with read(rt) as conn:
        total = conn.execute(
            select(func.coalesce(func.sum(consumption.c.points), 0)).where(
                consumption.c.program_serial == serial,
                consumption.c.day >= start,
                consumption.c.day <= end,
            )
        ).scalar_one()
    return Decimal(total).quantize(CENT)


def credited(rt: Runtime, serial: str) -> Decimal:
    with read(rt) as conn:
        total = conn.execute(
            select(func.coalesce(func.sum(point_ledger.c.points), 0)).where(
                point_ledger.c.program_serial == serial
            )
        ).scalar_one()
    return Decimal(total).quantize(CENT)


def figure(card: Locator, name: str) -> str:
    return card.locator(f'[data-figure="{name}"]').inner_text().strip()


def test_dashboard_figures_match_the_database(
    page: Page, rt: Runtime, clock: ManualClock, signed_in: SignIn
) -> None:
    h = build_history(rt, clock)
    yesterday = h.today - timedelta(days=1)
    week_start = yesterday - timedelta(days=6)
    prepaid, postpaid = h.world.prepaid, h.world.postpaid
    burn = (consumed(rt, prepaid, week_start, yesterday) / 7).quantize(CENT)
    balance = leave_days_of_points(rt, prepaid, 20, burn)
    assert balance == credited(rt, prepaid) - consumed(rt, prepaid, date(2000, 1, 1), yesterday)

    signed_in(page, Permission.READONLY, organization_id=h.organization_id)
    card = page.locator(f'[data-serial="{prepaid}"]')
    expect(card.get_by_role("heading", name=prepaid)).to_be_visible()
    assert figure(card, "kind") == "Prepaid"
    assert figure(card, "balance") == points(balance)
    assert figure(card, "burn") == points(burn)
    month = consumed(rt, prepaid, h.today.replace(day=1), yesterday)
    assert figure(card, "month-to-date") == points(month)
    left = (balance / burn).quantize(Decimal("0.1"), rounding="ROUND_DOWN")
    assert figure(card, "days-left") == f"{left:,}"
    assert figure(card, "grace") == "none"
    expect(card.locator('[data-alert="LOW_BALANCE"]')).to_contain_text(f"about {int(left)} days")

    other = page.locator(f'[data-serial="{postpaid}"]')
    assert figure(other, "kind") == "Postpaid"
    assert other.locator('[data-figure="balance"]').count() == 0
    post_week = consumed(rt, postpaid, week_start, yesterday)
    assert figure(other, "burn") == points((post_week / 7).quantize(CENT))
    post_month = consumed(rt, postpaid, h.today.replace(day=1), yesterday)
    assert figure(other, "month-to-date") == points(post_month)

    # The chart: uPlot drew a canvas from the embedded series, which is the database's.
    for serial, box in ((prepaid, card), (postpaid, other)):
        expect(box.locator(".uplot canvas")).to_have_count(1)
        data = json.loads(box.locator('script[type="application/json"]').inner_text())
        assert len(data["x"]) == len(data["y"]) == CHART_DAYS
        start = yesterday - timedelta(days=CHART_DAYS - 1)
        assert Decimal(str(sum(data["y"]))).quantize(CENT) == consumed(rt, serial, start, yesterday)
        assert data["y"][-1] == float(consumed(rt, serial, yesterday, yesterday))

    assert unlabelled_controls(page) == []
    assert no_horizontal_scroll(page)
    save_screenshot(page, "dashboard", full_page=True)


def test_the_dashboard_fits_a_phone_without_sideways_scrolling(
    page: Page, rt: Runtime, clock: ManualClock, signed_in: SignIn
) -> None:
    h = build_history(rt, clock, days=30)
    signed_in(page, organization_id=h.organization_id)
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        page.reload()
        expect(page.locator(".uplot canvas")).to_have_count(2)
        assert no_horizontal_scroll(page), size
        width = page.locator(".chart-box").first.evaluate("el => el.clientWidth")
        canvas = page.locator(".uplot canvas").first.evaluate("el => el.clientWidth")
        assert canvas <= width
        assert unlabelled_controls(page) == []
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()


def test_a_member_account_user_sees_its_own_points_only(
    page: Page, rt: Runtime, clock: ManualClock, signed_in: SignIn
) -> None:
    h = build_history(rt, clock, days=30)
    signed_in(page, Permission.READWRITE, account_id=h.world.member)
    card = page.locator(f'[data-serial="{h.world.prepaid}"]')
    expect(card).to_be_visible()
    mine = next(p for p in dashboard(rt, OPERATOR) if p.serial == h.world.prepaid)
    data = json.loads(card.locator('script[type="application/json"]').inner_text())
    assert 0 < sum(data["y"]) < float(mine.chart_total)
    expect(page.get_by_role("link", name="API users")).to_have_count(0)  # Admins only


def test_no_program_no_cards(page: Page, signed_in: SignIn) -> None:
    signed_in(page)
    expect(page.get_by_text("No program is visible to you yet.")).to_be_visible()
