"""Signing in and out in a real browser; cookie flags, CSRF and throttling over raw HTTP."""

from __future__ import annotations

from datetime import timedelta

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import select

from pointflex.bootstrap import Runtime
from pointflex.clock import ManualClock
from pointflex.services.access import accounts
from pointflex.services.access.api_users import Permission
from pointflex.services.access.portal_users import create_portal_user
from pointflex.services.context import read
from pointflex.store.tables import auth_failures, portal_sessions
from tests.builders import OPERATOR
from tests.portal_http import CSRF_FIELD, http_sign_in
from tests.web.conftest import (
    PHONE,
    ConsoleErrors,
    SignIn,
    no_horizontal_scroll,
    sign_in_form,
    unlabelled_controls,
)


def make_user(rt: Runtime, username: str = "alice@acme.example") -> str:
    root = accounts.create_organization(rt, OPERATOR, "Acme", "Acme HQ")
    _, password = create_portal_user(
        rt, OPERATOR, username, permission=Permission.ADMIN, organization_id=root.organization_id
    )
    return password


def sessions_open(rt: Runtime) -> int:
    with read(rt) as conn:
        rows = conn.execute(select(portal_sessions).where(portal_sessions.c.revoked_at.is_(None)))
        return len(rows.all())


def test_signing_in_lands_on_the_dashboard_with_the_user_named(
    page: Page, rt: Runtime, base_url: str
) -> None:
    password = make_user(rt)
    page.goto("/")
    expect(page).to_have_url(f"{base_url}/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert unlabelled_controls(page) == []
    sign_in_form(page, "Alice@Acme.example", password)
    expect(page).to_have_url(f"{base_url}/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_test_id("username")).to_have_text("alice@acme.example")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link")).to_have_text(
        [
            "Dashboard",
            "My Assets",
            "Configurations",
            "Create",
            "Programs & points",
            "Audit log",
            "Alerts",
            "API users",
            "Portal users",
            "Notifications",
        ]
    )
    assert sessions_open(rt) == 1


def test_a_wrong_password_says_so_and_keeps_the_username(page: Page, rt: Runtime) -> None:
    make_user(rt)
    page.goto("/login")
    sign_in_form(page, "alice@acme.example", "not the password")
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    expect(page.get_by_label("Username")).to_have_value("alice@acme.example")
    expect(page.get_by_label("Password")).to_have_value("")
    assert sessions_open(rt) == 0


def test_signing_out_ends_the_session(page: Page, rt: Runtime, base_url: str) -> None:
    password = make_user(rt)
    page.goto("/login")
    sign_in_form(page, "alice@acme.example", password)
    expect(page).to_have_url(f"{base_url}/")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{base_url}/login")
    expect(page.get_by_role("status")).to_have_text("You have signed out.")
    assert sessions_open(rt) == 0
    assert [c for c in page.context.cookies() if c["name"] == "pointflex_session"] == []
    page.goto("/")
    expect(page).to_have_url(f"{base_url}/login")
    page.reload()
    expect(page.get_by_role("status")).to_have_text("")  # a flash is shown once


def test_after_signing_in_the_page_asked_for_is_shown(
    page: Page, rt: Runtime, base_url: str
) -> None:
    password = make_user(rt)
    page.goto("/?welcome=1")
    expect(page).to_have_url(f"{base_url}/login?next=%2F%3Fwelcome%3D1")
    sign_in_form(page, "alice@acme.example", password)
    expect(page).to_have_url(f"{base_url}/?welcome=1")


def test_signing_in_never_sends_the_browser_to_another_site(
    page: Page, rt: Runtime, base_url: str
) -> None:
    password = make_user(rt)
    page.goto("/login?next=//evil.example/")
    sign_in_form(page, "alice@acme.example", password)
    expect(page).to_have_url(f"{base_url}/")


def test_the_session_cookie_is_http_only_same_site_lax_for_the_whole_site(
    page: Page, signed_in: SignIn
) -> None:
    signed_in(page)
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "pointflex_session"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/"
    assert cookie["secure"] is False  # plain http on loopback
    assert "expires" not in cookie or cookie["expires"] == -1  # ends with the browser
    assert not page.evaluate("document.cookie.includes('pointflex_session')")


def test_the_cookie_is_secure_when_the_setting_says_so(rt: Runtime, base_url: str) -> None:
    password = make_user(rt)
    rt.settings = rt.settings.model_copy(update={"portal_cookie_secure": True})
    with httpx.Client(base_url=base_url) as http:
        form = http.get("/login")
        assert "Secure" in form.headers["set-cookie"]
        token = CSRF_FIELD.search(form.text)
        assert token is not None
        reply = http.post(
            "/login",
            data={"username": "alice@acme.example", "password": password, "csrf_token": token[1]},
            # A Secure cookie is not sent back over http: hand it over as the browser would.
            headers={"Cookie": f"pointflex_csrf={form.cookies['pointflex_csrf']}"},
        )
    assert reply.status_code == 303
    session_cookie = next(
        v for k, v in reply.headers.multi_items() if k == "set-cookie" and "pointflex_session" in v
    )
    assert "; Secure" in session_cookie
    assert "HttpOnly" in session_cookie


def test_a_forged_post_without_the_token_is_refused(rt: Runtime, base_url: str) -> None:
    password = make_user(rt)
    with httpx.Client(base_url=base_url) as http:
        token = http_sign_in(http, "alice@acme.example", password)
        for forged in ({}, {"csrf_token": "guessed"}, {"csrf_token": token[:-1]}):
            refused = http.post("/logout", data=forged)
            assert refused.status_code == 403, forged
            assert "did not come from this site" in refused.text
            assert "<h1" in refused.text
            assert "Not allowed" in refused.text
        refused = http.post("/logout", headers={"X-CSRF-Token": "guessed"})
        assert refused.status_code == 403
        assert sessions_open(rt) == 1
        assert http.get("/").status_code == 200
        by_header = http.post("/logout", headers={"X-CSRF-Token": token})
        assert by_header.status_code == 303
        assert sessions_open(rt) == 0


def test_a_login_form_posted_from_another_site_is_refused(rt: Runtime, base_url: str) -> None:
    """Without the browser's own pre-session cookie, nobody can sign a browser in (login CSRF)."""
    password = make_user(rt)
    with httpx.Client(base_url=base_url) as http:
        reply = http.post(
            "/login",
            data={"username": "alice@acme.example", "password": password, "csrf_token": "x"},
        )
    assert reply.status_code == 403
    assert sessions_open(rt) == 0


def test_a_form_field_with_a_nul_character_is_a_clear_400_on_every_backend(
    rt: Runtime, base_url: str
) -> None:
    """PostgreSQL refuses U+0000 in text: the portal says so instead of failing with a 500."""
    make_user(rt)
    with httpx.Client(base_url=base_url) as http:
        form = http.get("/login")
        token = CSRF_FIELD.search(form.text)
        assert token is not None
        reply = http.post(
            "/login",
            data={"username": "a\x00", "password": "x", "csrf_token": token.group(1)},
        )
    assert reply.status_code == 400
    assert "must not contain NUL characters" in reply.text
    assert sessions_open(rt) == 0


def test_repeated_wrong_passwords_are_throttled(
    page: Page, rt: Runtime, console_errors: ConsoleErrors
) -> None:
    console_errors.allow("status of 429")
    password = make_user(rt)
    page.goto("/login")
    for _ in range(rt.settings.auth_max_failures_per_user_address):
        sign_in_form(page, "alice@acme.example", "wrong password")
        expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    sign_in_form(page, "alice@acme.example", password)
    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-ins")
    assert sessions_open(rt) == 0
    with read(rt) as conn:
        failures = conn.execute(select(auth_failures.c.username)).scalars().all()
    assert (
        failures == ["PORTAL:ALICE@ACME.EXAMPLE"] * rt.settings.auth_max_failures_per_user_address
    )


def test_an_idle_session_ends(
    page: Page, signed_in: SignIn, clock: ManualClock, rt: Runtime, base_url: str
) -> None:
    signed_in(page)
    clock.advance(timedelta(seconds=rt.settings.portal_session_idle_seconds + 1))
    page.reload()
    expect(page).to_have_url(f"{base_url}/login")


def test_security_headers_on_portal_pages_not_on_the_api(rt: Runtime, base_url: str) -> None:
    with httpx.Client(base_url=base_url) as http:
        login = http.get("/login")
        css = http.get("/static/portal.css")
        api = http.post("/ES/api/fortiflex/v2/programs/list")
    for reply in (login, css):
        assert "default-src 'self'" in reply.headers["content-security-policy"]
        assert reply.headers["x-frame-options"] == "DENY"
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert reply.headers["referrer-policy"] == "same-origin"
    assert login.headers["cache-control"] == "no-store"
    assert "content-security-policy" not in api.headers
    assert api.json()["status"] == -1  # the API still answers with its own envelope


def test_a_missing_page_is_a_portal_page(
    page: Page, signed_in: SignIn, console_errors: ConsoleErrors
) -> None:
    console_errors.allow("status of 404")
    signed_in(page)
    reply = page.goto("/assets/no/such-page")  # /assets itself exists now (My Assets)
    assert reply is not None
    assert reply.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.get_by_role("link", name="My Assets")).to_have_attribute("aria-current", "page")


def test_the_login_page_fits_a_phone(page: Page, rt: Runtime) -> None:
    page.set_viewport_size(PHONE)
    page.goto("/login")
    assert no_horizontal_scroll(page)
    assert unlabelled_controls(page) == []
