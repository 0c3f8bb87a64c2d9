"""One entitlement as the portal's details page shows it: the record, its history, its
points per day and the configurations it may be moved to (R47, R51)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from pointflex.bootstrap import Runtime
from pointflex.domain.configs import ACTIVE, Config
from pointflex.domain.dates import local_day
from pointflex.domain.money import to_points
from pointflex.services.configs.configurations import load_config
from pointflex.services.context import Actor, read
from pointflex.services.entitlements.views import Entitlement, load_records
from pointflex.services.points.programs import load_program
from pointflex.store.tables import configurations, consumption, entitlement_events

CHART_DAYS = 90
MAX_EVENTS = 500
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str
    status: str
    actor: str


@dataclass(frozen=True)
class Details:
    record: Entitlement
    program_end: date  # the last date a User Defined end may take (R44)
    today: date  # in the program's time zone
    timezone: str  # the program's: the history is shown in it
    events: list[Event]  # newest first
    daily: list[tuple[date, Decimal]]  # CHART_DAYS days ending yesterday, 0 for no charge
    configs: list[Config]  # same product type, program and account; the current one first

    @property
    def chart_total(self) -> Decimal:
        return sum((p for _, p in self.daily), ZERO)


def entitlement_details(rt: Runtime, actor: Actor, serial: str) -> Details:
    """Everything the details page shows; NotFound outside the actor's scope (R63)."""
    with read(rt) as conn:
        (record,) = load_records(rt, conn, actor, [serial])
        program = load_program(conn, record.program_serial)
        today = local_day(rt.now(), program.timezone)
        yesterday = today - timedelta(days=1)
        start = yesterday - timedelta(days=CHART_DAYS - 1)
        ev = entitlement_events.c
        events = [
            Event(r.at, r.kind, r.status, r.actor)
            for r in conn.execute(
                select(ev.at, ev.kind, ev.status, ev.actor)
                .where(ev.serial == record.serial)
                .order_by(ev.at.desc(), ev.id.desc())
                .limit(MAX_EVENTS)
            ).all()
        ]
        co = consumption.c
        by_day = {
            day: to_points(points)
            for day, points in conn.execute(
                select(co.day, func.sum(co.points))
                .where(co.serial == record.serial, co.day >= start, co.day <= yesterday)
                .group_by(co.day)
            ).all()
        }
        c = configurations.c
        rows = conn.execute(
            select(c.id)
            .where(
                c.product_type_id == record.product_type_id,
                c.program_serial == record.program_serial,
                c.account_id == record.account_id,
                c.status == ACTIVE,
                c.id != record.config_id,
            )
            .order_by(c.name, c.id)
        ).all()
        configs = [load_config(conn, record.config_id)] + [load_config(conn, r.id) for r in rows]
    daily = [
        (start + timedelta(days=i), by_day.get(start + timedelta(days=i), ZERO))
        for i in range(CHART_DAYS)
    ]
    return Details(record, program.end_date, today, program.timezone, events, daily, configs)
