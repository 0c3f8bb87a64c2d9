"""Configurations and their dated parameter versions, as typed calls on one connection."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, func, insert, select, update

from pointflex.domain.catalog import ParamValues
from pointflex.domain.configs import ACTIVE, Config
from pointflex.store.tables import config_versions, configurations, entitlements

C = configurations


def values_to_json(values: ParamValues) -> dict[str, Any]:
    return {str(k): (list(v) if isinstance(v, tuple) else v) for k, v in values.items()}


def values_from_json(data: dict[str, Any]) -> ParamValues:
    return {int(k): (tuple(v) if isinstance(v, list) else str(v)) for k, v in data.items()}


class ConfigQueries(Protocol):
    """What the configuration services read and write; SQL below, in memory in unit tests."""

    def get(self, config_id: int, *, for_update: bool = False) -> Config | None: ...

    def insert(
        self,
        *,
        program_serial: str,
        account_id: int,
        name: str,
        product_type_id: int,
        values: ParamValues,
        now: datetime,
    ) -> int: ...

    def add_version(self, config_id: int, at: datetime, values: ParamValues) -> None: ...

    def versions(self, config_id: int) -> list[tuple[datetime, ParamValues]]: ...

    def update(self, config_id: int, now: datetime, **changes: Any) -> None: ...

    def of_program(
        self, program_serial: str, account_ids: Collection[int] | None
    ) -> list[Config]: ...

    def entitlement_counts(
        self, config_ids: Collection[int], account_ids: Collection[int] | None
    ) -> dict[int, int]: ...


def config_from_row(row: Any) -> Config:
    return Config(
        id=row.id,
        name=row.name,
        program_serial=row.program_serial,
        account_id=row.account_id,
        status=row.status,
        product_type_id=row.product_type_id,
        values=values_from_json(row.parameters),
    )


class SqlConfigs:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, config_id: int, *, for_update: bool = False) -> Config | None:
        query = select(C).where(C.c.id == config_id)
        if for_update:
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        return None if row is None else config_from_row(row)

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
        inserted = self._conn.execute(
            insert(C)
            .values(
                account_id=account_id,
                program_serial=program_serial,
                name=name,
                product_type_id=product_type_id,
                status=ACTIVE,
                parameters=values_to_json(values),
                created_at=now,
                updated_at=now,
            )
            .returning(C.c.id)
        ).scalar_one()
        return int(inserted)

    def add_version(self, config_id: int, at: datetime, values: ParamValues) -> None:
        self._conn.execute(
            insert(config_versions).values(
                config_id=config_id, valid_from=at, parameters=values_to_json(values)
            )
        )

    def versions(self, config_id: int) -> list[tuple[datetime, ParamValues]]:
        """Newest first (the catalogue's keep-days rules read them so)."""
        V = config_versions
        rows = self._conn.execute(
            select(V.c.valid_from, V.c.parameters)
            .where(V.c.config_id == config_id)
            .order_by(V.c.valid_from.desc(), V.c.id.desc())
        ).all()
        return [(valid_from, values_from_json(values)) for valid_from, values in rows]

    def update(self, config_id: int, now: datetime, **changes: Any) -> None:
        if "values" in changes:
            changes["parameters"] = values_to_json(changes.pop("values"))
        self._conn.execute(update(C).where(C.c.id == config_id).values(updated_at=now, **changes))

    def of_program(self, program_serial: str, account_ids: Collection[int] | None) -> list[Config]:
        query = select(C).where(C.c.program_serial == program_serial).order_by(C.c.id)
        if account_ids is not None:
            query = query.where(C.c.account_id.in_(sorted(account_ids)))
        return [config_from_row(r) for r in self._conn.execute(query).all()]

    def entitlement_counts(
        self, config_ids: Collection[int], account_ids: Collection[int] | None
    ) -> dict[int, int]:
        E = entitlements
        query = (
            select(E.c.config_id, func.count())
            .where(E.c.config_id.in_(sorted(set(config_ids))), E.c.removed_at.is_(None))
            .group_by(E.c.config_id)
        )
        if account_ids is not None:
            query = query.where(E.c.account_id.in_(sorted(account_ids)))
        return {int(c): int(n) for c, n in self._conn.execute(query).all()}
