"""The backup file: a plain tar holding ``manifest.json``, the database dump and, on request,
the master secret.

Why a tar: one file to copy and keep, readable with standard tools (``tar tf``), and the
manifest travels with the dump, so a restore can check a file before touching the database.
It is not compressed: a PostgreSQL custom dump is compressed already, and an operator who
wants a smaller SQLite backup can compress the whole file.

The manifest records the payload's SHA-256 (a truncated or altered file is refused before
anything is restored) and, per table, a row count and a checksum of every row, so that a
restored database can be compared with the one that was backed up.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, inspect, text

from pointflex.errors import BackupRefused

FORMAT = 1  # bumped when the layout of the archive changes
MANIFEST = "manifest.json"
SECRET = "secret.key"  # noqa: S105 — the name of the archive member, not a secret
MIN_SECRET_BYTES = 32  # the master secret holds at least 256 bits
PAYLOADS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
_CHUNK = 1 << 20


@dataclass(frozen=True)
class TableSummary:
    name: str
    rows: int
    checksum: str


@dataclass(frozen=True)
class Manifest:
    backend: str  # "sqlite" or "postgresql"
    revision: str  # the Alembic revision of the backed-up schema
    pointflex_version: str
    created_at: str  # ISO 8601, UTC
    payload: str  # the dump's name inside the archive
    payload_sha256: str
    payload_bytes: int
    secret_fingerprint: str  # which master secret the data needs (never the secret itself)
    secret_included: bool
    tables: tuple[TableSummary, ...]
    format: int = FORMAT

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        try:
            data = json.loads(raw)
            tables = tuple(TableSummary(**item) for item in data.pop("tables"))
            manifest = cls(tables=tables, **data)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise BackupRefused(f"the backup's manifest is unreadable ({exc})") from exc
        if manifest.format != FORMAT:
            raise BackupRefused(
                f"the backup has format {manifest.format}; this pointflex reads format {FORMAT}"
            )
        return manifest

    def table(self, name: str) -> TableSummary | None:
        return next((t for t in self.tables if t.name == name), None)


# --------------------------------------------------------------------------- checksums


def table_summaries(conn: Connection) -> tuple[TableSummary, ...]:
    """Row count and SHA-256 of every row, per table, rows ordered by primary key.

    The tables are those of the database itself, not of this code's table definitions: a
    database at an older (or newer) schema is described as it is. Values are read as the
    driver returns them, so checksums compare databases of the same backend.
    """
    found = inspect(conn)
    return tuple(
        _summary(conn, name, found.get_pk_constraint(name).get("constrained_columns") or [])
        for name in sorted(found.get_table_names())
    )


def _summary(conn: Connection, name: str, key: list[str]) -> TableSummary:
    quote = conn.dialect.identifier_preparer.quote
    order = ", ".join(quote(column) for column in key) or "1"
    query = text(f"SELECT * FROM {quote(name)} ORDER BY {order}")  # noqa: S608 — names from the database's catalogue, quoted
    rows = conn.execution_options(yield_per=2000).execute(query)
    lines: Iterable[bytes] = (canonical_row(row) for row in rows)
    if not key:  # no key, no stable order: sort the lines instead (none of ours)
        lines = sorted(lines)
    digest, count = hashlib.sha256(), 0
    for line in lines:
        digest.update(line)
        count += 1
    return TableSummary(name, count, digest.hexdigest())


def canonical_row(row: Iterable[Any]) -> bytes:
    """One row as one line of canonical JSON (keys sorted, bytes in hex, instants in ISO)."""
    return json.dumps(list(row), sort_keys=True, default=_plain).encode() + b"\n"


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, datetime | date):
        return value.isoformat()
    # Decimals, UUIDs, intervals...: their text is exact and stable for one backend.
    return str(value)


def differences(expected: Iterable[TableSummary], found: Iterable[TableSummary]) -> list[str]:
    """Tables whose rows differ, as ``name (expected N rows, found M)`` lines."""
    seen = {t.name: t for t in found}
    lines = []
    for want in expected:
        got = seen.get(want.name)
        if got is None:
            lines.append(f"{want.name} (missing)")
        elif got != want:
            lines.append(f"{want.name} (expected {want.rows} rows, found {got.rows})")
    return lines


# --------------------------------------------------------------------------- the archive


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_archive(output: Path, manifest: Manifest, payload: Path, secret: bytes | None) -> None:
    """Write the archive to a hidden file beside ``output``, then rename it into place.

    A backup that fails half-way never leaves a file that looks complete. The file is
    readable by its owner only: it holds password hashes and encrypted tokens.
    """
    draft = output.with_name(f".{output.name}.{os.getpid()}.partial")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle, tarfile.open(fileobj=handle, mode="w") as tar:
            _add_bytes(tar, MANIFEST, manifest.to_json())
            tar.add(payload, arcname=manifest.payload, recursive=False, filter=_owner_only)
            if secret is not None:
                _add_bytes(tar, SECRET, secret.hex().encode() + b"\n")
            tar.close()
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(draft, output)
    finally:
        draft.unlink(missing_ok=True)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = int(time.time())
    tar.addfile(info, io.BytesIO(data))


def _owner_only(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
    return info


@dataclass(frozen=True)
class Opened:
    """A backup file unpacked into ``folder``: its manifest, its dump and maybe its secret."""

    manifest: Manifest
    payload: Path
    secret: bytes | None


def read_manifest(path: Path) -> Manifest:
    """Only the manifest (cheap: it is the archive's first member)."""
    with _open_tar(path) as tar:
        return Manifest.from_json(_member_bytes(tar, MANIFEST))


def unpack(path: Path, folder: Path) -> Opened:
    """Check ``path`` and unpack its dump into ``folder``; refused if anything is off."""
    with _open_tar(path) as tar:
        manifest = Manifest.from_json(_member_bytes(tar, MANIFEST))
        if manifest.payload not in PAYLOADS.values():
            raise BackupRefused(f"the backup names an unknown dump {manifest.payload!r}")
        target = folder / manifest.payload
        digest, size = _extract(tar, manifest.payload, target)
        secret = _read_secret(tar) if manifest.secret_included else None
    if size != manifest.payload_bytes or digest != manifest.payload_sha256:
        raise BackupRefused(
            f"the backup's dump is damaged: {size} bytes with SHA-256 {digest[:12]}…, the "
            f"manifest says {manifest.payload_bytes} bytes with {manifest.payload_sha256[:12]}…"
        )
    return Opened(manifest, target, secret)


def _open_tar(path: Path) -> tarfile.TarFile:
    if not path.is_file():
        raise BackupRefused(f"backup file {str(path)!r} does not exist")
    try:
        return tarfile.open(path, mode="r:")
    except (tarfile.TarError, OSError) as exc:
        raise BackupRefused(f"{str(path)!r} is not a pointflex backup ({exc})") from exc


def _member_bytes(tar: tarfile.TarFile, name: str) -> bytes:
    with _member(tar, name) as handle:
        try:
            data: bytes = handle.read()
        except (tarfile.TarError, OSError) as exc:
            raise BackupRefused(f"the backup is truncated ({name}: {exc})") from exc
    return data


def _extract(tar: tarfile.TarFile, name: str, target: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with _member(tar, name) as source, os.fdopen(fd, "wb") as sink:
        try:
            for chunk in iter(lambda: source.read(_CHUNK), b""):
                digest.update(chunk)
                size += len(chunk)
                sink.write(chunk)
        except (tarfile.TarError, OSError) as exc:
            raise BackupRefused(f"the backup is truncated ({name}: {exc})") from exc
    return digest.hexdigest(), size


def _read_secret(tar: tarfile.TarFile) -> bytes:
    text = _member_bytes(tar, SECRET).decode(errors="replace").strip()
    try:
        secret = bytes.fromhex(text)
    except ValueError as exc:
        raise BackupRefused("the backup's secret.key is not hex") from exc
    if len(secret) < MIN_SECRET_BYTES:
        raise BackupRefused("the backup's secret.key is too short")
    return secret


class _member:
    """A member's file object, refused with a clear message when it is missing or cut off."""

    def __init__(self, tar: tarfile.TarFile, name: str) -> None:
        try:
            handle = tar.extractfile(name)
        except KeyError as exc:
            raise BackupRefused(f"the backup has no {name} (truncated or not a backup)") from exc
        except (tarfile.TarError, OSError) as exc:
            raise BackupRefused(f"the backup is truncated ({name}: {exc})") from exc
        if handle is None:
            raise BackupRefused(f"the backup's {name} is not a file")
        self._handle = handle

    def __enter__(self) -> Any:
        return self._handle

    def __exit__(self, *_: object) -> None:
        self._handle.close()
