"""API users in a real browser: an Admin creates a ReadOnly user whose shown password works at
the token endpoint, resets it (the old one is refused), disables it; non-Admins get a 403."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import select

from pointflex.bootstrap import Runtime
from pointflex.services.access.api_users import Permission
from pointflex.services.context import read
from pointflex.store.tables import api_users
from tests.builders import world
from tests.web.conftest import (
    PHONE,
    ConsoleErrors,
    SignIn,
    no_horizontal_scroll,
    unlabelled_controls,
)

TOKEN_PATH = "/api/v1/oauth/token/"


def token_status(base_url: str, username: str, password: str) -> int:
    answer = httpx.post(
        base_url + TOKEN_PATH,
        json={
            "username": username,
            "password": password,
            "client_id": "flexvm",
            "grant_type": "password",
        },
        timeout=30,
    )
    return answer.status_code


def test_admin_creates_resets_and_disables_an_api_user(
    page: Page, rt: Runtime, base_url: str, signed_in: SignIn
) -> None:
    w = world(rt)
    signed_in(page, account_id=w.root)
    page.goto("/api-users")
    expect(page.get_by_text("No API users yet.")).to_be_visible()
    assert unlabelled_controls(page) == []
    page.get_by_label("Permission").select_option("READONLY")
    page.get_by_label("Scope").select_option(f"account:{w.root}")
    page.get_by_role("button", name="Create API user").click()

    shown = page.locator("#new-password")
    expect(shown).to_contain_text("shown only this once")
    username = shown.locator("[data-username]").inner_text()
    first = shown.locator("[data-password]").inner_text()
    with read(rt) as conn:
        (row,) = conn.execute(select(api_users)).all()
    assert (row.username, row.permission, row.account_id, row.organization_id) == (
        username,
        "READONLY",
        w.root,
        None,
    )
    assert row.disabled_at is None
    assert token_status(base_url, username, first) == 200

    page.goto("/api-users")
    expect(page.locator("#new-password")).to_have_count(0)  # shown once only
    user_row = page.locator(f'tr[data-username="{username}"]')
    expect(user_row.locator("[data-permission]")).to_have_text("Read-only")
    user_row.get_by_role("button", name=f"Reset the password of {username}").click()
    second = page.locator("#new-password [data-password]").inner_text()
    assert second != first
    assert token_status(base_url, username, first) == 401
    assert token_status(base_url, username, second) == 200

    user_row = page.locator(f'tr[data-username="{username}"]')
    user_row.get_by_role("button", name=f"Disable {username}").click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_contain_text(f"Disable {username}?")
    with read(rt) as conn:
        assert conn.execute(select(api_users.c.disabled_at)).scalar_one() is None
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.locator("#flash")).to_contain_text(f"API user {username} disabled")
    expect(page.locator(f'tr[data-username="{username}"] [data-disabled]')).not_to_have_text("—")
    with read(rt) as conn:
        assert conn.execute(select(api_users.c.disabled_at)).scalar_one() is not None
    assert token_status(base_url, username, second) == 401
    page.set_viewport_size(PHONE)
    assert no_horizontal_scroll(page)


def test_read_write_users_get_403(
    page: Page, rt: Runtime, signed_in: SignIn, console_errors: ConsoleErrors
) -> None:
    console_errors.allow("status of 403")
    w = world(rt)
    signed_in(page, Permission.READWRITE, account_id=w.root)
    expect(page.locator("nav[aria-label=Main]")).not_to_contain_text("API users")
    answer = page.goto("/api-users")
    assert answer is not None
    assert answer.status == 403
    expect(page.locator("h1")).not_to_have_text("API users")
    with read(rt) as conn:
        assert conn.execute(select(api_users)).all() == []
