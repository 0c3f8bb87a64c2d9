"""Portal users: people who sign in to the web portal with a username and a password.

Permission (Admin, ReadWrite, ReadOnly) and scope (one account or one organisation) work
exactly as for API users (R63–R65): a portal user acts as the same :class:`Actor` an API user
of that permission and scope would. Passwords are stored as argon2 hashes only; failed
sign-ins are throttled with the API's token endpoint (services/auth.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select, update

from pointflex.bootstrap import Runtime
from pointflex.errors import AuthenticationFailed, Duplicate, InvalidInput, InvalidState, NotFound
from pointflex.services.access import auth
from pointflex.services.access.api_users import (
    HASHER,
    Permission,
    check_scope,
    new_password,
    scoped_actor,
    within_scope,
)
from pointflex.services.context import Actor, audit, read, write
from pointflex.store.tables import portal_sessions, portal_users

if TYPE_CHECKING:  # sessions imports this module
    from pointflex.services.access.sessions import SignedIn

# Letters, digits and . _ @ + - : an e-mail address or a short login name.
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@+-]{2,99}$")
MIN_PASSWORD = 12
# Failed portal sign-ins are counted apart from API users' (another name space), but the
# per-address limit is shared: guessing from one address is throttled whatever it targets.
THROTTLE_PREFIX = "portal:"


@dataclass(frozen=True)
class PortalUser:
    id: int
    username: str
    permission: Permission
    account_id: int | None
    organization_id: int | None
    disabled_at: datetime | None
    created_at: datetime

    @property
    def scope_label(self) -> str:
        if self.account_id is not None:
            return f"account {self.account_id}"
        return f"organisation {self.organization_id}"


def portal_user_from_row(row: Any) -> PortalUser:
    """A PortalUser from any row carrying the portal_users columns."""
    return PortalUser(
        id=row.id,
        username=row.username,
        permission=Permission(row.permission),
        account_id=row.account_id,
        organization_id=row.organization_id,
        disabled_at=row.disabled_at,
        created_at=row.created_at,
    )


def normalise_username(username: str) -> str:
    return username.strip().lower()


def check_username(username: str) -> str:
    name = normalise_username(username)
    if not _USERNAME.match(name):
        raise InvalidInput(
            "a username has 3 to 100 characters: letters, digits and . _ @ + - "
            "(an e-mail address works)"
        )
    return name


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"a password has at least {MIN_PASSWORD} characters")


def portal_actor_for(conn: Connection, user: PortalUser, request_id: str | None = None) -> Actor:
    """The actor a portal user acts as: the same as an API user of its permission and scope."""
    return scoped_actor(
        conn, f"portal:{user.username}", user.permission, user, request_id=request_id
    )


def create_portal_user(
    rt: Runtime,
    actor: Actor,
    username: str,
    *,
    permission: Permission,
    account_id: int | None = None,
    organization_id: int | None = None,
    password: str | None = None,
) -> tuple[PortalUser, str]:
    """A new portal user and its password (generated unless given), shown this once."""
    actor.require_write()
    actor.require_admin()
    name = check_username(username)
    if password is None:
        password = new_password()
    check_password(password)
    now = rt.now()
    with write(rt) as conn:
        check_scope(conn, actor, account_id, organization_id, who="a portal user")
        if _find(conn, name) is not None:
            raise Duplicate(f"portal user {name} already exists")
        user_id = conn.execute(
            insert(portal_users).values(
                username=name,
                password_hash=HASHER.hash(password),
                permission=permission.value,
                account_id=account_id,
                organization_id=organization_id,
                disabled_at=None,
                created_at=now,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        audit(
            conn,
            actor,
            now,
            "portal_user.create",
            "portal_user",
            name,
            account_id=account_id,
            after={
                "permission": permission.value,
                "accountId": account_id,
                "organizationId": organization_id,
            },
        )
        return load_portal_user(conn, int(user_id)), password


def load_portal_user(conn: Connection, user_id: int) -> PortalUser:
    row = conn.execute(select(portal_users).where(portal_users.c.id == user_id)).first()
    if row is None:
        raise NotFound("portal user not found")
    return portal_user_from_row(row)


def _find(conn: Connection, username: str) -> tuple[PortalUser, str] | None:
    row = conn.execute(
        select(portal_users).where(portal_users.c.username == normalise_username(username))
    ).first()
    return None if row is None else (portal_user_from_row(row), row.password_hash)


def _visible(conn: Connection, actor: Actor, username: str) -> PortalUser:
    found = _find(conn, username)
    if found is None:
        raise NotFound(f"portal user {normalise_username(username)} not found")
    user = found[0]
    if not within_scope(conn, actor, user):
        raise NotFound(f"portal user {user.username} not found")
    return user


def list_portal_users(rt: Runtime, actor: Actor) -> list[PortalUser]:
    """Portal users whose whole scope lies within the actor's (Admin only)."""
    actor.require_admin()
    with read(rt) as conn:
        rows = conn.execute(select(portal_users).order_by(portal_users.c.username))
        return [u for u in map(portal_user_from_row, rows) if within_scope(conn, actor, u)]


def reset_portal_password(
    rt: Runtime, actor: Actor, username: str, password: str | None = None
) -> str:
    """A new password (generated unless given); every session of the user ends."""
    actor.require_write()
    actor.require_admin()
    if password is None:
        password = new_password()
    check_password(password)
    now = rt.now()
    with write(rt) as conn:
        user = _visible(conn, actor, username)
        conn.execute(
            update(portal_users)
            .where(portal_users.c.id == user.id)
            .values(password_hash=HASHER.hash(password))
        )
        revoke_user_sessions(conn, user.id, now)
        audit(
            conn,
            actor,
            now,
            "portal_user.reset",
            "portal_user",
            user.username,
            account_id=user.account_id,
        )
    return password


def disable_portal_user(rt: Runtime, actor: Actor, username: str) -> PortalUser:
    """The user can no longer sign in; its open sessions end at once."""
    actor.require_write()
    actor.require_admin()
    now = rt.now()
    with write(rt) as conn:
        user = _visible(conn, actor, username)
        if user.disabled_at is not None:
            raise InvalidState(f"portal user {user.username} is already disabled")
        conn.execute(
            update(portal_users).where(portal_users.c.id == user.id).values(disabled_at=now)
        )
        revoke_user_sessions(conn, user.id, now)
        audit(
            conn,
            actor,
            now,
            "portal_user.disable",
            "portal_user",
            user.username,
            account_id=user.account_id,
        )
        return load_portal_user(conn, user.id)


def sign_in(rt: Runtime, username: str, password: str, client_address: str) -> PortalUser:
    """The user whose credentials these are; throttled after repeated failures.

    Every refusal says the same thing, so a guesser learns nothing about which usernames
    exist or are disabled.
    """
    now = rt.now()
    key = THROTTLE_PREFIX + normalise_username(username)
    auth.check_throttle(rt, key, client_address, now)
    with read(rt) as conn:
        found = _find(conn, username)
    matched = auth.verify_password(found[1] if found else None, password)
    if not matched or found is None or found[0].disabled_at is not None:
        auth.record_failure(rt, key, client_address, now)
        raise AuthenticationFailed("wrong username or password")
    return found[0]


def revoke_user_sessions(conn: Connection, user_id: int, now: datetime) -> None:
    """End every open session of a user (new password, disabled); part of the caller's
    transaction."""
    conn.execute(
        update(portal_sessions)
        .where(portal_sessions.c.user_id == user_id, portal_sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def change_own_password(
    rt: Runtime,
    signed_in: SignedIn,
    current: str,
    new: str,
    client_address: str,
) -> None:
    """A signed-in user's own new password, given the current one (throttled as sign-in is).

    Every other session of the user ends, so a session opened with a leaked password does not
    outlive the change; the session making the change stays signed in.
    """
    user = signed_in.session.user
    if new == current:
        raise InvalidInput("the new password must differ from the current one")
    check_password(new)
    sign_in(rt, user.username, current, client_address)
    now = rt.now()
    with write(rt) as conn:
        conn.execute(
            update(portal_users)
            .where(portal_users.c.id == user.id)
            .values(password_hash=HASHER.hash(new))
        )
        conn.execute(
            update(portal_sessions)
            .where(
                portal_sessions.c.user_id == user.id,
                portal_sessions.c.revoked_at.is_(None),
                portal_sessions.c.id != signed_in.session.id,
            )
            .values(revoked_at=now)
        )
        audit(
            conn,
            signed_in.actor,
            now,
            "portal_user.change_password",
            "portal_user",
            user.username,
            account_id=user.account_id,
        )
