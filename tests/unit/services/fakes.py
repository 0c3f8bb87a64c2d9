"""In-memory stand-ins for the unit of work's queries: services run on them with no database.

They keep rows the way the SQL queries do (ids in order, versions newest first, scope
filters) and count what was asked of them, so tests can say what a service wrote and in how
many units of work.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, cast

from pointflex.bootstrap import Runtime
from pointflex.clock import ManualClock
from pointflex.config import Settings
from pointflex.domain.catalog import Catalog, ParamValues
from pointflex.domain.configs import ACTIVE, Config
from pointflex.store.queries.audit import AuditEntry
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


@dataclass
class FakeAudit:
    entries: list[AuditEntry] = field(default_factory=list)

    def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)


@dataclass
class FakeUnits:
    """Hands out one unit of work over the fakes; counts units by kind."""

    configs: FakeConfigs = field(default_factory=FakeConfigs)
    scope: FakeScope = field(default_factory=FakeScope)
    audit: FakeAudit = field(default_factory=FakeAudit)
    opened: list[str] = field(default_factory=list)

    @contextmanager
    def __call__(self, *, write: bool) -> Iterator[UnitOfWork]:
        self.opened.append("write" if write else "read")
        yield UnitOfWork(configs=self.configs, scope=self.scope, audit=self.audit)


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
