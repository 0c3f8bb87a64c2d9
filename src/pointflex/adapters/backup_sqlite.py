"""SQLite backups: SQLite's online backup API out, a checked file and an atomic rename in.

A backup copies every page in one step of ``sqlite3.Connection.backup`` under a read lock,
so it is a consistent snapshot even while the server writes (WAL lets writers go on).

A restore never writes into the live file. It unpacks the dump into a hidden file in the
same directory, checks it (``PRAGMA integrity_check``, the schema revision, every table's
rows against the manifest) and renames it over the database, which is atomic on one file
system: the database is either the old one or the restored one, never half of each.

The rename is why the server must be stopped: a process holding the old file open would go
on reading and writing the old, now unlinked, file. A restore refuses when it sees another
connection. In WAL mode the last connection to close removes the ``-wal`` and ``-shm``
files; if they are still there after ours closed, someone else has the database open.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from pointflex.adapters.backup_archive import TableSummary, table_summaries
from pointflex.errors import BackupRefused

_SIDE_FILES = ("-wal", "-shm", "-journal")


def database_path(url: str) -> Path:
    """The file behind a ``sqlite:///`` URL; in-memory databases cannot be backed up."""
    name = make_url(url).database
    if not name or name == ":memory:" or name.startswith("file:"):
        raise BackupRefused(f"{url!r} is not a SQLite database file")
    return Path(name)


def dump(source: Path, target: Path) -> None:
    """A consistent copy of ``source`` in ``target``, as a standalone rollback-journal file."""
    if not source.is_file():
        raise BackupRefused(f"SQLite database {str(source)!r} does not exist")
    source_conn, target_conn = sqlite3.connect(source, timeout=30), sqlite3.connect(target)
    with closing(source_conn) as src, closing(target_conn) as dst:
        src.backup(dst)  # pages=-1: every page in one step, one consistent snapshot
        # The copy keeps the source's WAL flag; a single file needs none of that.
        dst.execute("PRAGMA journal_mode=DELETE")


@contextmanager
def plain_engine(path: Path) -> Iterator[Engine]:
    """An engine on a copy that never switches it to WAL (make_engine would)."""
    engine = create_engine(f"sqlite:///{path}")
    try:
        yield engine
    finally:
        engine.dispose()


def describe(path: Path) -> tuple[str | None, tuple[TableSummary, ...]]:
    """(schema revision, table summaries) of a SQLite file, after an integrity check."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupRefused(f"the backup's SQLite file is damaged ({exc})") from exc
    if verdict is None or verdict[0] != "ok":
        raise BackupRefused(f"the backup's SQLite file fails its integrity check ({verdict})")
    with plain_engine(path) as engine, engine.connect() as conn:
        try:
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            return revision, table_summaries(conn)
        except Exception as exc:  # any read failure means the file is not a usable backup
            raise BackupRefused(f"the backup's SQLite file is unreadable ({exc})") from exc


def staging_file(target: Path) -> Path:
    """Where a restore unpacks: beside the database, so the final rename stays atomic."""
    if not target.parent.is_dir():
        raise BackupRefused(f"directory {str(target.parent)!r} does not exist")
    return target.parent / f".{target.name}.restore-{os.getpid()}"


def refuse_if_in_use(target: Path) -> None:
    """Refuse when another process has the database open (see the module notes)."""
    if not target.exists():
        return
    # Opening and closing our own connection checkpoints a WAL left by a crash and removes
    # it; files that outlive our close belong to someone else's open connection.
    with closing(sqlite3.connect(target, timeout=30)) as conn:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    busy = [target.name + side for side in _SIDE_FILES if Path(f"{target}{side}").exists()]
    if busy:
        raise BackupRefused(
            f"the database {str(target)!r} is in use ({', '.join(busy)} present): stop the "
            "pointflex server and every other process using it, then restore again"
        )


def install(staged: Path, target: Path) -> None:
    """Rename the checked copy over the database and make the rename durable."""
    refuse_if_in_use(target)  # once more, right before the switch
    # The restored file keeps the permissions of the one it replaces.
    os.chmod(staged, (target.stat().st_mode & 0o777) if target.exists() else 0o600)
    with open(staged, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(staged, target)
    folder = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
