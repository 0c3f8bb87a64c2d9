"""The day's charges written set-based: two INSERT … SELECT statements per program day.

Entitlements whose status and configuration did not change since the day began are charged
straight from their current row (the fast path); the others from their event history, at the
highest rate in effect while in a charged status (R12–R18). Each dialect gets the plan that
is fastest on it (see the comments); the results are the same (tests/integration).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    column,
    func,
    insert,
    literal,
    select,
    text,
    true,
    union_all,
    values,
)

from pointflex.domain.dates import DayWindow
from pointflex.domain.entitlements import CHARGED_STATUSES
from pointflex.store.tables import config_day_rates, consumption, entitlement_events, entitlements
from pointflex.store.types import Points, UTCDateTime

E = entitlements
EV = entitlement_events
CHARGED = sorted(s.value for s in CHARGED_STATUSES)  # R12: the statuses a day is charged in


COLUMNS = ["serial", "day", "program_serial", "account_id", "config_id", "points"]

# SQLite: CROSS JOIN keeps ``entitlements`` as the outer loop and the unary plus keeps its
# indexes out, so the table is read in row order and the consumption key is filled in order —
# several times faster than letting the planner walk an index and insert at random.
_UNCHANGED_SQLITE = text(
    """
    INSERT INTO consumption (serial, day, program_serial, account_id, config_id, points)
    SELECT e.serial, :day, e.program_serial, e.account_id, e.config_id, r.points
    FROM entitlements AS e CROSS JOIN config_day_rates AS r
      ON r.config_id = e.config_id AND r.day = :day
    WHERE +e.program_serial = :program AND +e.changed_at < :start AND e.status IN :charged
    """
).bindparams(
    bindparam("day", type_=Date()),
    bindparam("start", type_=UTCDateTime()),
    bindparam("program", type_=String()),
    bindparam("charged", expanding=True),
)


Charged = tuple[int, Decimal] | None  # rows and points inserted, when the database says


def _insert_charges(conn: Connection, source: Select[Any]) -> Charged:
    """INSERT … SELECT; on PostgreSQL the same statement also counts and sums what it wrote,
    which saves reading the day back."""
    statement = insert(consumption).from_select(COLUMNS, source)
    if conn.dialect.name != "postgresql":
        conn.execute(statement)
        return None
    written = statement.returning(consumption.c.points).cte("written")
    count, total = conn.execute(
        select(func.count(), func.coalesce(func.sum(written.c.points), 0))
    ).one()
    return int(count), Decimal(total)


def charge_unchanged(
    conn: Connection, program_serial: str, window: DayWindow, day_rates: dict[int, Decimal]
) -> Charged:
    """The fast path: ACTIVE all day long on one configuration, read from the current row."""
    params = {"day": window.day, "start": window.start, "program": program_serial}
    if conn.dialect.name == "sqlite":
        conn.execute(_UNCHANGED_SQLITE, {**params, "charged": CHARGED})
        return None
    if not day_rates:
        return 0, Decimal("0")
    # The day's rates go in as a VALUES list: the planner knows their exact number with no
    # ANALYZE (once per program-day, it cost more than the charge itself at 1,000 programs)
    # and no scan of config_day_rates, which grows by every configuration every day. Without
    # nested loops it hashes them and reads the entitlements once, by the program's index or,
    # for a big program, sequentially, inserting in row order; JIT costs more than it saves
    # on a statement run once a day.
    conn.execute(text("SET LOCAL jit = off"))
    conn.execute(text("SET LOCAL enable_nestloop = off"))
    rates = values(column("config_id", Integer), column("points", Points()), name="day_rates").data(
        sorted(day_rates.items())
    )
    source = (
        select(
            E.c.serial,
            literal(window.day),
            E.c.program_serial,
            E.c.account_id,
            E.c.config_id,
            rates.c.points,
        )
        .join(rates, rates.c.config_id == E.c.config_id)
        .where(
            E.c.program_serial == program_serial,
            E.c.changed_at < window.start,
            E.c.status.in_(CHARGED),
        )
    )
    charged = _insert_charges(conn, source)
    conn.execute(text("SET LOCAL enable_nestloop = on"))
    return charged


def charge_changed(conn: Connection, program_serial: str, window: DayWindow) -> Charged:
    """Entitlements whose status or configuration changed since the day began.

    The states in effect during the day are the one in effect at its first instant (the last
    event at or before it) and every later event in it; the day is charged if any was ACTIVE,
    at the highest rate among those (R12, R18).
    """
    changed = (
        select(E.c.serial)
        # No need to exclude entitlements created after the day: they have no state in it.
        .where(E.c.program_serial == program_serial, E.c.changed_at >= window.start)
        .subquery("changed")
    )
    states = union_all(
        _state_at_start(conn, changed, window), _states_during(conn, changed, window)
    )
    rows = states.subquery("states")
    rates = config_day_rates
    ranked = (
        select(
            rows.c.serial,
            rows.c.account_id,
            rows.c.config_id,
            rates.c.points,
            func.row_number()
            .over(partition_by=rows.c.serial, order_by=(rates.c.points.desc(), rows.c.config_id))
            .label("rank"),
        )
        .join(rates, and_(rates.c.config_id == rows.c.config_id, rates.c.day == window.day))
        .where(rows.c.status.in_(CHARGED))
        .subquery("ranked")
    )
    source = select(
        ranked.c.serial,
        literal(window.day),
        literal(program_serial),
        ranked.c.account_id,
        ranked.c.config_id,
        ranked.c.points,
    ).where(ranked.c.rank == 1)
    return _insert_charges(conn, source)


def _state_at_start(conn: Connection, changed: Any, window: DayWindow) -> Select[Any]:
    """The last event at or before the day's first instant, per changed serial."""
    prior = entitlement_events.alias("prior")
    latest = (
        select(prior.c.serial, prior.c.status, prior.c.config_id, prior.c.account_id)
        .where(prior.c.serial == changed.c.serial, prior.c.at <= window.start)
        .order_by(prior.c.at.desc(), prior.c.id.desc())
        .limit(1)
    )
    if conn.dialect.name == "postgresql":
        # LATERAL makes PostgreSQL walk the (serial, at) index once per changed serial.
        state = latest.lateral("state")
        return select(
            state.c.serial, state.c.status, state.c.config_id, state.c.account_id
        ).select_from(changed.join(state, true()))
    latest_id = latest.with_only_columns(prior.c.id).correlate(changed).scalar_subquery()
    return select(EV.c.serial, EV.c.status, EV.c.config_id, EV.c.account_id).select_from(
        changed.join(EV, EV.c.id == latest_id)
    )


def _states_during(conn: Connection, changed: Any, window: DayWindow) -> Select[Any]:
    """Every event after the day's first instant and before its end, per changed serial."""
    during = select(EV.c.serial, EV.c.status, EV.c.config_id, EV.c.account_id).where(
        EV.c.at > window.start, EV.c.at < window.end
    )
    if conn.dialect.name == "postgresql":
        events = during.where(EV.c.serial == changed.c.serial).lateral("during")
        return select(
            events.c.serial, events.c.status, events.c.config_id, events.c.account_id
        ).select_from(changed.join(events, true()))
    return during.select_from(changed.join(EV, EV.c.serial == changed.c.serial))
