"""Shared fixtures. Database tests run on SQLite, and on PostgreSQL when
``POINTFLEX_TEST_POSTGRES_URL`` is set and ``POINTFLEX_TEST_BACKEND=postgres``."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import Engine, create_engine, text

from pointflex.bootstrap import Runtime, build_runtime
from pointflex.clock import ManualClock
from pointflex.config import Settings
from pointflex.store.db import make_engine, normalise_url
from pointflex.store.migrate import upgrade
from pointflex.store.tables import metadata
from tests import reference_documents

# No deadline for hypothesis examples: how long an example takes depends on the machine's
# load (xdist workers, a browser), and timing belongs to bench/, never to a test's verdict.
settings.register_profile("pointflex", deadline=None)
settings.load_profile("pointflex")

BACKEND = os.environ.get("POINTFLEX_TEST_BACKEND", "sqlite")
PG_URL = os.environ.get("POINTFLEX_TEST_POSTGRES_URL", "")
START = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)  # 10:00 Pacific on Monday 2 March 2026
SECRET = "test-secret-" + "x" * 32


def pytest_report_header() -> str:
    return f"pointflex database backend: {BACKEND}"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{reference_documents.MARKER}: reads the FortiFlex v2 reference documents "
        "(deselected, with the reason printed, when they are absent)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reference_documents.select(config, items)


def pytest_report_collectionfinish(config: pytest.Config) -> list[str]:
    note = reference_documents.deselection_note(config)
    return [note] if note else []


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    note = reference_documents.deselection_note(config)
    if note:
        terminalreporter.write_line(note, yellow=True)


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database: a SQLite file to copy, or a PostgreSQL database per worker."""
    if BACKEND == "postgres":
        if not PG_URL:
            pytest.fail("POINTFLEX_TEST_BACKEND=postgres needs POINTFLEX_TEST_POSTGRES_URL")
        name = f"pointflex_t_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:6]}"
        admin = create_engine(normalise_url(PG_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = normalise_url(PG_URL).rsplit("/", 1)[0] + f"/{name}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        return
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    yield str(path)


def fresh_database(template: str, folder: Path) -> str:
    """A clean, migrated database made from the session template."""
    if BACKEND == "postgres":
        engine = create_engine(template)
        with engine.begin() as conn:
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return template
    path = folder / f"pointflex-{uuid.uuid4().hex[:8]}.db"
    shutil.copy(template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> str:
    """A clean, migrated database for one test."""
    return fresh_database(database_template, tmp_path)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path, secret_key=SECRET)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def rt(settings: Settings, clock: ManualClock, engine: Engine) -> Runtime:
    return build_runtime(settings, clock=clock, engine=engine)
