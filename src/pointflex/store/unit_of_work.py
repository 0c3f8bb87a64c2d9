"""A unit of work: one transaction and the typed queries of each area on it.

Services receive one (``with rt.unit(write=True) as uow``) and reach the database only
through its query objects, so a service can be run on fakes in unit tests
(tests/unit/services/) exactly as it runs on SQLite or PostgreSQL. ``conn`` is there for the
areas whose services still write SQL themselves; it is None in a fake unit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection, Engine

from pointflex.store.queries.accounts import AccountQueries, SqlAccounts
from pointflex.store.queries.alerts import AlertQueries, SqlAlerts
from pointflex.store.queries.audit import AuditTrail, SqlAudit
from pointflex.store.queries.configs import ConfigQueries, SqlConfigs
from pointflex.store.queries.programs import ProgramQueries, SqlPrograms
from pointflex.store.queries.scope import ScopeQueries, SqlScope
from pointflex.store.queries.usage import SqlUsage, UsageQueries
from pointflex.store.transactions import read_transaction, write_transaction


@dataclass(frozen=True)
class UnitOfWork:
    accounts: AccountQueries
    configs: ConfigQueries
    programs: ProgramQueries
    usage: UsageQueries
    alerts: AlertQueries
    scope: ScopeQueries
    audit: AuditTrail
    conn: Connection | None = None


class UnitFactory(Protocol):
    """Opens a unit of work: a write (BEGIN IMMEDIATE on SQLite) or one consistent read."""

    def __call__(self, *, write: bool) -> AbstractContextManager[UnitOfWork]: ...


def on_connection(conn: Connection) -> UnitOfWork:
    """The unit of work of a transaction already open on ``conn``."""
    return UnitOfWork(
        accounts=SqlAccounts(conn),
        configs=SqlConfigs(conn),
        programs=SqlPrograms(conn),
        usage=SqlUsage(conn),
        alerts=SqlAlerts(conn),
        scope=SqlScope(conn),
        audit=SqlAudit(conn),
        conn=conn,
    )


def sql_units(engine: Engine) -> UnitFactory:
    @contextmanager
    def open_unit(*, write: bool) -> Iterator[UnitOfWork]:
        transaction = write_transaction if write else read_transaction
        with transaction(engine) as conn:
            yield on_connection(conn)

    return open_unit
