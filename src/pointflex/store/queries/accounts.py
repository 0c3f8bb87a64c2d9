"""Organisations and accounts as stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, func, insert, select

from pointflex.domain.accounts import Account
from pointflex.store.tables import accounts, organizations


class AccountQueries(Protocol):
    def get(self, account_id: int) -> Account | None: ...

    def all(self) -> list[Account]:
        """Every account, in id order."""
        ...

    def highest_id(self) -> int | None: ...

    def add_organization(self, name: str, now: datetime) -> int: ...

    def organization_exists(self, organization_id: int) -> bool: ...

    def add(self, account: Account, now: datetime) -> None: ...


def _account(row: Any) -> Account:
    return Account(row.id, row.organization_id, row.name, row.is_root)


class SqlAccounts:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, account_id: int) -> Account | None:
        row = self._conn.execute(select(accounts).where(accounts.c.id == account_id)).first()
        return None if row is None else _account(row)

    def all(self) -> list[Account]:
        rows = self._conn.execute(select(accounts).order_by(accounts.c.id)).all()
        return [_account(r) for r in rows]

    def highest_id(self) -> int | None:
        found = self._conn.execute(select(func.max(accounts.c.id))).scalar()
        return None if found is None else int(found)

    def add_organization(self, name: str, now: datetime) -> int:
        statement = insert(organizations).values(name=name, created_at=now)
        return int(self._conn.execute(statement.returning(organizations.c.id)).scalar_one())

    def organization_exists(self, organization_id: int) -> bool:
        query = select(organizations.c.id).where(organizations.c.id == organization_id)
        return self._conn.execute(query).first() is not None

    def add(self, account: Account, now: datetime) -> None:
        self._conn.execute(
            insert(accounts).values(
                id=account.id,
                organization_id=account.organization_id,
                name=account.name,
                is_root=account.is_root,
                created_at=now,
            )
        )
