"""Monthly statements: every charge of a month by day and entitlement, totals by
configuration, the month's ledger entries and, for prepaid programs, the reconciliation
opening + credits − consumption = closing, checked before anything is shown.

The summary figures are the existing :func:`usage.statement_of_month`; this module adds the
charge lines (one ordered query), the ledger entries and the cross-checks, all read in one
transaction so that a concurrent accrual cannot make the parts disagree. A statement whose
parts do not agree is refused (:class:`StatementDoesNotReconcile`), never shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select

from pointflex.bootstrap import Runtime
from pointflex.domain.money import to_points
from pointflex.domain.programs import LedgerKind, Program, ProgramKind
from pointflex.domain.usage import Statement, month_bounds
from pointflex.errors import InvalidDate, StatementDoesNotReconcile
from pointflex.services.access.accounts import get_account, organization_accounts
from pointflex.services.context import Actor, read
from pointflex.services.points.programs import LedgerEntry, visible_program
from pointflex.services.points.usage import statement_of_month
from pointflex.store.tables import accrual_runs, configurations, consumption, point_ledger
from pointflex.store.unit_of_work import on_connection

CO = consumption


@dataclass(frozen=True)
class ChargeLine:
    day: date
    serial: str
    config_id: int
    config_name: str
    product_type: str
    points: Decimal


@dataclass(frozen=True)
class ConfigTotal:
    config_id: int
    name: str
    product_type: str
    entitlements: int
    charges: int  # entitlement-days charged
    points: Decimal


@dataclass(frozen=True)
class MonthlyStatement:
    program: Program
    account_name: str
    summary: Statement
    through: date | None  # the last day of the month accrued (None: none yet)
    # The actor sees only some accounts of the organisation: the charges are theirs only and
    # the program's balance is not part of the statement (R65).
    partial: bool
    ledger: list[LedgerEntry]
    lines: list[ChargeLine]
    totals: list[ConfigTotal]
    generated_at: datetime

    @property
    def month(self) -> date:
        return self.summary.month

    @property
    def last_day(self) -> date:
        return month_bounds(self.summary.month)[1]

    @property
    def complete(self) -> bool:
        return self.through == self.last_day

    @property
    def prepaid(self) -> bool:
        return self.program.kind is ProgramKind.PREPAID

    @property
    def shows_balance(self) -> bool:
        return self.prepaid and not self.partial

    @property
    def status_note(self) -> str:
        if self.complete:
            return "Complete month."
        if self.through is None:
            return "Not complete: no day of this month has been charged yet."
        return f"Not complete: charged through {self.through.isoformat()}."

    def to_json(self) -> dict[str, Any]:
        s = self.summary
        body: dict[str, Any] = {
            "programSerialNumber": self.program.serial,
            "kind": self.program.kind.value,
            "accountId": self.program.account_id,
            "month": f"{s.month:%Y-%m}",
            "complete": self.complete,
            "chargedThrough": None if self.through is None else self.through.isoformat(),
            "partialScope": self.partial,
            "consumption": f"{s.consumption:.2f}",
            "byConfiguration": [
                {
                    "configId": t.config_id,
                    "name": t.name,
                    "productType": t.product_type,
                    "entitlements": t.entitlements,
                    "charges": t.charges,
                    "points": f"{t.points:.2f}",
                }
                for t in self.totals
            ],
            "ledger": [
                {
                    "day": e.day.isoformat(),
                    "kind": e.kind.value,
                    "points": f"{e.points:.2f}",
                    "reference": e.reference,
                    "note": e.note,
                }
                for e in self.ledger
            ],
            "charges": [
                {
                    "day": c.day.isoformat(),
                    "serial": c.serial,
                    "configId": c.config_id,
                    "configName": c.config_name,
                    "productType": c.product_type,
                    "points": f"{c.points:.2f}",
                }
                for c in self.lines
            ],
        }
        if self.shows_balance:
            body.update(
                opening=f"{s.opening:.2f}", credits=f"{s.credits:.2f}", closing=f"{s.closing:.2f}"
            )
        return body


# Months a statement can be asked for: the day after a month must exist as a date (9999-12
# has none), and no program of this service began before 1970.
FIRST_MONTH, LAST_MONTH = date(1970, 1, 1), date(9998, 12, 1)


def parse_month(text: str) -> date:
    """``YYYY-MM`` as the first day of that month (1970-01 to 9998-12)."""
    raw = text.strip()
    try:
        if len(raw) != len("YYYY-MM") or raw[4] != "-" or not (raw[:4] + raw[5:]).isascii():
            raise ValueError(raw)
        first = date(int(raw[:4]), int(raw[5:]), 1)
    except ValueError as exc:
        raise InvalidDate(f"month {text!r} is not in the format YYYY-MM (e.g. 2026-05)") from exc
    if not FIRST_MONTH <= first <= LAST_MONTH:
        raise InvalidDate(
            f"month {text!r} is out of range: {FIRST_MONTH:%Y-%m} to {LAST_MONTH:%Y-%m}"
        )
    return first


def statement(
    rt: Runtime, actor: Actor, program_serial: str, month: date | str
) -> MonthlyStatement:
    """The statement of ``month`` (a date in it, or ``YYYY-MM``) for a program the actor sees."""
    first = parse_month(month) if isinstance(month, str) else month.replace(day=1)
    serial = program_serial.strip().upper()
    with read(rt) as conn:
        program = visible_program(conn, actor, serial)
        account = get_account(conn, program.account_id)
        members = set(organization_accounts(conn, account.organization_id))
        partial = actor.account_ids is not None and not members <= actor.account_ids
        summary = statement_of_month(on_connection(conn), actor, serial, first)
        lines = _lines(rt, conn, actor, serial, first)
        entries = _ledger(conn, serial, first)
        through = _through(conn, serial, first)
        closing_check = _closing_from_totals(conn, serial, first)
    result = MonthlyStatement(
        program=program,
        account_name=account.name,
        summary=summary,
        through=through,
        partial=partial,
        ledger=entries,
        lines=lines,
        totals=_totals(lines),
        generated_at=rt.now(),
    )
    problems = reconcile(result, closing_check)
    if problems:
        raise StatementDoesNotReconcile(
            f"the statement of {serial} for {first:%Y-%m} does not reconcile: "
            + "; ".join(problems)
        )
    return result


def reconcile(st: MonthlyStatement, closing_from_totals: Decimal) -> list[str]:
    """Every way the statement's parts must agree; the list of disagreements (empty: none)."""
    s = st.summary
    problems: list[str] = []
    lines_total = sum((c.points for c in st.lines), Decimal("0.00"))
    if lines_total != s.consumption:
        problems.append(f"charge lines total {lines_total} but consumption is {s.consumption}")
    by_config = {int(r.key): Decimal(r.points) for r in s.by_configuration}
    from_lines = {t.config_id: t.points for t in st.totals}
    if by_config != from_lines:
        problems.append("totals by configuration differ from the charge lines")
    if st.shows_balance:
        ledger_total = sum((e.points for e in st.ledger), Decimal("0.00"))
        if ledger_total != s.credits:
            problems.append(f"ledger entries total {ledger_total} but credits are {s.credits}")
        if s.opening + s.credits - s.consumption != s.closing:
            problems.append("opening + credits − consumption is not the closing balance")
        if s.closing != closing_from_totals:
            problems.append(
                f"closing balance {s.closing} differs from the daily totals' {closing_from_totals}"
            )
    return problems


def _lines(
    rt: Runtime, conn: Connection, actor: Actor, serial: str, first: date
) -> list[ChargeLine]:
    """Every charge of the month, by day then serial: one ordered query."""
    _, last = month_bounds(first)
    query = (
        select(
            CO.c.day,
            CO.c.serial,
            CO.c.config_id,
            configurations.c.name,
            configurations.c.product_type_id,
            CO.c.points,
        )
        .join(configurations, configurations.c.id == CO.c.config_id)
        .where(CO.c.program_serial == serial, CO.c.day >= first, CO.c.day <= last)
        .order_by(CO.c.day, CO.c.serial)
    )
    if actor.account_ids is not None:
        query = query.where(CO.c.account_id.in_(sorted(actor.account_ids)))
    names: dict[int, str] = {}

    def product(type_id: int) -> str:
        if type_id not in names:
            names[type_id] = rt.catalog.product(type_id).name
        return names[type_id]

    return [
        ChargeLine(day, s, int(cid), name, product(int(ptype)), to_points(points))
        for day, s, cid, name, ptype, points in conn.execute(query)
    ]


def _totals(lines: list[ChargeLine]) -> list[ConfigTotal]:
    found: dict[int, tuple[str, str, set[str], int, Decimal]] = {}
    for c in lines:
        name, product, serials, charges, points = found.get(
            c.config_id, (c.config_name, c.product_type, set(), 0, Decimal("0.00"))
        )
        serials.add(c.serial)
        found[c.config_id] = (name, product, serials, charges + 1, points + c.points)
    return [
        ConfigTotal(cid, name, product, len(serials), charges, points)
        for cid, (name, product, serials, charges, points) in sorted(found.items())
    ]


def _ledger(conn: Connection, serial: str, first: date) -> list[LedgerEntry]:
    _, last = month_bounds(first)
    rows = conn.execute(
        select(point_ledger)
        .where(
            point_ledger.c.program_serial == serial,
            point_ledger.c.day >= first,
            point_ledger.c.day <= last,
        )
        .order_by(point_ledger.c.day, point_ledger.c.id)
    ).all()
    return [
        LedgerEntry(
            id=r.id,
            day=r.day,
            kind=LedgerKind(r.kind),
            points=to_points(r.points),
            reference=r.reference,
            note=r.note,
            created_at=r.created_at,
            created_by=r.created_by,
        )
        for r in rows
    ]


def _through(conn: Connection, serial: str, first: date) -> date | None:
    _, last = month_bounds(first)
    found: date | None = conn.execute(
        select(func.max(accrual_runs.c.day)).where(
            accrual_runs.c.program_serial == serial,
            accrual_runs.c.day >= first,
            accrual_runs.c.day <= last,
        )
    ).scalar()
    return found


def _closing_from_totals(conn: Connection, serial: str, first: date) -> Decimal:
    """The closing balance computed another way: the ledger through the month's end less the
    accrual's daily totals (``accrual_runs``, not the consumption rows the summary sums)."""
    following = month_bounds(first)[1] + timedelta(days=1)
    credited = conn.execute(
        select(func.coalesce(func.sum(point_ledger.c.points), 0)).where(
            point_ledger.c.program_serial == serial, point_ledger.c.day < following
        )
    ).scalar_one()
    consumed = conn.execute(
        select(func.coalesce(func.sum(accrual_runs.c.points), 0)).where(
            accrual_runs.c.program_serial == serial, accrual_runs.c.day < following
        )
    ).scalar_one()
    return to_points(Decimal(credited) - Decimal(consumed))
