"""Browser tests: the portal served by a real uvicorn, driven by Chromium through Playwright.

One server runs for the whole session; each test points it at its own fresh database and
clock by swapping the application's runtime (as tests/api does). One browser runs for the
session; each test gets a new context (no cookies carried over) and a page. A test FAILS if
the page logged any console error or raised an uncaught exception, unless the test declared
it expected with ``console_errors.allow(pattern)`` (e.g. the 403 of a refused request).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from pointflex.bootstrap import Runtime
from pointflex.services.access import accounts
from pointflex.services.access.api_users import Permission
from pointflex.services.access.portal_users import PortalUser, create_portal_user
from tests.builders import OPERATOR
from tests.live import LiveServer, live_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 800}
# Screenshots go to a scratch folder, so a test run leaves the tracked docs/screenshots
# alone; ``make screenshots`` points POINTFLEX_SCREENSHOTS_DIR there to retake them.
SCREENSHOTS = Path(
    os.environ.get("POINTFLEX_SCREENSHOTS_DIR")
    or Path(tempfile.gettempdir()) / f"pointflex-screenshots-{os.getuid()}"
)


def save_screenshot(page: Page, name: str, **options: Any) -> Path:
    """The page as ``name``.png in the screenshots folder (see SCREENSHOTS)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), **options)
    assert path.stat().st_size > 0
    return path


@pytest.fixture(scope="session")
def portal_server(database_template: str) -> Iterator[LiveServer]:
    with live_app() as live:
        yield live


@pytest.fixture
def base_url(portal_server: LiveServer, rt: Runtime) -> str:
    """The portal's address, serving this test's database and clock."""
    portal_server.app.state.runtime = rt
    return portal_server.base_url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class ConsoleErrors:
    """Console errors and uncaught page errors seen during one test."""

    seen: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        """Expect errors matching ``pattern`` (a regular expression) in this test."""
        self.allowed.append(re.compile(pattern))

    def record(self, text: str) -> None:
        self.seen.append(text)

    def unexpected(self) -> list[str]:
        return [e for e in self.seen if not any(p.search(e) for p in self.allowed)]


CONSOLE_ERRORS = pytest.StashKey[ConsoleErrors]()
PAGE = pytest.StashKey[Page]()


@pytest.fixture
def console_errors(request: pytest.FixtureRequest) -> ConsoleErrors:
    errors = ConsoleErrors()
    request.node.stash[CONSOLE_ERRORS] = errors
    return errors


@pytest.fixture
def page(
    browser: Browser,
    base_url: str,
    console_errors: ConsoleErrors,
    request: pytest.FixtureRequest,
) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, viewport=DESKTOP)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    opened = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            console_errors.record(f"console error at {opened.url}: {message.text}")

    opened.on("console", on_console)
    opened.on("pageerror", lambda exc: console_errors.record(f"page error: {exc}"))
    request.node.stash[PAGE] = opened
    yield opened
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail the test itself (not its teardown) when its page logged an unexpected error."""
    result = yield
    errors = item.stash.get(CONSOLE_ERRORS, None)
    opened = item.stash.get(PAGE, None)
    if opened is not None and not opened.is_closed():
        opened.evaluate("0")  # a round trip, so that events still in flight are delivered
    if errors is not None and errors.unexpected():
        pytest.fail("errors in the browser:\n" + "\n".join(errors.unexpected()), pytrace=False)
    return result


@dataclass(frozen=True)
class Credentials:
    user: PortalUser
    password: str


SignIn = Callable[..., Credentials]


def sign_in_form(page: Page, username: str, password: str) -> None:
    """Fill in and send the login form (the page must show it)."""
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def signed_in(rt: Runtime, base_url: str) -> SignIn:
    """``signed_in(page, permission=..., account_id=..., organization_id=...)``: a new portal
    user made through the services, signed in through the login form. Without a scope, the
    user gets a new organisation of its own."""
    made = 0

    def sign_in(
        page: Page,
        permission: Permission = Permission.ADMIN,
        *,
        account_id: int | None = None,
        organization_id: int | None = None,
        username: str | None = None,
    ) -> Credentials:
        nonlocal made
        made += 1
        if account_id is None and organization_id is None:
            root = accounts.create_organization(rt, OPERATOR, f"Org {made}", f"Org {made} root")
            organization_id = root.organization_id
        user, password = create_portal_user(
            rt,
            OPERATOR,
            username or f"user{made}@example.test",
            permission=permission,
            account_id=account_id,
            organization_id=organization_id,
        )
        page.goto("/login")
        sign_in_form(page, user.username, password)
        page.wait_for_url(f"{base_url}/")
        return Credentials(user, password)

    return sign_in


def no_horizontal_scroll(page: Page) -> bool:
    return bool(
        page.evaluate(
            "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
            " && document.body.scrollWidth <= document.documentElement.clientWidth"
        )
    )


# Every visible form control has an accessible label: a <label for>, a wrapping <label>,
# aria-label or aria-labelledby. Returns the ones that do not.
UNLABELLED_CONTROLS = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(el => el.type !== 'hidden')
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML)"""


def unlabelled_controls(page: Page) -> list[str]:
    found: list[str] = page.evaluate(UNLABELLED_CONTROLS)
    return found
