"""Entitlement exports (P1): CSV, XLSX and JSON, streamed with flat memory however many rows.

Rows come in serial order, a thousand at a time, from one read transaction:

- PostgreSQL: one ``COPY (SELECT ...) TO STDOUT (FORMAT csv)``. The server filters, computes the
  shown status, names products, converts dates to the program's time zone, neutralises formulas
  and quotes the CSV. Tokens travel as ciphertext between two ``\\x01`` markers, so a CSV batch
  only needs its tokens decrypted (all at once) and spliced in: a CSV export costs little more
  than the raw ``COPY``. XLSX and JSON parse the same batches with the csv module.
- other databases (SQLite): a streamed SELECT of the same columns, formatted here.

Both use :func:`filtered_query` and :func:`shown_status_sql`, and give the same bytes (tested).
"""

from __future__ import annotations

import binascii
import csv
import io
import json
import selectors
import shutil
import tempfile
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import Any, BinaryIO, cast

import psycopg
import xlsxwriter
from cryptography.exceptions import InvalidTag
from psycopg import pq
from sqlalchemy import ColumnElement, Connection, DateTime, Select, String, case, func, literal
from sqlalchemy import cast as sql_cast
from sqlalchemy import select as sql_select

from pointflex.bootstrap import Runtime
from pointflex.domain.dates import PACIFIC, format_wire, utc, zone
from pointflex.services.context import Actor, read
from pointflex.services.entitlements.views import (
    EntitlementFilter,
    ProgramFacts,
    filtered_query,
    shown_status_sql,
)
from pointflex.store.sql import is_postgres
from pointflex.store.tables import configurations, entitlements, programs
from pointflex.store.token_batch import TokenBatchDecryptor

E = entitlements


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"


# P1's columns in order. The configuration is two columns, name then id, so that scripts need
# not parse "name (id)" back (a name may itself end in parentheses).
COLUMNS: tuple[str, ...] = (
    *("Serial Number", "Product Type", "Configuration", "Configuration ID", "Description"),
    *("Status", "Token", "Token Status", "Start Date", "End Date", "Termination Mode"),
    *("Folder", "Account"),
)
JSON_KEYS: tuple[str, ...] = (
    *("serialNumber", "productType", "configName", "configId", "description", "status"),
    *("token", "tokenStatus", "startDate", "endDate", "terminationMode", "folderPath"),
    "accountId",
)
CONFIG_ID, TOKEN, TOKEN_STATUS, ACCOUNT = 3, 6, 7, 12
NUMBERS = frozenset({CONFIG_ID, ACCOUNT})
# Columns that may hold text from users or the catalogue. The others hold values pointflex
# writes from closed sets (statuses, modes, the dates it formats, integers, tokens: P10)
# or validates to start with a letter or digit (serial numbers).
FREE_TEXT = (1, 2, 4, 11)
# OWASP's list: a cell starting with one of these is run as a formula by spreadsheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

BATCH_ROWS = 1000
SELECTION_CHUNK = 5000  # selected serials per query: well within every bind-parameter limit
# No column is NULL (they are coalesced), so empty values come unquoted, as the csv module
# writes them: both reading paths give the same bytes.
COPY_OPTIONS = "(FORMAT csv, NULL '\\N')"
XLSX_MAX_ROWS = 1_048_575  # data rows under a sheet's header (Excel's limit)
XLSX_WIDTHS = (22, 34, 24, 16, 40, 14, 24, 13, 20, 20, 18, 30, 12)

Row = tuple[Any, ...]  # COLUMNS order; ids are int, a missing token or token status is None


def export_filename(fmt: ExportFormat, now: datetime, tz: str = PACIFIC) -> str:
    """``entitlements-YYYYMMDD-HHMMSS.<ext>``, in ``tz`` when ``now`` is an aware instant."""
    local = utc(now).astimezone(zone(tz)) if now.tzinfo is not None else now
    return f"entitlements-{local:%Y%m%d-%H%M%S}.{fmt.value}"


def export_entitlements(
    rt: Runtime, actor: Actor, flt: EntitlementFilter, fmt: ExportFormat, out: BinaryIO
) -> int:
    """Write the entitlements matching ``flt`` (a selection is ``flt.serials``) to ``out``.

    Returns the number of rows written.
    """
    with read(rt) as conn:
        source = _Source(rt, conn, actor, flt)
        if fmt is ExportFormat.CSV:
            return _write_csv(source, out)
        # closing(): a writer that fails (a client gone) ends the COPY before the transaction.
        with closing(source.rows()) as batches:
            write = _write_xlsx if fmt is ExportFormat.XLSX else _write_json
            return write(batches, out)


def use_copy(conn: Connection) -> bool:
    """Whether exports read with ``COPY`` (PostgreSQL through psycopg)."""
    return is_postgres(conn) and isinstance(conn.connection.driver_connection, psycopg.Connection)


# --------------------------------------------------------------------------- reading


class _Source:
    """The rows of one export: display rows, or (CSV) finished CSV bytes."""

    def __init__(self, rt: Runtime, conn: Connection, actor: Actor, flt: EntitlementFilter) -> None:
        self._rt, self._conn, self._actor, self._flt = rt, conn, actor, flt
        self._facts = ProgramFacts(rt, rt.now())
        self._status = shown_status_sql(conn, self._facts)  # once per export, not per batch
        self._tokens = _Tokens(rt)
        self._products: dict[int, str] = {}
        self._copy = use_copy(conn)

    def rows(self) -> Generator[list[Row], None, None]:
        if not self._copy:
            with closing(self._selected()) as selected:
                yield from map(self._finish, selected)
            return
        with closing(self._copied(for_csv=False)) as copied:
            for rows in copied:
                yield self._parse(rows)

    def csv(self) -> Generator[tuple[bytes, int], None, None]:
        """CSV rows without the header, in batches, with their row counts."""
        if not self._copy:
            with closing(self.rows()) as batches:
                for rows in batches:
                    yield _csv_bytes(map(_safe_row, rows)), len(rows)
            return
        with closing(self._copied(for_csv=True)) as copied:
            for rows in copied:
                spliced = self._spliced(rows)
                # Formulas are neutralised already: the server did it for CSV batches.
                yield spliced or _csv_bytes(self._parse(rows)), len(rows)

    def _queries(self, columns: Sequence[ColumnElement[Any]], zones: bool) -> Iterator[Select[Any]]:
        """The export's query, one per chunk of a large selection. ``zones``: join each row's
        program for its time zone (a sixth of the server's work, so only when needed)."""
        for part in _selection_parts(self._flt):
            query = filtered_query(self._conn, self._actor, self._facts, part)
            query = query.with_only_columns(*columns)
            if zones:
                query = query.join(programs, programs.c.serial == E.c.program_serial)
            yield query.order_by(E.c.serial)

    def _product(self, product_type_id: int) -> str:
        name = self._products.get(product_type_id)
        if name is None:
            name = self._products[product_type_id] = self._rt.catalog.product(product_type_id).name
        return name

    # -- SQLite and other databases

    def _selected(self) -> Generator[Sequence[Any], None, None]:
        columns = [
            *(E.c.serial, E.c.product_type_id, configurations.c.name, E.c.config_id),
            *(E.c.description, self._status, E.c.token_enc, E.c.token_status, E.c.start_at),
            *(E.c.end_at, E.c.termination_mode, E.c.folder_path, E.c.account_id),
            programs.c.timezone,
        ]
        stream = self._conn.execution_options(stream_results=True, yield_per=BATCH_ROWS)
        for query in self._queries(columns, zones=True):
            yield from stream.execute(query).partitions()

    def _finish(self, rows: Sequence[Any]) -> list[Row]:
        tokens = self._tokens.from_blobs([r[TOKEN] for r in rows], [r[0] for r in rows])
        shown: dict[tuple[datetime, str], str] = {}  # many rows share instants
        return [
            (
                *(r[0], self._product(r[1]), *r[2:6], token, r[7]),
                *(_local(r[8], r[13], shown), _local(r[9], r[13], shown), *r[10:13]),
            )
            for r, token in zip(rows, tokens, strict=True)
        ]

    # -- PostgreSQL

    def _copied(self, *, for_csv: bool) -> Generator[list[Any], None, None]:
        """Batches of CSV rows (buffers, each ending in a newline) from COPY. ``for_csv``: values
        that start like a formula come neutralised, so CSV batches need no scanning here."""
        zones = {program.timezone for program in self._facts.cache.values()}
        single_zone = zones.pop() if len(zones) == 1 else None
        text = _neutralised_sql if for_csv else _as_is
        columns = [
            E.c.serial,
            self._product_names(_neutralised if for_csv else str),
            *(text(configurations.c.name), E.c.config_id, text(E.c.description), self._status),
            literal("\x01") + func.coalesce(func.encode(E.c.token_enc, "hex"), "") + "\x01",
            func.coalesce(E.c.token_status, ""),
            *(_local_sql(E.c.start_at, single_zone), _local_sql(E.c.end_at, single_zone)),
            *(E.c.termination_mode, text(E.c.folder_path), E.c.account_id),
        ]
        settings = {
            "client_encoding": "UTF8",  # CSV batches go out as they come in
            "datestyle": "ISO, YMD",
            "timezone": single_zone or "UTC",
        }
        for name, value in settings.items():  # for this transaction only
            self._conn.execute(sql_select(func.set_config(name, value, True)))
        for query in self._queries(columns, zones=single_zone is None):
            yield from _copy_csv(self._conn, query)

    def _product_names(self, shown: Callable[[str], str]) -> ColumnElement[str]:
        used = self._conn.execute(sql_select(configurations.c.product_type_id).distinct())
        names = {pid: shown(self._product(pid)) for pid in used.scalars()}
        other = sql_cast(E.c.product_type_id, String)
        return case(names, value=E.c.product_type_id, else_=other) if names else other

    def _parse(self, rows: list[Any]) -> list[Row]:
        records = list(csv.reader(io.StringIO(b"".join(rows).decode())))
        blobs = [binascii.a2b_hex(r[TOKEN][1:-1]) if len(r[TOKEN]) > 2 else None for r in records]
        tokens = self._tokens.from_blobs(blobs, [r[0] for r in records])
        return [
            (*r[:3], int(r[3]), *r[4:6], token, r[7] or None, *r[8:12], int(r[12]))
            for r, token in zip(records, tokens, strict=True)
        ]

    def _spliced(self, rows: list[Any]) -> bytes | None:
        """The CSV ``rows`` with their tokens decrypted in place and CRLF line ends, or None
        when that needs the csv module (a value holding a marker, tokens not as P10 says)."""
        data = b"".join(rows)
        crlf = data.replace(b"\n", b"\r\n")
        if len(crlf) - len(data) != len(rows):  # a value spans lines: it keeps its newline
            crlf = b"\r\n".join([row[:-1] for row in rows]) + b"\r\n"
        parts = crlf.split(b"\x01")
        if len(parts) != 2 * len(rows) + 1:
            return None
        tokens = self._tokens.from_hex(parts[1::2], crlf)
        if tokens is None:
            return None
        parts[1::2] = tokens
        return b"".join(parts)


def _selection_parts(flt: EntitlementFilter) -> Iterator[EntitlementFilter]:
    """The filter, with a large selection split into sorted chunks (output stays in order)."""
    if flt.serials is None or len(flt.serials) <= SELECTION_CHUNK:
        yield flt
        return
    serials = sorted(set(flt.serials))
    for start in range(0, len(serials), SELECTION_CHUNK):
        yield replace(flt, serials=tuple(serials[start : start + SELECTION_CHUNK]))


def _local(instant: datetime, tz: str, shown: dict[tuple[datetime, str], str]) -> str:
    text = shown.get((instant, tz))
    if text is None:
        text = shown[instant, tz] = cast(str, format_wire(instant, tz))
    return text


def _local_sql(instant: ColumnElement[datetime], single_zone: str | None) -> ColumnElement[Any]:
    """Wall-clock time in the program's zone to the second, as format_wire shows it. With one
    zone in play the session's zone converts, which is cheaper than a zone name per row."""
    local = (
        sql_cast(instant, DateTime())
        if single_zone
        else func.timezone(programs.c.timezone, instant)
    )
    return func.date_trunc("second", local)


def _neutralised(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def _neutralised_sql(value: ColumnElement[str]) -> ColumnElement[str]:
    """:func:`_neutralised` in SQL (comparing a code point is cheaper than a substring)."""
    starts = [ord(char) for char in FORMULA_START]
    return case((func.ascii(value).in_(starts), literal("'") + value), else_=value)


def _as_is(value: ColumnElement[str]) -> ColumnElement[str]:
    return value


# --------------------------------------------------------------------------- COPY


def _copy_csv(conn: Connection, query: Select[Any]) -> Iterator[list[Any]]:
    """``COPY (query) TO STDOUT`` as CSV, in batches of rows."""
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    sql, params = str(compiled), compiled.params
    if not params:  # psycopg turns '%%' back into '%' only when it binds parameters
        sql = sql.replace("%%", "%")
    driver = cast(psycopg.Connection[Any], conn.connection.driver_connection)
    with driver.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT {COPY_OPTIONS}", params):
        yield from _copy_batches(driver.pgconn, driver.info.encoding)


def _copy_batches(pgconn: pq.abc.PGconn, encoding: str) -> Iterator[list[Any]]:
    """The rows of a running COPY TO in batches, asked of libpq one C call each (it hands
    rows over one at a time: each buffer is one whole row).

    Iterating psycopg's Copy costs a generator round trip per row, a fifth of a CSV export's
    own work. psycopg still starts the COPY and, if the consumer stops early, cancels and
    drains it. The socket is waited on (without the GIL) only when no row is ready.
    """
    read, size = pgconn.get_copy_data, BATCH_ROWS
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


# --------------------------------------------------------------------------- tokens


class _Tokens:
    """Batch decryption of tokens, for display only (no tag checks).

    The batch decryptor shares the vault's key. The first token of an export is checked
    against the vault, which does check tags; should they disagree, the vault decrypts every
    token from then on.
    """

    def __init__(self, rt: Runtime) -> None:
        self._vault = rt.vault
        self._batch: TokenBatchDecryptor | None = rt.vault.batch_decryptor()
        self._checked = False

    def from_blobs(self, blobs: Sequence[bytes | None], serials: Sequence[str]) -> list[Any]:
        tokens = self._decrypt_many(blobs)
        if tokens is not None:
            sample = next((i for i, blob in enumerate(blobs) if blob is not None), None)
            if sample is None or self._trusted(blobs[sample], serials[sample], tokens[sample]):
                return tokens
        return [self._vault.decrypt(b, s) for b, s in zip(blobs, serials, strict=True)]

    def from_hex(self, encoded: list[bytes], data: bytes) -> list[bytes] | None:
        """Plaintexts to splice into the CSV rows ``data``, or None if they need the slow
        path. ``encoded[i]`` is empty for a row without a token (hardware, cloud)."""
        if self._batch is None:
            return None
        present = [e for e in encoded if e] if b"" in encoded else encoded
        if not present:
            return encoded
        if len(set(map(len, present))) != 1:  # all of one length: they decode as one
            return None
        packed = binascii.a2b_hex(b"".join(present))
        size = len(packed) // len(present)
        plain = self._batch.decrypt_packed(packed, size)
        if not self._checked:  # the first row's serial opens the batch
            serial = data[: data.find(b",")].decode()
            token = plain[0].decode("utf-8", "replace")
            if not encoded[0] or not self._trusted(packed[:size], serial, token):
                return None
        if not b"".join(plain).isalnum():  # P10 tokens are hex; anything else gets quoted
            return None
        if present is encoded:
            return plain
        found = iter(plain)
        return [next(found) if e else b"" for e in encoded]

    def _decrypt_many(self, blobs: Sequence[bytes | None]) -> list[str | None] | None:
        if self._batch is None:
            return None
        try:
            return self._batch.decrypt_many(blobs)
        except UnicodeDecodeError:  # a wrong key makes garbage, not UTF-8
            self._batch = None
            return None

    def _trusted(self, blob: bytes | None, serial: str, token: str | None) -> bool:
        """Whether the batch key is the vault's (checked once per export)."""
        if not self._checked:
            self._checked = True
            try:
                agrees = self._vault.decrypt(blob, serial) == token
            except InvalidTag:
                agrees = False
            if not agrees:
                self._batch = None
        return self._batch is not None


# --------------------------------------------------------------------------- writing


def _safe_row(row: Row) -> list[Any]:
    cells = list(row)
    for index in FREE_TEXT:
        cells[index] = _neutralised(cells[index])
    return cells


def _csv_bytes(rows: Iterator[Sequence[Any]] | list[Row]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()


def _write_csv(source: _Source, out: BinaryIO) -> int:
    """RFC 4180 (CRLF, quotes where needed), UTF-8 without BOM, header row first."""
    out.write((",".join(COLUMNS) + "\r\n").encode())
    count = 0
    with closing(source.csv()) as batches:
        for data, rows in batches:
            out.write(data)
            count += rows
    return count


def _write_xlsx(batches: Iterator[list[Row]], out: BinaryIO) -> int:
    """One workbook, its rows streamed to a temporary file (constant_memory), then copied."""
    with tempfile.TemporaryFile() as spool:
        workbook = xlsxwriter.Workbook(spool, {"constant_memory": True})
        sheets = _Sheets(workbook)
        for rows in batches:
            sheets.write(map(_safe_row, rows))
        sheets.finish()
        workbook.close()
        spool.seek(0)
        shutil.copyfileobj(spool, out, 1 << 16)
    return sheets.count


class _Sheets:
    """Writes rows, going on in another sheet with the same header when one is full."""

    def __init__(self, workbook: Any) -> None:
        self._workbook = workbook
        self._header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "bottom": 1})
        self._sheet: Any = None
        self._row = 0
        self.count = 0

    def write(self, rows: Iterator[list[Any]]) -> None:
        cells = self._cell_writers()
        for row in rows:
            if self._row > XLSX_MAX_ROWS:
                self._open()
                cells = self._cell_writers()
            at = self._row
            for col, value in enumerate(row):
                cells[col](at, col, "" if value is None else value)
            self._row += 1
            self.count += 1

    def finish(self) -> None:
        """Put a filter on the last sheet's header; an empty export still gets one sheet."""
        if self._sheet is None:
            self._open()
        self._add_filter()

    def _cell_writers(self) -> list[Callable[[int, int, Any], Any]]:
        if self._sheet is None:
            self._open()
        text, number = self._sheet.write_string, self._sheet.write_number
        return [number if col in NUMBERS else text for col in range(len(COLUMNS))]

    def _open(self) -> None:
        if self._sheet is not None:
            self._add_filter()
        count = len(self._workbook.worksheets())
        name = "Entitlements" if count == 0 else f"Entitlements ({count + 1})"
        self._sheet = self._workbook.add_worksheet(name)
        for col, (title, width) in enumerate(zip(COLUMNS, XLSX_WIDTHS, strict=True)):
            self._sheet.set_column(col, col, width)
            self._sheet.write_string(0, col, title, self._header)
        self._sheet.freeze_panes(1, 0)
        self._row = 1

    def _add_filter(self) -> None:
        self._sheet.autofilter(0, 0, max(self._row - 1, 1), len(COLUMNS) - 1)


def _write_json(batches: Iterator[list[Row]], out: BinaryIO) -> int:
    """A JSON array of objects with camelCase keys, written batch by batch."""
    out.write(b"[")
    count = 0
    for rows in batches:
        if rows:
            objects = (dict(zip(JSON_KEYS, row, strict=True)) for row in rows)
            text = ",\n".join(json.dumps(o, ensure_ascii=False) for o in objects)
            out.write((("\n" if count == 0 else ",\n") + text).encode())
            count += len(rows)
    out.write(b"\n]\n" if count else b"]\n")
    return count
