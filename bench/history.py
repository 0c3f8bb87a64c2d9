"""Set-based accrual history for the scale benchmark (PostgreSQL): the rows the daily accrual
would have written for days on which nothing changed, plus the point packs that fund them.

The real accrual runs one transaction per program and day; for 1,000 programs and a month
that is 30,000 transactions, far too slow to seed with. On a day when no entitlement changes
(the seeded ones were all created, and the stopped ones stopped, before the first day) the
accrual's result is fully determined: one ``consumption`` row per ACTIVE entitlement at its
configuration's rate for the day, the rate in ``config_day_rates``, one ``accrual_runs`` row
per program with the day's total and count, and the negative-balance flag (R55) of prepaid
programs whose balance fell below zero. That is what is written here, day by day, with the
rates computed by the same price book the accrual uses. The benchmark then lets the real
accrual charge the next day and checks its rates and row count against this history.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Engine, select, text
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint, DropIndex

from bench.seed import AccountPlan
from pointflex.domain.programs import ProgramKind
from pointflex.services.points.prices import price_book
from pointflex.store.queries.configs import values_from_json
from pointflex.store.tables import configurations, consumption

PACK = 50_000

_CONSUMPTION_SQL = """
INSERT INTO consumption (serial, day, program_serial, account_id, config_id, points)
SELECT e.serial, :day, e.program_serial, e.account_id, e.config_id, r.points
FROM entitlements AS e JOIN config_day_rates AS r ON r.config_id = e.config_id AND r.day = :day
WHERE e.status = 'ACTIVE'
ORDER BY e.serial
"""

# Every program has a run row for every day, even with nothing charged (as the accrual).
_RUNS_SQL = """
INSERT INTO accrual_runs (program_serial, day, points, entitlements, completed_at)
WITH counts AS (
    SELECT program_serial, config_id, count(*) AS n FROM entitlements
    WHERE status = 'ACTIVE' GROUP BY program_serial, config_id
)
SELECT p.serial, d.day::date, coalesce(sum(r.points * c.n), 0), coalesce(sum(c.n), 0),
    d.day::date + interval '1 day 1 hour'
FROM programs AS p
CROSS JOIN generate_series(CAST(:first AS date), CAST(:last AS date), interval '1 day') AS d(day)
LEFT JOIN counts AS c ON c.program_serial = p.serial
LEFT JOIN config_day_rates AS r ON r.config_id = c.config_id AND r.day = d.day::date
GROUP BY p.serial, d.day
"""

# Packs of 50,000 points on the first day, enough for cover_days of the program's burn:
# uneven, so that some programs run low or negative within the month (alerts have work).
_PACKS_SQL = """
INSERT INTO point_ledger (program_serial, day, kind, points, reference, note, created_at,
    created_by)
SELECT p.serial, :first, 'PACK', :pack, 'scale pack ' || g.k, '', :at, 'bench'
FROM unnest(CAST(:serials AS text[]), CAST(:packs AS int[])) AS p(serial, packs)
CROSS JOIN LATERAL generate_series(1, p.packs) AS g(k)
"""

# The first day after which a prepaid balance was below zero: negative_since is the next day.
_NEGATIVE_SQL = """
WITH credited AS (
    SELECT program_serial, sum(points) AS points FROM point_ledger GROUP BY program_serial
), running AS (
    SELECT r.program_serial, r.day,
        coalesce(c.points, 0) - sum(r.points) OVER (
            PARTITION BY r.program_serial ORDER BY r.day) AS balance
    FROM accrual_runs AS r LEFT JOIN credited AS c ON c.program_serial = r.program_serial
), first_negative AS (
    SELECT program_serial, min(day) AS day FROM running WHERE balance < 0
    GROUP BY program_serial
)
UPDATE programs AS p SET negative_since = f.day + 1
FROM first_negative AS f
WHERE p.serial = f.program_serial AND p.kind = 'PREPAID'
"""


def daily_rates(engine: Engine, first: date, last: date) -> None:
    """Each configuration's rate for each day, from the price book (as the accrual)."""
    with engine.begin() as conn:
        book = price_book(conn)
        rows = conn.execute(
            select(
                configurations.c.id,
                configurations.c.product_type_id,
                configurations.c.parameters,
            )
        ).all()
        payload = []
        day = first
        while day <= last:
            for config_id, product, parameters in rows:
                rate = book.rate(product, values_from_json(parameters), day)
                payload.append({"config_id": config_id, "day": day, "points": rate})
            day += timedelta(days=1)
        conn.execute(
            text(
                "INSERT INTO config_day_rates (config_id, day, points) "
                "VALUES (:config_id, :day, :points)"
            ),
            payload,
        )


def burn_per_day(engine: Engine, day: date) -> dict[str, Decimal]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT e.program_serial, sum(r.points) FROM entitlements AS e "
                "JOIN config_day_rates AS r ON r.config_id = e.config_id AND r.day = :day "
                "WHERE e.status = 'ACTIVE' GROUP BY e.program_serial"
            ),
            {"day": day},
        ).all()
    return {serial: Decimal(points) for serial, points in rows}


def seed_history(engine: Engine, plans: list[AccountPlan], first: date, last: date) -> int:
    """Accrued days ``first`` … ``last`` for every program; returns consumption rows written."""
    daily_rates(engine, first, last)
    burn = burn_per_day(engine, first)
    prepaid = [p for p in plans if p.kind is ProgramKind.PREPAID]
    # Cover from 20 to ~400 days of burn, spread over the accounts.
    packs = [
        max(1, int(burn.get(p.program, Decimal(0)) * (20 + (i * 37) % 380) / PACK) + 1)
        for i, p in enumerate(prepaid)
    ]
    written = 0
    with engine.begin() as conn:
        conn.execute(
            text(_PACKS_SQL),
            {
                "first": first,
                "pack": PACK,
                "at": datetime.combine(first, time(8), tzinfo=UTC),
                "serials": [p.program for p in prepaid],
                "packs": packs,
            },
        )
    # Without its key and index the table takes a month of rows several times faster; they
    # are built afterwards in one sort each (the same definitions, from the metadata).
    key, index = consumption.primary_key, next(iter(consumption.indexes))
    with engine.begin() as conn:
        conn.execute(DropIndex(index))
        conn.execute(DropConstraint(key))
    day = first
    while day <= last:
        # One transaction per day keeps each statement's footprint to one day's rows.
        with engine.begin() as conn:
            written += conn.execute(text(_CONSUMPTION_SQL), {"day": day}).rowcount
        day += timedelta(days=1)
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        conn.execute(AddConstraint(key))
        conn.execute(CreateIndex(index))
    with engine.begin() as conn:
        conn.execute(text(_RUNS_SQL), {"first": first, "last": last})
        conn.execute(text(_NEGATIVE_SQL))
    return written
