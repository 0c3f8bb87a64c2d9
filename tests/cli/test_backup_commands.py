"""``pointflex backup`` and ``pointflex restore`` end to end, in-process on the test database."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, select
from typer.testing import CliRunner

from pointflex.cli.main import app
from pointflex.store.tables import audit_log, metadata, programs
from tests.builders import World
from tests.cli.conftest import Cli, assert_one_red_line

Rows = dict[str, list[tuple[Any, ...]]]


def rows(engine: Engine) -> Rows:
    with engine.connect() as conn:
        found = {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key))]
            for t in metadata.sorted_tables
        }
    engine.dispose()  # the CLI's restore refuses while connections are open
    return found


def damage(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(delete(audit_log))
    engine.dispose()


def backed_up(cli: Cli, folder: Path) -> Path:
    result = cli.ok(f"backup --output {folder}")
    match = re.search(r"^Backup written to (\S+) \(", result.stdout, re.MULTILINE)
    assert match, result.stdout
    return Path(match.group(1))


def test_backup_then_restore_yes_brings_every_table_back(
    cli: Cli, acme: World, engine: Engine, tmp_path: Path
) -> None:
    before = rows(engine)
    path = backed_up(cli, tmp_path)
    assert path.parent == tmp_path
    assert path.stat().st_mode & 0o777 == 0o600
    damage(engine)
    assert rows(engine) != before

    result = cli.ok(f"restore {path} --yes")

    assert "every table matches the backup" in result.stdout
    assert "Start the pointflex server again." in result.stdout
    assert "db upgrade" not in result.stdout  # the backup is at the newest schema
    assert rows(engine) == before


def test_backup_says_the_secret_is_not_in_it_and_where_to_find_it(
    cli: Cli, acme: World, tmp_path: Path
) -> None:
    result = cli.ok(f"backup -o {tmp_path / 'b.tar'}")
    assert (tmp_path / "b.tar").is_file()
    assert "The master secret is not in this backup" in result.stdout
    assert "POINTFLEX_SECRET_KEY" in result.stdout  # the tests configure the secret that way


def test_backup_with_the_secret_warns_loudly_on_stderr(
    cli: Cli, acme: World, tmp_path: Path
) -> None:
    result = cli.ok(f"backup -o {tmp_path / 'b.tar'} --include-secret")
    assert "WARNING: this backup holds the master secret" in " ".join(result.stderr.split())
    assert "master secret included" in result.stdout

    check = cli.ok(f"restore --check {tmp_path / 'b.tar'}")
    assert "master secret included" in check.stdout


def test_restore_asks_first_and_an_answer_of_no_changes_nothing(
    cli: Cli, acme: World, engine: Engine, tmp_path: Path
) -> None:
    path = backed_up(cli, tmp_path)
    damage(engine)
    damaged = rows(engine)

    result = CliRunner().invoke(app, ["restore", str(path)], env=cli.env, input="n\n")

    assert result.exit_code == 1
    assert "Replace every table of" in result.stdout
    assert "Aborted" in result.output
    assert rows(engine) == damaged


def test_restore_check_vouches_for_a_whole_backup_and_changes_nothing(
    cli: Cli, acme: World, engine: Engine, tmp_path: Path
) -> None:
    path = backed_up(cli, tmp_path)
    damage(engine)
    damaged = rows(engine)

    result = cli.ok(f"restore --check {path}")

    assert result.stdout.startswith(f"Backup {path} is whole and can be restored into ")
    assert "schema revision" in result.stdout
    assert rows(engine) == damaged


def test_a_truncated_backup_is_one_red_line_and_changes_nothing(
    cli: Cli, acme: World, engine: Engine, tmp_path: Path
) -> None:
    path = backed_up(cli, tmp_path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    damage(engine)
    damaged = rows(engine)

    assert_one_red_line(cli(f"restore {path} --yes"), "truncated")
    assert_one_red_line(cli(f"restore --check {path}"), "truncated")
    assert rows(engine) == damaged


def test_a_restore_while_the_database_is_in_use_is_one_red_line(
    cli: Cli, acme: World, engine: Engine, tmp_path: Path
) -> None:
    path = backed_up(cli, tmp_path)
    with engine.connect() as conn:
        conn.execute(select(programs.c.serial)).all()  # a server holding a connection
        result = cli(f"restore {path} --yes")
    engine.dispose()
    assert_one_red_line(result, "stop the pointflex server")


def test_missing_files_and_folders_are_one_red_line(cli: Cli, tmp_path: Path) -> None:
    assert_one_red_line(cli(f"restore {tmp_path / 'nope.tar'} --yes"), "does not exist")
    assert_one_red_line(cli(f"backup -o {tmp_path / 'no' / 'b.tar'}"), "does not exist")
    (tmp_path / "not-a-backup.txt").write_text("hello")
    assert_one_red_line(cli(f"restore {tmp_path / 'not-a-backup.txt'}"), "not a pointflex backup")
