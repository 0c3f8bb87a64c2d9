"""PostgreSQL backups: ``pg_dump --format=custom`` out, ``pg_restore`` in one transaction.

The dump and the manifest's checksums describe the same instant: one REPEATABLE READ
transaction exports its snapshot, ``pg_dump --snapshot`` dumps exactly that, and the
checksums are read in the same transaction while it stays open.

``pg_restore --clean --if-exists --single-transaction`` drops and re-creates every table
of the dump in one transaction, so a restore that fails half-way leaves the old data as it
was. The connection comes from ``POINTFLEX_DATABASE_URL`` turned into a libpq URL; the
password goes through ``PGPASSWORD`` in the child's environment, never on a command line
(where ``ps`` shows it to every user of the machine).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

from pointflex.adapters.backup_archive import TableSummary, table_summaries
from pointflex.errors import BackupRefused

_TIMEOUT = 6 * 3600  # a stuck dump should not hang a cron job for ever


def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """(libpq URL without the password, extra environment) for a SQLAlchemy URL."""
    parsed = make_url(url)
    env = {"PGPASSWORD": parsed.password} if parsed.password else {}
    # URL.set(password=None) keeps the password ("None" means "unchanged"); a NamedTuple
    # replace really drops it.
    bare = parsed.set(drivername="postgresql")._replace(password=None)
    return bare.render_as_string(hide_password=False), env


def _run(args: list[str], url: str) -> str:
    """Run a PostgreSQL client tool against ``url``; its stdout, or a clear refusal."""
    program = shutil.which(args[0])
    if program is None:
        raise BackupRefused(f"{args[0]} was not found on PATH (install the PostgreSQL client)")
    target, extra = libpq_target(url)
    env = {**os.environ, **extra, "PGCONNECT_TIMEOUT": os.environ.get("PGCONNECT_TIMEOUT", "10")}
    done = subprocess.run(  # noqa: S603 — pg_dump/psql found on PATH, argv list, no shell
        [program, *args[1:], "--no-password", f"--dbname={target}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        reason = "; ".join(lines[:3]) or f"exit code {done.returncode}"
        raise BackupRefused(f"{args[0]} failed: {reason}")
    return done.stdout


def dump(engine: Engine, target: Path) -> tuple[str | None, tuple[TableSummary, ...]]:
    """Dump the database into ``target``; (its revision, its table summaries), same instant."""
    url = engine.url.render_as_string(hide_password=False)
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            revision = _revision(conn)
            summaries = table_summaries(conn)
            # The transaction must stay open while pg_dump imports its snapshot.
            _run(["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={target}"], url)
    return revision, summaries


def _revision(conn: Connection) -> str | None:
    exists = conn.execute(text("SELECT to_regclass('alembic_version') IS NOT NULL")).scalar()
    if not exists:
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def check_dump(url: str, payload: Path) -> None:
    """``pg_restore --list`` reads the dump's table of contents: a cheap sanity check."""
    program = shutil.which("pg_restore")
    if program is None:
        raise BackupRefused("pg_restore was not found on PATH (install the PostgreSQL client)")
    done = subprocess.run(  # noqa: S603 — pg_restore found on PATH, argv list, no shell
        [program, "--list", str(payload)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupRefused(f"the backup's dump is unreadable: {done.stderr.strip()[:200]}")


def refuse_if_in_use(engine: Engine) -> None:
    """Refuse while other clients are connected: they would block or see tables vanish."""
    with engine.connect() as conn:
        others = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
        ).scalar_one()
    engine.dispose()  # our own idle connection would count against pg_restore's locks
    if others:
        raise BackupRefused(
            f"{others} other session(s) are connected to the database: stop the pointflex "
            "servers and every other client, then restore again"
        )


def refuse_extra_tables(engine: Engine, expected: Iterable[str]) -> None:
    """Tables the dump does not hold would survive ``--clean`` and break the next upgrade."""
    with engine.connect() as conn:
        present = set(
            conn.execute(
                text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
                )
            ).scalars()
        )
    engine.dispose()
    extra = sorted(present - set(expected) - {"alembic_version"})
    if extra:
        raise BackupRefused(
            f"the database has tables the backup does not ({', '.join(extra)}): it is at a "
            "newer schema. Restore into an empty database (drop and create it), then run "
            "'pointflex db upgrade'"
        )


def restore(engine: Engine, payload: Path) -> None:
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    _run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",  # all or nothing; implies --exit-on-error
            str(payload),
        ],
        url,
    )


def describe(engine: Engine) -> tuple[str | None, tuple[TableSummary, ...]]:
    with engine.connect() as conn, conn.begin():
        return _revision(conn), table_summaries(conn)
