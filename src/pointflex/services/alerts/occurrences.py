"""Alerts stored once per occurrence (P8): raised by the job loop, listed in the portal.

``raise_due_alerts`` evaluates every program in one transaction with a handful of aggregate
queries (balances, recent daily totals, open alerts), whatever the number of programs, and
queues one delivery per matching webhook or e-mail recipient for each alert it raises.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, func, select, update

from pointflex.bootstrap import Runtime
from pointflex.domain import alerts as rules
from pointflex.domain import burn
from pointflex.domain.alerts import AlertKind, NewAlert, ProgramFigures
from pointflex.domain.dates import local_day
from pointflex.domain.money import to_points
from pointflex.domain.programs import Program, ProgramKind, follow_program_expiry
from pointflex.errors import NotFound
from pointflex.services.alerts.notifications import enqueue_deliveries
from pointflex.services.context import Actor, audit, read, write
from pointflex.services.points.programs import visible_organizations
from pointflex.store.queries.programs import program_from_row
from pointflex.store.sql import chunks, insert_ignoring_conflicts
from pointflex.store.tables import (
    accounts,
    accrual_runs,
    alert_thresholds,
    alerts,
    point_ledger,
    programs,
)

RECENT_DAYS = burn.BURN_WINDOW_DAYS + 3  # daily totals read for the burn rate (time zones)
INSERT_CHUNK = 200  # alerts per INSERT: 10 columns each, well under SQLite's variable limit


@dataclass(frozen=True)
class StoredAlert:
    id: int
    event_id: str
    program_serial: str
    organization_id: int
    account_id: int
    kind: AlertKind
    occurrence: str
    message: str
    figures: dict[str, Any]
    raised_at: datetime
    cleared_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None


def alert_from_row(row: Any) -> StoredAlert:
    return alert_from_mapping({c.name: row._mapping[c.name] for c in alerts.c})


def alert_from_mapping(m: Mapping[str, Any]) -> StoredAlert:
    return StoredAlert(
        id=int(m["id"]),
        event_id=m["event_id"],
        program_serial=m["program_serial"],
        organization_id=int(m["organization_id"]),
        account_id=int(m["account_id"]),
        kind=AlertKind(m["kind"]),
        occurrence=m["occurrence"],
        message=m["message"],
        figures=dict(m["figures"]),
        raised_at=m["raised_at"],
        cleared_at=m["cleared_at"],
        acknowledged_at=m["acknowledged_at"],
        acknowledged_by=m["acknowledged_by"],
    )


# --------------------------------------------------------------------------- raising


def raise_due_alerts(rt: Runtime) -> int:
    """Raise every alert now due and close those whose condition cleared; returns how many
    were newly raised. Safe to run repeatedly and on several nodes."""
    now = rt.now()
    default = rt.settings.alert_low_balance_days
    with write(rt) as conn:
        rows = conn.execute(
            select(programs, accounts.c.organization_id).join(
                accounts, accounts.c.id == programs.c.account_id
            )
        ).all()
        if not rows:
            return 0
        found = [(program_from_row(r), int(r.organization_id)) for r in rows]
        balances = _balances(conn)
        recent = _recent_days(conn, min(local_day(now, p.timezone) for p, _ in found))
        thresholds = dict(
            conn.execute(
                select(alert_thresholds.c.program_serial, alert_thresholds.c.low_balance_days)
            ).all()
        )
        open_kinds = _open_condition_alerts(conn)
        known = _recent_one_off(conn, now - timedelta(days=_one_off_window(rt)))
        new_rows: list[dict[str, Any]] = []
        for program, org in found:
            figures = _figures(rt, program, now, balances, recent.get(program.serial, {}))
            threshold = thresholds.get(program.serial, default)
            result = rules.evaluate(figures, open_kinds.get(program.serial, set()), threshold)
            for kind in result.close:
                _close(conn, program.serial, kind, now)
            new_rows += [
                _row(program, org, new, now)
                for new in result.raise_
                if (program.serial, new.kind.value, new.occurrence) not in known
            ]
        return _insert(conn, rt, new_rows, now)


def _balances(conn: Connection) -> dict[str, Decimal]:
    """Every prepaid balance with two aggregate queries (ledger minus accrued days)."""
    credited = conn.execute(
        select(point_ledger.c.program_serial, func.sum(point_ledger.c.points)).group_by(
            point_ledger.c.program_serial
        )
    ).all()
    consumed = conn.execute(
        select(accrual_runs.c.program_serial, func.sum(accrual_runs.c.points)).group_by(
            accrual_runs.c.program_serial
        )
    ).all()
    found: dict[str, Decimal] = defaultdict(lambda: Decimal("0"))
    for serial, points in credited:
        found[serial] += Decimal(points or 0)
    for serial, points in consumed:
        found[serial] -= Decimal(points or 0)
    return {serial: to_points(value) for serial, value in found.items()}


def _recent_days(conn: Connection, earliest_today: date) -> dict[str, dict[date, Decimal]]:
    """Per program, the points charged on each of the last few days (the burn window)."""
    rows = conn.execute(
        select(accrual_runs.c.program_serial, accrual_runs.c.day, accrual_runs.c.points).where(
            accrual_runs.c.day >= earliest_today - timedelta(days=RECENT_DAYS)
        )
    ).all()
    found: dict[str, dict[date, Decimal]] = defaultdict(dict)
    for serial, day, points in rows:
        found[serial][day] = to_points(points)
    return found


def _open_condition_alerts(conn: Connection) -> dict[str, set[AlertKind]]:
    rows = conn.execute(
        select(alerts.c.program_serial, alerts.c.kind).where(
            alerts.c.cleared_at.is_(None),
            alerts.c.kind.in_([k.value for k in rules.CONDITION_KINDS]),
        )
    ).all()
    found: dict[str, set[AlertKind]] = defaultdict(set)
    for serial, kind in rows:
        found[serial].add(AlertKind(kind))
    return found


def _one_off_window(rt: Runtime) -> int:
    """Days over which an ENDING or EXPIRY_GRACE occurrence keeps being proposed."""
    return max(rules.ENDING_THRESHOLDS[0], rt.settings.program_grace_days) + 2


def _recent_one_off(conn: Connection, since: datetime) -> set[tuple[str, str, str]]:
    """Keys of the one-off alerts raised lately: skipped without an insert attempt (the
    unique index would refuse them anyway)."""
    rows = conn.execute(
        select(alerts.c.program_serial, alerts.c.kind, alerts.c.occurrence).where(
            alerts.c.raised_at >= since,
            alerts.c.kind.not_in([k.value for k in rules.CONDITION_KINDS]),
        )
    ).all()
    return {(r[0], r[1], r[2]) for r in rows}


def _figures(
    rt: Runtime,
    program: Program,
    now: datetime,
    balances: dict[str, Decimal],
    by_day: dict[date, Decimal],
) -> ProgramFigures:
    """The program's figures as the dashboard computes them (burn rate over complete days)."""
    today = local_day(now, program.timezone)
    complete = [d for d in by_day if d < today]
    last = max(complete) if complete else None
    rate = burn.burn_rate(by_day, last, program.start_date)
    prepaid = program.kind is ProgramKind.PREPAID
    balance = balances.get(program.serial, Decimal("0.00")) if prepaid else None
    expiry = follow_program_expiry(
        program.end_date, program.timezone, rt.settings.program_grace_days
    )
    return ProgramFigures(
        serial=program.serial,
        kind=program.kind,
        today=today,
        end_date=program.end_date,
        in_expiry_grace=program.end_at <= now < expiry,
        balance=balance,
        burn_per_day=rate,
        days_left=None if balance is None else burn.days_left(balance, rate),
        negative_since=program.negative_since if prepaid else None,
        suspended_since=_suspended_since(rt, program, today) if prepaid else None,
    )


def _suspended_since(rt: Runtime, program: Program, today: date) -> date | None:
    """The day the negative grace ran out (P7), if it has."""
    if program.negative_since is None:
        return None
    since = program.negative_since + timedelta(days=rt.settings.negative_grace_days)
    return since if today >= since else None


def _close(conn: Connection, serial: str, kind: AlertKind, now: datetime) -> None:
    conn.execute(
        update(alerts)
        .where(
            alerts.c.program_serial == serial,
            alerts.c.kind == kind.value,
            alerts.c.cleared_at.is_(None),
        )
        .values(cleared_at=now)
    )


def _row(program: Program, org: int, new: NewAlert, now: datetime) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "program_serial": program.serial,
        "organization_id": org,
        "account_id": program.account_id,
        "kind": new.kind.value,
        "occurrence": new.occurrence,
        "message": new.message,
        "figures": new.figures,
        "raised_at": now,
        "cleared_at": None,
    }


def _insert(conn: Connection, rt: Runtime, rows: list[dict[str, Any]], now: datetime) -> int:
    """Insert the alerts whose occurrence is not stored yet (the unique key skips the others,
    e.g. raised meanwhile by another node) and queue their deliveries; returns how many."""
    raised: list[tuple[int, int, AlertKind]] = []
    for chunk in chunks(rows, INSERT_CHUNK):
        statement = (
            insert_ignoring_conflicts(conn, alerts)
            .values(list(chunk))
            .returning(alerts.c.id, alerts.c.organization_id, alerts.c.kind)
        )
        raised += [(int(i), int(org), AlertKind(k)) for i, org, k in conn.execute(statement)]
    enqueue_deliveries(conn, rt.settings, raised, now)
    return len(raised)


# --------------------------------------------------------------------------- reading


def list_alerts(
    rt: Runtime, actor: Actor, *, open_only: bool = False, limit: int = 200
) -> list[StoredAlert]:
    """The alerts of the programs the actor sees, newest first."""
    with read(rt) as conn:
        query = select(alerts).order_by(alerts.c.raised_at.desc(), alerts.c.id.desc()).limit(limit)
        orgs = visible_organizations(conn, actor)
        if orgs is not None:
            query = query.where(alerts.c.organization_id.in_(sorted(orgs)))
        if open_only:
            query = query.where(and_(alerts.c.cleared_at.is_(None)))
        return [alert_from_row(r) for r in conn.execute(query).all()]


def acknowledge(rt: Runtime, actor: Actor, alert_id: int) -> StoredAlert:
    """Mark an alert seen (by whom, when); it stays in the list."""
    actor.require_write()
    now = rt.now()
    with write(rt) as conn:
        row = conn.execute(select(alerts).where(alerts.c.id == alert_id)).first()
        orgs = visible_organizations(conn, actor)
        if row is None or (orgs is not None and row.organization_id not in orgs):
            raise NotFound(f"alert {alert_id} not found")
        if row.acknowledged_at is None:
            conn.execute(
                update(alerts)
                .where(alerts.c.id == alert_id)
                .values(acknowledged_at=now, acknowledged_by=actor.name)
            )
            audit(
                conn, actor, now, "alert.acknowledge", "alert", alert_id, account_id=row.account_id
            )
        found = conn.execute(select(alerts).where(alerts.c.id == alert_id)).one()
        return alert_from_row(found)
