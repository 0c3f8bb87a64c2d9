"""In-memory stand-ins for the unit of work's queries: services run on them with no database.

They keep rows the way the SQL queries do (ids in order, versions newest first, scope
filters) and count what was asked of them, so tests can say what a service wrote and in how
many units of work.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from pointflex.bootstrap import Runtime
from pointflex.clock import ManualClock
from pointflex.config import Settings
from pointflex.domain.accounts import Account
from pointflex.domain.catalog import Catalog, ParamValues
from pointflex.domain.configs import ACTIVE, Config
from pointflex.domain.money import to_points
from pointflex.domain.programs import Program
from pointflex.domain.usage import GroupBy, ReportRow
from pointflex.store.queries.audit import AuditEntry
from pointflex.store.queries.programs import LedgerLine
from pointflex.store.tokens import TokenVault
from pointflex.store.unit_of_work import UnitOfWork


@dataclass
class FakeConfigs:
    rows: dict[int, Config] = field(default_factory=dict)
    history: dict[int, list[tuple[datetime, ParamValues]]] = field(default_factory=dict)
    entitlements: dict[int, list[int]] = field(default_factory=dict)  # config -> accounts
    locked: list[int] = field(default_factory=list)

    def get(self, config_id: int, *, for_update: bool = False) -> Config | None:
        if for_update:
            self.locked.append(config_id)
        return self.rows.get(config_id)

    def insert(
        self,
        *,
        program_serial: str,
        account_id: int,
        name: str,
        product_type_id: int,
        values: ParamValues,
        now: datetime,
    ) -> int:
        config_id = max(self.rows, default=0) + 1
        self.rows[config_id] = Config(
            config_id, name, program_serial, account_id, ACTIVE, product_type_id, values
        )
        return config_id

    def add_version(self, config_id: int, at: datetime, values: ParamValues) -> None:
        self.history.setdefault(config_id, []).insert(0, (at, values))

    def versions(self, config_id: int) -> list[tuple[datetime, ParamValues]]:
        return list(self.history.get(config_id, []))

    def update(self, config_id: int, now: datetime, **changes: Any) -> None:
        self.rows[config_id] = replace(self.rows[config_id], **changes)

    def of_program(self, program_serial: str, account_ids: Collection[int] | None) -> list[Config]:
        return [
            c
            for _, c in sorted(self.rows.items())
            if c.program_serial == program_serial
            and (account_ids is None or c.account_id in account_ids)
        ]

    def entitlement_counts(
        self, config_ids: Collection[int], account_ids: Collection[int] | None
    ) -> dict[int, int]:
        counts = {
            c: sum(
                1 for a in self.entitlements.get(c, []) if account_ids is None or a in account_ids
            )
            for c in config_ids
        }
        return {c: n for c, n in counts.items() if n}


@dataclass
class FakeScope:
    programs: dict[str, int] = field(default_factory=dict)  # serial -> account
    organizations: dict[int, int] = field(default_factory=dict)  # account -> organisation

    def program_account(self, program_serial: str) -> int | None:
        return self.programs.get(program_serial)

    def organization_of(self, account_id: int) -> int | None:
        return self.organizations.get(account_id)

    def organization_accounts(self, organization_id: int) -> frozenset[int]:
        return frozenset(a for a, o in self.organizations.items() if o == organization_id)

    def organizations_of(self, account_ids: Collection[int]) -> frozenset[int]:
        return frozenset(self.organizations[a] for a in account_ids if a in self.organizations)


@dataclass
class FakeAccounts:
    rows: dict[int, Account] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)  # organisations
    organizations: dict[int, int] = field(default_factory=dict)  # the scope's, shared

    def get(self, account_id: int) -> Account | None:
        return self.rows.get(account_id)

    def all(self) -> list[Account]:
        return [a for _, a in sorted(self.rows.items())]

    def highest_id(self) -> int | None:
        return max(self.rows, default=None)

    def add_organization(self, name: str, now: datetime) -> int:
        organization_id = max(self.names, default=0) + 1
        self.names[organization_id] = name
        return organization_id

    def organization_exists(self, organization_id: int) -> bool:
        return organization_id in self.names

    def add(self, account: Account, now: datetime) -> None:
        self.rows[account.id] = account
        self.organizations[account.id] = account.organization_id


@dataclass
class FakeAlerts:
    own: dict[str, int] = field(default_factory=dict)

    def low_balance_days(self) -> dict[str, int]:
        return dict(self.own)

    def set_low_balance_days(
        self, serial: str, days: int | None, by: str, at: datetime
    ) -> int | None:
        before = self.own.pop(serial, None)
        if days is not None:
            self.own[serial] = days
        return before


@dataclass
class FakePrograms:
    rows: dict[str, Program] = field(default_factory=dict)
    ledger: dict[str, list[LedgerLine]] = field(default_factory=dict)
    consumed: dict[str, list[tuple[date, Decimal]]] = field(default_factory=dict)  # by day
    organizations: dict[int, int] = field(default_factory=dict)  # the scope's, shared

    def get(self, serial: str) -> Program | None:
        return self.rows.get(serial)

    def of_organizations(self, organizations: Collection[int] | None) -> list[Program]:
        return [
            p
            for _, p in sorted(self.rows.items())
            if organizations is None or self.organizations.get(p.account_id) in organizations
        ]

    def balance(self, serial: str) -> Decimal:
        credited = sum((e.points for e in self.ledger.get(serial, [])), Decimal(0))
        used = sum((p for _, p in self.consumed.get(serial, [])), Decimal(0))
        return to_points(credited - used)

    def credited(self, serial: str, start: date | None, end: date) -> Decimal:
        lines = self.ledger.get(serial, [])
        found = [e.points for e in lines if e.day < end and (start is None or e.day >= start)]
        return to_points(sum(found, Decimal(0)))

    def consumed_before(self, serial: str, day: date) -> Decimal:
        return sum((p for d, p in self.consumed.get(serial, []) if d < day), Decimal(0))

    def add_ledger_entry(self, serial: str, entry: LedgerLine) -> None:
        self.ledger.setdefault(serial, []).append(entry)

    def clear_negative(self, serial: str) -> None:
        self.rows[serial] = replace(self.rows[serial], negative_since=None)


@dataclass
class FakeUsage:
    """Consumption rows (program, day, serial, account, config id, config name, points)."""

    rows: list[tuple[str, date, str, int, int, str, Decimal]] = field(default_factory=list)

    def report(
        self,
        program_serial: str,
        group_by: GroupBy,
        days: tuple[date, date],
        account_ids: Collection[int] | None,
    ) -> list[ReportRow]:
        first, last = days
        picked = [
            r
            for r in self.rows
            if r[0] == program_serial
            and first <= r[1] <= last
            and (account_ids is None or r[3] in account_ids)
        ]
        groups: dict[str, tuple[str, set[str], Decimal]] = {}
        for _, day, serial, _, config_id, config_name, points in picked:
            key, label = {
                GroupBy.DAY: (day.isoformat(), day.isoformat()),
                GroupBy.ENTITLEMENT: (serial, serial),
                GroupBy.CONFIGURATION: (str(config_id), config_name),
            }[group_by]
            _, serials, total = groups.get(key, (label, set(), Decimal(0)))
            groups[key] = (label, serials | {serial}, total + points)
        order = sorted(groups, key=lambda k: int(k) if group_by is GroupBy.CONFIGURATION else k)
        return [ReportRow(k, groups[k][0], len(groups[k][1]), groups[k][2]) for k in order]


@dataclass
class FakeAudit:
    entries: list[AuditEntry] = field(default_factory=list)

    def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)


@dataclass
class FakeUnits:
    """Hands out one unit of work over the fakes; counts units by kind."""

    accounts: FakeAccounts = field(default_factory=FakeAccounts)
    configs: FakeConfigs = field(default_factory=FakeConfigs)
    programs: FakePrograms = field(default_factory=FakePrograms)
    usage: FakeUsage = field(default_factory=FakeUsage)
    alerts: FakeAlerts = field(default_factory=FakeAlerts)
    scope: FakeScope = field(default_factory=FakeScope)
    audit: FakeAudit = field(default_factory=FakeAudit)
    opened: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # One map of who owns what, as the accounts table is in the database.
        self.programs.organizations = self.accounts.organizations = self.scope.organizations

    @contextmanager
    def __call__(self, *, write: bool) -> Iterator[UnitOfWork]:
        self.opened.append("write" if write else "read")
        yield UnitOfWork(
            accounts=self.accounts,
            configs=self.configs,
            programs=self.programs,
            usage=self.usage,
            alerts=self.alerts,
            scope=self.scope,
            audit=self.audit,
        )


def fake_runtime(units: FakeUnits, catalog: Catalog, clock: ManualClock) -> Runtime:
    # No engine at all: a service that goes around its unit of work fails here at once.
    return Runtime(
        settings=Settings(),
        engine=cast(Any, None),
        clock=clock,
        catalog=catalog,
        vault=TokenVault(b"k" * 32),
        units=units,
    )
