"""The portal's My Assets table: one page of entitlements, its filter options, selections.

Pages are read with the shared :func:`filtered_query` (visibility, filters, the shown status
in SQL), ordered by an indexed column with the serial as tie-breaker, and cut with
LIMIT/OFFSET; the count of matching rows comes from the same filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select

from pointflex.bootstrap import Runtime
from pointflex.services.context import Actor, read
from pointflex.services.entitlements.views import (
    Entitlement,
    EntitlementFilter,
    ProgramFacts,
    filtered_query,
    shown_status_sql,
    to_record,
    with_programs,
)
from pointflex.store.tables import configurations, entitlements

E = entitlements
PAGE_SIZE = 50


class SortKey(StrEnum):
    SERIAL = "serial"
    STATUS = "status"
    START = "start"
    END = "end"
    CONFIG = "config"


@dataclass(frozen=True)
class AssetPage:
    rows: list[Entitlement]
    total: int
    page: int  # 1-based, clamped to the pages there are
    pages: int
    size: int


@dataclass(frozen=True)
class ConfigOption:
    id: int
    name: str
    product_type_id: int


def asset_page(
    rt: Runtime,
    actor: Actor,
    flt: EntitlementFilter,
    *,
    sort: SortKey = SortKey.SERIAL,
    descending: bool = False,
    page: int = 1,
    size: int = PAGE_SIZE,
) -> AssetPage:
    """Page ``page`` (1-based) of the entitlements matching ``flt``, and how many match."""
    with read(rt) as conn:
        facts = ProgramFacts(rt, rt.now())
        query = filtered_query(conn, actor, facts, flt)
        # Counted on the entitlements alone: every condition is on them, and each has its
        # configuration (a foreign key), so the join would not change the count.
        where = [] if query.whereclause is None else [query.whereclause]
        total = conn.execute(select(func.count()).select_from(E).where(*where)).scalar_one()
        pages = max(1, -(-total // size))
        page = min(max(1, page), pages)
        column: Any = {
            SortKey.SERIAL: E.c.serial,
            SortKey.STATUS: shown_status_sql(conn, facts) if flt.status is None else E.c.status,
            SortKey.START: E.c.start_at,
            SortKey.END: E.c.end_at,
            SortKey.CONFIG: configurations.c.name,
        }[sort]
        order = [column.desc() if descending else column.asc()]
        if sort is not SortKey.SERIAL:
            order.append(E.c.serial.desc() if descending else E.c.serial.asc())
        offset = (page - 1) * size
        if sort is SortKey.CONFIG:
            page_query = with_programs(query).order_by(*order).limit(size).offset(offset)
        else:
            # A deferred join: the page's serials from the entitlements alone (an index walk
            # in the order asked), then only those rows joined and read in full.
            keys = select(E.c.serial).where(*where).order_by(*order).limit(size).offset(offset)
            chosen = list(conn.execute(keys).scalars())
            page_query = with_programs(query).where(E.c.serial.in_(chosen)).order_by(*order)
        rows = conn.execute(page_query).all()
        records = []
        for row in rows:
            facts.remember(row)
            records.append(to_record(rt, facts, conn, row))
    return AssetPage(records, total, page, pages, size)


def config_options(rt: Runtime, actor: Actor) -> list[ConfigOption]:
    """The configurations the actor sees, by name (the table's configuration filter)."""
    C = configurations
    query = select(C.c.id, C.c.name, C.c.product_type_id).order_by(C.c.name, C.c.id)
    if actor.account_ids is not None:
        query = query.where(C.c.account_id.in_(sorted(actor.account_ids)))
    with read(rt) as conn:
        return [ConfigOption(r.id, r.name, r.product_type_id) for r in conn.execute(query)]
