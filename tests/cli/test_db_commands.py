"""``pointflex db``: upgrade and drift check."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from pointflex.cli.db import revisions
from tests.cli.conftest import Cli, assert_one_red_line


def test_check_passes_on_a_migrated_database(cli: Cli) -> None:
    assert "no drift" in cli.ok("db check").stdout


def test_upgrade_of_a_migrated_database_changes_nothing(cli: Cli, engine: Engine) -> None:
    current, head = revisions(engine)
    assert current == head
    assert f"is at revision {head}." in cli.ok("db upgrade").stdout
    cli.ok("db check")


def test_check_fails_on_a_new_database_until_it_is_upgraded(cli: Cli, tmp_path: Path) -> None:
    # A brand-new SQLite file on either backend: the per-test database is always migrated.
    new = {"POINTFLEX_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"}
    before = cli("db check", env=new)
    assert before.exit_code == 1
    assert "run 'pointflex db upgrade'" in before.stdout
    assert "drift: add_table entitlements" in before.stdout
    assert cli("db upgrade", env=new).exit_code == 0
    after = cli("db check", env=new)
    assert after.exit_code == 0, after.output
    assert "no drift" in after.stdout


def test_an_invalid_setting_is_one_red_line(cli: Cli) -> None:
    result = cli("db check", env={"POINTFLEX_MAX_VM_COUNT": "zero"})
    assert_one_red_line(result, "POINTFLEX_MAX_VM_COUNT")


def test_errors_are_red_where_colour_is_shown(cli: Cli) -> None:
    result = cli("db check", env={"POINTFLEX_MAX_VM_COUNT": "zero", "FORCE_COLOR": "1"})
    assert result.exit_code == 1
    assert result.stderr.startswith("\x1b[1;31merror:")


def test_a_database_never_upgraded_is_one_red_line(cli: Cli, tmp_path: Path) -> None:
    new = {"POINTFLEX_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"}
    assert_one_red_line(cli("accounts list", env=new), "database error", "pointflex db upgrade")
