"""Portal users in a real browser: an Admin creates a user whose shown password signs in,
resets it (the old one stops working, the user's sessions end) and disables it."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from pointflex.bootstrap import Runtime
from pointflex.errors import AuthenticationFailed
from pointflex.services.access import portal_users
from pointflex.services.context import read
from pointflex.store.tables import portal_users as PU
from tests.builders import world
from tests.web.conftest import SignIn, sign_in_form, unlabelled_controls

ADDRESS = "192.0.2.9"


def signs_in(rt: Runtime, username: str, password: str) -> bool:
    try:
        portal_users.sign_in(rt, username, password, ADDRESS)
    except AuthenticationFailed:
        return False
    return True


def test_admin_creates_resets_and_disables_a_portal_user(
    page: Page, browser: Browser, base_url: str, rt: Runtime, signed_in: SignIn
) -> None:
    w = world(rt)
    signed_in(page, account_id=w.root)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Portal users").click()
    expect(page.locator("h1")).to_have_text("Portal users")
    assert unlabelled_controls(page) == []
    page.get_by_label("Username").fill("Carol@Acme.example")
    page.get_by_label("Permission").select_option("READWRITE")
    page.get_by_label("Scope").select_option(f"account:{w.root}")
    page.get_by_role("button", name="Create portal user").click()
    shown = page.locator("#new-password")
    expect(shown.locator("[data-username]")).to_have_text("carol@acme.example")
    first = shown.locator("[data-password]").inner_text()
    with read(rt) as conn:
        row = conn.execute(select(PU).where(PU.c.username == "carol@acme.example")).one()
    assert (row.permission, row.account_id) == ("READWRITE", w.root)

    # Carol signs in elsewhere with the password shown; a reset ends that session.
    carol = browser.new_context(base_url=base_url).new_page()
    carol.goto("/login")
    sign_in_form(carol, "carol@acme.example", first)
    carol.wait_for_url(f"{base_url}/")
    row_of_carol = page.locator('tr[data-username="carol@acme.example"]')
    row_of_carol.get_by_role("button", name="Reset the password of carol@acme.example").click()
    second = page.locator("#new-password [data-password]").inner_text()
    assert second != first
    assert not signs_in(rt, "carol@acme.example", first)
    assert signs_in(rt, "carol@acme.example", second)
    carol.goto("/")
    expect(carol.get_by_role("button", name="Sign in")).to_be_visible()
    carol.context.close()

    page.goto("/portal-users")
    page.locator('tr[data-username="carol@acme.example"]').get_by_role(
        "button", name="Disable carol@acme.example"
    ).click()
    page.locator("dialog[open]").get_by_role("button", name="Confirm").click()
    expect(page.locator("#flash")).to_contain_text("Portal user carol@acme.example disabled")
    assert not signs_in(rt, "carol@acme.example", second)
    with read(rt) as conn:
        disabled = conn.execute(
            select(PU.c.disabled_at).where(PU.c.username == "carol@acme.example")
        ).scalar_one()
    assert disabled is not None
