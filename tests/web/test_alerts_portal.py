"""Alerts and notifications in a real browser: the Alerts page lists a raised alert and
acknowledges it; an Admin registers a webhook (secret shown once), sees the delivery log with
its attempt and presses Redeliver; non-Admins get a 403 — checked in the database."""

from __future__ import annotations

from decimal import Decimal

from playwright.sync_api import Page, expect
from sqlalchemy import select

from pointflex.bootstrap import Runtime
from pointflex.services.access.api_users import Permission
from pointflex.services.alerts.deliveries import deliver_due
from pointflex.services.alerts.occurrences import raise_due_alerts
from pointflex.services.context import read
from pointflex.services.points import programs
from pointflex.store.tables import (
    alert_thresholds,
    alerts,
    audit_log,
    deliveries,
    notification_targets,
)
from tests.builders import OPERATOR, World, world
from tests.web.conftest import ConsoleErrors, SignIn, unlabelled_controls


def negative(rt: Runtime) -> World:
    w = world(rt)
    programs.adjust(rt, OPERATOR, w.prepaid, Decimal("-5"), "below zero")
    return w


def test_the_alerts_page_lists_a_raised_alert_and_acknowledges_it(
    page: Page, rt: Runtime, signed_in: SignIn
) -> None:
    w = negative(rt)
    assert raise_due_alerts(rt) == 1
    signed_in(page, Permission.READWRITE, account_id=w.member)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
    row = page.locator("#alerts-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("NEGATIVE")
    expect(row).to_contain_text(w.prepaid)
    expect(row).to_contain_text("Negative balance: -5.00 points")
    page.get_by_role("button", name="Acknowledge alert").click()
    expect(page.locator("#flash")).to_contain_text("acknowledged")
    expect(row.locator("[data-status]")).to_contain_text("acknowledged by")
    with read(rt) as conn:
        (stored,) = conn.execute(select(alerts)).all()
    assert stored.acknowledged_by is not None
    assert stored.acknowledged_at is not None


def test_an_admin_registers_a_webhook_and_redelivers_from_the_log(
    page: Page, rt: Runtime, signed_in: SignIn
) -> None:
    w = negative(rt)
    signed_in(page, account_id=w.root)
    page.goto("/notifications")
    assert unlabelled_controls(page) == []
    page.get_by_label("URL or e-mail address").fill("http://127.0.0.1:9/hook")
    page.get_by_label("Scope").select_option(f"account:{w.root}")
    page.get_by_label("NEGATIVE", exact=True).check()
    page.get_by_role("button", name="Add", exact=True).click()
    shown = page.locator("#new-secret")
    expect(shown).to_contain_text("shown only this once")
    assert shown.locator("[data-secret]").inner_text().startswith("whsec_")
    expect(page.locator("#targets-table tbody tr")).to_contain_text("NEGATIVE")

    assert raise_due_alerts(rt) == 1
    assert deliver_due(rt) == 1  # port 9: refused, logged, retried later
    page.goto("/notifications")
    log = page.locator("#deliveries-table tbody tr")
    expect(log).to_have_count(1)
    expect(log.locator("[data-state]")).to_contain_text("PENDING")
    expect(log.locator("[data-attempts] li")).to_contain_text("failed")
    page.get_by_role("button", name="Redeliver delivery").click()
    expect(page.locator("#flash")).to_contain_text("will be sent again")
    with read(rt) as conn:
        (target,) = conn.execute(select(notification_targets)).all()
        (delivery,) = conn.execute(select(deliveries)).all()
        actions = conn.execute(select(audit_log.c.action)).scalars().all()
    assert (target.channel, target.address, target.kinds) == (
        "WEBHOOK",
        "http://127.0.0.1:9/hook",
        "NEGATIVE",
    )
    assert delivery.state == "PENDING"
    assert delivery.next_attempt_at == rt.now()
    assert "webhook.add" in actions
    assert "delivery.redeliver" in actions


def test_a_bad_url_is_refused_in_the_form(page: Page, rt: Runtime, signed_in: SignIn) -> None:
    w = world(rt)
    signed_in(page, account_id=w.root)
    page.goto("/notifications")
    page.get_by_label("URL or e-mail address").fill("ftp://example.test/hook")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("[data-error]")).to_contain_text("http:// or https://")
    with read(rt) as conn:
        assert conn.execute(select(notification_targets)).all() == []


def test_notifications_are_for_admins_only(
    page: Page, rt: Runtime, signed_in: SignIn, console_errors: ConsoleErrors
) -> None:
    console_errors.allow("403")
    w = world(rt)
    signed_in(page, Permission.READWRITE, account_id=w.root)
    answer = page.goto("/notifications")
    assert answer is not None
    assert answer.status == 403


def test_an_admin_sets_a_program_low_balance_threshold(
    page: Page, rt: Runtime, signed_in: SignIn
) -> None:
    w = world(rt)
    signed_in(page, account_id=w.root)
    page.goto("/notifications")
    assert unlabelled_controls(page) == []
    field = page.get_by_label(f"Low-balance threshold of {w.prepaid} in days")
    expect(field).to_have_attribute("placeholder", "30")
    field.fill("12")
    page.get_by_role("button", name=f"Save the threshold of {w.prepaid}").click()
    expect(page.locator("#flash")).to_contain_text("below 12 days")
    expect(page.get_by_label(f"Low-balance threshold of {w.prepaid} in days")).to_have_value("12")
    with read(rt) as conn:
        (row,) = conn.execute(select(alert_thresholds)).all()
    assert (row.program_serial, row.low_balance_days) == (w.prepaid, 12)
    assert page.locator(f"#thresholds-table [data-program='{w.postpaid}']").count() == 0
