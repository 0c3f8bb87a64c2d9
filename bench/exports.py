"""Export half of bench/accrual.py: pointflex's CSV and XLSX exports next to raw baselines.

  CSV   PostgreSQL: a raw ``COPY (SELECT … ORDER BY serial) TO STDOUT WITH CSV`` of the same
        columns, read to the end; SQLite: the csv module over a plain SELECT of them.
  XLSX  a raw xlsxwriter (constant_memory) write of the same rows from a plain SELECT.
Neither baseline decrypts tokens, shows statuses or formats dates; pointflex's exports do.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from typing import Any

import xlsxwriter
from sqlalchemy import Engine, select

from bench.common import Report, best_of
from bench.seed import OPERATOR
from pointflex.bootstrap import Runtime
from pointflex.renderers.exports import ExportFormat, export_entitlements
from pointflex.services.entitlements.views import EntitlementFilter
from pointflex.store.tables import entitlements as E

RAW_COLUMNS = [
    E.c.serial,
    E.c.product_type_id,
    E.c.config_id,
    E.c.description,
    E.c.status,
    E.c.token_enc,
    E.c.token_status,
    E.c.start_at,
    E.c.end_at,
    E.c.termination_mode,
    E.c.folder_path,
    E.c.account_id,
]


class Sink(io.RawIOBase):
    """Counts bytes and throws them away, like a client reading a download."""

    def __init__(self) -> None:
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.size += len(data)
        return len(data)


def ours(rt: Runtime, program: str, fmt: ExportFormat) -> None:
    flt = EntitlementFilter(program_serial=program)
    export_entitlements(rt, OPERATOR, flt, fmt, Sink())  # type: ignore[arg-type]


def raw_csv(engine: Engine, program: str) -> None:
    query = select(*RAW_COLUMNS).where(E.c.program_serial == program).order_by(E.c.serial)
    if engine.dialect.name == "postgresql":
        sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            with cursor.copy(f"COPY ({sql}) TO STDOUT WITH CSV HEADER") as copy:  # type: ignore[attr-defined]
                for _ in copy:
                    pass
        finally:
            raw.close()
        return
    sink = io.TextIOWrapper(Sink(), encoding="utf-8", newline="")  # type: ignore[arg-type]
    writer = csv.writer(sink)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=5000).execute(query)
        for rows in result.partitions():
            writer.writerows(rows)


def raw_xlsx(engine: Engine, program: str) -> None:
    query = select(*RAW_COLUMNS).where(E.c.program_serial == program).order_by(E.c.serial)
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True})
    sheet = workbook.add_worksheet()
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=5000).execute(query)
        row_number = 0
        for rows in result.partitions():
            for row in rows:
                sheet.write_row(row_number, 0, [_cell(v) for v in row])
                row_number += 1
    workbook.close()
    os.unlink(path)


def _cell(value: Any) -> Any:
    return value.hex() if isinstance(value, bytes) else str(value) if value is not None else ""


def measure(report: Report, rt: Runtime, engine: Engine, program: str, runs: int) -> None:
    report.figures["raw_csv"] = best_of(runs, lambda: raw_csv(engine, program))
    report.figures["export_csv"] = best_of(runs, lambda: ours(rt, program, ExportFormat.CSV))
    report.figures["raw_xlsx"] = best_of(1, lambda: raw_xlsx(engine, program))
    report.figures["export_xlsx"] = best_of(1, lambda: ours(rt, program, ExportFormat.XLSX))
    report.ratio("csv_vs_raw", "export_csv", "raw_csv", 1.5)
    report.ratio("xlsx_vs_raw", "export_xlsx", "raw_xlsx", 1.3)
