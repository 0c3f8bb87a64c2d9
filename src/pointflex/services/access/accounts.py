"""Organisations and accounts (R63–R66), on the unit of work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from pointflex.bootstrap import Runtime
from pointflex.domain.accounts import Account, check_name, next_account_id
from pointflex.errors import Duplicate, NotFound
from pointflex.services.context import Actor, record
from pointflex.store.unit_of_work import UnitOfWork, on_connection


def create_organization(
    rt: Runtime, actor: Actor, name: str, root_name: str, root_account_id: int | None = None
) -> Account:
    """A new organisation with its root account (a standalone account is an organisation of one)."""
    actor.require_write()
    org_name = check_name(name, "organisation")
    now = rt.now()
    with rt.unit(write=True) as uow:
        org_id = uow.accounts.add_organization(org_name, now)
        account = _add_account(uow, org_id, root_name, True, root_account_id, now)
        record(
            uow, actor, now, "organization.create", ("organization", org_id), after={"name": name}
        )
    return account


def create_account(
    rt: Runtime, actor: Actor, organization_id: int, name: str, account_id: int | None = None
) -> Account:
    """A member account in an existing organisation."""
    actor.require_write()
    now = rt.now()
    with rt.unit(write=True) as uow:
        if not uow.accounts.organization_exists(organization_id):
            raise NotFound(f"organization {organization_id} not found")
        return _add_account(uow, organization_id, name, False, account_id, now)


def _add_account(
    uow: UnitOfWork,
    organization_id: int,
    name: str,
    is_root: bool,
    account_id: int | None,
    now: datetime,
) -> Account:
    name = check_name(name, "account")
    if account_id is None:
        account_id = next_account_id(uow.accounts.highest_id())
    elif uow.accounts.get(account_id) is not None:
        raise Duplicate(f"account {account_id} already exists")
    account = Account(account_id, organization_id, name, is_root)
    uow.accounts.add(account, now)
    return account


def account_of(uow: UnitOfWork, account_id: int) -> Account:
    found = uow.accounts.get(account_id)
    if found is None:
        raise NotFound(f"account {account_id} not found")
    return found


# The forms for services whose own SQL still runs on a bare connection.
def get_account(conn: Connection, account_id: int) -> Account:
    return account_of(on_connection(conn), account_id)


def organization_accounts(conn: Connection, organization_id: int) -> list[int]:
    return sorted(on_connection(conn).scope.organization_accounts(organization_id))


def list_accounts(rt: Runtime, actor: Actor) -> list[Account]:
    with rt.unit(write=False) as uow:
        return [a for a in uow.accounts.all() if actor.sees(a.id)]
