"""Where the points go: per-entitlement totals (R22), reports and monthly statements (R5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select

from pointflex.bootstrap import Runtime
from pointflex.domain import usage as usage_rules
from pointflex.domain.usage import GroupBy, MonthFigures, ReportRow, Statement, month_bounds
from pointflex.errors import InvalidDate, InvalidInput
from pointflex.services.access.visibility import visible_program_account, visible_program_of
from pointflex.services.configs.configurations import visible_config
from pointflex.services.context import Actor, read
from pointflex.services.entitlements.views import load_records
from pointflex.services.points.programs import visible_program
from pointflex.store.tables import consumption
from pointflex.store.unit_of_work import UnitOfWork

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
    if account_id is not None:
        actor.require_account(account_id)
    if serial is not None:
        serial = serial.strip().upper()
    filters = {
        CO.c.config_id: config_id,
        CO.c.program_serial: program_serial,
        CO.c.account_id: account_id,
        CO.c.serial: serial,
    }
    query = _points_by_serial(start, end, filters, actor.account_ids)
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


def report(
    rt: Runtime,
    actor: Actor,
    program_serial: str,
    group_by: GroupBy,
    start: date,
    end: date,
) -> list[ReportRow]:
    """Consumption of one program grouped by day, entitlement or configuration."""
    if end < start:
        raise InvalidDate("end must not be before start")
    with rt.unit(write=False) as uow:
        visible_program_account(uow, actor, program_serial)
        return uow.usage.report(program_serial, group_by, (start, end), actor.account_ids)


def monthly_statement(rt: Runtime, actor: Actor, program_serial: str, month: date) -> Statement:
    """A month's consumption and, for prepaid, opening + credits − consumption = closing."""
    with rt.unit(write=False) as uow:
        return statement_of_month(uow, actor, program_serial, month)


def statement_of_month(
    uow: UnitOfWork, actor: Actor, program_serial: str, month: date
) -> Statement:
    """The month's statement figures, read in the caller's unit of work (one snapshot: the
    detailed statement reads its charge lines in the same one)."""
    program = visible_program_of(uow, actor, program_serial)
    first, last = month_bounds(month)
    following = last + timedelta(days=1)
    by_config = uow.usage.report(
        program_serial, GroupBy.CONFIGURATION, (first, last), actor.account_ids
    )
    figures = MonthFigures(
        credited_before=uow.programs.credited(program_serial, None, first),
        credited_in=uow.programs.credited(program_serial, first, following),
        consumed_before=uow.programs.consumed_before(program_serial, first),
        by_configuration=by_config,
    )
    return usage_rules.statement(program_serial, program.kind, first, figures)


def _points_by_serial(
    start: date, end: date, filters: Mapping[Any, object], account_ids: frozenset[int] | None
) -> Select[Any]:
    """Consumption summed per serial over [start, end]; ``filters`` maps a column to the
    value it must have (None: any)."""
    query: Select[Any] = (
        select(CO.c.serial, CO.c.account_id, func.sum(CO.c.points).label("points"))
        .where(CO.c.day >= start, CO.c.day <= end)
        .group_by(CO.c.serial, CO.c.account_id)
        .order_by(CO.c.serial)
    )
    for column, value in filters.items():
        if value is not None:
            query = query.where(column == value)
    if account_ids is not None:
        query = query.where(CO.c.account_id.in_(sorted(account_ids)))
    return query
