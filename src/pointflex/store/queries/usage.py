"""Consumption read back: one program's points grouped by day, entitlement or configuration."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any, Protocol

from sqlalchemy import Connection, Select, func, select

from pointflex.domain.usage import GroupBy, ReportRow
from pointflex.store.tables import configurations, consumption

CO = consumption


class UsageQueries(Protocol):
    def report(
        self,
        program_serial: str,
        group_by: GroupBy,
        days: tuple[date, date],
        account_ids: Collection[int] | None,
    ) -> list[ReportRow]:
        """Rows in key order over the days [first, last], of ``account_ids`` only if given."""
        ...


class SqlUsage:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def report(
        self,
        program_serial: str,
        group_by: GroupBy,
        days: tuple[date, date],
        account_ids: Collection[int] | None,
    ) -> list[ReportRow]:
        start, end = days
        base = [CO.c.program_serial == program_serial, CO.c.day >= start, CO.c.day <= end]
        if account_ids is not None:
            base.append(CO.c.account_id.in_(sorted(account_ids)))
        rows = self._conn.execute(_grouped(group_by).where(*base)).all()
        if group_by is GroupBy.CONFIGURATION:
            return [ReportRow(str(r[0]), r[1], r.n, r.points) for r in rows]
        return [ReportRow(str(r[0]), str(r[0]), r.n, r.points) for r in rows]


def _grouped(group_by: GroupBy) -> Select[Any]:
    total = func.sum(CO.c.points).label("points")
    count = func.count(func.distinct(CO.c.serial)).label("n")
    if group_by is GroupBy.DAY:
        return select(CO.c.day, count, total).group_by(CO.c.day).order_by(CO.c.day)
    if group_by is GroupBy.ENTITLEMENT:
        return select(CO.c.serial, count, total).group_by(CO.c.serial).order_by(CO.c.serial)
    return (
        select(CO.c.config_id, configurations.c.name, count, total)
        .join(configurations, configurations.c.id == CO.c.config_id)
        .group_by(CO.c.config_id, configurations.c.name)
        .order_by(CO.c.config_id)
    )
