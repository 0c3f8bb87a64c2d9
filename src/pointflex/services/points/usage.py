"""Where the points go: per-entitlement totals (R22), reports and monthly statements (R5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Select, func, select

from pointflex.bootstrap import Runtime
from pointflex.domain.dates import local_day
from pointflex.domain.money import to_points
from pointflex.domain.programs import ProgramKind
from pointflex.errors import InvalidDate, InvalidInput
from pointflex.services.configs.configurations import visible_config
from pointflex.services.context import Actor, read
from pointflex.services.entitlements.views import load_records
from pointflex.services.points.programs import visible_program
from pointflex.store.tables import configurations, consumption, point_ledger

CO = consumption


@dataclass(frozen=True)
class PointsRecord:
    serial: str
    account_id: int
    points: Decimal


def entitlement_points(
    rt: Runtime,
    actor: Actor,
    *,
    start: date,
    end: date,
    config_id: int | None = None,
    account_id: int | None = None,
    program_serial: str | None = None,
    serial: str | None = None,
) -> list[PointsRecord]:
    """Points per serial over [start, end], never older than the history window (R22)."""
    if end < start:
        raise InvalidDate("endDate must not be before startDate")
    if config_id is None and program_serial is None:
        raise InvalidInput("configId, or programSerialNumber (with accountId), is required")
    earliest = rt.today() - timedelta(days=rt.settings.points_history_days)
    start = max(start, earliest)
    query: Select[Any] = (
        select(CO.c.serial, CO.c.account_id, func.sum(CO.c.points).label("points"))
        .where(CO.c.day >= start, CO.c.day <= end)
        .group_by(CO.c.serial, CO.c.account_id)
        .order_by(CO.c.serial)
    )
    if config_id is not None:
        query = query.where(CO.c.config_id == config_id)
    if program_serial is not None:
        query = query.where(CO.c.program_serial == program_serial)
    if account_id is not None:
        actor.require_account(account_id)
        query = query.where(CO.c.account_id == account_id)
    if serial is not None:
        serial = serial.strip().upper()
        query = query.where(CO.c.serial == serial)
    if actor.account_ids is not None:
        query = query.where(CO.c.account_id.in_(sorted(actor.account_ids)))
    with read(rt) as conn:
        # A configuration, program or serial outside the caller's scope is "not found",
        # never an empty answer (R63).
        if program_serial is not None:
            visible_program(conn, actor, program_serial)
        if config_id is not None:
            visible_config(conn, actor, config_id)
        if serial is not None:
            load_records(rt, conn, actor, [serial])
        rows = conn.execute(query).all()
    return [PointsRecord(r.serial, r.account_id, r.points) for r in rows]


class GroupBy(StrEnum):
    DAY = "day"
    ENTITLEMENT = "entitlement"
    CONFIGURATION = "configuration"


@dataclass(frozen=True)
class ReportRow:
    key: str
    label: str
    entitlements: int
    points: Decimal


def report(
    rt: Runtime,
    actor: Actor,
    program_serial: str,
    group_by: GroupBy,
    start: date,
    end: date,
) -> list[ReportRow]:
    """Consumption of one program grouped by day, entitlement or configuration."""
    with read(rt) as conn:
        return report_in(conn, actor, program_serial, group_by, start, end)


def report_in(
    conn: Connection,
    actor: Actor,
    program_serial: str,
    group_by: GroupBy,
    start: date,
    end: date,
) -> list[ReportRow]:
    """:func:`report` inside the caller's transaction."""
    if end < start:
        raise InvalidDate("end must not be before start")
    base = [CO.c.program_serial == program_serial, CO.c.day >= start, CO.c.day <= end]
    if actor.account_ids is not None:
        base.append(CO.c.account_id.in_(sorted(actor.account_ids)))
    total = func.sum(CO.c.points).label("points")
    count = func.count(func.distinct(CO.c.serial)).label("n")
    query: Select[Any]
    if group_by is GroupBy.DAY:
        query = select(CO.c.day, count, total).where(*base).group_by(CO.c.day).order_by(CO.c.day)
    elif group_by is GroupBy.ENTITLEMENT:
        query = (
            select(CO.c.serial, count, total)
            .where(*base)
            .group_by(CO.c.serial)
            .order_by(CO.c.serial)
        )
    else:
        query = (
            select(CO.c.config_id, configurations.c.name, count, total)
            .join(configurations, configurations.c.id == CO.c.config_id)
            .where(*base)
            .group_by(CO.c.config_id, configurations.c.name)
            .order_by(CO.c.config_id)
        )
    visible_program(conn, actor, program_serial)
    rows = conn.execute(query).all()
    if group_by is GroupBy.CONFIGURATION:
        return [ReportRow(str(r[0]), r[1], r.n, r.points) for r in rows]
    return [ReportRow(str(r[0]), str(r[0]), r.n, r.points) for r in rows]


@dataclass(frozen=True)
class Statement:
    program_serial: str
    kind: ProgramKind
    month: date
    opening: Decimal
    credits: Decimal
    consumption: Decimal
    closing: Decimal
    by_configuration: list[ReportRow]


def monthly_statement(rt: Runtime, actor: Actor, program_serial: str, month: date) -> Statement:
    """A month's consumption and, for prepaid, opening + credits − consumption = closing.

    A postpaid program has no balance: its opening and closing figures are the consumption
    invoiced before and up to this month, negated, and only ``consumption`` is billed.
    """
    with read(rt) as conn:
        return monthly_statement_in(conn, actor, program_serial, month)


def month_bounds(month: date) -> tuple[date, date]:
    """The first and the last day of ``month``'s month."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def monthly_statement_in(
    conn: Connection, actor: Actor, program_serial: str, month: date
) -> Statement:
    """:func:`monthly_statement` inside the caller's transaction (one consistent snapshot)."""
    first, last = month_bounds(month)
    following = last + timedelta(days=1)
    rows = report_in(conn, actor, program_serial, GroupBy.CONFIGURATION, first, last)
    used = sum((r.points for r in rows), Decimal("0.00"))
    kind = visible_program(conn, actor, program_serial).kind
    credits_before = _ledger_sum(conn, program_serial, None, first)
    credits_in = _ledger_sum(conn, program_serial, first, following)
    used_before = conn.execute(
        select(func.coalesce(func.sum(CO.c.points), 0)).where(
            CO.c.program_serial == program_serial, CO.c.day < first
        )
    ).scalar_one()
    opening = to_points(credits_before - Decimal(used_before))
    closing = opening + credits_in - used
    return Statement(program_serial, kind, first, opening, credits_in, used, closing, rows)


def _ledger_sum(conn: Any, serial: str, start: date | None, end: date) -> Decimal:
    query = select(func.coalesce(func.sum(point_ledger.c.points), 0)).where(
        point_ledger.c.program_serial == serial, point_ledger.c.day < end
    )
    if start is not None:
        query = query.where(point_ledger.c.day >= start)
    return to_points(conn.execute(query).scalar_one())


def today_in(rt: Runtime, tz: str) -> date:
    return local_day(rt.now(), tz)
