"""Programs as stored, and their points: the balance and the sums statements are made of."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import Connection, func, insert, select, update

from pointflex.domain.money import to_points
from pointflex.domain.programs import LedgerKind, Program, ProgramKind
from pointflex.store.tables import accounts, accrual_runs, consumption, point_ledger, programs


def program_from_row(row: object) -> Program:
    return program_from_mapping(row._mapping)  # type: ignore[attr-defined]


def program_from_mapping(r: Mapping[str, Any]) -> Program:
    return Program(
        serial=r["serial"],
        account_id=r["account_id"],
        kind=ProgramKind(r["kind"]),
        start_date=r["start_date"],
        end_date=r["end_date"],
        timezone=r["timezone"],
        has_support_coverage=r["has_support_coverage"],
        negative_since=r["negative_since"],
    )


class ProgramQueries(Protocol):
    def get(self, serial: str) -> Program | None: ...

    def of_organizations(self, organizations: Collection[int] | None) -> list[Program]:
        """Programs whose account is in one of ``organizations`` (None: all), serial order."""
        ...

    def balance(self, serial: str) -> Decimal:
        """Everything credited or debited in the ledger minus the accrued days (R4)."""
        ...

    def credited(self, serial: str, start: date | None, end: date) -> Decimal:
        """Ledger entries dated in [start, end); from the first when ``start`` is None."""
        ...

    def consumed_before(self, serial: str, day: date) -> Decimal: ...

    def add_ledger_entry(self, serial: str, entry: LedgerLine) -> None: ...

    def clear_negative(self, serial: str) -> None:
        """The balance is no longer negative: the program leaves its grace (R58)."""
        ...


@dataclass(frozen=True)
class LedgerLine:
    """A credit or debit to add to a program's ledger."""

    day: date
    kind: LedgerKind
    points: Decimal
    reference: str
    note: str
    created_at: datetime
    created_by: str


class SqlPrograms:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, serial: str) -> Program | None:
        row = self._conn.execute(select(programs).where(programs.c.serial == serial)).first()
        return None if row is None else program_from_row(row)

    def of_organizations(self, organizations: Collection[int] | None) -> list[Program]:
        query = select(programs).order_by(programs.c.serial)
        if organizations is not None:
            query = query.join(accounts, accounts.c.id == programs.c.account_id).where(
                accounts.c.organization_id.in_(sorted(organizations))
            )
        return [program_from_row(r) for r in self._conn.execute(query).all()]

    def balance(self, serial: str) -> Decimal:
        credited = self._sum(point_ledger.c.points, point_ledger.c.program_serial == serial)
        consumed = self._sum(accrual_runs.c.points, accrual_runs.c.program_serial == serial)
        return to_points(credited - consumed)

    def credited(self, serial: str, start: date | None, end: date) -> Decimal:
        L = point_ledger
        where = [L.c.program_serial == serial, L.c.day < end]
        if start is not None:
            where.append(L.c.day >= start)
        return to_points(self._sum(L.c.points, *where))

    def consumed_before(self, serial: str, day: date) -> Decimal:
        CO = consumption
        return self._sum(CO.c.points, CO.c.program_serial == serial, CO.c.day < day)

    def add_ledger_entry(self, serial: str, entry: LedgerLine) -> None:
        self._conn.execute(
            insert(point_ledger).values(
                program_serial=serial, **{**entry.__dict__, "kind": entry.kind.value}
            )
        )

    def clear_negative(self, serial: str) -> None:
        self._conn.execute(
            update(programs).where(programs.c.serial == serial).values(negative_since=None)
        )

    def _sum(self, column: Any, *where: Any) -> Decimal:
        total = self._conn.execute(select(func.coalesce(func.sum(column), 0)).where(*where))
        return Decimal(total.scalar_one())
