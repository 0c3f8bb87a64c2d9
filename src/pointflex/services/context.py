"""Who is acting, within which scope, and the transaction helpers every service shares."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert

from pointflex.bootstrap import Runtime
from pointflex.errors import Forbidden, NotFound
from pointflex.store.queries.audit import AuditEntry
from pointflex.store.tables import audit_log
from pointflex.store.transactions import read_transaction, write_transaction
from pointflex.store.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Actor:
    """The caller. ``account_ids`` None means every account (the platform operator)."""

    name: str
    account_ids: frozenset[int] | None = None
    can_write: bool = True
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    is_admin: bool = True  # may manage API and portal users within its scope
    api_user_id: int | None = None

    def sees(self, account_id: int) -> bool:
        return self.account_ids is None or account_id in self.account_ids

    def require_account(self, account_id: int, what: str = "account") -> None:
        # Out-of-scope objects are reported as missing, never as forbidden: their existence
        # is not the caller's business (R63, R65).
        if not self.sees(account_id):
            raise NotFound(f"{what} not found")

    def require_write(self) -> None:
        if not self.can_write:
            raise Forbidden("this user has read-only permission")

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("managing API and portal users needs Admin permission")


SYSTEM = Actor(name="system")


@contextmanager
def write(runtime: Runtime) -> Iterator[Connection]:
    """One write transaction (BEGIN IMMEDIATE on SQLite)."""
    with write_transaction(runtime.engine) as conn:
        yield conn


@contextmanager
def read(runtime: Runtime) -> Iterator[Connection]:
    """One consistent read transaction."""
    with read_transaction(runtime.engine) as conn:
        yield conn


def audit(
    conn: Connection,
    actor: Actor,
    at: datetime,
    action: str,
    object_type: str,
    object_id: str | int,
    *,
    account_id: int | None = None,
    before: Any = None,
    after: Any = None,
) -> None:
    """Record who did what, before and after (P13); part of the caller's transaction."""
    conn.execute(
        _AUDIT_INSERT,
        {
            "at": at,
            "actor": actor.name,
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "account_id": account_id,
            "before": before,
            "after": after,
            "request_id": actor.request_id,
        },
    )


def record(
    uow: UnitOfWork,
    actor: Actor,
    at: datetime,
    action: str,
    subject: tuple[str, str | int],
    *,
    account_id: int | None = None,
    before: Any = None,
    after: Any = None,
) -> None:
    """:func:`audit` on a unit of work; ``subject`` is (object type, object id)."""
    object_type, object_id = subject
    uow.audit.record(
        AuditEntry(
            at=at,
            actor=actor.name,
            request_id=actor.request_id,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            account_id=account_id,
            before=before,
            after=after,
        )
    )


# One statement with bound parameters: ``insert().values(...)`` would build and key a new
# statement on every call, which costs more than the insert itself on hot paths (validation).
_AUDIT_INSERT = insert(audit_log)


def audit_many(
    conn: Connection, actor: Actor, at: datetime, action: str, rows: Iterable[dict[str, Any]]
) -> None:
    """Bulk form of :func:`audit` for actions on many objects in one statement."""
    payload = [
        {
            "at": at,
            "actor": actor.name,
            "action": action,
            "request_id": actor.request_id,
            "account_id": None,
            "before": None,
            "after": None,
            **row,
        }
        for row in rows
    ]
    if payload:
        conn.execute(insert(audit_log), payload)
