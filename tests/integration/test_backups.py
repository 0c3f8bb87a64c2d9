"""Backups on a real database: a restore brings back every table row for row, and a file
that must not be restored (damaged, other backend, newer schema, other secret, database in
use) is refused before the database is touched."""

from __future__ import annotations

import dataclasses
import tarfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, insert, select, update

from pointflex.adapters.backup_archive import (
    PAYLOADS,
    BackupRefused,
    read_manifest,
    unpack,
    write_archive,
)
from pointflex.bootstrap import Runtime, build_runtime
from pointflex.clock import ManualClock
from pointflex.config import Settings
from pointflex.demo.plan import DemoOptions
from pointflex.demo.seed import run_demo
from pointflex.services.context import Actor, write
from pointflex.services.entitlements import creation
from pointflex.services.licensing import licences
from pointflex.services.ops import backups
from pointflex.store.db import make_engine
from pointflex.store.tables import (
    audit_log,
    consumption,
    entitlements,
    metadata,
    point_ledger,
    programs,
    signing_keys,
)
from pointflex.store.tables import (
    licences as licence_rows,
)
from pointflex.store.tokens import TokenVault
from tests.builders import OPERATOR, config, world
from tests.conftest import BACKEND, START

Snapshot = dict[str, list[tuple[Any, ...]]]
MUST_HAVE_ROWS = (audit_log, consumption, entitlements, licence_rows, point_ledger, signing_keys)


def licensed_vm(rt: Runtime) -> str:
    """An organisation with programs and a VM whose token is redeemed: its serial."""
    w = world(rt)
    (vm,) = creation.create_vm(rt, OPERATOR, config_id=config(rt, w.prepaid).id)
    assert vm.token is not None
    licences.activate(rt, vm.token, "instance-1", "7.2.3", 2, "n" * 16 + "-01", "10.0.0.1")
    return vm.serial


def snapshot(engine: Engine) -> Snapshot:
    """Every row of every table, ordered by primary key."""
    with engine.connect() as conn:
        return {
            table.name: [
                tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key))
            ]
            for table in metadata.sorted_tables
        }


def vandalise(engine: Engine) -> None:
    """Change, destroy and add data, the way a bad script or a bad day would."""
    with engine.begin() as conn:
        conn.execute(delete(consumption))
        conn.execute(delete(licence_rows))
        conn.execute(update(point_ledger).values(points=point_ledger.c.points + 1))
        conn.execute(update(programs).values(has_support_coverage=False))
        conn.execute(delete(audit_log).where(audit_log.c.id % 2 == 0))


def assert_same(expected: Snapshot, found: Snapshot) -> None:
    for name, rows in expected.items():
        assert found[name] == rows, f"table {name} differs after the restore"


@pytest.fixture
def seeded(rt: Runtime, engine: Engine) -> Snapshot:
    """A little of everything; the refusals only need data that a restore would change."""
    licensed_vm(rt)
    return snapshot(engine)


def test_a_restore_brings_back_every_table_row_for_row_after_the_data_was_damaged(
    rt: Runtime, engine: Engine, tmp_path: Path
) -> None:
    # The demo's history (accrued days, ledger, audit, users), plus a redeemed licence.
    run_demo(rt, Actor(name="demo"), DemoOptions(entitlements=50, days=3, seed=7))
    licensed_vm(rt)
    seeded = snapshot(engine)
    for table in MUST_HAVE_ROWS:
        assert seeded[table.name], f"the seed left {table.name} empty"
    written = backups.create_backup(rt, tmp_path)
    assert written.path.parent == tmp_path
    assert written.path.name.endswith(".tar")
    assert written.manifest.backend == BACKEND.replace("postgres", "postgresql")
    counts = {t.name: t.rows for t in written.manifest.tables}
    assert all(counts[name] == len(rows) for name, rows in seeded.items())

    vandalise(engine)
    assert snapshot(engine) != seeded
    done = backups.restore_backup(rt, written.path)

    assert_same(seeded, snapshot(engine))
    assert done.manifest.revision == backups.head_revision()
    assert not done.needs_upgrade
    assert not done.secret_restored


def test_a_backup_checks_out_without_touching_the_database(
    rt: Runtime, engine: Engine, seeded: Snapshot, tmp_path: Path
) -> None:
    path = backups.create_backup(rt, tmp_path / "b.tar").path
    vandalise(engine)
    damaged = snapshot(engine)

    manifest = backups.check_backup(rt, path)

    assert manifest.revision == backups.head_revision()
    assert snapshot(engine) == damaged


def test_a_backup_taken_while_the_server_writes_is_one_consistent_instant(
    rt: Runtime, engine: Engine, tmp_path: Path
) -> None:
    """Each write adds a +1/-1 pair in one transaction: a torn copy would hold half a pair."""
    program = world(rt).prepaid
    stop, pairs = threading.Event(), [0]

    def writer() -> None:
        pair = [
            {"program_serial": program, "day": START.date(), "kind": "ADJUSTMENT",
             "points": Decimal(sign), "reference": "pair", "created_at": START}
            for sign in (1, -1)
        ]  # fmt: skip
        while not stop.is_set():
            with write(rt) as conn:
                conn.execute(insert(point_ledger), pair)
            pairs[0] += 1

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        for _ in range(2000):  # bounded wait until writes are under way
            if pairs[0] >= 10 or not thread.is_alive():
                break
            time.sleep(0.005)
        assert pairs[0] >= 10, "the writer did not get going"
        path = backups.create_backup(rt, tmp_path / "b.tar").path
    finally:
        stop.set()
        thread.join()

    backups.restore_backup(rt, path)
    with engine.connect() as conn:
        count, total = conn.execute(
            select(func.count(), func.coalesce(func.sum(point_ledger.c.points), 0)).where(
                point_ledger.c.reference == "pair"
            )
        ).one()
        ledger_rows = conn.execute(select(func.count()).select_from(point_ledger)).scalar_one()
    assert count >= 20
    assert count % 2 == 0
    assert Decimal(total) == 0
    summary = read_manifest(path).table("point_ledger")
    assert summary is not None
    assert summary.rows == ledger_rows


def forged(path: Path, folder: Path, **changes: Any) -> Path:
    """A copy of the backup in ``path`` whose manifest says something else."""
    opened = unpack(path, folder)
    manifest = dataclasses.replace(opened.manifest, **changes)
    output = folder / "forged.tar"
    write_archive(output, manifest, opened.payload, None)
    return output


def other_backend() -> dict[str, str]:
    other = "postgresql" if BACKEND == "sqlite" else "sqlite"
    return {"backend": other, "payload": PAYLOADS[other]}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (other_backend(), "a backup restores only into the backend it was taken from"),
        ({"revision": "0999"}, "comes from a newer pointflex"),
        ({"format": 2}, "this pointflex reads format 1"),
        ({"payload_sha256": "0" * 64}, "the backup's dump is damaged"),
    ],
    ids=["other backend", "newer schema", "newer format", "altered dump"],
)
def test_a_backup_that_does_not_belong_here_is_refused_and_the_database_is_untouched(
    rt: Runtime,
    engine: Engine,
    seeded: Snapshot,
    tmp_path: Path,
    changes: dict[str, Any],
    message: str,
) -> None:
    path = forged(backups.create_backup(rt, tmp_path).path, tmp_path, **changes)
    vandalise(engine)
    damaged = snapshot(engine)

    with pytest.raises(BackupRefused, match=message):
        backups.restore_backup(rt, path)

    assert snapshot(engine) == damaged


def payload_offset(path: Path) -> tuple[int, int]:
    """Where the dump starts in the backup file, and its size."""
    manifest = read_manifest(path)
    with tarfile.open(path) as tar:
        return tar.getmember(manifest.payload).offset_data, manifest.payload_bytes


@pytest.mark.parametrize("keep", ["half the manifest", "half the dump", "all but one byte"])
def test_a_truncated_backup_is_refused_and_the_database_is_untouched(
    rt: Runtime, engine: Engine, seeded: Snapshot, tmp_path: Path, keep: str
) -> None:
    path = backups.create_backup(rt, tmp_path / "b.tar").path
    start, size = payload_offset(path)
    end = {
        "half the manifest": 700,
        "half the dump": start + size // 2,
        "all but one byte": start + size - 1,
    }[keep]
    path.write_bytes(path.read_bytes()[:end])
    vandalise(engine)
    damaged = snapshot(engine)

    with pytest.raises(BackupRefused):
        backups.check_backup(rt, path)
    with pytest.raises(BackupRefused):
        backups.restore_backup(rt, path)

    assert snapshot(engine) == damaged


def test_a_corrupted_dump_is_refused_and_the_database_is_untouched(
    rt: Runtime, engine: Engine, seeded: Snapshot, tmp_path: Path
) -> None:
    path = backups.create_backup(rt, tmp_path / "b.tar").path
    start, size = payload_offset(path)
    raw = bytearray(path.read_bytes())
    raw[start + size // 2] ^= 0xFF  # one flipped byte mid-dump
    path.write_bytes(bytes(raw))
    vandalise(engine)
    damaged = snapshot(engine)

    with pytest.raises(BackupRefused, match="the backup's dump is damaged"):
        backups.restore_backup(rt, path)

    assert snapshot(engine) == damaged


def test_a_restore_is_refused_while_another_process_uses_the_database(
    rt: Runtime, engine: Engine, seeded: Snapshot, tmp_path: Path, settings: Settings
) -> None:
    path = backups.create_backup(rt, tmp_path / "b.tar").path
    vandalise(engine)
    damaged = snapshot(engine)
    server = make_engine(settings.database_url)  # as a running pointflex server would
    try:
        with server.connect() as conn:
            conn.execute(select(func.count()).select_from(programs)).scalar_one()
            with pytest.raises(BackupRefused, match="stop the pointflex server"):
                backups.restore_backup(rt, path)
    finally:
        server.dispose()

    assert snapshot(engine) == damaged
    backups.restore_backup(rt, path)  # and once the server is gone, it goes through
    assert_same(seeded, snapshot(engine))


def other_installation(rt: Runtime, folder: Path, engine: Engine) -> Runtime:
    """The same database seen by an installation whose master secret is another one."""
    settings = Settings(database_url=rt.settings.database_url, data_dir=folder, secret_key="")
    return build_runtime(settings, clock=ManualClock(rt.now()), engine=engine)


def test_a_backup_made_with_another_master_secret_is_refused_unless_accepted(
    rt: Runtime, engine: Engine, seeded: Snapshot, tmp_path: Path
) -> None:
    path = backups.create_backup(rt, tmp_path / "b.tar").path
    elsewhere = other_installation(rt, tmp_path / "elsewhere", engine)
    vandalise(engine)
    damaged = snapshot(engine)

    with pytest.raises(BackupRefused, match="another master secret"):
        backups.restore_backup(elsewhere, path)
    assert snapshot(engine) == damaged

    backups.restore_backup(elsewhere, path, accept_other_secret=True)
    assert_same(seeded, snapshot(engine))


def test_a_backup_with_its_secret_restores_the_secret_so_tokens_decrypt_again(
    rt: Runtime, engine: Engine, seeded: Snapshot, tmp_path: Path
) -> None:
    path = backups.create_backup(rt, tmp_path / "b.tar", include_secret=True).path
    assert read_manifest(path).secret_included
    folder = tmp_path / "elsewhere"
    elsewhere = other_installation(rt, folder, engine)
    replaced = (folder / "secret.key").read_text()

    done = backups.restore_backup(elsewhere, path)

    assert done.secret_restored
    assert (folder / "secret.key").stat().st_mode & 0o777 == 0o600
    kept = list(folder.glob("secret.key.replaced-*"))
    assert [p.read_text() for p in kept] == [replaced]
    vault = TokenVault(bytes.fromhex((folder / "secret.key").read_text()))
    with engine.connect() as conn:
        serial, blob = conn.execute(
            select(entitlements.c.serial, entitlements.c.token_enc).where(
                entitlements.c.token_enc.is_not(None)
            )
        ).first() or ("", None)
    assert blob is not None
    assert vault.decrypt(blob, serial) == rt.vault.decrypt(blob, serial)


def test_a_backup_with_its_secret_is_refused_where_another_secret_is_configured(
    rt: Runtime, engine: Engine, seeded: Snapshot, tmp_path: Path
) -> None:
    path = backups.create_backup(rt, tmp_path / "b.tar", include_secret=True).path
    settings = Settings(
        database_url=rt.settings.database_url, data_dir=tmp_path / "x", secret_key="y" * 40
    )
    elsewhere = build_runtime(settings, clock=ManualClock(rt.now()), engine=engine)
    vandalise(engine)
    damaged = snapshot(engine)

    with pytest.raises(BackupRefused, match="POINTFLEX_SECRET_KEY holds another secret"):
        backups.restore_backup(elsewhere, path)

    assert snapshot(engine) == damaged
    assert not (tmp_path / "x" / "secret.key").exists()


def test_a_manifest_that_is_not_json_is_refused(rt: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "junk.tar"
    with tarfile.open(path, "w") as tar:
        (tmp_path / "manifest.json").write_text("{not json")
        tar.add(tmp_path / "manifest.json", arcname="manifest.json")

    with pytest.raises(BackupRefused, match="manifest is unreadable"):
        backups.check_backup(rt, path)
    with pytest.raises(BackupRefused, match="not a pointflex backup"):
        backups.check_backup(rt, tmp_path / "manifest.json")
