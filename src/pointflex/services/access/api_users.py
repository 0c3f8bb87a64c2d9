"""API users: permission (Admin, ReadWrite, ReadOnly) and scope (an account or an
organisation) for automation that signs in at the token endpoint (R63–R67)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from argon2 import PasswordHasher
from sqlalchemy import Connection, insert, select, update

from pointflex.bootstrap import Runtime
from pointflex.errors import InvalidInput, InvalidState, NotFound
from pointflex.services.access.accounts import get_account, organization_accounts
from pointflex.services.access.caller_cache import forget_callers
from pointflex.services.context import Actor, audit, read, write
from pointflex.store.tables import api_users, oauth_tokens, organizations

HASHER = PasswordHasher()


class Permission(StrEnum):
    ADMIN = "ADMIN"
    READWRITE = "READWRITE"
    READONLY = "READONLY"


@dataclass(frozen=True)
class ApiUser:
    id: int
    username: str
    permission: Permission
    account_id: int | None
    organization_id: int | None
    description: str
    disabled_at: datetime | None
    created_at: datetime


def user_from_row(row: Any) -> ApiUser:
    """An ApiUser from any row that carries the api_users columns."""
    return ApiUser(
        id=row.id,
        username=row.username,
        permission=Permission(row.permission),
        account_id=row.account_id,
        organization_id=row.organization_id,
        description=row.description,
        disabled_at=row.disabled_at,
        created_at=row.created_at,
    )


def new_password() -> str:
    """A random password of 32 URL-safe characters; shown once, stored as argon2 only."""
    return secrets.token_urlsafe(24)


class Scoped(Protocol):
    """Anyone scoped like an API user (portal users are too): one account or one organisation."""

    @property
    def account_id(self) -> int | None: ...

    @property
    def organization_id(self) -> int | None: ...


def scope_accounts(conn: Connection, user: Scoped) -> frozenset[int]:
    if user.account_id is not None:
        return frozenset({user.account_id})
    if user.organization_id is None:
        raise RuntimeError("a user is scoped to an account or an organisation")
    return frozenset(organization_accounts(conn, user.organization_id))


def within_scope(conn: Connection, actor: Actor, user: Scoped) -> bool:
    """Whether the whole of ``user``'s scope lies within what ``actor`` sees."""
    return actor.account_ids is None or scope_accounts(conn, user) <= actor.account_ids


def scoped_actor(
    conn: Connection,
    name: str,
    permission: Permission,
    scope: Scoped,
    *,
    api_user_id: int | None = None,
    request_id: str | None = None,
) -> Actor:
    """The actor for a permission and scope; API and portal users share it, so both see and
    may do exactly the same things (R63–R65)."""
    extra = {"request_id": request_id} if request_id else {}
    return Actor(
        name=name,
        account_ids=scope_accounts(conn, scope),
        can_write=permission is not Permission.READONLY,
        is_admin=permission is Permission.ADMIN,
        api_user_id=api_user_id,
        **extra,
    )


def actor_for(conn: Connection, user: ApiUser, request_id: str | None = None) -> Actor:
    return scoped_actor(
        conn,
        f"api:{user.username}",
        user.permission,
        user,
        api_user_id=user.id,
        request_id=request_id,
    )


def check_scope(
    conn: Connection,
    actor: Actor,
    account_id: int | None,
    organization_id: int | None,
    who: str = "an API user",
) -> None:
    """The scope names one existing account or organisation, inside the actor's own scope."""
    if (account_id is None) == (organization_id is None):
        raise InvalidInput(f"{who} is scoped to exactly one account or one organisation")
    if account_id is not None:
        get_account(conn, account_id)
        actor.require_account(account_id)
        return
    if organization_id is None:  # refused above: exactly one of the two is given
        raise RuntimeError("neither an account nor an organisation")
    if (
        conn.execute(
            select(organizations.c.id).where(organizations.c.id == organization_id)
        ).first()
        is None
    ):
        raise NotFound(f"organization {organization_id} not found")
    members = organization_accounts(conn, organization_id)
    if actor.account_ids is not None and not set(members) <= actor.account_ids:
        raise NotFound(f"organization {organization_id} not found")


def create_api_user(
    rt: Runtime,
    actor: Actor,
    *,
    permission: Permission,
    account_id: int | None = None,
    organization_id: int | None = None,
    description: str = "",
) -> tuple[ApiUser, str]:
    """A new API user and its password, which is shown this once (R67)."""
    actor.require_write()
    actor.require_admin()
    password = new_password()
    now = rt.now()
    with write(rt) as conn:
        check_scope(conn, actor, account_id, organization_id)
        user_id = conn.execute(
            insert(api_users).values(
                username=str(uuid.uuid4()).upper(),
                password_hash=HASHER.hash(password),
                permission=permission.value,
                account_id=account_id,
                organization_id=organization_id,
                description=description.strip()[:500],
                disabled_at=None,
                password_changed_at=now,
                created_at=now,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        user = _load(conn, int(user_id))
        audit(
            conn,
            actor,
            now,
            "api_user.create",
            "api_user",
            user.username,
            account_id=account_id,
            after={
                "permission": permission.value,
                "accountId": account_id,
                "organizationId": organization_id,
            },
        )
        return user, password


def _load(conn: Connection, user_id: int) -> ApiUser:
    row = conn.execute(select(api_users).where(api_users.c.id == user_id)).first()
    if row is None:
        raise NotFound("API user not found")
    return user_from_row(row)


def find_api_user(conn: Connection, username: str) -> tuple[ApiUser, str] | None:
    """The user and its password hash, for signing in."""
    row = conn.execute(select(api_users).where(api_users.c.username == username)).first()
    if row is None:
        return None
    return user_from_row(row), row.password_hash


def _visible(conn: Connection, actor: Actor, username: str) -> ApiUser:
    found = find_api_user(conn, username.strip().upper())
    if found is None:
        raise NotFound(f"API user {username} not found")
    user = found[0]
    if not within_scope(conn, actor, user):
        raise NotFound(f"API user {username} not found")
    return user


def list_api_users(rt: Runtime, actor: Actor) -> list[ApiUser]:
    actor.require_admin()
    with read(rt) as conn:
        users = [user_from_row(r) for r in conn.execute(select(api_users).order_by(api_users.c.id))]
        return [u for u in users if within_scope(conn, actor, u)]


def reset_password(rt: Runtime, actor: Actor, username: str) -> str:
    """A new password; every token of the user is revoked (R67: a download resets it)."""
    actor.require_write()
    actor.require_admin()
    password = new_password()
    now = rt.now()
    with write(rt) as conn:
        user = _visible(conn, actor, username)
        conn.execute(
            update(api_users)
            .where(api_users.c.id == user.id)
            .values(password_hash=HASHER.hash(password), password_changed_at=now)
        )
        _revoke_all(conn, user.id, now)
        audit(
            conn,
            actor,
            now,
            "api_user.reset",
            "api_user",
            user.username,
            account_id=user.account_id,
        )
    forget_callers(rt)
    return password


def disable_api_user(rt: Runtime, actor: Actor, username: str) -> ApiUser:
    actor.require_write()
    actor.require_admin()
    now = rt.now()
    with write(rt) as conn:
        user = _visible(conn, actor, username)
        if user.disabled_at is not None:
            raise InvalidState(f"API user {user.username} is already disabled")
        conn.execute(update(api_users).where(api_users.c.id == user.id).values(disabled_at=now))
        _revoke_all(conn, user.id, now)
        audit(
            conn,
            actor,
            now,
            "api_user.disable",
            "api_user",
            user.username,
            account_id=user.account_id,
        )
        disabled = _load(conn, user.id)
    forget_callers(rt)
    return disabled


def _revoke_all(conn: Connection, user_id: int, now: datetime) -> None:
    conn.execute(
        update(oauth_tokens)
        .where(oauth_tokens.c.api_user_id == user_id, oauth_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
