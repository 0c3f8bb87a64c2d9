"""Streaming a query out of PostgreSQL with ``COPY (query) TO STDOUT`` as CSV, in batches.

Used by exports: the server formats every row, so reading costs little more than the raw
``COPY``. Only with psycopg 3 (:func:`use_copy`); other drivers read rows the usual way.
"""

from __future__ import annotations

import selectors
from collections.abc import Iterator
from typing import Any, cast

import psycopg
from psycopg import pq
from sqlalchemy import Connection, Select

from pointflex.store.sql import is_postgres

# No column is NULL (they are coalesced), so empty values come unquoted, as the csv module
# writes them: both reading paths give the same bytes.
COPY_OPTIONS = "(FORMAT csv, NULL '\\N')"


def use_copy(conn: Connection) -> bool:
    """Whether exports read with ``COPY`` (PostgreSQL through psycopg)."""
    return is_postgres(conn) and isinstance(conn.connection.driver_connection, psycopg.Connection)


def copy_csv(conn: Connection, query: Select[Any], batch_rows: int) -> Iterator[list[Any]]:
    """``COPY (query) TO STDOUT`` as CSV, in batches of rows."""
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    sql, params = str(compiled), compiled.params
    if not params:  # psycopg turns '%%' back into '%' only when it binds parameters
        sql = sql.replace("%%", "%")
    driver = cast(psycopg.Connection[Any], conn.connection.driver_connection)
    with driver.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT {COPY_OPTIONS}", params):
        yield from _copy_batches(driver.pgconn, driver.info.encoding, batch_rows)


def _copy_batches(pgconn: pq.abc.PGconn, encoding: str, size: int) -> Iterator[list[Any]]:
    """The rows of a running COPY TO in batches, asked of libpq one C call each (it hands
    rows over one at a time: each buffer is one whole row).

    Iterating psycopg's Copy costs a generator round trip per row, a fifth of a CSV export's
    own work. psycopg still starts the COPY and, if the consumer stops early, cancels and
    drains it. The socket is waited on (without the GIL) only when no row is ready.
    """
    read = pgconn.get_copy_data
    pending: list[Any] = []
    append = pending.append
    with selectors.DefaultSelector() as selector:
        selector.register(pgconn.socket, selectors.EVENT_READ)
        while True:
            length, data = read(1)
            if length > 0:
                append(data)
                if len(pending) == size:
                    yield pending
                    pending = []
                    append = pending.append
            elif length == 0:
                selector.select()
                pgconn.consume_input()
            else:
                break
        _copy_result(pgconn, selector, encoding)
    if pending:
        yield pending


def _copy_result(pgconn: pq.abc.PGconn, selector: selectors.BaseSelector, encoding: str) -> None:
    """Take the COPY's final result, raising the server's error if there is one."""
    while True:
        while pgconn.is_busy():
            selector.select()
            pgconn.consume_input()
        result = pgconn.get_result()
        if result is None:
            return
        if result.status != pq.ExecStatus.COMMAND_OK:
            raise psycopg.errors.error_from_result(result, encoding=encoding)
