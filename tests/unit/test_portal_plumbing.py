"""The portal's pure plumbing: CSRF token comparison, where to go after signing in, which
paths are the portal's, and the menu."""

from __future__ import annotations

import pytest

from pointflex.http.paths import is_api_path
from pointflex.services.access.api_users import Permission
from pointflex.web.csrf import tokens_match
from pointflex.web.paths import safe_next
from pointflex.web.render import NAV, nav_for, points


def test_matching_tokens_match() -> None:
    assert tokens_match("abc123", "abc123")


@pytest.mark.parametrize(
    ("expected", "given"),
    [
        ("abc123", "abc124"),
        ("abc123", "abc12"),
        ("abc123", ""),
        ("abc123", None),
        ("", ""),
        (None, None),
        (None, "x"),
    ],
)
def test_different_missing_or_empty_tokens_never_match(
    expected: str | None, given: str | None
) -> None:
    assert not tokens_match(expected, given)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/assets?status=ACTIVE", "/assets?status=ACTIVE"),
        ("/", "/"),
        (None, "/"),
        ("", "/"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("assets", "/"),
    ],
)
def test_only_local_paths_are_returned_to_after_sign_in(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


@pytest.mark.parametrize(
    ("path", "api"),
    [
        ("/ES/api/fortiflex/v2/programs/list", True),
        ("/es/api/fortiflex/v2/programs/list", True),
        ("/api/v1/oauth/token/", True),
        ("/api/license/v1/activate", True),
        ("/.well-known/pointflex/keys.json", True),
        ("/", False),
        ("/login", False),
        ("/assets", False),
        ("/api-users", False),
        ("/static/portal.css", False),
    ],
)
def test_api_paths_are_told_from_portal_paths(path: str, api: bool) -> None:
    assert is_api_path(path) is api


def test_the_api_users_entry_is_for_admins_only() -> None:
    labels = [item.label for item in nav_for(Permission.READWRITE)]
    assert "API users" not in labels
    assert "Dashboard" in labels
    assert [item.label for item in nav_for(Permission.ADMIN)] == [item.label for item in NAV]
    assert nav_for(None) == ()


def test_menu_entries_know_when_they_are_the_current_page() -> None:
    dashboard, entitlements = NAV[0], NAV[1]
    assert dashboard.active("/")
    assert not dashboard.active("/assets")
    assert entitlements.active("/assets/FGVM02TM26000001")
    assert not entitlements.active("/assetsX")


def test_points_are_shown_with_thousands_and_cents() -> None:
    from decimal import Decimal

    assert points(Decimal("-1234.5")) == "-1,234.50"
    assert points(None) == "—"


def test_flash_messages_survive_the_cookie_only_when_sealed_with_the_key() -> None:
    from pointflex.web.flash import Flash, Level, seal, unseal

    key, other = b"k" * 32, b"o" * 32
    messages = [Flash(Level.SUCCESS, "Stopped 3 entitlements."), Flash(Level.DANGER, "é <b>")]
    sealed = seal(key, messages)
    assert "=" not in sealed
    assert '"' not in sealed
    assert unseal(key, sealed) == messages
    assert unseal(other, sealed) == []
    payload, _, mac = sealed.partition(".")
    assert unseal(key, payload + "x." + mac) == []
    assert unseal(key, "") == []
    assert unseal(key, "garbage") == []
