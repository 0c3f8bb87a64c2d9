"""Files holding secrets or customer data are readable by their owner only (0600)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy import text

from pointflex.store.db import make_engine
from pointflex.store.tokens import load_or_create_secret


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_database_and_its_wal_are_created_0600(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)  # the usual umask, which would give 0644
    try:
        database = tmp_path / "pointflex.db"
        engine = make_engine(f"sqlite:///{database}")
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
        assert mode(database) == 0o600
        wal = tmp_path / "pointflex.db-wal"
        assert wal.exists()
        assert mode(wal) == 0o600
        engine.dispose()
    finally:
        os.umask(old_umask)


def test_an_existing_database_keeps_the_mode_its_owner_chose(tmp_path: Path) -> None:
    database = tmp_path / "shared.db"
    database.touch(mode=0o640)
    os.chmod(database, 0o640)
    make_engine(f"sqlite:///{database}").dispose()
    assert mode(database) == 0o640


def test_the_generated_master_secret_is_0600(tmp_path: Path) -> None:
    load_or_create_secret("", tmp_path)
    assert mode(tmp_path / "secret.key") == 0o600
