"""Alert settings kept per program: a prepaid program's own LOW_BALANCE threshold (P8)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import Connection, delete, insert, select

from pointflex.store.tables import alert_thresholds

T = alert_thresholds


class AlertQueries(Protocol):
    def low_balance_days(self) -> dict[str, int]:
        """Every program's own threshold, by program serial."""
        ...

    def set_low_balance_days(
        self, serial: str, days: int | None, by: str, at: datetime
    ) -> int | None:
        """Set (None: remove) a program's own threshold; returns the one it replaced."""
        ...


class SqlAlerts:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def low_balance_days(self) -> dict[str, int]:
        rows = self._conn.execute(select(T.c.program_serial, T.c.low_balance_days)).all()
        return {serial: int(days) for serial, days in rows}

    def set_low_balance_days(
        self, serial: str, days: int | None, by: str, at: datetime
    ) -> int | None:
        where = T.c.program_serial == serial
        before = self._conn.execute(select(T.c.low_balance_days).where(where)).scalar()
        self._conn.execute(delete(T).where(where))
        if days is not None:
            self._conn.execute(
                insert(T).values(program_serial=serial, low_balance_days=days, set_by=by, set_at=at)
            )
        return None if before is None else int(before)
