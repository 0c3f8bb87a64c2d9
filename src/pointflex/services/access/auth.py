"""The OAuth token service: password and refresh grants, opaque bearer tokens, throttling.

Tokens are random strings handed to the client once and stored only as SHA-256 hashes; they
expire and can be revoked. Failed sign-ins are recorded so that guessing is throttled per
user and per client address, across every app process.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import string
import threading
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, func, insert, select, update

from pointflex.bootstrap import Runtime
from pointflex.errors import AuthenticationFailed, Throttled, Unauthenticated
from pointflex.services.access.api_users import (
    HASHER,
    ApiUser,
    actor_for,
    find_api_user,
    user_from_row,
)
from pointflex.services.access.caller_cache import caller_cache, forget_callers
from pointflex.services.context import Actor, read, write
from pointflex.store.tables import api_users, auth_failures, oauth_tokens

ACCESS = "ACCESS"
REFRESH = "REFRESH"
TOKEN_CHARS = string.ascii_letters + string.digits
TOKEN_LENGTH = 30  # as Fortinet's sample access tokens (Q8)
# Verified against when the user does not exist, so that timing does not reveal user names.
_DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


def _new_token() -> str:
    return "".join(secrets.choice(TOKEN_CHARS) for _ in range(TOKEN_LENGTH))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.strip().encode()).hexdigest()


def password_grant(
    rt: Runtime, username: str, password: str, client_id: str, client_address: str
) -> TokenPair:
    """Sign in with an API user's credentials."""
    now = rt.now()
    check_throttle(rt, username, client_address, now)
    with read(rt) as conn:
        found = find_api_user(conn, username.strip().upper())
    if not _password_matches(found, password) or client_id not in rt.settings.oauth_client_ids:
        record_failure(rt, username, client_address, now)
        raise AuthenticationFailed("invalid username, password or client_id")
    if found is None:  # _password_matches refuses an unknown user
        raise RuntimeError("an unknown user passed the password check")
    user = found[0]
    if user.disabled_at is not None:
        record_failure(rt, username, client_address, now)
        raise AuthenticationFailed("this API user is disabled")
    with write(rt) as conn:
        return _issue(rt, conn, user, client_id, now)


# Each verification takes 64 MiB and several threads for tens of milliseconds: run at most one
# per core at a time, so a burst of sign-ins queues instead of thrashing memory and CPU.
_VERIFYING = threading.BoundedSemaphore(os.cpu_count() or 1)


def _password_matches(found: tuple[ApiUser, str] | None, password: str) -> bool:
    return verify_password(found[1] if found else None, password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; with no hash (unknown user) a dummy one is verified, so
    that the time taken does not reveal which user names exist. Shared with the portal."""
    try:
        with _VERIFYING:
            matched = HASHER.verify(password_hash or _DUMMY_HASH, password)
        return matched and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def refresh_grant(
    rt: Runtime, refresh_token: str, client_id: str, client_address: str
) -> TokenPair:
    """Trade a refresh token for a new pair; the old refresh token is spent.

    A spent refresh token presented again means it was copied: every token of that user is
    revoked, so whoever holds the copy is locked out with the owner, who signs in again.
    """
    now = rt.now()
    check_throttle(rt, "", client_address, now)
    replayed = False
    with write(rt) as conn:
        row = conn.execute(
            select(oauth_tokens)
            .where(
                oauth_tokens.c.token_hash == token_hash(refresh_token),
                oauth_tokens.c.kind == REFRESH,
            )
            .with_for_update()
        ).first()
        if row is not None and row.revoked_at is not None:
            _revoke_user(conn, row.api_user_id, now)  # committed when the block ends
            replayed = True
        user = _usable_user(conn, row, now)
        if user is not None and row is not None and row.client_id == client_id:
            conn.execute(
                update(oauth_tokens)
                .where(oauth_tokens.c.token_hash == row.token_hash)
                .values(revoked_at=now)
            )
            return _issue(rt, conn, user, client_id, now)
    if replayed:
        forget_callers(rt)
    record_failure(rt, "", client_address, now)
    raise AuthenticationFailed("invalid or expired refresh token")


def _usable_user(conn: Connection, row: object, now: datetime) -> ApiUser | None:
    if row is None or row.revoked_at is not None or row.expires_at <= now:  # type: ignore[attr-defined]
        return None
    user_row = conn.execute(
        select(api_users).where(api_users.c.id == row.api_user_id)  # type: ignore[attr-defined]
    ).first()
    if user_row is None or user_row.disabled_at is not None:
        return None
    found = find_api_user(conn, user_row.username)
    return found[0] if found else None


def _issue(
    rt: Runtime, conn: Connection, user: ApiUser, client_id: str, now: datetime
) -> TokenPair:
    access, refresh = _new_token(), _new_token()
    lifetimes = {
        ACCESS: (access, rt.settings.access_token_seconds),
        REFRESH: (refresh, rt.settings.refresh_token_seconds),
    }
    conn.execute(
        insert(oauth_tokens),
        [
            {
                "token_hash": token_hash(token),
                "kind": kind,
                "api_user_id": user.id,
                "client_id": client_id,
                "expires_at": now + timedelta(seconds=seconds),
                "revoked_at": None,
                "created_at": now,
            }
            for kind, (token, seconds) in lifetimes.items()
        ],
    )
    return TokenPair(access, refresh, rt.settings.access_token_seconds)


def authenticate(rt: Runtime, access_token: str, request_id: str | None = None) -> Actor:
    """The actor behind a bearer token; expired, revoked or unknown tokens are refused.

    One query reads the token with its user: this runs on every API request, so the answer is
    remembered for a few seconds (services/caller_cache.py).
    """
    now = rt.now()
    hashed = token_hash(access_token)
    cache = caller_cache(rt)
    known = cache.get(hashed, now)
    if known is None:
        with read(rt) as conn:
            row = conn.execute(
                select(api_users, oauth_tokens.c.expires_at, oauth_tokens.c.revoked_at)
                .join(api_users, api_users.c.id == oauth_tokens.c.api_user_id)
                .where(oauth_tokens.c.token_hash == hashed, oauth_tokens.c.kind == ACCESS)
            ).first()
            if (
                row is None
                or row.revoked_at is not None
                or row.expires_at <= now
                or row.disabled_at is not None
            ):
                raise Unauthenticated("Invalid security token.")
            known = actor_for(conn, user_from_row(row))
        cache.put(hashed, known, now, row.expires_at)
    # Each call is its own request: the remembered actor never lends its request id.
    return replace(known, request_id=request_id or uuid.uuid4().hex)


def seconds_left(rt: Runtime, access_token: str) -> int:
    """For ``verify_token``: how long the token stays valid."""
    now = rt.now()
    with read(rt) as conn:
        row = conn.execute(
            select(oauth_tokens).where(
                oauth_tokens.c.token_hash == token_hash(access_token),
                oauth_tokens.c.kind == ACCESS,
            )
        ).first()
        if _usable_user(conn, row, now) is None or row is None:
            raise Unauthenticated("Invalid security token.")
        return max(0, int((row.expires_at - now).total_seconds()))


def revoke(rt: Runtime, token: str) -> bool:
    """Revoke one access or refresh token; True if it was live."""
    now = rt.now()
    with write(rt) as conn:
        result = conn.execute(
            update(oauth_tokens)
            .where(
                oauth_tokens.c.token_hash == token_hash(token), oauth_tokens.c.revoked_at.is_(None)
            )
            .values(revoked_at=now)
        )
    forget_callers(rt)  # after the commit, so no request re-remembers the token meanwhile
    return bool(result.rowcount)


def _revoke_user(conn: Connection, user_id: int, now: datetime) -> None:
    conn.execute(
        update(oauth_tokens)
        .where(oauth_tokens.c.api_user_id == user_id, oauth_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def check_throttle(rt: Runtime, username: str, address: str, now: datetime) -> None:
    """Refuse a sign-in attempt that failed too often lately (API and portal alike).

    Throttling must slow the guesser, not lock the owner out, so no limit is per user alone:

    * per address (any user): a guesser trying many usernames from one place;
    * per user *and* address: a guesser at one account, who slows only themselves — the owner
      signing in from another address is not affected;
    * a ceiling per user across all addresses: once reached (a guesser with many addresses),
      only addresses that have not failed for this user lately may try, so a botnet gets one
      guess per address and window while the owner, from a clean address, still gets in.
    """
    settings = rt.settings
    window = timedelta(seconds=settings.auth_window_seconds)
    user = username.strip().upper()
    with read(rt) as conn:
        count, oldest = _failures(conn, now - window, client_address=address)
        if count >= settings.auth_max_failures_per_address:
            _refuse(oldest + window - now)
        if not user:
            return
        count, oldest = _failures(conn, now - window, username=user, client_address=address)
        if count >= settings.auth_max_failures_per_user_address:
            _refuse(oldest + window - now)
        if count and _failures(conn, now - window, username=user)[0] >= (
            settings.auth_max_failures_per_user
        ):
            _refuse(oldest + window - now)


def _failures(conn: Connection, since: datetime, **where: str) -> tuple[int, datetime]:
    """How many failures match ``where`` since ``since``, and the oldest one's instant."""
    count, oldest = conn.execute(
        select(func.count(), func.min(auth_failures.c.at)).where(
            auth_failures.c.at > since, *(auth_failures.c[k] == v for k, v in where.items())
        )
    ).one()
    return int(count), oldest


def _refuse(wait: timedelta) -> None:
    raise Throttled(
        "too many failed sign-ins; try again later",
        retry_after=max(1, int(wait.total_seconds()) + 1),
    )


def record_failure(rt: Runtime, username: str, address: str, now: datetime) -> None:
    """Committed on its own: the failure must count even though the request fails."""
    with write(rt) as conn:
        conn.execute(
            insert(auth_failures).values(
                username=username.strip().upper(), client_address=address, at=now
            )
        )
        # Keep the table small: failures older than the window no longer matter.
        conn.execute(
            delete(auth_failures).where(
                auth_failures.c.at < now - timedelta(seconds=2 * rt.settings.auth_window_seconds)
            )
        )
