"""The audit log as the portal shows it: the rows an actor may see, filtered, newest first.

Scope (R63–R65): an actor sees only rows whose ``account_id`` is one of its accounts. Rows
recorded without an account (an organisation created by the operator, an API or portal user
scoped to a whole organisation) are shown to the platform operator only, whose scope is
every account: such a row cannot be tied to an account, so showing it to any scoped user
could leak what happened elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, false, select, true

from pointflex.bootstrap import Runtime
from pointflex.services.context import Actor, read
from pointflex.store.tables import audit_log

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilters:
    action: str = ""
    object_id: str = ""  # contained in the object id
    actor: str = ""  # contained in the actor's name
    date_from: date | None = None  # UTC days, both inclusive
    date_to: date | None = None


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    account_id: int | None
    before: Any
    after: Any
    request_id: str


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    next_before: int | None  # the keyset cursor of the next (older) page, if any


def _scope(actor: Actor) -> ColumnElement[bool]:
    if actor.account_ids is None:
        return true()  # the operator: every row, with or without an account
    if not actor.account_ids:
        return false()
    return audit_log.c.account_id.in_(sorted(actor.account_ids))


def _contains(column: ColumnElement[str], text: str) -> ColumnElement[bool]:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def _filtered(actor: Actor, filters: AuditFilters) -> list[ColumnElement[bool]]:
    where = [_scope(actor)]
    if filters.action:
        where.append(audit_log.c.action == filters.action)
    if filters.object_id.strip():
        where.append(_contains(audit_log.c.object_id, filters.object_id.strip()))
    if filters.actor.strip():
        where.append(_contains(audit_log.c.actor, filters.actor.strip()))
    if filters.date_from is not None:
        where.append(audit_log.c.at >= datetime.combine(filters.date_from, time(), UTC))
    if filters.date_to is not None:
        end = datetime.combine(filters.date_to + timedelta(days=1), time(), UTC)
        where.append(audit_log.c.at < end)
    return where


def audit_page(
    rt: Runtime,
    actor: Actor,
    filters: AuditFilters,
    *,
    before_id: int | None = None,
    limit: int = PAGE_SIZE,
) -> AuditPage:
    """Up to ``limit`` visible rows, newest first; ``before_id`` continues after a page.

    Newest first is by id: ids grow in commit order, as ``at`` does (one clock per run).
    """
    where = _filtered(actor, filters)
    if before_id is not None:
        where.append(audit_log.c.id < before_id)
    query: Select[Any] = (
        select(audit_log).where(*where).order_by(audit_log.c.id.desc()).limit(limit + 1)
    )
    with read(rt) as conn:
        found = conn.execute(query).all()
    rows = [
        AuditRow(
            id=int(r.id),
            at=r.at,
            actor=r.actor,
            action=r.action,
            object_type=r.object_type,
            object_id=r.object_id,
            account_id=r.account_id,
            before=r.before,
            after=r.after,
            request_id=r.request_id,
        )
        for r in found[:limit]
    ]
    more = len(found) > limit
    return AuditPage(rows, rows[-1].id if more and rows else None)


# The actions the services record (a select's choices; a filter on any other value works too).
KNOWN_ACTIONS = (
    "api_user.create",
    "api_user.disable",
    "api_user.reset",
    "config.create",
    "config.disable",
    "config.enable",
    "config.update",
    "entitlement.create",
    "entitlement.reactivate",
    "entitlement.regenerate_token",
    "entitlement.remove",
    "entitlement.stop",
    "entitlement.token_redeemed",
    "entitlement.transfer",
    "entitlement.update",
    "licence.activate",
    "licence.activate_refused",
    "licence.reissue",
    "licence.validate",
    "organization.create",
    "portal_user.create",
    "portal_user.disable",
    "portal_user.reset",
    "prices.import",
    "program.extend",
    "program.register",
)
