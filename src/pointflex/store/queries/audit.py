"""The audit log (P13): one row per action, written in the action's own transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, insert

from pointflex.store.tables import audit_log


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    request_id: str
    action: str
    object_type: str
    object_id: str
    account_id: int | None = None
    before: Any = None
    after: Any = None


class AuditTrail(Protocol):
    def record(self, entry: AuditEntry) -> None: ...


# One statement with bound parameters: ``insert().values(...)`` would build and key a new
# statement on every call, which costs more than the insert itself on hot paths.
_INSERT = insert(audit_log)


class SqlAudit:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def record(self, entry: AuditEntry) -> None:
        self._conn.execute(_INSERT, entry.__dict__)
