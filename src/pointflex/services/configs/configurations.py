"""Configurations: a product type plus parameter values, with a dated history (R18, R51–R53)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from pointflex.bootstrap import Runtime
from pointflex.domain.catalog import ParamValues
from pointflex.errors import InvalidInput, NotFound
from pointflex.services.access.accounts import get_account
from pointflex.services.context import Actor, audit, read, write
from pointflex.services.points.programs import load_program, visible_program
from pointflex.store.tables import config_versions, configurations, entitlements

C = configurations

ACTIVE = "ACTIVE"
DISABLED = "DISABLED"


@dataclass(frozen=True)
class Config:
    id: int
    name: str
    program_serial: str
    account_id: int
    status: str
    product_type_id: int
    values: ParamValues


def values_to_json(values: ParamValues) -> dict[str, Any]:
    return {str(k): (list(v) if isinstance(v, tuple) else v) for k, v in values.items()}


def values_from_json(data: dict[str, Any]) -> ParamValues:
    return {int(k): (tuple(v) if isinstance(v, list) else str(v)) for k, v in data.items()}


def _from_row(row: Any) -> Config:
    return Config(
        id=row.id,
        name=row.name,
        program_serial=row.program_serial,
        account_id=row.account_id,
        status=row.status,
        product_type_id=row.product_type_id,
        values=values_from_json(row.parameters),
    )


def load_config(conn: Connection, config_id: int, *, for_update: bool = False) -> Config:
    query = select(C).where(C.c.id == config_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"configuration {config_id} not found")
    return _from_row(row)


def visible_config(
    conn: Connection, actor: Actor, config_id: int, *, for_update: bool = False
) -> Config:
    config = load_config(conn, config_id, for_update=for_update)
    actor.require_account(config.account_id, f"configuration {config_id}")
    return config


def _check_name(name: str | None) -> str:
    if name is None or not name.strip():
        raise InvalidInput("configuration name must not be empty")
    if len(name) > 200:
        raise InvalidInput("configuration name must be at most 200 characters")
    return name.strip()


def create_config(
    rt: Runtime,
    actor: Actor,
    *,
    program_serial: str,
    name: str,
    product_type_id: int,
    parameters: list[dict[str, Any]],
    account_id: int | None = None,
) -> Config:
    actor.require_write()
    name = _check_name(name)
    rt.catalog.product(product_type_id)
    values = rt.catalog.parse_parameters(product_type_id, parameters)
    now = rt.now()
    with write(rt) as conn:
        program = visible_program(conn, actor, program_serial)
        owner = _owner_account(conn, actor, program.account_id, account_id)
        return insert_config(conn, actor, now, program.serial, owner, name, product_type_id, values)


def insert_config(
    conn: Connection,
    actor: Actor,
    now: datetime,
    program_serial: str,
    account_id: int,
    name: str,
    product_type_id: int,
    values: ParamValues,
) -> Config:
    """Insert a validated configuration with its first parameter version, and audit it."""
    config_id = conn.execute(
        insert(C).values(
            account_id=account_id,
            program_serial=program_serial,
            name=name,
            product_type_id=product_type_id,
            status=ACTIVE,
            parameters=values_to_json(values),
            created_at=now,
            updated_at=now,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    _add_version(conn, int(config_id), now, values)
    config = load_config(conn, int(config_id))
    audit(
        conn,
        actor,
        now,
        "config.create",
        "config",
        config.id,
        account_id=account_id,
        after=_snapshot(config),
    )
    return config


def _owner_account(
    conn: Connection, actor: Actor, program_account: int, requested: int | None
) -> int:
    """The account that will own the configuration: one of the program's organisation (R65)."""
    if requested is None:
        if actor.account_ids is None or actor.sees(program_account):
            return program_account
        if len(actor.account_ids) == 1:
            return next(iter(actor.account_ids))
        raise InvalidInput("accountId is required: this user has several accounts in scope")
    actor.require_account(requested)
    owner = get_account(conn, requested)
    if owner.organization_id != get_account(conn, program_account).organization_id:
        raise InvalidInput(f"account {requested} is not in the program's organisation")
    return requested


def _add_version(conn: Connection, config_id: int, at: datetime, values: ParamValues) -> None:
    conn.execute(
        insert(config_versions).values(
            config_id=config_id, valid_from=at, parameters=values_to_json(values)
        )
    )


def _chosen_since(conn: Connection, rt: Runtime, config: Config) -> dict[tuple[int, str], datetime]:
    """The catalogue's keep-days start dates, from the configuration's versions (read only
    for the products that have such a rule)."""
    if not rt.catalog.has_kept_values(config.product_type_id):
        return {}
    versions = conn.execute(
        select(config_versions.c.valid_from, config_versions.c.parameters)
        .where(config_versions.c.config_id == config.id)
        .order_by(config_versions.c.valid_from.desc(), config_versions.c.id.desc())
    ).all()
    history = [(valid_from, values_from_json(values)) for valid_from, values in versions]
    return rt.catalog.chosen_since(config.product_type_id, history)


def _snapshot(config: Config) -> dict[str, Any]:
    return {
        "name": config.name,
        "status": config.status,
        "productTypeId": config.product_type_id,
        "parameters": values_to_json(config.values),
    }


def update_config(
    rt: Runtime,
    actor: Actor,
    config_id: int,
    *,
    name: str | None = None,
    parameters: list[dict[str, Any]] | None = None,
) -> Config:
    """Rename and/or replace the parameters; a change applies to every entitlement (R52)."""
    actor.require_write()
    with write(rt) as conn:
        before = visible_config(conn, actor, config_id, for_update=True)
        now = rt.now()  # read under the lock, so events follow the commit order
        changes: dict[str, Any] = {}
        if name is not None and name.strip() != before.name:
            changes["name"] = _check_name(name)
        if parameters is not None:
            values = rt.catalog.parse_parameters(before.product_type_id, parameters)
            if values != before.values:
                rt.catalog.check_change(
                    before.product_type_id,
                    before.values,
                    values,
                    chosen_since=_chosen_since(conn, rt, before),
                    now=now,
                )
                changes["parameters"] = values_to_json(values)
                _add_version(conn, config_id, now, values)
        if not changes:
            return before
        conn.execute(update(C).where(C.c.id == config_id).values(updated_at=now, **changes))
        after = load_config(conn, config_id)
        audit(
            conn,
            actor,
            now,
            "config.update",
            "config",
            config_id,
            account_id=after.account_id,
            before=_snapshot(before),
            after=_snapshot(after),
        )
        return after


def set_config_status(rt: Runtime, actor: Actor, config_id: int, status: str) -> Config:
    """Enable or disable; asking for the current status succeeds and changes nothing (Q22)."""
    if status not in (ACTIVE, DISABLED):
        raise InvalidInput(f"configuration status must be {ACTIVE} or {DISABLED}")
    actor.require_write()
    with write(rt) as conn:
        before = visible_config(conn, actor, config_id, for_update=True)
        now = rt.now()  # read under the lock, so events follow the commit order
        if before.status == status:
            return before
        conn.execute(update(C).where(C.c.id == config_id).values(status=status, updated_at=now))
        action = "config.enable" if status == ACTIVE else "config.disable"
        audit(
            conn,
            actor,
            now,
            action,
            "config",
            config_id,
            account_id=before.account_id,
            before={"status": before.status},
            after={"status": status},
        )
        return load_config(conn, config_id)


def list_configs(
    rt: Runtime, actor: Actor, program_serial: str, account_id: int | None = None
) -> list[Config]:
    """Configurations of a program; without an account, all visible accounts' (R65)."""
    with read(rt) as conn:
        visible_program(conn, actor, program_serial)
        query = select(C).where(C.c.program_serial == program_serial).order_by(C.c.id)
        if account_id is not None:
            actor.require_account(account_id)
            get_account(conn, account_id)
            query = query.where(C.c.account_id == account_id)
        if actor.account_ids is not None:
            query = query.where(C.c.account_id.in_(sorted(actor.account_ids)))
        rows = conn.execute(query).all()
    return [_from_row(r) for r in rows]


def get_config(rt: Runtime, actor: Actor, config_id: int) -> Config:
    with read(rt) as conn:
        return visible_config(conn, actor, config_id)


def program_timezone(conn: Connection, config: Config) -> str:
    return load_program(conn, config.program_serial).timezone


def entitlement_counts(rt: Runtime, actor: Actor, config_ids: list[int]) -> dict[int, int]:
    """How many managed (not removed) entitlements use each configuration (R52: a change
    applies to all of them); configurations without any are left out."""
    if not config_ids:
        return {}
    E = entitlements
    query = (
        select(E.c.config_id, func.count())
        .where(E.c.config_id.in_(sorted(set(config_ids))), E.c.removed_at.is_(None))
        .group_by(E.c.config_id)
    )
    if actor.account_ids is not None:
        query = query.where(E.c.account_id.in_(sorted(actor.account_ids)))
    with read(rt) as conn:
        return {int(config_id): int(count) for config_id, count in conn.execute(query).all()}
