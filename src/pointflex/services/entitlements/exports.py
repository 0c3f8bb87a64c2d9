"""Entitlement exports read (P1): the rows of CSV, XLSX and JSON exports, with flat memory.

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
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any, cast

from cryptography.exceptions import InvalidTag
from sqlalchemy import ColumnElement, Connection, DateTime, Select, String, case, func, literal
from sqlalchemy import cast as sql_cast
from sqlalchemy import select as sql_select

from pointflex.bootstrap import Runtime
from pointflex.domain.dates import format_wire
from pointflex.services.context import Actor, read
from pointflex.services.entitlements.views import (
    EntitlementFilter,
    ProgramFacts,
    filtered_query,
    shown_status_sql,
)
from pointflex.store.copy_stream import copy_csv, use_copy
from pointflex.store.tables import configurations, entitlements, programs
from pointflex.store.token_batch import TokenBatchDecryptor

E = entitlements


# P1's columns in order. The configuration is two columns, name then id, so that scripts need
# not parse "name (id)" back (a name may itself end in parentheses).
COLUMNS: tuple[str, ...] = (
    *("Serial Number", "Product Type", "Configuration", "Configuration ID", "Description"),
    *("Status", "Token", "Token Status", "Start Date", "End Date", "Termination Mode"),
    *("Folder", "Account"),
)
CONFIG_ID, TOKEN, TOKEN_STATUS, ACCOUNT = 3, 6, 7, 12
# Columns that may hold text from users or the catalogue. The others hold values pointflex
# writes from closed sets (statuses, modes, the dates it formats, integers, tokens: P10)
# or validates to start with a letter or digit (serial numbers).
FREE_TEXT = (1, 2, 4, 11)
# OWASP's list: a cell starting with one of these is run as a formula by spreadsheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

BATCH_ROWS = 1000
SELECTION_CHUNK = 5000  # selected serials per query: well within every bind-parameter limit

Row = tuple[Any, ...]  # COLUMNS order; ids are int, a missing token or token status is None


@contextmanager
def export_source(rt: Runtime, actor: Actor, flt: EntitlementFilter) -> Iterator[ExportSource]:
    """The rows of the entitlements matching ``flt`` (a selection is ``flt.serials``), read in
    one transaction held open while the caller writes them out."""
    with read(rt) as conn:
        yield ExportSource(rt, conn, actor, flt)


# --------------------------------------------------------------------------- reading


class ExportSource:
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
                    yield _csv_bytes(map(safe_row, rows)), len(rows)
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
            yield from copy_csv(self._conn, query, BATCH_ROWS)

    def _product_names(self, shown: Callable[[str], str]) -> ColumnElement[str]:
        used = self._conn.execute(sql_select(configurations.c.product_type_id).distinct())
        names = {pid: shown(self._product(pid)) for pid in used.scalars()}
        other = sql_cast(E.c.product_type_id, String)
        return case(names, value=E.c.product_type_id, else_=other) if names else other

    def _parse(self, rows: list[Any]) -> list[Row]:
        records = list(csv.reader(io.StringIO(b"".join(rows).decode())))
        hexed = (r[TOKEN][1:-1] for r in records)  # the token's hex between its \x01 marks
        blobs = [binascii.a2b_hex(h) if h else None for h in hexed]
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

    def from_hex(  # noqa: PLR0911 — each fast-path refusal returns None at once
        self, encoded: list[bytes], data: bytes
    ) -> list[bytes] | None:
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


def safe_row(row: Row) -> list[Any]:
    cells = list(row)
    for index in FREE_TEXT:
        cells[index] = _neutralised(cells[index])
    return cells


def _csv_bytes(rows: Iterator[Sequence[Any]] | list[Row]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()
