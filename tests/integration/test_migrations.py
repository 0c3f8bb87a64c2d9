"""The migrations build exactly the schema the code declares (the drift check)."""

from __future__ import annotations

from sqlalchemy import Engine, inspect

from pointflex.store.migrate import downgrade, drift, upgrade
from pointflex.store.tables import metadata


def test_migrated_database_has_no_drift_from_the_table_definitions(engine: Engine) -> None:
    assert drift(engine) == []


def test_upgrading_an_up_to_date_database_is_a_no_op(engine: Engine) -> None:
    upgrade(engine)
    assert drift(engine) == []
    assert set(inspect(engine).get_table_names()) >= {t.name for t in metadata.sorted_tables}


def test_every_migration_downgrades_and_upgrades_again(engine: Engine) -> None:
    downgrade(engine, "base")
    left = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert left == set()
    upgrade(engine)
    assert drift(engine) == []


def test_the_last_migration_downgrades_one_step_and_back(engine: Engine) -> None:
    downgrade(engine, "-1")
    assert drift(engine) != []  # something the last migration made is gone
    upgrade(engine)
    assert drift(engine) == []
