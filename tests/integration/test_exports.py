"""Entitlement exports (P1): columns, values, scope, formats, streaming with flat memory."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, BinaryIO, cast

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from pointflex.bootstrap import Runtime
from pointflex.clock import ManualClock
from pointflex.domain.dates import day_start, format_wire
from pointflex.domain.ends import RequestedEnd
from pointflex.domain.programs import ProgramKind
from pointflex.renderers import exports as writers
from pointflex.renderers.exports import JSON_KEYS, ExportFormat, export_entitlements
from pointflex.services.access import accounts
from pointflex.services.context import Actor, read
from pointflex.services.entitlements import changes, creation, exports
from pointflex.services.entitlements.exports import COLUMNS
from pointflex.services.entitlements.views import EntitlementFilter, get_entitlement
from pointflex.services.points import programs
from pointflex.store.tables import entitlements
from pointflex.store.token_batch import TokenBatchDecryptor
from pointflex.store.tokens import TokenVault, new_token
from tests.builders import FGT_HW, OPERATOR, config, world

PACIFIC = "America/Los_Angeles"
ALL = EntitlementFilter()


def pacific(day: date, hour: int = 10) -> datetime:
    return day_start(day, PACIFIC) + timedelta(hours=hour)


@dataclass(frozen=True)
class Assets:
    root: int
    member: int
    pending: str
    grace: str  # ACTIVE, shown GRACE_PERIOD once the program has ended
    stopped: str
    expired: str  # user-defined end date passed: EXPIRED at read time, stored ACTIVE
    formula: str
    messy: str  # comma, quotes, a newline and non-ASCII text
    hardware: str
    member_vm: str

    def serials(self) -> list[str]:
        return sorted(
            [
                *(self.pending, self.grace, self.stopped, self.expired, self.formula),
                *(self.messy, self.hardware, self.member_vm),
            ]
        )


def assets(rt: Runtime, clock: ManualClock) -> Assets:
    """A small fleet made through the services, read after its program has ended."""
    clock.set(pacific(date(2026, 3, 2)))
    w = world(rt, end=date(2026, 4, 1))
    cfg = config(rt, w.postpaid, name="fgt-ent-2")
    evil = config(rt, w.postpaid, name="=cfg+1")
    hw = config(rt, w.postpaid, FGT_HW, product=101, name="hw")
    branch = config(rt, w.postpaid, name="branch", account_id=w.member)

    def vm(cfg_id: int, **kwargs: Any) -> str:
        return creation.create_vm(rt, OPERATOR, config_id=cfg_id, **kwargs)[0].serial

    pending = vm(cfg.id, description="waiting")
    grace = vm(cfg.id, skip_pending=True, folder_path="Paris/Racks")
    stopped = vm(cfg.id, skip_pending=True)
    changes.stop(rt, OPERATOR, [stopped])
    expired = vm(
        cfg.id, skip_pending=True, end=RequestedEnd.at(day_start(date(2026, 3, 20), PACIFIC))
    )
    formula = vm(evil.id, description='=HYPERLINK("http://x","y")', folder_path="@sum")
    messy = vm(cfg.id, description='rack 4, "north"\nsecond line — café ✓')
    (hardware,) = creation.create_hardware(
        rt, OPERATOR, config_id=hw.id, serials=["FGT60FTK26000001"]
    )
    member_vm = vm(branch.id, description="-5 at branch")
    clock.set(pacific(date(2026, 4, 10)))
    return Assets(
        *(w.root, w.member, pending, grace, stopped, expired, formula, messy),
        *(hardware.serial, member_vm),
    )


class Sink(io.RawIOBase):
    def __init__(self) -> None:
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.size += len(data)
        return len(data)


# --------------------------------------------------------------------------- reading back


def export(rt: Runtime, fmt: ExportFormat, flt: EntitlementFilter = ALL, **kw: Any) -> bytes:
    out = io.BytesIO()
    count = export_entitlements(rt, kw.get("actor", OPERATOR), flt, fmt, out)
    data = out.getvalue()
    assert count == len(parse(fmt, data))
    return data


def parse(fmt: ExportFormat, data: bytes) -> list[dict[str, Any]]:
    """Rows as dicts keyed by COLUMNS; absent values as None, ids as int."""
    if fmt is ExportFormat.JSON:
        return [
            _typed({column: item[key] for column, key in zip(COLUMNS, JSON_KEYS, strict=True)})
            for item in json.loads(data)
        ]
    if fmt is ExportFormat.CSV:
        sheets = [list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))]
    else:  # every sheet starts with the header
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        sheets = [[list(r) for r in sheet.iter_rows(values_only=True)] for sheet in book]
        book.close()
    rows = []
    for header, *body in sheets:
        assert tuple(header) == COLUMNS
        rows.extend(body)
    return [_typed(dict(zip(COLUMNS, row, strict=True))) for row in rows]


def _typed(row: dict[str, Any]) -> dict[str, Any]:
    for key, value in row.items():
        if value in ("", None):
            row[key] = None
        elif key in ("Configuration ID", "Account"):
            row[key] = int(value)
    return row


def expected(rt: Runtime, serial: str) -> dict[str, Any]:
    """What the export must say about ``serial``, from the service's own record."""
    with read(rt) as conn:
        record = get_entitlement(rt, conn, OPERATOR, serial)
    return {
        "Serial Number": record.serial,
        "Product Type": rt.catalog.product(record.product_type_id).name,
        "Configuration": record.config_name,
        "Configuration ID": record.config_id,
        "Description": record.description or None,
        "Status": record.status.value,
        "Token": record.token,
        "Token Status": record.token_status,
        "Start Date": format_wire(record.start_at, record.timezone),
        "End Date": format_wire(record.end_at, record.timezone),
        "Termination Mode": record.termination_mode.value,
        "Folder": record.folder_path,
        "Account": record.account_id,
    }


def neutralised(row: dict[str, Any]) -> dict[str, Any]:
    return {
        key: "'" + value if isinstance(value, str) and value[:1] in "=+-@" and value else value
        for key, value in row.items()
    }


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_each_format_has_p1_columns_and_shown_values(
    rt: Runtime, clock: ManualClock, fmt: ExportFormat
) -> None:
    a = assets(rt, clock)
    rows = parse(fmt, export(rt, fmt))
    want = [expected(rt, serial) for serial in a.serials()]
    if fmt is not ExportFormat.JSON:
        want = [neutralised(row) for row in want]
    assert rows == want


def test_statuses_tokens_and_dates_are_as_shown_to_users(rt: Runtime, clock: ManualClock) -> None:
    a = assets(rt, clock)
    rows = {r["Serial Number"]: r for r in parse(ExportFormat.CSV, export(rt, ExportFormat.CSV))}
    assert rows[a.grace]["Status"] == "GRACE_PERIOD"
    assert rows[a.expired]["Status"] == "EXPIRED"  # read-time expiry (P11), stored ACTIVE
    assert rows[a.stopped]["Status"] == "STOPPED"
    assert rows[a.pending]["Status"] == "PENDING"
    assert rows[a.pending]["Token Status"] == "NOTUSED"
    assert len(rows[a.pending]["Token"]) == 20
    # Created at 10:00 Pacific standard time; the end date falls in daylight saving time.
    assert rows[a.expired]["Start Date"] == "2026-03-02 10:00:00"
    assert rows[a.expired]["End Date"] == "2026-03-20 00:00:00"
    assert rows[a.grace]["End Date"] == "2026-04-01 00:00:00"
    assert rows[a.grace]["Termination Mode"] == "FOLLOW_PROGRAM"
    assert rows[a.hardware]["Token"] is None
    assert rows[a.hardware]["Token Status"] is None
    assert rows[a.grace]["Product Type"] == "FortiGate-VM Service Bundle"


def test_dates_follow_each_programs_time_zone(rt: Runtime, clock: ManualClock) -> None:
    a = assets(rt, clock)
    paris = accounts.create_organization(rt, OPERATOR, "Lutece", "Lutece root")
    program = programs.register_program(
        rt,
        OPERATOR,
        account_id=paris.id,
        kind=ProgramKind.POSTPAID,
        start_date=date(2026, 1, 1),
        end_date=date(2027, 1, 1),
        timezone="Europe/Paris",
    )
    cfg = config(rt, program.serial, name="paris")
    (vm,) = creation.create_vm(
        rt,
        OPERATOR,
        config_id=cfg.id,
        end=RequestedEnd.at(day_start(date(2026, 7, 1), "Europe/Paris")),
    )
    for fmt in ExportFormat:
        rows = {r["Serial Number"]: r for r in parse(fmt, export(rt, fmt))}
        assert (rows[vm.serial]["Start Date"], rows[vm.serial]["End Date"]) == (
            "2026-04-10 19:00:00",  # 10:00 in Los Angeles
            "2026-07-01 00:00:00",
        )
        assert rows[a.grace]["Start Date"] == "2026-03-02 10:00:00"


def test_formula_cells_get_an_apostrophe_in_csv_and_xlsx_but_not_in_json(
    rt: Runtime, clock: ManualClock
) -> None:
    a = assets(rt, clock)
    for fmt in (ExportFormat.CSV, ExportFormat.XLSX):
        rows = {r["Serial Number"]: r for r in parse(fmt, export(rt, fmt))}
        assert rows[a.formula]["Description"] == '\'=HYPERLINK("http://x","y")'
        assert rows[a.formula]["Configuration"] == "'=cfg+1"
        assert rows[a.member_vm]["Description"] == "'-5 at branch"
        assert rows[a.grace]["Folder"] == "My Assets/Paris/Racks"
    rows = {r["Serial Number"]: r for r in parse(ExportFormat.JSON, export(rt, ExportFormat.JSON))}
    assert rows[a.formula]["Description"] == '=HYPERLINK("http://x","y")'


def test_csv_is_rfc4180_utf8_with_crlf_rows(rt: Runtime, clock: ManualClock) -> None:
    a = assets(rt, clock)
    data = export(rt, ExportFormat.CSV, EntitlementFilter(serials=(a.messy, a.grace)))
    assert data.startswith(b"Serial Number,Product Type,Configuration,Configuration ID,")
    assert data.endswith(b"\r\n")
    assert data.count(b"\r\n") == 3
    assert '"rack 4, ""north""\nsecond line — café ✓"'.encode() in data
    rows = parse(ExportFormat.CSV, data)
    assert rows[1]["Description"] == 'rack 4, "north"\nsecond line — café ✓'


def test_a_selection_exports_exactly_the_selected_serials(rt: Runtime, clock: ManualClock) -> None:
    a = assets(rt, clock)
    chosen = (a.stopped, a.hardware, a.pending)
    for fmt in ExportFormat:
        rows = parse(fmt, export(rt, fmt, EntitlementFilter(serials=chosen)))
        assert [r["Serial Number"] for r in rows] == sorted(chosen)


def test_a_filter_exports_exactly_the_filtered_rows(rt: Runtime, clock: ManualClock) -> None:
    a = assets(rt, clock)
    shown = parse(
        ExportFormat.CSV, export(rt, ExportFormat.CSV, EntitlementFilter(status="grace_period"))
    )
    assert [r["Serial Number"] for r in shown] == sorted([a.grace, a.hardware])
    found = parse(
        ExportFormat.JSON,
        export(rt, ExportFormat.JSON, EntitlementFilter(description_contains="rack")),
    )
    assert [r["Serial Number"] for r in found] == [a.messy]
    both = EntitlementFilter(serials=(a.pending, a.grace), status="PENDING")
    assert [
        r["Serial Number"] for r in parse(ExportFormat.CSV, export(rt, ExportFormat.CSV, both))
    ] == [a.pending]


def test_an_actor_exports_only_its_own_accounts_rows(rt: Runtime, clock: ManualClock) -> None:
    a = assets(rt, clock)
    branch = Actor(name="branch admin", account_ids=frozenset({a.member}))
    for fmt in ExportFormat:
        rows = parse(fmt, export(rt, fmt, actor=branch))
        assert [r["Serial Number"] for r in rows] == [a.member_vm]
    # Selecting someone else's serial exports nothing rather than revealing it.
    stolen = EntitlementFilter(serials=(a.grace,))
    assert parse(ExportFormat.CSV, export(rt, ExportFormat.CSV, stolen, actor=branch)) == []


def test_an_empty_export_still_has_its_header(rt: Runtime) -> None:
    nothing = EntitlementFilter(serials=())
    assert export(rt, ExportFormat.CSV, nothing) == (",".join(COLUMNS) + "\r\n").encode()
    assert json.loads(export(rt, ExportFormat.JSON, nothing)) == []
    assert parse(ExportFormat.XLSX, export(rt, ExportFormat.XLSX, nothing)) == []


def test_xlsx_has_a_styled_frozen_header_and_number_ids(rt: Runtime, clock: ManualClock) -> None:
    assets(rt, clock)
    book = openpyxl.load_workbook(io.BytesIO(export(rt, ExportFormat.XLSX)))
    sheet = book.active
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].font.bold
    assert sheet.column_dimensions["E"].width > 30
    assert isinstance(sheet["D2"].value, int)
    assert isinstance(sheet["M2"].value, int)
    assert sheet.auto_filter.ref is not None


def test_xlsx_continues_on_a_new_sheet_when_one_is_full(
    rt: Runtime, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = assets(rt, clock)
    monkeypatch.setattr(writers, "XLSX_MAX_ROWS", 3)
    data = export(rt, ExportFormat.XLSX)
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    assert book.sheetnames == ["Entitlements", "Entitlements (2)", "Entitlements (3)"]
    assert [r["Serial Number"] for r in parse(ExportFormat.XLSX, data)] == a.serials()


def test_small_batches_and_split_selections_give_the_same_export(
    rt: Runtime, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = assets(rt, clock)
    whole = {
        fmt: export(rt, fmt, EntitlementFilter(serials=tuple(a.serials()))) for fmt in ExportFormat
    }
    monkeypatch.setattr(exports, "BATCH_ROWS", 3)
    monkeypatch.setattr(exports, "SELECTION_CHUNK", 2)
    for fmt in (ExportFormat.CSV, ExportFormat.JSON):
        assert export(rt, fmt, EntitlementFilter(serials=tuple(a.serials()))) == whole[fmt]
    assert parse(ExportFormat.XLSX, whole[ExportFormat.XLSX]) == parse(
        ExportFormat.XLSX,
        export(rt, ExportFormat.XLSX, EntitlementFilter(serials=tuple(a.serials()))),
    )


def test_copy_and_plain_select_read_the_same_rows(
    rt: Runtime, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL exports read with COPY; the plain SELECT used elsewhere must agree."""
    assets(rt, clock)
    monkeypatch.setattr(exports, "BATCH_ROWS", 2)  # fast-path and parsed batches side by side
    fast = {fmt: export(rt, fmt) for fmt in ExportFormat}
    monkeypatch.setattr(exports, "use_copy", lambda conn: False)
    for fmt in (ExportFormat.CSV, ExportFormat.JSON):
        assert export(rt, fmt) == fast[fmt]
    xlsx = ExportFormat.XLSX
    assert parse(xlsx, export(rt, xlsx)) == parse(xlsx, fast[xlsx])


def test_tokens_come_out_right_even_if_the_batch_key_disagrees_with_the_vault(
    rt: Runtime, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = assets(rt, clock)
    want = parse(ExportFormat.CSV, export(rt, ExportFormat.CSV))
    # Fault injection: a batch key that disagrees with the vault must not reach the output.
    monkeypatch.setattr(rt.vault, "batch_decryptor", lambda: TokenBatchDecryptor(b"k" * 32))
    assert parse(ExportFormat.CSV, export(rt, ExportFormat.CSV)) == want
    rows = parse(ExportFormat.JSON, export(rt, ExportFormat.JSON))
    assert [r["Token"] for r in rows] == [r["Token"] for r in want]
    assert a.pending in {r["Serial Number"] for r in rows}


def test_a_failing_sink_stops_the_export_and_frees_the_connection(
    rt: Runtime, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    assets(rt, clock)
    monkeypatch.setattr(exports, "BATCH_ROWS", 2)

    class Gone(Sink):
        """A client that leaves after ``writes`` writes: mid-COPY for CSV and JSON."""

        def __init__(self, writes: int) -> None:
            super().__init__()
            self.writes = writes

        def write(self, data: Any) -> int:
            self.writes -= 1
            if self.writes < 0:
                raise BrokenPipeError("client went away")
            return super().write(data)

    for fmt in ExportFormat:
        gone = Gone(0 if fmt is ExportFormat.XLSX else 2)  # an XLSX is written when complete
        with pytest.raises(BrokenPipeError):
            export_entitlements(rt, OPERATOR, ALL, fmt, cast(BinaryIO, gone))
    assert len(parse(ExportFormat.CSV, export(rt, ExportFormat.CSV))) == 8


def test_export_filename_uses_pacific_time_and_the_format() -> None:
    now = datetime(2026, 3, 2, 18, 15, tzinfo=UTC)
    assert writers.export_filename(ExportFormat.CSV, now) == "entitlements-20260302-101500.csv"
    assert (
        writers.export_filename(ExportFormat.XLSX, now, "UTC")
        == "entitlements-20260302-181500.xlsx"
    )


# --------------------------------------------------------------------------- batch decryption

VAULT = TokenVault(b"s" * 32)
BATCH = VAULT.batch_decryptor()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.text(max_size=40), st.just("")),
        max_size=12,
    ),
    st.text(min_size=1, max_size=20),
)
def test_batch_decryption_equals_the_vault(tokens: list[str | None], serial: str) -> None:
    blobs = [None if t is None else VAULT.encrypt(t, f"{serial}{i}") for i, t in enumerate(tokens)]
    assert BATCH.decrypt_many(blobs) == [
        VAULT.decrypt(b, f"{serial}{i}") for i, b in enumerate(blobs)
    ]


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=1, max_value=300))
def test_packed_decryption_of_generated_tokens_equals_the_vault(rows: int) -> None:
    tokens = [new_token() for _ in range(rows)]
    blobs = [VAULT.encrypt(t, f"S{i}") for i, t in enumerate(tokens)]
    assert [p.decode() for p in BATCH.decrypt_packed(b"".join(blobs), 48)] == tokens


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=70), st.integers(min_value=1, max_value=40), st.data())
def test_packed_decryption_of_any_token_length_equals_the_vault(
    length: int, rows: int, data: st.DataObject
) -> None:
    alphabet = st.characters(codec="ascii")
    tokens = [data.draw(st.text(alphabet, min_size=length, max_size=length)) for _ in range(rows)]
    blobs = [VAULT.encrypt(t, f"S{i}") for i, t in enumerate(tokens)]
    plain = BATCH.decrypt_packed(b"".join(blobs), len(blobs[0]))
    assert [p.decode() for p in plain] == [VAULT.decrypt(b, f"S{i}") for i, b in enumerate(blobs)]


def test_packed_decryption_refuses_what_is_not_sealed_tokens() -> None:
    with pytest.raises(ValueError, match="not sealed tokens of 48 bytes each"):
        BATCH.decrypt_packed(b"x" * 47, 48)
    with pytest.raises(ValueError, match="not sealed tokens of 20 bytes each"):
        BATCH.decrypt_packed(b"x" * 20, 20)


# --------------------------------------------------------------------------- memory


def bulk_insert(rt: Runtime, cfg: Any, start: int, count: int) -> None:
    """Entitlements straight into the table (the service would take minutes for 200k)."""
    now = rt.now()
    with rt.engine.begin() as conn:
        for first in range(start, start + count, 5000):
            rows = []
            for n in range(first, min(first + 5000, start + count)):
                serial, token = f"FGVMBULK{n:08d}", new_token()
                rows.append(
                    {
                        "serial": serial,
                        "account_id": cfg.account_id,
                        "config_id": cfg.id,
                        "program_serial": cfg.program_serial,
                        "product_type_id": 1,
                        "form_factor": "VM",
                        "description": f"bulk {n}, rack {n % 97}" if n % 3 else f"bulk {n}",
                        "folder_path": "My Assets",
                        "status": "ACTIVE" if n % 4 else "STOPPED",
                        "token_enc": rt.vault.encrypt(token, serial),
                        "token_hash": None,
                        "token_status": "USED",
                        "start_at": now - timedelta(seconds=n),
                        "end_at": now + timedelta(days=200),
                        "termination_mode": "USER_DEFINED",
                        "removed_at": None,
                        "changed_at": now,
                        "created_at": now,
                    }
                )
            conn.execute(insert(entitlements), rows)


def peak_while_exporting(
    rt: Runtime, fmt: ExportFormat, flt: EntitlementFilter
) -> tuple[int, int, int]:
    """(rows, bytes written, peak traced memory in bytes) for one export."""
    sink = Sink()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        count = export_entitlements(rt, OPERATOR, flt, fmt, cast(BinaryIO, sink))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return count, sink.size, peak


@pytest.mark.slow
def test_exports_stream_with_flat_memory(rt: Runtime) -> None:
    w = world(rt)
    small_cfg = config(rt, w.prepaid, name="small")
    big_cfg = config(rt, w.prepaid, name="big")
    bulk_insert(rt, small_cfg, 0, 20_000)
    small = EntitlementFilter(config_id=small_cfg.id)
    for fmt in (ExportFormat.CSV, ExportFormat.XLSX):  # first-use caches are not per-row memory
        peak_while_exporting(rt, fmt, EntitlementFilter(serial_contains="BULK0000000"))
    xlsx_small = peak_while_exporting(
        rt, ExportFormat.XLSX, EntitlementFilter(serial_contains="BULK00001")
    )
    xlsx_large = peak_while_exporting(rt, ExportFormat.XLSX, small)
    csv_small = peak_while_exporting(rt, ExportFormat.CSV, small)
    bulk_insert(rt, big_cfg, 20_000, 180_000)
    csv_large = peak_while_exporting(rt, ExportFormat.CSV, ALL)

    assert (xlsx_small[0], xlsx_large[0]) == (1000, 20_000)
    assert (csv_small[0], csv_large[0]) == (20_000, 200_000)
    assert csv_large[1] > 30 * 2**20  # the data is far larger than the memory allowed below
    assert csv_large[2] < 16 * 2**20
    assert xlsx_large[2] < 16 * 2**20
    # Ten or twenty times the rows, about the same peak: memory does not grow with rows.
    assert csv_large[2] < 1.5 * csv_small[2] + 2**20, (csv_small, csv_large)
    assert xlsx_large[2] < 1.5 * xlsx_small[2] + 2**20, (xlsx_small, xlsx_large)
