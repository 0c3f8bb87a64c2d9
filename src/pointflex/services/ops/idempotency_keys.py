"""Idempotency keys kept in the database: claim a key for a request, keep its answer, free it.

Each call is its own committed transaction: the placeholder row must be visible to every
process before the request runs, so that two requests with one key never both run. The HTTP
side (which calls carry a key, replaying an answer) is ``pointflex.api.idempotency``.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from pointflex.bootstrap import PerRuntime, Runtime
from pointflex.services.context import write
from pointflex.store.tables import idempotency_keys

log = logging.getLogger("pointflex.idempotency")

PURGE_EVERY_SECONDS = 300.0  # how often a process deletes expired keys
_PENDING = 0  # status_code of a placeholder row: the request is still running


class Outcome(enum.Enum):
    CLAIMED = "claimed"  # this request holds the key: run it
    MISMATCH = "mismatch"  # the key belongs to another request
    IN_PROGRESS = "in progress"  # the request holding the key has not finished


@dataclass(frozen=True)
class Stored:
    status_code: int
    body: str


def claim(rt: Runtime, user_id: int, key: str, digest: str) -> Stored | Outcome:
    """Take the key for this request, or say why not; committed on its own."""
    _maybe_purge(rt)
    for _ in range(3):
        try:
            return _claim_once(rt, user_id, key, digest)
        except IntegrityError:
            continue  # another process inserted the key first; read what it holds
    return Outcome.IN_PROGRESS


def _claim_once(rt: Runtime, user_id: int, key: str, digest: str) -> Stored | Outcome:
    now = rt.now()
    expired = now - timedelta(seconds=rt.settings.idempotency_key_seconds)
    abandoned = now - timedelta(seconds=rt.settings.idempotency_lease_seconds)
    this_key = and_(idempotency_keys.c.api_user_id == user_id, idempotency_keys.c.key == key)
    with write(rt) as conn:
        row = conn.execute(select(idempotency_keys).where(this_key).with_for_update()).first()
        pending = row is not None and row.status_code == _PENDING
        if row is not None and (
            row.created_at <= expired or (pending and row.created_at <= abandoned)
        ):
            conn.execute(delete(idempotency_keys).where(this_key))
            row = None
        if row is None:
            conn.execute(
                insert(idempotency_keys).values(
                    api_user_id=user_id,
                    key=key,
                    request_hash=digest,
                    status_code=_PENDING,
                    response_body="",
                    created_at=now,
                )
            )
            return Outcome.CLAIMED
        if row.request_hash != digest:
            return Outcome.MISMATCH
        if row.status_code == _PENDING:
            return Outcome.IN_PROGRESS
        return Stored(row.status_code, row.response_body)


def store(rt: Runtime, user_id: int, key: str, digest: str, status: int, body: str) -> None:
    with write(rt) as conn:
        conn.execute(
            update(idempotency_keys)
            .where(_placeholder(user_id, key, digest))
            .values(status_code=status, response_body=body)
        )


def release(rt: Runtime, user_id: int, key: str, digest: str) -> None:
    """Free the key after a failure, so that the client may retry."""
    with write(rt) as conn:
        conn.execute(delete(idempotency_keys).where(_placeholder(user_id, key, digest)))


def _placeholder(user_id: int, key: str, digest: str) -> ColumnElement[bool]:
    return and_(
        idempotency_keys.c.api_user_id == user_id,
        idempotency_keys.c.key == key,
        idempotency_keys.c.request_hash == digest,
        idempotency_keys.c.status_code == _PENDING,
    )


@dataclass
class _Purges:
    last: float | None = None  # rt.ticks() of this process's last purge


_purges: PerRuntime[_Purges] = PerRuntime(lambda rt: _Purges())


def _maybe_purge(rt: Runtime) -> None:
    """Delete expired keys, at most every few minutes per process; failures only log."""
    purges, now = _purges(rt), rt.ticks()
    if purges.last is not None and now - purges.last < PURGE_EVERY_SECONDS:
        return
    purges.last = now
    cutoff = rt.now() - timedelta(seconds=rt.settings.idempotency_key_seconds)
    try:
        with write(rt) as conn:
            conn.execute(delete(idempotency_keys).where(idempotency_keys.c.created_at <= cutoff))
    except SQLAlchemyError:
        log.exception("could not delete expired idempotency keys")
