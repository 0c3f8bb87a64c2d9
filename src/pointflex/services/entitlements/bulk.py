"""Bulk actions on a selection of entitlements: what they would change, then the change.

A selection is the serials named, or every entitlement matching a filter. The preview reads
it and runs the rules that refuse a whole selection (R41, R60, the selection limits); the
action resolves it again inside its own write transaction, where the rows are locked and the
same rules run once more on what is actually there — one transaction, one read of the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from sqlalchemy import Connection

from pointflex.bootstrap import Runtime
from pointflex.domain import entitlements as rules
from pointflex.domain.ends import RequestedEnd
from pointflex.domain.entitlements import Selection, Status
from pointflex.errors import InvalidInput, LimitExceeded
from pointflex.services.context import Actor, read, write
from pointflex.services.entitlements import changes
from pointflex.services.entitlements.changes import Outcome
from pointflex.services.entitlements.views import (
    Entitlement,
    EntitlementFilter,
    ProgramFacts,
    filtered_query,
    iter_entitlements,
    load_records,
)
from pointflex.store.tables import entitlements as E


class BulkAction(StrEnum):
    STOP = "stop"
    REACTIVATE = "reactivate"
    REMOVE = "remove"


_LIMITED_AS = {
    BulkAction.STOP: Selection.STATUS,
    BulkAction.REACTIVATE: Selection.STATUS,
    BulkAction.REMOVE: Selection.REMOVE,
}


def preview_bulk(
    rt: Runtime,
    actor: Actor,
    action: BulkAction,
    serials: Sequence[str],
    flt: EntitlementFilter | None,
) -> list[Entitlement]:
    """The entitlements the action would change; refused as a whole as the action would be."""
    actor.require_write()
    limit = rt.settings.selection_limits.of(_LIMITED_AS[action])
    with read(rt) as conn:
        if flt is None:
            records = load_records(rt, conn, actor, _named(serials, limit))
        else:
            records = []
            for record in iter_entitlements(rt, conn, actor, flt):
                records.append(record)
                if len(records) > limit:
                    raise _too_many_matches(limit)
    rules.check_bulk([r.view() for r in records], removing=action is BulkAction.REMOVE)
    return records


def apply_bulk(
    rt: Runtime,
    actor: Actor,
    action: BulkAction,
    serials: Sequence[str],
    flt: EntitlementFilter | None,
    end: RequestedEnd | None = None,
) -> list[Outcome]:
    """The action on the selection as it is now, in one transaction.

    Remove is all or nothing (R41); stop and reactivate say per serial why one could not
    change. ``end`` is the termination mode chosen on reactivation (R48), resolved in each
    entitlement's own program time zone.
    """
    actor.require_write()
    limit = rt.settings.selection_limits.of(_LIMITED_AS[action])
    with write(rt) as conn:
        wanted = _selected(rt, conn, actor, serials, flt, limit)
        if not wanted:
            raise InvalidInput("select at least one entitlement")
        if action is BulkAction.REMOVE:
            removed = changes.remove_in(rt, conn, actor, wanted)
            return [Outcome(serial, None, None) for serial in removed]
        target = Status.STOPPED if action is BulkAction.STOP else Status.ACTIVE
        return changes.change_status_in(
            rt, conn, actor, wanted, target, end if target is Status.ACTIVE else None
        )


def _selected(
    rt: Runtime,
    conn: Connection,
    actor: Actor,
    serials: Sequence[str],
    flt: EntitlementFilter | None,
    limit: int,
) -> list[str]:
    """The serials of the selection, read in the caller's transaction (only the serials)."""
    if flt is None:
        return _named(serials, limit)
    query = filtered_query(conn, actor, ProgramFacts(rt, rt.now()), flt)
    found = list(
        conn.execute(
            query.with_only_columns(E.c.serial).order_by(E.c.serial).limit(limit + 1)
        ).scalars()
    )
    if len(found) > limit:
        raise _too_many_matches(limit)
    return found


def _named(serials: Sequence[str], limit: int) -> list[str]:
    wanted = list(dict.fromkeys(s.strip().upper() for s in serials if s.strip()))
    if len(wanted) > limit:
        raise LimitExceeded(f"at most {limit} serials per bulk action")
    return wanted


def _too_many_matches(limit: int) -> LimitExceeded:
    return LimitExceeded(
        f"the filter matches more than {limit} entitlements; at most {limit} per bulk action"
    )
