"""The scopes an actor may give to a new API or portal user: its accounts, and the
organisations whose every account it sees (R63, R65)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from pointflex.bootstrap import Runtime
from pointflex.domain.accounts import Account
from pointflex.services.context import Actor, read
from pointflex.store.tables import accounts, organizations


@dataclass(frozen=True)
class ScopeChoices:
    accounts: list[Account]
    organizations: list[tuple[int, str]]  # (id, name)


def scope_choices(rt: Runtime, actor: Actor) -> ScopeChoices:
    with read(rt) as conn:
        rows = conn.execute(select(accounts).order_by(accounts.c.id)).all()
        names = {
            int(r.id): str(r.name)
            for r in conn.execute(select(organizations.c.id, organizations.c.name))
        }
    members: dict[int, list[int]] = {}
    for r in rows:
        members.setdefault(int(r.organization_id), []).append(int(r.id))
    seen = [Account(r.id, r.organization_id, r.name, r.is_root) for r in rows if actor.sees(r.id)]
    orgs = [
        (org_id, names.get(org_id, ""))
        for org_id, ids in sorted(members.items())
        if all(actor.sees(i) for i in ids)
    ]
    return ScopeChoices(seen, orgs)
