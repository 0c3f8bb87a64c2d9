"""Programs and their points: registration and extension, packs, balances, grace (R1–R9, R55)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Connection, insert, select, update

from pointflex.bootstrap import Runtime
from pointflex.domain import programs as rules
from pointflex.domain.dates import local_day, zone
from pointflex.domain.programs import LedgerKind, Program, ProgramKind
from pointflex.errors import Duplicate, Forbidden, InvalidInput, NotFound, ProgramConflict
from pointflex.services.access.accounts import get_account
from pointflex.services.access.visibility import (
    visible_organizations_of,
    visible_program_of,
    visible_programs_of,
)
from pointflex.services.context import Actor, audit, read, record, write
from pointflex.store.queries.programs import LedgerLine, program_from_row
from pointflex.store.tables import point_ledger, programs
from pointflex.store.unit_of_work import on_connection


def load_program(conn: Connection, serial: str, *, for_update: bool = False) -> Program:
    query = select(programs).where(programs.c.serial == serial)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"program {serial} not found")
    return program_from_row(row)


def visible_program(conn: Connection, actor: Actor, serial: str) -> Program:
    """:func:`~pointflex.services.access.visibility.visible_program_of` on a bare connection."""
    return visible_program_of(on_connection(conn), actor, serial)


def register_program(
    rt: Runtime,
    actor: Actor,
    *,
    account_id: int,
    kind: ProgramKind,
    start_date: date,
    end_date: date,
    serial: str | None = None,
    timezone: str | None = None,
    has_support_coverage: bool = True,
) -> Program:
    """Register a contract. A second contract of a kind the account holds extends it (R2, R3)."""
    actor.require_write()
    rules.check_term(start_date, end_date)
    tz = timezone or rt.settings.default_timezone
    zone(tz)
    if serial is not None:
        rules.check_program_serial(serial)
    now = rt.now()
    with write(rt) as conn:
        account = get_account(conn, account_id)
        actor.require_account(account_id)
        if not account.is_root:
            raise ProgramConflict(
                f"account {account_id} is a member account; programs are registered to the "
                "organisation's root account"
            )
        current = _current_of_kind(conn, account_id, kind, now, rt.settings.program_grace_days)
        if current is not None:
            return _extend(rt, conn, actor, current, end_date, now)
        serial = serial or rules.new_program_serial(kind)
        if conn.execute(select(programs.c.serial).where(programs.c.serial == serial)).first():
            raise Duplicate(f"program {serial} already exists")
        values = {
            "serial": serial,
            "account_id": account_id,
            "kind": kind.value,
            "start_date": start_date,
            "end_date": end_date,
            "timezone": tz,
            "has_support_coverage": has_support_coverage,
            "negative_since": None,
            "created_at": now,
        }
        conn.execute(insert(programs).values(**values))
        audit(
            conn,
            actor,
            now,
            "program.register",
            "program",
            serial,
            account_id=account_id,
            after={k: str(v) for k, v in values.items()},
        )
        return load_program(conn, serial)


def _current_of_kind(
    conn: Connection, account_id: int, kind: ProgramKind, now: datetime, grace_days: int
) -> Program | None:
    rows = conn.execute(
        select(programs).where(programs.c.account_id == account_id, programs.c.kind == kind.value)
    ).all()
    for row in rows:
        program = program_from_row(row)
        # A program still running, or in its expiry grace, is "held" (R2): it gets extended.
        if now < rules.follow_program_expiry(program.end_date, program.timezone, grace_days):
            return program
    return None


def _extend(
    rt: Runtime, conn: Connection, actor: Actor, program: Program, end_date: date, now: datetime
) -> Program:
    from pointflex.services.entitlements.lifecycle import apply_expiry, follow_program_end

    if end_date <= program.end_date:
        return program
    # Entitlements whose grace already ran out stay expired: settle them before moving dates.
    apply_expiry(rt, conn, now, program_serial=program.serial)
    conn.execute(
        update(programs).where(programs.c.serial == program.serial).values(end_date=end_date)
    )
    extended = load_program(conn, program.serial)
    follow_program_end(conn, actor, extended, now)  # R45
    audit(
        conn,
        actor,
        now,
        "program.extend",
        "program",
        program.serial,
        account_id=program.account_id,
        before={"endDate": program.end_date.isoformat()},
        after={"endDate": end_date.isoformat()},
    )
    return extended


def list_programs(rt: Runtime, actor: Actor) -> list[Program]:
    with rt.unit(write=False) as uow:
        return visible_programs_of(uow, actor)


def visible_organizations(conn: Connection, actor: Actor) -> set[int] | None:
    found = visible_organizations_of(on_connection(conn), actor)
    return None if found is None else set(found)


def visible_programs(conn: Connection, actor: Actor) -> list[Program]:
    return visible_programs_of(on_connection(conn), actor)


def balance(rt: Runtime, actor: Actor, serial: str) -> Decimal:
    """R4: only a prepaid program has a balance."""
    return program_balance(rt, actor, serial)[1]


def program_balance(rt: Runtime, actor: Actor, serial: str) -> tuple[Program, Decimal]:
    """A prepaid program with its balance (R4: a postpaid one has none)."""
    with rt.unit(write=False) as uow:
        program = visible_program_of(uow, actor, serial)
        if program.kind is not ProgramKind.PREPAID:
            raise ProgramConflict(f"program {serial} is postpaid and has no point balance")
        return program, uow.programs.balance(serial)


def whole_points(amount: Decimal) -> int:
    """``programs/points`` reports an integer balance (OAS): rounded half up."""
    return int(amount.quantize(Decimal("1"), ROUND_HALF_UP))


def add_pack(rt: Runtime, actor: Actor, serial: str, points: int, reference: str = "") -> Decimal:
    """Add a point pack on today's program day (R7); returns the new balance."""
    rules.check_pack_size(points)
    return _credit(rt, actor, serial, LedgerKind.PACK, Decimal(points), reference=reference)


def adjust(rt: Runtime, actor: Actor, serial: str, points: Decimal, note: str) -> Decimal:
    """An operator's correction, positive or negative, with a reason."""
    if not note.strip():
        raise InvalidInput("an adjustment needs a note saying why")
    if points == 0:
        raise InvalidInput("an adjustment of 0 points changes nothing")
    return _credit(rt, actor, serial, LedgerKind.ADJUSTMENT, points, note=note)


def _credit(
    rt: Runtime,
    actor: Actor,
    serial: str,
    kind: LedgerKind,
    points: Decimal,
    *,
    reference: str = "",
    note: str = "",
) -> Decimal:
    actor.require_write()
    if actor.account_ids is not None:
        # Points are bought, not typed in: a customer's own users (API or portal, however
        # privileged in their scope) must never be able to credit their program.
        raise Forbidden("point packs and adjustments are made by the platform operator")
    now = rt.now()
    with rt.unit(write=True) as uow:
        program = visible_program_of(uow, actor, serial)
        if program.kind is not ProgramKind.PREPAID:
            raise ProgramConflict(f"program {serial} is postpaid; points are for prepaid programs")
        day = local_day(now, program.timezone)
        line = LedgerLine(day, kind, points, reference, note, now, actor.name)
        uow.programs.add_ledger_entry(serial, line)
        new_balance = uow.programs.balance(serial)
        if new_balance >= 0 and program.negative_since is not None:
            # R58: the cause is cleared; entitlements show ACTIVE again at once.
            uow.programs.clear_negative(serial)
        after = {"points": str(points), "balance": str(new_balance), "note": note}
        record(
            uow,
            actor,
            now,
            f"points.{kind.value.lower()}",
            ("program", serial),
            account_id=program.account_id,
            after=after,
        )
        return new_balance


@dataclass(frozen=True)
class LedgerEntry:
    id: int
    day: date
    kind: LedgerKind
    points: Decimal
    reference: str
    note: str
    created_at: datetime
    created_by: str


def ledger(rt: Runtime, actor: Actor, serial: str) -> list[LedgerEntry]:
    """A program's point ledger (packs, adjustments, forfeits), newest first."""
    with read(rt) as conn:
        visible_program(conn, actor, serial)
        rows = conn.execute(
            select(point_ledger)
            .where(point_ledger.c.program_serial == serial)
            .order_by(point_ledger.c.day.desc(), point_ledger.c.id.desc())
        ).all()
    return [
        LedgerEntry(
            id=r.id,
            day=r.day,
            kind=LedgerKind(r.kind),
            points=Decimal(r.points),
            reference=r.reference,
            note=r.note,
            created_at=r.created_at,
            created_by=r.created_by,
        )
        for r in rows
    ]
