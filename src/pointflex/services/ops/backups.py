"""Back up and restore the whole database (SQLite or PostgreSQL), checked end to end.

A backup is one tar file (see :mod:`pointflex.adapters.backup_archive`): a manifest and the
backend's own dump. A restore refuses, before touching the database, a file that is
damaged, of the other backend, of a schema newer than this pointflex knows, or made with
another master secret; it then replaces the whole database and compares every table with
the manifest. A backup of an older schema is restored as it is: run ``pointflex db
upgrade`` afterwards.

The master secret (``data_dir/secret.key`` or ``POINTFLEX_SECRET_KEY``) encrypts tokens
and signing keys. It is *not* in a backup unless asked for (``include_secret``): a backup
file then unlocks everything, and must be kept like the secret itself. Every manifest
records a fingerprint of the secret, so a restore can tell that the installation's secret
is the wrong one before the data becomes unreadable.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from pointflex import __version__
from pointflex.adapters import backup_postgres, backup_sqlite
from pointflex.adapters.backup_archive import (
    PAYLOADS,
    Manifest,
    Opened,
    TableSummary,
    differences,
    file_sha256,
    unpack,
    write_archive,
)
from pointflex.bootstrap import Runtime
from pointflex.errors import BackupRefused
from pointflex.store.tokens import TokenVault, load_or_create_secret

_FINGERPRINT = b"pointflex backup fingerprint"


@dataclass(frozen=True)
class Written:
    path: Path
    manifest: Manifest


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    head: str  # the newest revision this pointflex knows
    secret_restored: bool

    @property
    def needs_upgrade(self) -> bool:
        return self.manifest.revision != self.head


def backend_of(rt: Runtime) -> str:
    name = rt.engine.dialect.name
    if name not in PAYLOADS:
        raise BackupRefused(f"backups support SQLite and PostgreSQL, not {name}")
    return name


def default_name(rt: Runtime) -> str:
    stamp = rt.now().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"pointflex-backup-{backend_of(rt)}-{stamp}.tar"


def secret_fingerprint(rt: Runtime) -> str:
    """16 hex digits that identify the master secret without revealing it."""
    return rt.vault.derive_key(_FINGERPRINT).hex()[:16]


def _fingerprint(secret: bytes) -> str:
    return TokenVault(secret).derive_key(_FINGERPRINT).hex()[:16]


# --------------------------------------------------------------------------- backup


def create_backup(rt: Runtime, output: Path, *, include_secret: bool = False) -> Written:
    """Write a backup of the whole database to ``output`` (a file or a directory), check
    what was written and say where it went."""
    backend = backend_of(rt)
    if output.is_dir():
        output = output / default_name(rt)
    if not output.parent.is_dir():
        raise BackupRefused(f"directory {str(output.parent)!r} does not exist")
    with _scratch(output.parent) as folder:
        payload = folder / PAYLOADS[backend]
        revision, tables = _dump(rt, backend, payload)
        if revision is None:
            raise BackupRefused("the database has no pointflex schema: run 'pointflex db upgrade'")
        manifest = Manifest(
            backend=backend,
            revision=revision,
            pointflex_version=__version__,
            created_at=rt.now().astimezone(UTC).isoformat(),
            payload=payload.name,
            payload_sha256=file_sha256(payload),
            payload_bytes=payload.stat().st_size,
            secret_fingerprint=secret_fingerprint(rt),
            secret_included=include_secret,
            tables=tables,
        )
        secret = _master_secret(rt) if include_secret else None
        write_archive(output, manifest, payload, secret)
    with _scratch(output.parent) as folder:
        unpack(output, folder)  # read back: the file on disk is whole
    return Written(output, manifest)


def _dump(rt: Runtime, backend: str, payload: Path) -> tuple[str | None, tuple[TableSummary, ...]]:
    if backend == "sqlite":
        backup_sqlite.dump(_sqlite_path(rt), payload)
        # Checksums of the copy, not of the live file: they describe exactly what was saved.
        return backup_sqlite.describe(payload)
    return backup_postgres.dump(rt.engine, payload)


def _master_secret(rt: Runtime) -> bytes:
    return load_or_create_secret(rt.settings.secret_key, rt.settings.data_dir)


# --------------------------------------------------------------------------- check


def check_backup(rt: Runtime, path: Path, *, accept_other_secret: bool = False) -> Manifest:
    """Everything a restore checks first, without touching the database."""
    with _scratch(_scratch_parent(rt)) as folder:
        opened = unpack(path, folder)
        _check_restorable(rt, opened, accept_other_secret)
        _check_payload(rt, opened)
    return opened.manifest


def _check_restorable(rt: Runtime, opened: Opened, accept_other_secret: bool) -> None:
    manifest, backend = opened.manifest, backend_of(rt)
    if manifest.backend != backend:
        raise BackupRefused(
            f"this is a {manifest.backend} backup and the database is {backend}: "
            "a backup restores only into the backend it was taken from"
        )
    if manifest.payload != PAYLOADS[backend]:
        raise BackupRefused(f"a {backend} backup must hold {PAYLOADS[backend]}")
    _check_revision(manifest.revision)
    _check_secret(rt, opened, accept_other_secret)


def _check_secret(rt: Runtime, opened: Opened, accept_other_secret: bool) -> None:
    manifest, here = opened.manifest, secret_fingerprint(rt)
    if opened.secret is not None and _fingerprint(opened.secret) != manifest.secret_fingerprint:
        raise BackupRefused("the backup's secret.key does not match its manifest")
    if manifest.secret_fingerprint == here or accept_other_secret:
        return
    if opened.secret is not None and not rt.settings.secret_key:
        return  # the restore writes the backup's secret to data_dir/secret.key
    if opened.secret is not None:
        raise BackupRefused(
            "POINTFLEX_SECRET_KEY holds another secret than the backup's: unset it (the "
            "restore then writes the backup's secret to data_dir/secret.key) or set it to the "
            "original value"
        )
    raise BackupRefused(
        f"the backup was made with another master secret (fingerprint "
        f"{manifest.secret_fingerprint}, this installation has {here}): its tokens and "
        "signing keys would not decrypt. Put the original secret.key in POINTFLEX_DATA_DIR "
        "or set the original POINTFLEX_SECRET_KEY, or pass --accept-other-secret to restore "
        "anyway"
    )


def _check_revision(revision: str) -> None:
    try:
        known = _scripts().get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise BackupRefused(
            f"the backup is at schema revision {revision}, which this pointflex "
            f"({__version__}, newest revision {head_revision()}) does not know: it comes "
            "from a newer pointflex; upgrade pointflex before restoring it"
        )


def _check_payload(rt: Runtime, opened: Opened) -> None:
    if opened.manifest.backend == "sqlite":
        revision, tables = backup_sqlite.describe(opened.payload)
        if revision != opened.manifest.revision:
            raise BackupRefused(
                f"the backup's dump is at revision {revision}, its manifest says "
                f"{opened.manifest.revision}"
            )
        _compare(opened.manifest, tables, "the backup's dump")
    else:
        backup_postgres.check_dump(_url(rt), opened.payload)


def _compare(manifest: Manifest, found: tuple[TableSummary, ...], what: str) -> None:
    wrong = differences(manifest.tables, found)
    if wrong:
        raise BackupRefused(f"{what} does not match the manifest: {', '.join(wrong)}")


# --------------------------------------------------------------------------- restore


def restore_backup(rt: Runtime, path: Path, *, accept_other_secret: bool = False) -> Restored:
    """Replace the whole database with the backup in ``path``; the service must be stopped.

    Every check runs before the database is touched; a refused or failed restore leaves it
    as it was.
    """
    rt.engine.dispose()  # our own idle connections must not count as "in use"
    with _scratch(_scratch_parent(rt)) as folder:
        opened = unpack(path, folder)
        _check_restorable(rt, opened, accept_other_secret)
        if opened.manifest.backend == "sqlite":
            _restore_sqlite(rt, opened)
        else:
            _restore_postgres(rt, opened)
    secret_restored = _install_secret(rt, opened.secret)
    return Restored(opened.manifest, head_revision(), secret_restored)


def _restore_sqlite(rt: Runtime, opened: Opened) -> None:
    target = _sqlite_path(rt)
    backup_sqlite.refuse_if_in_use(target)
    staged = backup_sqlite.staging_file(target)
    try:
        os.replace(opened.payload, staged)  # the scratch folder is beside the database
        _check_payload(rt, Opened(opened.manifest, staged, None))
        backup_sqlite.install(staged, target)
    finally:
        staged.unlink(missing_ok=True)


def _restore_postgres(rt: Runtime, opened: Opened) -> None:
    _check_payload(rt, opened)
    backup_postgres.refuse_if_in_use(rt.engine)
    backup_postgres.refuse_extra_tables(rt.engine, (t.name for t in opened.manifest.tables))
    backup_postgres.restore(rt.engine, opened.payload)
    revision, tables = backup_postgres.describe(rt.engine)
    rt.engine.dispose()
    if revision != opened.manifest.revision:
        raise BackupRefused(f"after the restore the database is at revision {revision}")
    _compare(opened.manifest, tables, "the restored database")


def _install_secret(rt: Runtime, secret: bytes | None) -> bool:
    """Put the backup's secret in ``data_dir/secret.key``; the replaced one is kept aside."""
    if secret is None or rt.settings.secret_key or secret == _master_secret(rt):
        return False  # a configured secret wins over any file (checked before the restore)
    path = rt.settings.data_dir / "secret.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".secret.key.{os.getpid()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret.hex())
    if path.exists():  # kept under another name first: at no moment is there no secret.key
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        os.link(path, path.with_name(f"secret.key.replaced-{stamp}"))
    os.replace(draft, path)
    return True


# --------------------------------------------------------------------------- helpers


def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(files("pointflex.store") / "migrations"))
    return ScriptDirectory.from_config(config)


def head_revision() -> str:
    head = _scripts().get_current_head()
    if head is None:
        raise RuntimeError("no migrations found: the package always ships them")
    return head


def _url(rt: Runtime) -> str:
    return rt.engine.url.render_as_string(hide_password=False)


def _sqlite_path(rt: Runtime) -> Path:
    return backup_sqlite.database_path(_url(rt))


def _scratch_parent(rt: Runtime) -> Path | None:
    """SQLite unpacks beside the database (one file system: the final rename is atomic)."""
    if backend_of(rt) == "sqlite":
        return _sqlite_path(rt).parent
    return None


@contextmanager
def _scratch(parent: Path | None) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=".pointflex-backup-", dir=parent) as folder:
        yield Path(folder)
