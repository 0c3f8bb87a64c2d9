"""``pointflex api-users``: create, list, reset, disable — checked in the database."""

from __future__ import annotations

import re
from typing import Any

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError
from sqlalchemy import Engine, select
from typer.testing import Result

from pointflex.bootstrap import Runtime
from pointflex.errors import AuthenticationFailed
from pointflex.services.access import auth
from pointflex.services.access.accounts import get_account
from pointflex.store.tables import api_users, audit_log, oauth_tokens
from tests.builders import World
from tests.cli.conftest import USER, Cli, assert_one_red_line

CREDENTIALS = re.compile(r"^Username: (\S+)\nPassword: (\S+)$", re.MULTILINE)


def _credentials(result: Result) -> tuple[str, str]:
    found = CREDENTIALS.findall(result.stdout)
    assert len(found) == 1, result.stdout  # shown once
    assert "shown only this once" in " ".join(result.stderr.split())
    username, password = found[0]
    return str(username), str(password)


def _listed(cli: Cli) -> str:
    # pytest-xdist workers export COLUMNS=80, which Rich would honour and truncate the table.
    result = cli("api-users list", env={"COLUMNS": "2000"})
    assert result.exit_code == 0, result.output
    return result.stdout


def _row(engine: Engine, username: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(api_users).where(api_users.c.username == username)).one()


def _verifies(password_hash: str, password: str) -> bool:
    try:
        return PasswordHasher().verify(password_hash, password)
    except VerifyMismatchError:
        return False


def _live_tokens(engine: Engine, username: str) -> int:
    with engine.connect() as conn:
        query = (
            select(oauth_tokens.c.token_hash)
            .join(api_users, api_users.c.id == oauth_tokens.c.api_user_id)
            .where(api_users.c.username == username, oauth_tokens.c.revoked_at.is_(None))
        )
        return len(conn.execute(query).all())


def test_create_prints_the_credentials_once_and_stores_only_a_hash(
    cli: Cli, acme: World, engine: Engine, live: Runtime
) -> None:
    result = cli.ok(
        f"api-users create --permission readwrite --account-id {acme.member} "
        "--description 'terraform prod'"
    )
    username, password = _credentials(result)
    assert f"account {acme.member}" in result.stdout
    row = _row(engine, username)
    assert (row.permission, row.account_id, row.organization_id) == (
        "READWRITE",
        acme.member,
        None,
    )
    assert row.description == "terraform prod"
    assert row.disabled_at is None
    assert password not in row.password_hash
    assert _verifies(row.password_hash, password)
    # The printed credentials sign in at the token service.
    assert auth.password_grant(live, username, password, "flexvm", "127.0.0.1").access_token
    with engine.connect() as conn:
        actors = conn.execute(
            select(audit_log.c.actor).where(audit_log.c.action == "api_user.create")
        ).scalars()
        assert list(actors) == [f"cli:{USER}"]


def test_an_organisation_scoped_admin_is_created_and_listed(
    cli: Cli, acme: World, engine: Engine
) -> None:
    with engine.connect() as conn:
        org = get_account(conn, acme.root).organization_id
    first = _credentials(cli.ok(f"api-users create --permission ADMIN --organization-id {org}"))
    second = _credentials(
        cli.ok(f"api-users create --permission readonly --account-id {acme.root}")
    )
    listed = _listed(cli)
    assert "2 API user(s)." in listed
    lines = {line.split()[0]: line for line in listed.splitlines() if line.strip()}
    assert "ADMIN" in lines[first[0]]
    assert f"organisation {org}" in lines[first[0]]
    assert "READONLY" in lines[second[0]]
    assert f"account {acme.root}" in lines[second[0]]
    assert first[1] not in listed
    assert second[1] not in listed
    assert _row(engine, first[0]).permission == "ADMIN"


def test_reset_gives_a_new_password_and_revokes_every_token_R67(
    cli: Cli, acme: World, engine: Engine, live: Runtime
) -> None:
    username, old = _credentials(
        cli.ok(f"api-users create --permission readwrite --account-id {acme.root}")
    )
    auth.password_grant(live, username, old, "flexvm", "127.0.0.1")
    assert _live_tokens(engine, username) == 2  # access + refresh

    result = cli.ok(f"api-users reset {username.lower()}")

    again, new = _credentials(result)
    assert again == username
    assert new != old
    row = _row(engine, username)
    assert _verifies(row.password_hash, new)
    assert not _verifies(row.password_hash, old)
    assert _live_tokens(engine, username) == 0
    with pytest.raises(AuthenticationFailed):
        auth.password_grant(live, username, old, "flexvm", "127.0.0.2")
    assert auth.password_grant(live, username, new, "flexvm", "127.0.0.3").access_token


def test_disable_revokes_the_tokens_and_refuses_sign_in(
    cli: Cli, acme: World, engine: Engine, live: Runtime
) -> None:
    username, password = _credentials(
        cli.ok(f"api-users create --permission readonly --account-id {acme.root}")
    )
    auth.password_grant(live, username, password, "flexvm", "127.0.0.1")

    result = cli.ok(f"api-users disable {username}")

    assert f"Disabled API user {username}" in result.stdout
    assert _row(engine, username).disabled_at is not None
    assert _live_tokens(engine, username) == 0
    with pytest.raises(AuthenticationFailed):
        auth.password_grant(live, username, password, "flexvm", "127.0.0.1")
    listed = [line for line in _listed(cli).splitlines() if username in line]
    assert len(listed) == 1
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\s*$", listed[0])
    assert_one_red_line(cli(f"api-users disable {username}"), "already disabled")


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ("--account-id 100001 --organization-id 1", "exactly one account or one organisation"),
        ("", "exactly one account or one organisation"),
        ("--account-id 999999", "999999"),
        ("--organization-id 999", "organization 999"),
    ],
    ids=["both-scopes", "no-scope", "unknown-account", "unknown-organisation"],
)
def test_a_bad_scope_is_one_red_line_and_creates_nothing(
    cli: Cli, acme: World, engine: Engine, options: str, fragment: str
) -> None:
    assert_one_red_line(cli(f"api-users create --permission readonly {options}"), fragment)
    with engine.connect() as conn:
        assert conn.execute(select(api_users)).all() == []


def test_an_unknown_permission_is_refused_by_the_parser(cli: Cli, acme: World) -> None:
    result = cli(f"api-users create --permission superuser --account-id {acme.root}")
    assert result.exit_code == 2
    assert "superuser" in result.output


@pytest.mark.parametrize("command", ["reset", "disable"])
def test_an_unknown_username_is_one_red_line(cli: Cli, acme: World, command: str) -> None:
    assert_one_red_line(cli(f"api-users {command} NO-SUCH-USER"), "NO-SUCH-USER", "not found")
