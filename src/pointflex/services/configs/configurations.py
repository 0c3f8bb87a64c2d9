"""Configurations: a product type plus parameter values, with a dated history (R18, R51–R53).

Every use case here runs on a unit of work (``rt.unit``) and its typed queries only, so the
rules are unit-tested on fakes (tests/unit/services/test_configurations.py) as well as on
both databases.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from pointflex.bootstrap import Runtime
from pointflex.domain.catalog import ParamValues
from pointflex.domain.configs import ACTIVE, DISABLED, Config, check_name, check_status
from pointflex.errors import InvalidInput, NotFound
from pointflex.services.access.visibility import organization_of, visible_program_account
from pointflex.services.context import Actor, record
from pointflex.store.queries.configs import values_to_json
from pointflex.store.unit_of_work import UnitOfWork, on_connection

# The statuses set_config_status takes, for its callers.
__all__ = ["ACTIVE", "DISABLED"]


def config_of(uow: UnitOfWork, config_id: int, *, for_update: bool = False) -> Config:
    config = uow.configs.get(config_id, for_update=for_update)
    if config is None:
        raise NotFound(f"configuration {config_id} not found")
    return config


def visible_config_of(
    uow: UnitOfWork, actor: Actor, config_id: int, *, for_update: bool = False
) -> Config:
    config = config_of(uow, config_id, for_update=for_update)
    actor.require_account(config.account_id, f"configuration {config_id}")
    return config


# The forms for services whose own SQL still runs on a bare connection (entitlements,
# licensing, points): the same rules through a unit of work on that connection.
def load_config(conn: Connection, config_id: int, *, for_update: bool = False) -> Config:
    return config_of(on_connection(conn), config_id, for_update=for_update)


def visible_config(
    conn: Connection, actor: Actor, config_id: int, *, for_update: bool = False
) -> Config:
    return visible_config_of(on_connection(conn), actor, config_id, for_update=for_update)


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
    name = check_name(name)
    rt.catalog.product(product_type_id)
    values = rt.catalog.parse_parameters(product_type_id, parameters)
    now = rt.now()
    with rt.unit(write=True) as uow:
        program_account = visible_program_account(uow, actor, program_serial)
        owner = _owner_account(uow, actor, program_account, account_id)
        owned = (program_serial, owner)
        return add_config(
            uow, actor, now, owned, name=name, product_type_id=product_type_id, values=values
        )


def add_config(
    uow: UnitOfWork,
    actor: Actor,
    now: datetime,
    owner: tuple[str, int],
    *,
    name: str,
    product_type_id: int,
    values: ParamValues,
) -> Config:
    """A validated configuration of ``owner`` (program serial, account id), with its first
    parameter version, audited; a step of the caller's unit of work (also used by transfers)."""
    program_serial, account_id = owner
    config_id = uow.configs.insert(
        program_serial=program_serial,
        account_id=account_id,
        name=name,
        product_type_id=product_type_id,
        values=values,
        now=now,
    )
    uow.configs.add_version(config_id, now, values)
    config = config_of(uow, config_id)
    record(
        uow,
        actor,
        now,
        "config.create",
        ("config", config.id),
        account_id=account_id,
        after=_snapshot(config),
    )
    return config


def _owner_account(
    uow: UnitOfWork, actor: Actor, program_account: int, requested: int | None
) -> int:
    """The account that will own the configuration: one of the program's organisation (R65)."""
    if requested is None:
        if actor.account_ids is None or actor.sees(program_account):
            return program_account
        if len(actor.account_ids) == 1:
            return next(iter(actor.account_ids))
        raise InvalidInput("accountId is required: this user has several accounts in scope")
    actor.require_account(requested)
    if organization_of(uow, requested) != organization_of(uow, program_account):
        raise InvalidInput(f"account {requested} is not in the program's organisation")
    return requested


def _chosen_since(uow: UnitOfWork, rt: Runtime, config: Config) -> dict[tuple[int, str], datetime]:
    """The catalogue's keep-days start dates, from the configuration's versions (read only
    for the products that have such a rule)."""
    if not rt.catalog.has_kept_values(config.product_type_id):
        return {}
    return rt.catalog.chosen_since(config.product_type_id, uow.configs.versions(config.id))


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
    with rt.unit(write=True) as uow:
        before = visible_config_of(uow, actor, config_id, for_update=True)
        now = rt.now()  # read under the lock, so events follow the commit order
        changes: dict[str, Any] = {}
        if name is not None and name.strip() != before.name:
            changes["name"] = check_name(name)
        if parameters is not None:
            values = rt.catalog.parse_parameters(before.product_type_id, parameters)
            if values != before.values:
                rt.catalog.check_change(
                    before.product_type_id,
                    before.values,
                    values,
                    chosen_since=_chosen_since(uow, rt, before),
                    now=now,
                )
                changes["values"] = values
                uow.configs.add_version(config_id, now, values)
        if not changes:
            return before
        uow.configs.update(config_id, now, **changes)
        after = config_of(uow, config_id)
        record(
            uow,
            actor,
            now,
            "config.update",
            ("config", config_id),
            account_id=after.account_id,
            before=_snapshot(before),
            after=_snapshot(after),
        )
        return after


def set_config_status(rt: Runtime, actor: Actor, config_id: int, status: str) -> Config:
    """Enable or disable; asking for the current status succeeds and changes nothing (Q22)."""
    check_status(status)
    actor.require_write()
    with rt.unit(write=True) as uow:
        before = visible_config_of(uow, actor, config_id, for_update=True)
        now = rt.now()  # read under the lock, so events follow the commit order
        if before.status == status:
            return before
        uow.configs.update(config_id, now, status=status)
        action = "config.enable" if status == ACTIVE else "config.disable"
        record(
            uow,
            actor,
            now,
            action,
            ("config", config_id),
            account_id=before.account_id,
            before={"status": before.status},
            after={"status": status},
        )
        return config_of(uow, config_id)


def list_configs(
    rt: Runtime, actor: Actor, program_serial: str, account_id: int | None = None
) -> list[Config]:
    """Configurations of a program; without an account, all visible accounts' (R65)."""
    with rt.unit(write=False) as uow:
        visible_program_account(uow, actor, program_serial)
        accounts = actor.account_ids
        if account_id is not None:
            actor.require_account(account_id)
            organization_of(uow, account_id)  # an unknown account is reported as such
            accounts = frozenset({account_id})
        return uow.configs.of_program(program_serial, accounts)


def get_config(rt: Runtime, actor: Actor, config_id: int) -> Config:
    with rt.unit(write=False) as uow:
        return visible_config_of(uow, actor, config_id)


def entitlement_counts(rt: Runtime, actor: Actor, config_ids: list[int]) -> dict[int, int]:
    """How many managed (not removed) entitlements use each configuration (R52: a change
    applies to all of them); configurations without any are left out."""
    if not config_ids:
        return {}
    with rt.unit(write=False) as uow:
        return uow.configs.entitlement_counts(config_ids, actor.account_ids)
