"""``pointflex users``: portal users created, listed, reset and disabled from the CLI, checked
in the database and by signing in."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine, select
from typer.testing import Result

from pointflex.bootstrap import Runtime
from pointflex.errors import AuthenticationFailed
from pointflex.services.access import portal_users, sessions
from pointflex.store.tables import audit_log
from pointflex.store.tables import portal_users as PU
from tests.builders import World
from tests.cli.conftest import USER, Cli, assert_one_red_line

CREDENTIALS = re.compile(r"^Username: (\S+)\nPassword: (\S+)$", re.MULTILINE)


def credentials(result: Result) -> tuple[str, str]:
    found = CREDENTIALS.findall(result.stdout)
    assert len(found) == 1, result.stdout
    assert "shown only this once" in " ".join(result.stderr.split())
    return str(found[0][0]), str(found[0][1])


def test_create_prints_a_password_that_signs_in(cli: Cli, acme: World, live: Runtime) -> None:
    result = cli.ok(
        f"users create Alice@Acme.example --permission readwrite --account-id {acme.member}"
    )
    assert f"(READWRITE, account {acme.member})" in result.stdout
    username, password = credentials(result)
    assert username == "alice@acme.example"
    user = portal_users.sign_in(live, username, password, "127.0.0.1")
    assert user.account_id == acme.member
    assert user.organization_id is None


def test_list_shows_users_without_passwords(cli: Cli, acme: World, engine: Engine) -> None:
    _, password = credentials(cli.ok("users create bob --permission admin --organization-id 1"))
    listed = cli("users list", env={"COLUMNS": "2000"})
    assert listed.exit_code == 0, listed.output
    assert "bob" in listed.stdout
    assert "ADMIN" in listed.stdout
    assert "organisation 1" in listed.stdout
    assert password not in listed.stdout
    assert "1 portal user(s)." in listed.stdout
    with engine.connect() as conn:
        actor = conn.execute(
            select(audit_log.c.actor).where(audit_log.c.action == "portal_user.create")
        ).scalar_one()
    assert actor == f"cli:{USER}"


def test_reset_gives_a_new_password_and_ends_sessions(cli: Cli, acme: World, live: Runtime) -> None:
    _, old = credentials(
        cli.ok(f"users create carol --permission readonly --account-id {acme.root}")
    )
    token, _ = sessions.start_session(live, portal_users.sign_in(live, "carol", old, "127.0.0.1"))
    username, new = credentials(cli.ok("users reset CAROL"))
    assert username == "carol"
    assert new != old
    assert sessions.session_for(live, token) is None
    with pytest.raises(AuthenticationFailed):
        portal_users.sign_in(live, "carol", old, "127.0.0.1")
    assert portal_users.sign_in(live, "carol", new, "127.0.0.1").username == "carol"


def test_disable_stops_sign_in(cli: Cli, acme: World, live: Runtime, engine: Engine) -> None:
    _, password = credentials(
        cli.ok(f"users create dave --permission admin --account-id {acme.root}")
    )
    result = cli.ok("users disable dave")
    assert "Disabled portal user dave" in result.stdout
    with engine.connect() as conn:
        assert conn.execute(select(PU.c.disabled_at)).scalar_one() is not None
    with pytest.raises(AuthenticationFailed):
        portal_users.sign_in(live, "dave", password, "127.0.0.1")
    assert_one_red_line(cli("users disable dave"), "already disabled")


def test_errors_are_one_red_line(cli: Cli, acme: World) -> None:
    assert_one_red_line(cli("users create eve --permission admin"), "exactly one account")
    assert_one_red_line(cli("users create eve --permission admin --account-id 999999"), "not found")
    assert_one_red_line(
        cli("users create 'e v e' --permission admin --account-id 100001"), "username"
    )
    assert_one_red_line(cli("users reset nobody"), "portal user nobody not found")
    cli.ok(f"users create eve --permission admin --account-id {acme.root}")
    assert_one_red_line(
        cli(f"users create EVE --permission admin --account-id {acme.root}"), "already exists"
    )
