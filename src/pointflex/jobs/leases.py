"""One runner per job turn: a lease row per job, claimed by a guarded UPDATE.

``lease_until`` doubles as the job's next due time: a runner claims a job whose lease has run
out by moving it to "now + timeout" (so a crash frees it after the timeout), and on finishing
moves it to the next due time. The guarded UPDATE is atomic on both backends (SQLite
serialises writers; PostgreSQL re-checks the WHERE clause after a concurrent update commits),
so of several nodes exactly one wins each turn.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, or_, select, update

from pointflex.store.sql import insert_ignoring_conflicts, rowcount
from pointflex.store.tables import job_leases

L = job_leases


def claim(conn: Connection, job: str, holder: str, now: datetime, hold_until: datetime) -> bool:
    """Take ``job`` until ``hold_until`` if nobody holds it and it is due."""
    conn.execute(insert_ignoring_conflicts(conn, L).values(job=job, holder="", lease_until=None))
    taken = conn.execute(
        update(L)
        .where(L.c.job == job, or_(L.c.lease_until.is_(None), L.c.lease_until <= now))
        .values(holder=holder, lease_until=hold_until)
    )
    return rowcount(taken) == 1


def release(conn: Connection, job: str, holder: str, next_due: datetime) -> None:
    """Hand ``job`` back, due again at ``next_due``; a no-op if the lease was lost meanwhile.

    An empty holder marks the lease as released rather than held by a run in progress.
    """
    conn.execute(
        update(L)
        .where(L.c.job == job, L.c.holder == holder)
        .values(holder="", lease_until=next_due)
    )


def make_due(conn: Connection, job: str, now: datetime) -> None:
    """Make ``job`` due at once, unless a run holds it right now (it is never run twice)."""
    conn.execute(insert_ignoring_conflicts(conn, L).values(job=job, holder="", lease_until=None))
    conn.execute(
        update(L)
        .where(L.c.job == job, or_(L.c.holder == "", L.c.lease_until <= now))
        .values(lease_until=None)
    )


def leases(conn: Connection) -> dict[str, tuple[str, datetime | None]]:
    rows = conn.execute(select(L.c.job, L.c.holder, L.c.lease_until)).all()
    return {r.job: (r.holder, r.lease_until) for r in rows}
