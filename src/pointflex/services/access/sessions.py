"""Portal sessions: a random token in the browser's cookie, its SHA-256 in the database.

A session ends when the user signs out, after ``portal_session_idle_seconds`` without a
request, ``portal_session_absolute_seconds`` after sign-in, or when the user is disabled or
gets a new password. Each session carries its own CSRF token (web/csrf.py).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update

from pointflex.bootstrap import Runtime
from pointflex.services.access.portal_users import (
    PortalUser,
    portal_actor_for,
    portal_user_from_row,
)
from pointflex.services.context import Actor, read, write
from pointflex.store.tables import portal_sessions, portal_users

# last_seen_at is written at most this often, so that reading pages does not write to the
# database on every request; the idle limit is therefore honoured to within this much.
TOUCH_SECONDS = 60


@dataclass(frozen=True)
class PortalSession:
    id: str  # SHA-256 of the cookie's token
    user: PortalUser
    csrf_token: str
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True)
class SignedIn:
    """A live session and the actor its user acts as."""

    session: PortalSession
    actor: Actor


def session_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(rt: Runtime, user: PortalUser) -> tuple[str, PortalSession]:
    """A new session for a signed-in user: the token for the cookie, and the session."""
    now = rt.now()
    token = secrets.token_urlsafe(32)
    session = PortalSession(
        id=session_id(token),
        user=user,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(seconds=rt.settings.portal_session_absolute_seconds),
        last_seen_at=now,
    )
    with write(rt) as conn:
        conn.execute(
            insert(portal_sessions).values(
                id=session.id,
                user_id=user.id,
                csrf_token=session.csrf_token,
                created_at=now,
                expires_at=session.expires_at,
                last_seen_at=now,
                revoked_at=None,
            )
        )
        # Keep the table small: sessions past their absolute limit can never be used again.
        conn.execute(delete(portal_sessions).where(portal_sessions.c.expires_at < now))
    return token, session


def session_for(rt: Runtime, token: str, request_id: str | None = None) -> SignedIn | None:
    """The live session behind a cookie's token, or None (unknown, ended, or user disabled)."""
    if not token:
        return None
    now = rt.now()
    hashed = session_id(token)
    with read(rt) as conn:
        row = conn.execute(
            select(
                portal_users,
                portal_sessions.c.csrf_token,
                portal_sessions.c.created_at.label("session_created_at"),
                portal_sessions.c.expires_at,
                portal_sessions.c.last_seen_at,
                portal_sessions.c.revoked_at,
            )
            .join(portal_users, portal_users.c.id == portal_sessions.c.user_id)
            .where(portal_sessions.c.id == hashed)
        ).first()
        if row is None or not _live(rt, row, now):
            return None
        user = portal_user_from_row(row)
        actor = portal_actor_for(conn, user, request_id)
    session = PortalSession(
        hashed, user, row.csrf_token, row.session_created_at, row.expires_at, row.last_seen_at
    )
    if now - row.last_seen_at >= timedelta(seconds=TOUCH_SECONDS):
        with write(rt) as conn:
            conn.execute(
                update(portal_sessions)
                .where(portal_sessions.c.id == hashed)
                .values(last_seen_at=now)
            )
    return SignedIn(session, actor)


def _live(rt: Runtime, row: Any, now: datetime) -> bool:
    idle = timedelta(seconds=rt.settings.portal_session_idle_seconds)
    return (
        row.revoked_at is None
        and row.disabled_at is None
        and now < row.expires_at
        and now < row.last_seen_at + idle
    )


def end_session(rt: Runtime, token: str) -> bool:
    """Sign out: the session can no longer be used. True if it was open."""
    with write(rt) as conn:
        result = conn.execute(
            update(portal_sessions)
            .where(
                portal_sessions.c.id == session_id(token), portal_sessions.c.revoked_at.is_(None)
            )
            .values(revoked_at=rt.now())
        )
    return bool(result.rowcount)
