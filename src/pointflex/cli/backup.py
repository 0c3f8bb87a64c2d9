"""``pointflex backup`` and ``pointflex restore``: the whole database in one checked file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pointflex.adapters.backup_archive import Manifest
from pointflex.bootstrap import Runtime
from pointflex.cli.common import console, error_console, runtime, spinner
from pointflex.services.ops import backups

SECRET_WARNING = (
    "WARNING: this backup holds the master secret. Anyone with the file can decrypt every "  # noqa: S105 — a message, not a secret
    "token and signing key in it: keep it encrypted and readable by you only."
)
SECRET_REMINDER = (
    "The master secret is not in this backup. Keep a copy of {where} somewhere safe as well: "  # noqa: S105 — a message, not a secret
    "without it the tokens and signing keys in the backup cannot be decrypted."
)


def backup(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="file or directory to write; default: pointflex-backup-<backend>-<time>.tar here",
        ),
    ] = None,
    include_secret: Annotated[
        bool,
        typer.Option(
            "--include-secret",
            help="also store the master secret (the file then unlocks every token: guard it)",
        ),
    ] = False,
) -> None:
    """Back up the whole database into one file (safe while the server runs)."""
    with runtime() as rt, spinner("Backing up…"):
        target = output if output is not None else Path(backups.default_name(rt))
        written = backups.create_backup(rt, target, include_secret=include_secret)
        where = _secret_location(rt)
    manifest = written.manifest
    out = console()
    out.print(
        f"Backup written to {written.path} ({manifest.payload_bytes:,} bytes of "
        f"{manifest.payload})."
    )
    out.print(_summary(manifest))
    if include_secret:
        error_console().print(f"[bold yellow]{SECRET_WARNING}[/]")
    else:
        out.print(SECRET_REMINDER.format(where=where))


def restore(
    path: Annotated[Path, typer.Argument(help="a file written by 'pointflex backup'")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")] = False,
    check: Annotated[
        bool, typer.Option("--check", help="only check that the file can be restored here")
    ] = False,
    accept_other_secret: Annotated[
        bool,
        typer.Option(
            "--accept-other-secret",
            help="restore a backup made with another master secret (its tokens and signing "
            "keys will not decrypt)",
        ),
    ] = False,
) -> None:
    """Replace the whole database with a backup. Stop the pointflex server first."""
    out = console()
    with runtime() as rt:
        database = rt.engine.url.render_as_string(hide_password=True)
        with spinner("Checking the backup…"):
            manifest = backups.check_backup(rt, path, accept_other_secret=accept_other_secret)
        if check:
            out.print(f"Backup {path} is whole and can be restored into {database}.")
            out.print(_summary(manifest))
            return
        if not yes:
            out.print(_summary(manifest))
            typer.confirm(
                f"Replace every table of {database} with this backup?", default=False, abort=True
            )
        with spinner("Restoring…"):
            done = backups.restore_backup(rt, path, accept_other_secret=accept_other_secret)
        data_dir = rt.settings.data_dir
    out.print(f"Restored {path} into {database}: every table matches the backup.")
    out.print(_summary(done.manifest))
    if done.needs_upgrade:
        out.print(
            f"The backup's schema ({done.manifest.revision}) is older than this pointflex's "
            f"({done.head}): run 'pointflex db upgrade' now."
        )
    if done.secret_restored:
        out.print(
            f"The backup's master secret is now {data_dir / 'secret.key'} "
            "(the one it replaced was kept beside it as secret.key.replaced-<time>)."
        )
    out.print("Start the pointflex server again.")


def _summary(manifest: Manifest) -> str:
    rows = sum(t.rows for t in manifest.tables)
    return (
        f"{manifest.backend} backup of {manifest.created_at}, schema revision "
        f"{manifest.revision}, pointflex {manifest.pointflex_version}: "
        f"{len(manifest.tables)} tables, {rows:,} rows"
        + (", master secret included" if manifest.secret_included else "")
        + "."
    )


def _secret_location(rt: Runtime) -> str:
    if rt.settings.secret_key:
        return "POINTFLEX_SECRET_KEY"
    return str(rt.settings.data_dir / "secret.key")
