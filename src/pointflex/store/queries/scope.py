"""Who owns what: programs' accounts and accounts' organisations, for the scope rules (R63–R65)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from sqlalchemy import Connection, select

from pointflex.store.tables import accounts, programs


class ScopeQueries(Protocol):
    def program_account(self, program_serial: str) -> int | None:
        """The account a program is registered to; None for no such program."""
        ...

    def organization_of(self, account_id: int) -> int | None:
        """The account's organisation; None for no such account."""
        ...

    def organization_accounts(self, organization_id: int) -> frozenset[int]: ...

    def organizations_of(self, account_ids: Collection[int]) -> frozenset[int]: ...


class SqlScope:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def program_account(self, program_serial: str) -> int | None:
        found = self._conn.execute(
            select(programs.c.account_id).where(programs.c.serial == program_serial)
        ).scalar()
        return None if found is None else int(found)

    def organization_of(self, account_id: int) -> int | None:
        found = self._conn.execute(
            select(accounts.c.organization_id).where(accounts.c.id == account_id)
        ).scalar()
        return None if found is None else int(found)

    def organization_accounts(self, organization_id: int) -> frozenset[int]:
        rows = self._conn.execute(
            select(accounts.c.id).where(accounts.c.organization_id == organization_id)
        ).scalars()
        return frozenset(int(r) for r in rows)

    def organizations_of(self, account_ids: Collection[int]) -> frozenset[int]:
        rows = self._conn.execute(
            select(accounts.c.organization_id).where(accounts.c.id.in_(sorted(account_ids)))
        ).scalars()
        return frozenset(int(r) for r in rows)
