"""Entitlement exports written out (P1): CSV, XLSX and JSON, streamed batch by batch.

The rows, and for CSV the finished bytes, come from
:mod:`pointflex.services.entitlements.exports`; this module writes them as files.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import datetime
from enum import StrEnum
from typing import Any, BinaryIO

import xlsxwriter

from pointflex.bootstrap import Runtime
from pointflex.domain.dates import PACIFIC, utc, zone
from pointflex.services.context import Actor
from pointflex.services.entitlements.exports import (
    ACCOUNT,
    COLUMNS,
    CONFIG_ID,
    ExportSource,
    Row,
    export_source,
    safe_row,
)
from pointflex.services.entitlements.views import EntitlementFilter


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"


JSON_KEYS: tuple[str, ...] = (
    *("serialNumber", "productType", "configName", "configId", "description", "status"),
    *("token", "tokenStatus", "startDate", "endDate", "terminationMode", "folderPath"),
    "accountId",
)
NUMBERS = frozenset({CONFIG_ID, ACCOUNT})
XLSX_MAX_ROWS = 1_048_575  # data rows under a sheet's header (Excel's limit)
XLSX_WIDTHS = (22, 34, 24, 16, 40, 14, 24, 13, 20, 20, 18, 30, 12)


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
    with export_source(rt, actor, flt) as source:
        if fmt is ExportFormat.CSV:
            return _write_csv(source, out)
        # closing(): a writer that fails (a client gone) ends the COPY before the transaction.
        with closing(source.rows()) as batches:
            write = _write_xlsx if fmt is ExportFormat.XLSX else _write_json
            return write(batches, out)


def _write_csv(source: ExportSource, out: BinaryIO) -> int:
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
            sheets.write(map(safe_row, rows))
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
