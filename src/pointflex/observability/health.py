"""Readiness: the database answers and its schema is at the revision this code ships with."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib.resources import files

from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError


@dataclass(frozen=True)
class Readiness:
    ready: bool
    reason: str = ""
    revision: str | None = None


@functools.cache
def head_revision() -> str | None:
    """The newest migration shipped with the code: read from the scripts once per process."""
    config = Config()
    config.set_main_option("script_location", str(files("pointflex.store") / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def readiness(engine: Engine) -> Readiness:
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        # The kind of error only: its text may name hosts and users.
        return Readiness(False, f"database unreachable ({type(exc).__name__})")
    head = head_revision()
    if current != head:
        return Readiness(
            False,
            f"database schema is at revision {current or '(none)'}, this code needs {head}: "
            "run 'pointflex db upgrade'",
            current,
        )
    return Readiness(True, revision=current)
