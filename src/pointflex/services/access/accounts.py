"""Organisations and accounts (R63–R66)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, select

from pointflex.bootstrap import Runtime
from pointflex.errors import Duplicate, InvalidInput, NotFound
from pointflex.services.context import Actor, audit, read, write
from pointflex.store.tables import accounts, organizations

FIRST_ACCOUNT_ID = 100_001


@dataclass(frozen=True)
class Account:
    id: int
    organization_id: int
    name: str
    is_root: bool


def create_organization(
    rt: Runtime, actor: Actor, name: str, root_name: str, root_account_id: int | None = None
) -> Account:
    """A new organisation with its root account (a standalone account is an organisation of one)."""
    actor.require_write()
    if not name.strip():
        raise InvalidInput("organisation name must not be empty")
    now = rt.now()
    with write(rt) as conn:
        org_id = conn.execute(
            insert(organizations).values(name=name.strip(), created_at=now)
        ).inserted_primary_key[0]  # type: ignore[index]
        account = _insert_account(conn, int(org_id), root_name, True, root_account_id, now)
        audit(conn, actor, now, "organization.create", "organization", org_id, after={"name": name})
    return account


def create_account(
    rt: Runtime, actor: Actor, organization_id: int, name: str, account_id: int | None = None
) -> Account:
    """A member account in an existing organisation."""
    actor.require_write()
    now = rt.now()
    with write(rt) as conn:
        exists = conn.execute(
            select(organizations.c.id).where(organizations.c.id == organization_id)
        ).first()
        if exists is None:
            raise NotFound(f"organization {organization_id} not found")
        return _insert_account(conn, organization_id, name, False, account_id, now)


def _insert_account(
    conn: Connection,
    organization_id: int,
    name: str,
    is_root: bool,
    account_id: int | None,
    now: object,
) -> Account:
    if not name.strip():
        raise InvalidInput("account name must not be empty")
    if account_id is None:
        highest = conn.execute(select(func.max(accounts.c.id))).scalar()
        account_id = max(int(highest or 0) + 1, FIRST_ACCOUNT_ID)
    elif conn.execute(select(accounts.c.id).where(accounts.c.id == account_id)).first():
        raise Duplicate(f"account {account_id} already exists")
    conn.execute(
        insert(accounts).values(
            id=account_id,
            organization_id=organization_id,
            name=name.strip(),
            is_root=is_root,
            created_at=now,
        )
    )
    return Account(account_id, organization_id, name.strip(), is_root)


def get_account(conn: Connection, account_id: int) -> Account:
    row = conn.execute(select(accounts).where(accounts.c.id == account_id)).first()
    if row is None:
        raise NotFound(f"account {account_id} not found")
    return Account(row.id, row.organization_id, row.name, row.is_root)


def organization_accounts(conn: Connection, organization_id: int) -> list[int]:
    rows = conn.execute(
        select(accounts.c.id).where(accounts.c.organization_id == organization_id)
    ).scalars()
    return [int(r) for r in rows]


def list_accounts(rt: Runtime, actor: Actor) -> list[Account]:
    with read(rt) as conn:
        rows = conn.execute(select(accounts).order_by(accounts.c.id)).all()
    return [Account(r.id, r.organization_id, r.name, r.is_root) for r in rows if actor.sees(r.id)]
