"""Dated price lists: the shipped ones plus those an operator imported (P9, R21)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from pointflex.bootstrap import Runtime
from pointflex.catalog import default_price_book, load_price_list, parse_price_list
from pointflex.domain.dates import local_day
from pointflex.domain.pricing import PriceBook, PriceList
from pointflex.errors import InvalidDate
from pointflex.services.context import Actor, audit, read, write
from pointflex.services.points.programs import visible_program
from pointflex.store.tables import accrual_runs, price_lists


def price_book(conn: Connection) -> PriceBook:
    """Shipped lists, overridden date by date by imported ones."""
    book = default_price_book()
    for effective, document in conn.execute(
        select(price_lists.c.effective_date, price_lists.c.document).order_by(
            price_lists.c.effective_date
        )
    ).all():
        book = book.with_list(
            parse_price_list(_decimals(document), book.catalog, source=f"imported {effective}")
        )
    return book


def _decimals(document: Any) -> Any:
    # Stored as JSON text; prices must come back as exact decimals, never floats.
    return json.loads(json.dumps(document), parse_float=Decimal)


def import_price_list(rt: Runtime, actor: Actor, path: Path) -> PriceList:
    """Import a dated list; it may not reprice a day that has already been accrued."""
    actor.require_write()
    parsed = load_price_list(path, rt.catalog)
    raw = json.loads(json.dumps(_raw_document(path), default=str))
    now = rt.now()
    with write(rt) as conn:
        accrued = conn.execute(select(func.max(accrual_runs.c.day))).scalar()
        if accrued is not None and parsed.effective <= accrued:
            raise InvalidDate(
                f"price list effective {parsed.effective} would reprice days already accrued "
                f"(through {accrued}); choose a date after {accrued}"
            )
        conn.execute(delete(price_lists).where(price_lists.c.effective_date == parsed.effective))
        conn.execute(
            insert(price_lists).values(
                effective_date=parsed.effective, document=raw, source=path.name, imported_at=now
            )
        )
        audit(
            conn,
            actor,
            now,
            "prices.import",
            "price_list",
            parsed.effective.isoformat(),
            after={"source": path.name},
        )
    return parsed


def _raw_document(path: Path) -> Any:
    import yaml

    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)


def estimate(
    rt: Runtime,
    actor: Actor,
    *,
    program_serial: str,
    product_type_id: int,
    parameters: list[Any],
    count: int,
) -> tuple[Decimal, Decimal | None, date | None]:
    """tools/calc: today's cost of ``count`` units in the program's time zone, and the next
    scheduled price (R20, R21)."""
    with read(rt) as conn:
        program = visible_program(conn, actor, program_serial)
        values = rt.catalog.parse_parameters(product_type_id, parameters)
        book = price_book(conn)
    return book.calc(product_type_id, values, count, local_day(rt.now(), program.timezone))


def list_versions(rt: Runtime) -> list[tuple[date, str]]:
    with read(rt) as conn:
        book = price_book(conn)
    return [(p.effective, p.source) for p in book.lists]
