"""A signed-in user changes their own password in a real browser: the current one is checked,
the new one is confirmed, and every other session of the user ends."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from pointflex.bootstrap import Runtime
from pointflex.services.access.auth import verify_password
from pointflex.services.context import read
from pointflex.store.tables import audit_log, portal_sessions, portal_users
from tests.web.conftest import SignIn, sign_in_form, unlabelled_controls

NEW = "a-much-longer-passphrase-2026"


def stored_hash(rt: Runtime, username: str) -> str:
    with read(rt) as conn:
        found: str = conn.execute(
            select(portal_users.c.password_hash).where(portal_users.c.username == username)
        ).scalar_one()
    return found


def open_sessions(rt: Runtime) -> int:
    with read(rt) as conn:
        rows = conn.execute(select(portal_sessions).where(portal_sessions.c.revoked_at.is_(None)))
        return len(rows.all())


def fill(page: Page, current: str, new: str, confirm: str) -> None:
    page.get_by_label("Current password").fill(current)
    page.get_by_label("New password", exact=True).fill(new)
    page.get_by_label("New password again").fill(confirm)
    page.get_by_role("button", name="Change password").click()


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(
    page: Page, browser: Browser, base_url: str, rt: Runtime, signed_in: SignIn
) -> None:
    me = signed_in(page)
    other = browser.new_context(base_url=base_url).new_page()  # the same user elsewhere
    other.goto("/login")
    sign_in_form(other, me.user.username, me.password)
    other.wait_for_url(f"{base_url}/")
    assert open_sessions(rt) == 2

    page.get_by_role("link", name="Password").click()
    assert unlabelled_controls(page) == []
    fill(page, me.password, NEW, NEW)
    expect(page.get_by_role("status").first).to_contain_text("Your password was changed")
    assert verify_password(stored_hash(rt, me.user.username), NEW)
    assert open_sessions(rt) == 1
    page.goto("/")  # this session is still signed in
    expect(page.get_by_test_id("username")).to_have_text(me.user.username)
    other.goto("/")  # the other one is sent to sign in again
    other.wait_for_url(re.compile(r"/login"))
    expect(other.get_by_role("button", name="Sign in")).to_be_visible()
    other.context.close()
    with read(rt) as conn:
        actions = conn.execute(select(audit_log.c.action)).scalars().all()
    assert "portal_user.change_password" in actions


def test_a_wrong_current_password_or_a_mismatch_changes_nothing(
    page: Page, rt: Runtime, signed_in: SignIn
) -> None:
    me = signed_in(page)
    before = stored_hash(rt, me.user.username)
    page.goto("/account/password")
    fill(page, "not-my-password-at-all", NEW, NEW)
    expect(page.locator("#password-error")).to_have_text("The current password is wrong.")
    fill(page, me.password, NEW, NEW + "x")
    expect(page.locator("#password-error")).to_have_text(
        "The new password and its confirmation differ."
    )
    assert stored_hash(rt, me.user.username) == before
