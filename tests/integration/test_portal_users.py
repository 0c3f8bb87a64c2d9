"""Portal users and sessions on a real database: scope and permission as API users (R63–R65),
argon2 passwords, throttled sign-in, idle and absolute session limits, revocation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from pointflex.bootstrap import Runtime
from pointflex.clock import ManualClock
from pointflex.errors import (
    AuthenticationFailed,
    Duplicate,
    Forbidden,
    InvalidInput,
    InvalidState,
    NotFound,
    Throttled,
)
from pointflex.services.access import accounts, api_users, portal_users, sessions
from pointflex.services.access.api_users import Permission
from pointflex.services.context import Actor, read
from pointflex.store.tables import audit_log, auth_failures, portal_sessions
from pointflex.store.tables import portal_users as PU
from tests.builders import OPERATOR, world

ADDRESS = "192.0.2.7"


def org_of(rt: Runtime, account_id: int) -> int:
    with read(rt) as conn:
        return accounts.get_account(conn, account_id).organization_id


def test_a_portal_user_acts_exactly_as_an_api_user_of_the_same_permission_and_scope(
    rt: Runtime,
) -> None:
    w = world(rt)
    org = org_of(rt, w.root)
    for permission, scope in (
        (Permission.ADMIN, {"organization_id": org}),
        (Permission.READWRITE, {"account_id": w.member}),
        (Permission.READONLY, {"organization_id": org}),
    ):
        name = f"user-{permission.value.lower()}@acme.example"
        person, password = portal_users.create_portal_user(
            rt, OPERATOR, name, permission=permission, **scope
        )
        robot, _ = api_users.create_api_user(rt, OPERATOR, permission=permission, **scope)
        signed = portal_users.sign_in(rt, name.upper(), password, ADDRESS)
        with read(rt) as conn:
            as_person = portal_users.portal_actor_for(conn, signed)
            as_robot = api_users.actor_for(conn, robot)
        assert as_person.name == f"portal:{name}"
        assert as_person.account_ids == as_robot.account_ids
        assert (as_person.can_write, as_person.is_admin) == (as_robot.can_write, as_robot.is_admin)
        assert as_person.api_user_id is None
        assert person.scope_label in ("organisation 1", f"account {w.member}")


def test_passwords_are_stored_as_argon2_hashes_only(rt: Runtime) -> None:
    w = world(rt)
    _, password = portal_users.create_portal_user(
        rt, OPERATOR, "alice@acme.example", permission=Permission.ADMIN, account_id=w.root
    )
    with read(rt) as conn:
        stored = conn.execute(select(PU.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$")
    assert password not in stored
    assert len(password) >= 32


def test_creating_portal_users_needs_an_admin_within_scope(rt: Runtime) -> None:
    w = world(rt)
    other = accounts.create_organization(rt, OPERATOR, "Globex", "Globex IT")
    member_admin = Actor("member-admin", frozenset({w.member}))
    writer = Actor("writer", frozenset({w.root, w.member}), is_admin=False)
    with pytest.raises(Forbidden):
        portal_users.create_portal_user(
            rt, writer, "bob@acme.example", permission=Permission.READONLY, account_id=w.root
        )
    with pytest.raises(NotFound):
        portal_users.create_portal_user(
            rt,
            member_admin,
            "bob@acme.example",
            permission=Permission.READONLY,
            account_id=other.id,
        )
    with pytest.raises(InvalidInput, match="exactly one account or one organisation"):
        portal_users.create_portal_user(
            rt, OPERATOR, "bob@acme.example", permission=Permission.ADMIN
        )
    user, _ = portal_users.create_portal_user(
        rt, member_admin, "bob@acme.example", permission=Permission.READONLY, account_id=w.member
    )
    assert user.username == "bob@acme.example"
    assert [u.username for u in portal_users.list_portal_users(rt, member_admin)] == [
        "bob@acme.example"
    ]
    with pytest.raises(Duplicate):
        portal_users.create_portal_user(
            rt, OPERATOR, "Bob@Acme.example", permission=Permission.ADMIN, account_id=w.root
        )


@pytest.mark.parametrize("name", ["ab", "has space", "-dash-first", "x" * 101, "semi;colon"])
def test_usernames_are_checked(rt: Runtime, name: str) -> None:
    w = world(rt)
    with pytest.raises(InvalidInput, match="username"):
        portal_users.create_portal_user(
            rt, OPERATOR, name, permission=Permission.ADMIN, account_id=w.root
        )


def test_a_chosen_password_must_be_long_enough(rt: Runtime) -> None:
    w = world(rt)
    with pytest.raises(InvalidInput, match="12 characters"):
        portal_users.create_portal_user(
            rt, OPERATOR, "carol", permission=Permission.ADMIN, account_id=w.root, password="short"
        )


def test_wrong_passwords_are_refused_counted_and_then_throttled(rt: Runtime) -> None:
    w = world(rt)
    _, password = portal_users.create_portal_user(
        rt, OPERATOR, "alice", permission=Permission.ADMIN, account_id=w.root
    )
    for _ in range(rt.settings.auth_max_failures_per_user_address):
        with pytest.raises(AuthenticationFailed, match="wrong username or password"):
            portal_users.sign_in(rt, "alice", "not the password", ADDRESS)
    with read(rt) as conn:
        recorded = conn.execute(select(func.count()).select_from(auth_failures)).scalar_one()
        names = set(conn.execute(select(auth_failures.c.username)).scalars())
    assert recorded == rt.settings.auth_max_failures_per_user_address
    assert names == {"PORTAL:ALICE"}
    with pytest.raises(Throttled) as refused:
        portal_users.sign_in(rt, "alice", password, ADDRESS)  # even the right password
    assert refused.value.retry_after > 0
    # The owner elsewhere is not locked out by what was tried from ADDRESS.
    assert portal_users.sign_in(rt, "alice", password, "203.0.113.10").username == "alice"


def test_the_per_user_ceiling_still_lets_the_owner_in_from_a_clean_address(rt: Runtime) -> None:
    rt.settings.auth_max_failures_per_user = 4
    w = world(rt)
    _, password = portal_users.create_portal_user(
        rt, OPERATOR, "alice", permission=Permission.ADMIN, account_id=w.root
    )
    for n in range(4):
        with pytest.raises(AuthenticationFailed):
            portal_users.sign_in(rt, "alice", "guess", f"192.0.2.{n}")
    with pytest.raises(Throttled):
        portal_users.sign_in(rt, "alice", password, "192.0.2.1")
    assert portal_users.sign_in(rt, "alice", password, "203.0.113.10").username == "alice"


def test_unknown_and_disabled_users_get_the_same_refusal(rt: Runtime) -> None:
    w = world(rt)
    _, password = portal_users.create_portal_user(
        rt, OPERATOR, "alice", permission=Permission.ADMIN, account_id=w.root
    )
    portal_users.disable_portal_user(rt, OPERATOR, "alice")
    for name, secret in (("nobody", password), ("alice", password)):
        with pytest.raises(AuthenticationFailed, match=r"^wrong username or password$"):
            portal_users.sign_in(rt, name, secret, ADDRESS)
    with pytest.raises(InvalidState, match="already disabled"):
        portal_users.disable_portal_user(rt, OPERATOR, "alice")


def test_a_session_lives_until_idle_for_too_long(rt: Runtime, clock: ManualClock) -> None:
    w = world(rt)
    user, _ = portal_users.create_portal_user(
        rt, OPERATOR, "alice", permission=Permission.READWRITE, account_id=w.root
    )
    token, session = sessions.start_session(rt, user)
    found = sessions.session_for(rt, token)
    assert found is not None
    assert found.session.csrf_token == session.csrf_token
    assert found.actor.account_ids == frozenset({w.root})
    assert found.actor.can_write
    idle = rt.settings.portal_session_idle_seconds
    clock.advance(timedelta(seconds=idle - 1))
    assert sessions.session_for(rt, token) is not None  # used: the idle clock restarts
    clock.advance(timedelta(seconds=idle - 1))
    assert sessions.session_for(rt, token) is not None
    clock.advance(timedelta(seconds=idle))
    assert sessions.session_for(rt, token) is None
    assert sessions.session_for(rt, "not-a-token") is None
    assert sessions.session_for(rt, "") is None


def test_a_busy_session_still_ends_at_its_absolute_limit(rt: Runtime, clock: ManualClock) -> None:
    w = world(rt)
    user, _ = portal_users.create_portal_user(
        rt, OPERATOR, "alice", permission=Permission.READWRITE, account_id=w.root
    )
    token, session = sessions.start_session(rt, user)
    step = timedelta(seconds=rt.settings.portal_session_idle_seconds // 2)
    while clock.advance(step) < session.expires_at:
        assert sessions.session_for(rt, token) is not None
    assert sessions.session_for(rt, token) is None


def test_last_seen_is_written_at_most_once_a_minute(rt: Runtime, clock: ManualClock) -> None:
    w = world(rt)
    user, _ = portal_users.create_portal_user(
        rt, OPERATOR, "alice", permission=Permission.READWRITE, account_id=w.root
    )
    token, session = sessions.start_session(rt, user)

    def last_seen() -> object:
        with read(rt) as conn:
            return conn.execute(select(portal_sessions.c.last_seen_at)).scalar_one()

    clock.advance(timedelta(seconds=sessions.TOUCH_SECONDS - 1))
    sessions.session_for(rt, token)
    assert last_seen() == session.created_at
    clock.advance(timedelta(seconds=1))
    sessions.session_for(rt, token)
    assert last_seen() == clock.now()


def test_signing_out_resetting_or_disabling_ends_sessions(rt: Runtime) -> None:
    w = world(rt)
    user, _ = portal_users.create_portal_user(
        rt, OPERATOR, "alice", permission=Permission.ADMIN, account_id=w.root
    )
    first, _ = sessions.start_session(rt, user)
    assert sessions.end_session(rt, first)
    assert not sessions.end_session(rt, first)
    assert sessions.session_for(rt, first) is None

    second, _ = sessions.start_session(rt, user)
    new_password = portal_users.reset_portal_password(rt, OPERATOR, "ALICE")
    assert sessions.session_for(rt, second) is None
    assert portal_users.sign_in(rt, "alice", new_password, ADDRESS).id == user.id

    third, _ = sessions.start_session(rt, user)
    portal_users.disable_portal_user(rt, OPERATOR, "alice")
    assert sessions.session_for(rt, third) is None
    with read(rt) as conn:
        actions = list(conn.execute(select(audit_log.c.action).order_by(audit_log.c.id)).scalars())
    assert actions[-3:] == ["portal_user.create", "portal_user.reset", "portal_user.disable"]


def test_sessions_are_stored_as_hashes_and_old_ones_are_purged(
    rt: Runtime, clock: ManualClock
) -> None:
    w = world(rt)
    user, _ = portal_users.create_portal_user(
        rt, OPERATOR, "alice", permission=Permission.ADMIN, account_id=w.root
    )
    token, session = sessions.start_session(rt, user)
    assert session.id == sessions.session_id(token) != token
    clock.set(session.expires_at + timedelta(seconds=1))
    sessions.start_session(rt, user)
    with read(rt) as conn:
        ids = set(conn.execute(select(portal_sessions.c.id)).scalars())
    assert session.id not in ids
    assert len(ids) == 1


def test_changing_ones_own_password_checks_the_current_one_and_ends_other_sessions(
    rt: Runtime,
) -> None:
    w = world(rt)
    user, password = portal_users.create_portal_user(
        rt, OPERATOR, "bob", permission=Permission.READONLY, account_id=w.root
    )
    mine, _ = sessions.start_session(rt, user)
    elsewhere, _ = sessions.start_session(rt, user)
    signed = sessions.session_for(rt, mine)
    assert signed is not None
    new = "another-long-passphrase"
    with pytest.raises(AuthenticationFailed):
        portal_users.change_own_password(rt, signed, "wrong-password-here", new, ADDRESS)
    with pytest.raises(InvalidInput, match="at least 12 characters"):
        portal_users.change_own_password(rt, signed, password, "short", ADDRESS)
    with pytest.raises(InvalidInput, match="must differ"):
        portal_users.change_own_password(rt, signed, password, password, ADDRESS)
    assert portal_users.sign_in(rt, "bob", password, ADDRESS).id == user.id  # unchanged

    portal_users.change_own_password(rt, signed, password, new, ADDRESS)
    assert sessions.session_for(rt, mine) is not None
    assert sessions.session_for(rt, elsewhere) is None
    assert portal_users.sign_in(rt, "bob", new, ADDRESS).id == user.id
    with pytest.raises(AuthenticationFailed):
        portal_users.sign_in(rt, "bob", password, ADDRESS)
