"""The audit log in a real browser: a stop done through the services shows with its before
and after, a filter by action narrows the rows, another organisation's rows never show."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select

from pointflex.bootstrap import Runtime
from pointflex.services.context import read
from pointflex.services.entitlements import changes, creation
from pointflex.store.tables import audit_log
from tests.builders import OPERATOR, config, world
from tests.web.conftest import PHONE, SignIn, no_horizontal_scroll, unlabelled_controls


def make_org(rt: Runtime, vms: int) -> tuple[int, list[str]]:
    w = world(rt)
    made = creation.create_vm(
        rt,
        OPERATOR,
        config_id=config(rt, w.prepaid, account_id=w.root).id,
        count=vms,
        skip_pending=True,
    )
    return w.root, sorted(e.serial for e in made)


def test_audit_log_shows_the_scope_rows_with_before_after_and_filters(
    page: Page, rt: Runtime, signed_in: SignIn
) -> None:
    root, mine = make_org(rt, 3)
    other_root, theirs = make_org(rt, 2)
    changes.stop(rt, OPERATOR, mine[:1])
    changes.stop(rt, OPERATOR, theirs[:1])
    with read(rt) as conn:
        stops = conn.execute(
            select(audit_log).where(
                audit_log.c.action == "entitlement.stop", audit_log.c.account_id == root
            )
        ).all()
    assert [(r.object_id, r.before, r.after) for r in stops] == [
        (mine[0], {"status": "ACTIVE"}, {"status": "STOPPED"})
    ]

    signed_in(page, account_id=root)
    page.goto("/audit")
    table = page.locator("#audit-table")
    expect(table).to_be_visible()
    assert unlabelled_controls(page) == []
    for serial in mine:
        expect(table.locator("[data-object]", has_text=serial).first).to_be_visible()
    for serial in theirs:
        expect(table).not_to_contain_text(serial)
    expect(table).not_to_contain_text(str(other_root))

    page.get_by_label("Action").select_option("entitlement.stop")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/audit?action=entitlement.stop*")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.locator("[data-object]")).to_have_text(mine[0])
    expect(rows.locator("[data-before]")).to_have_text('{"status": "ACTIVE"}')
    expect(rows.locator("[data-after]")).to_have_text('{"status": "STOPPED"}')

    page.get_by_label("Object id contains").fill(mine[1])
    page.get_by_label("Action").select_option("")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows).to_have_attribute("data-action", "entitlement.create")
    today = rt.now().date()
    page.get_by_label("From (UTC)").fill((today + timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No audit entries match.")).to_be_visible()
    page.get_by_label("From (UTC)").fill(today.isoformat())
    page.get_by_label("To (UTC)").fill(today.isoformat())
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    page.set_viewport_size(PHONE)
    assert no_horizontal_scroll(page)


def test_audit_log_pages_by_50_newest_first(page: Page, rt: Runtime, signed_in: SignIn) -> None:
    root, mine = make_org(rt, 60)
    signed_in(page, account_id=root)
    page.goto("/audit?object_id=FGVM")
    rows = page.locator("#audit-table tbody tr")
    expect(rows).to_have_count(50)
    first_ids = [int(i) for i in rows.evaluate_all("rs => rs.map(r => r.dataset.auditId)")]
    assert first_ids == sorted(first_ids, reverse=True)
    page.get_by_role("link", name="Older").click()
    expect(rows).to_have_count(10)
    older = [int(i) for i in rows.evaluate_all("rs => rs.map(r => r.dataset.auditId)")]
    assert max(older) < min(first_ids)
    with read(rt) as conn:
        stored = (
            conn.execute(
                select(audit_log.c.object_id).where(
                    audit_log.c.account_id == root, audit_log.c.object_type == "entitlement"
                )
            )
            .scalars()
            .all()
        )
    assert sorted(stored) == mine
