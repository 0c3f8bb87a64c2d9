"""Reading entitlements: the records services return, shown statuses, filters, pagination."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    case,
    false,
    literal,
    or_,
    select,
)

from pointflex.bootstrap import Runtime
from pointflex.domain import entitlements as rules
from pointflex.domain.catalog import FormFactor
from pointflex.domain.entitlements import (
    SHOWN_STATUS_RULES,
    EntitlementView,
    ShownIf,
    Status,
    TerminationMode,
)
from pointflex.domain.programs import Program, follow_program_expiry
from pointflex.errors import NotFound
from pointflex.services.context import Actor
from pointflex.services.points.programs import load_program
from pointflex.store.queries.programs import program_from_mapping, program_from_row
from pointflex.store.sql import chunks
from pointflex.store.tables import configurations, entitlements, programs

E = entitlements
_SHOWN_MISSING = 5  # serials named in a not-found message


@dataclass(frozen=True)
class Entitlement:
    serial: str
    account_id: int
    config_id: int
    config_name: str
    program_serial: str
    product_type_id: int
    form_factor: FormFactor
    description: str
    folder_path: str
    status: Status  # as shown: GRACE_PERIOD and read-time EXPIRED included
    stored_status: Status
    token: str | None
    token_status: str | None
    start_at: datetime
    end_at: datetime
    termination_mode: TerminationMode
    removed_at: datetime | None
    timezone: str

    def view(self) -> EntitlementView:
        return EntitlementView(
            serial=self.serial,
            form_factor=self.form_factor,
            product_type_id=self.product_type_id,
            status=self.status,
            end_at=self.end_at,
            termination_mode=self.termination_mode,
            removed=self.removed_at is not None,
        )


@dataclass
class ProgramFacts:
    """Per-program facts needed to show statuses, computed once per read."""

    runtime: Runtime
    now: datetime
    cache: dict[str, Program] = field(default_factory=dict)
    # Per program serial: lists show thousands of entitlements of a handful of programs.
    _expiry: dict[str, datetime] = field(default_factory=dict)
    _grace: dict[tuple[str, datetime], bool] = field(default_factory=dict)

    def program(self, conn: Connection, serial: str) -> Program:
        if serial not in self.cache:
            self.cache[serial] = load_program(conn, serial)
        return self.cache[serial]

    def remember(self, row: Any) -> None:
        """Keep the program joined into an entitlement row (see :func:`with_programs`)."""
        if row.program_serial not in self.cache:
            self.cache[row.program_serial] = program_from_prefixed(row)

    def all_programs(self, conn: Connection) -> list[Program]:
        """Every program, read in one query (and remembered for this read)."""
        for row in conn.execute(select(programs)).all():
            self.cache.setdefault(row.serial, program_from_row(row))
        return list(self.cache.values())

    def follow_expiry(self, program: Program) -> datetime:
        found = self._expiry.get(program.serial)
        if found is None:
            found = self._expiry[program.serial] = follow_program_expiry(
                program.end_date, program.timezone, self.runtime.settings.program_grace_days
            )
        return found

    def in_grace(self, program: Program) -> bool:
        key = (program.serial, self.now)  # ``now`` may move forward (read under a lock)
        found = self._grace.get(key)
        if found is None:
            grace = timedelta(days=self.runtime.settings.negative_grace_days)
            found = self._grace[key] = program.grace(self.now, grace).in_grace
        return found


def shown_status(facts: ProgramFacts, conn: Connection, row: Any) -> Status:
    return status_as_shown(
        facts,
        facts.program(conn, row.program_serial),
        Status(row.status),
        TerminationMode(row.termination_mode),
        row.end_at,
    )


def status_as_shown(
    facts: ProgramFacts, program: Program, stored: Status, mode: TerminationMode, end_at: datetime
) -> Status:
    """GRACE_PERIOD and read-time EXPIRED (P11), by the domain's rule."""
    expires = end_at if mode is TerminationMode.USER_DEFINED else facts.follow_expiry(program)
    in_grace = stored is Status.ACTIVE and facts.in_grace(program)
    return rules.shown_status(stored, facts.now, expires, in_grace)


def shown_status_sql(conn: Connection, facts: ProgramFacts) -> ColumnElement[str]:
    """The shown status as a SQL expression, so that status filters run in the database.

    Built from the domain's ``SHOWN_STATUS_RULES``, each fact turned into a condition on the
    row; the per-program facts (expired, in grace) are computed here once per read.
    """
    follow_expired: list[str] = []
    in_grace: list[str] = []
    for program in facts.all_programs(conn):
        serial = program.serial
        if facts.now >= facts.follow_expiry(program):
            follow_expired.append(serial)
        if facts.in_grace(program):
            in_grace.append(serial)
    follow_cond = E.c.program_serial.in_(follow_expired) if follow_expired else false()
    grace_cond = E.c.program_serial.in_(in_grace) if in_grace else false()
    holds: dict[ShownIf, ColumnElement[bool]] = {
        ShownIf.STORED_EXPIRED: E.c.status == Status.EXPIRED.value,
        ShownIf.PAST_EXPIRY: or_(
            and_(
                E.c.termination_mode == TerminationMode.USER_DEFINED.value,
                E.c.end_at <= facts.now,
            ),
            and_(E.c.termination_mode == TerminationMode.FOLLOW_PROGRAM.value, follow_cond),
        ),
        ShownIf.ACTIVE_IN_GRACE: and_(E.c.status == Status.ACTIVE.value, grace_cond),
    }
    return case(
        *((holds[condition], literal(shown.value)) for condition, shown in SHOWN_STATUS_RULES),
        else_=E.c.status,
    )


def base_query() -> Select[Any]:
    return select(E, configurations.c.name.label("config_name")).join(
        configurations, configurations.c.id == E.c.config_id
    )


def to_record(rt: Runtime, facts: ProgramFacts, conn: Connection, row: Any) -> Entitlement:
    program = facts.program(conn, row.program_serial)
    return Entitlement(
        serial=row.serial,
        account_id=row.account_id,
        config_id=row.config_id,
        config_name=row.config_name,
        program_serial=row.program_serial,
        product_type_id=row.product_type_id,
        form_factor=FormFactor(row.form_factor),
        description=row.description,
        folder_path=row.folder_path,
        status=shown_status(facts, conn, row),
        stored_status=Status(row.status),
        token=rt.vault.decrypt(row.token_enc, row.serial),
        token_status=row.token_status,
        start_at=row.start_at,
        end_at=row.end_at,
        termination_mode=TerminationMode(row.termination_mode),
        removed_at=row.removed_at,
        timezone=program.timezone,
    )


def load_records(
    rt: Runtime,
    conn: Connection,
    actor: Actor,
    serials: Sequence[str],
    *,
    for_update: bool = False,
    facts: ProgramFacts | None = None,
) -> list[Entitlement]:
    """The named entitlements in the order given; any unknown or out-of-scope one is NotFound.

    Serials are matched without regard to case or surrounding blanks: all are upper case. Each
    entitlement's program comes in the same query (and is remembered in ``facts``, which the
    caller may pass to reuse it), so loading one entitlement is one round trip.
    """
    serials = [s.strip().upper() for s in serials]
    facts = facts or ProgramFacts(rt, rt.now())
    found: dict[str, Entitlement] = {}
    for part in chunks(list(dict.fromkeys(serials))):
        query = with_programs(base_query()).where(E.c.serial.in_(part))
        if for_update:
            query = query.with_for_update(of=E)
        for row in conn.execute(query).all():
            facts.remember(row)
            if actor.sees(row.account_id):
                found[row.serial] = to_record(rt, facts, conn, row)
    missing = [s for s in serials if s not in found]
    if missing:
        more = " ..." if len(missing) > _SHOWN_MISSING else ""
        shown = ", ".join(missing[:_SHOWN_MISSING]) + more
        raise NotFound(f"entitlement not found: {shown}")
    return [found[s] for s in serials]


PROGRAM_PREFIX = "program__"


def with_programs(query: Select[Any]) -> Select[Any]:
    """``query`` joined to each entitlement's program, its columns labelled with a prefix."""
    return query.add_columns(
        *(c.label(PROGRAM_PREFIX + c.name) for c in programs.c if c.name != "serial")
    ).join(programs, programs.c.serial == E.c.program_serial)


def program_from_prefixed(row: Any) -> Program:
    mapping = row._mapping
    values = {c.name: mapping[PROGRAM_PREFIX + c.name] for c in programs.c if c.name != "serial"}
    return program_from_mapping({**values, "serial": row.program_serial})


@dataclass(frozen=True)
class EntitlementFilter:
    """Filters shared by the API list, the portal table, the CLI and exports."""

    config_id: int | None = None
    account_id: int | None = None
    program_serial: str | None = None
    serial: str | None = None
    serial_contains: str | None = None
    status: str | None = None
    token_status: str | None = None
    description: str | None = None
    description_contains: str | None = None
    product_type_id: int | None = None
    folder_path: str | None = None
    folder_tree: str | None = None  # this folder and every folder below it
    serials: tuple[str, ...] | None = None
    include_removed: bool = False


def filtered_query(
    conn: Connection, actor: Actor, facts: ProgramFacts, flt: EntitlementFilter
) -> Select[Any]:
    query = base_query()
    conds: list[ColumnElement[bool]] = []
    if actor.account_ids is not None:
        conds.append(E.c.account_id.in_(sorted(actor.account_ids)))
    if not flt.include_removed:
        conds.append(E.c.removed_at.is_(None))
    exact = {
        E.c.config_id: flt.config_id,
        E.c.account_id: flt.account_id,
        E.c.program_serial: flt.program_serial,
        E.c.serial: flt.serial,
        E.c.token_status: flt.token_status,
        E.c.description: flt.description,
        E.c.product_type_id: flt.product_type_id,
        E.c.folder_path: flt.folder_path,
    }
    conds.extend(column == value for column, value in exact.items() if value is not None)
    if flt.serial_contains:
        conds.append(E.c.serial.contains(flt.serial_contains.upper(), autoescape=True))
    if flt.description_contains:
        conds.append(E.c.description.contains(flt.description_contains, autoescape=True))
    if flt.folder_tree is not None:
        tree = flt.folder_tree.rstrip("/")
        conds.append(
            or_(E.c.folder_path == tree, E.c.folder_path.startswith(tree + "/", autoescape=True))
        )
    if flt.serials is not None:
        conds.append(E.c.serial.in_(flt.serials))
    if flt.status is not None:
        wanted = flt.status.upper()
        stored = _STORED_FOR_SHOWN.get(wanted)
        if stored is not None:
            # Exact, and cheap to test first: the databases skip the CASE for other rows.
            conds.append(E.c.status == stored)
        conds.append(shown_status_sql(conn, facts) == wanted)
    return query.where(*conds)


# The only stored status each shown status can come from (EXPIRED can come from any).
_STORED_FOR_SHOWN = {
    Status.ACTIVE.value: Status.ACTIVE.value,
    Status.GRACE_PERIOD.value: Status.ACTIVE.value,
    Status.STOPPED.value: Status.STOPPED.value,
    Status.PENDING.value: Status.PENDING.value,
}


def iter_entitlements(
    rt: Runtime,
    conn: Connection,
    actor: Actor,
    flt: EntitlementFilter,
    *,
    batch: int = 2000,
) -> Iterator[Entitlement]:
    """Every matching entitlement in serial order, fetched in keyset batches (flat memory)."""
    facts = ProgramFacts(rt, rt.now())
    query = filtered_query(conn, actor, facts, flt).order_by(E.c.serial)
    after: str | None = None
    while True:
        page = query if after is None else query.where(E.c.serial > after)
        rows = conn.execute(with_programs(page).limit(batch)).all()
        for row in rows:
            facts.remember(row)
            yield to_record(rt, facts, conn, row)
        if len(rows) < batch:
            return
        after = rows[-1].serial


def require_scope(flt: EntitlementFilter) -> None:
    from pointflex.errors import InvalidInput

    if flt.config_id is None and (flt.account_id is None or flt.program_serial is None):
        raise InvalidInput("configId, or accountId with programSerialNumber, is required")


def get_entitlement(rt: Runtime, conn: Connection, actor: Actor, serial: str) -> Entitlement:
    records = load_records(rt, conn, actor, [serial])
    if not records:
        raise NotFound(f"entitlement {serial} not found")
    return records[0]


def serial_condition(serials: Sequence[str]) -> ColumnElement[bool]:
    return or_(*(E.c.serial.in_(part) for part in chunks(list(serials))))
