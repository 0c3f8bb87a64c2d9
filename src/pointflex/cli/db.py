"""``pointflex db``: schema upgrades and the drift check."""

from __future__ import annotations

from typing import Any

import typer
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from pointflex.cli.common import console, runtime
from pointflex.store import migrate

app = typer.Typer(help="Database schema: upgrade and check.", no_args_is_help=True)


@app.command()
def upgrade() -> None:
    """Create or migrate the database to the latest schema."""
    with runtime() as rt:
        migrate.upgrade(rt.engine)
        current, _ = revisions(rt.engine)
        where = rt.engine.url.render_as_string(hide_password=True)
    console().print(f"Database {where} is at revision {current}.")


@app.command()
def check() -> None:
    """Exit non-zero if the database is not at the latest revision or drifts from the code."""
    with runtime() as rt:
        current, head = revisions(rt.engine)
        differences = migrate.drift(rt.engine)
    out = console()
    if current != head:
        out.print(
            f"Database is at revision {current or '(none)'}, the latest is {head}: "
            "run 'pointflex db upgrade'."
        )
    for line in describe_all(differences):
        out.print(f"drift: {line}", soft_wrap=True)
    if current != head or differences:
        raise typer.Exit(1)
    out.print(f"Database is at revision {head}; no drift.")


def revisions(engine: Engine) -> tuple[str | None, str | None]:
    """(the database's revision, the latest revision shipped with this code)."""
    head = ScriptDirectory.from_config(migrate.alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current, head


def describe_all(differences: list[Any]) -> list[str]:
    lines: list[str] = []
    for diff in differences:
        # Alembic groups the column changes of one column in a list.
        lines.extend(describe(d) for d in (diff if isinstance(diff, list) else [diff]))
    return lines


def describe(diff: tuple[Any, ...]) -> str:
    """One Alembic difference, e.g. ``add_column entitlements.note`` or ``add_table x``."""
    operation, *details = diff
    names = [_name(item) for item in details if item is not None and not isinstance(item, dict)]
    return " ".join([operation, *names])


def _name(item: Any) -> str:
    name = getattr(item, "name", None)
    table = getattr(getattr(item, "table", None), "name", None)
    if name is not None and table is not None and table != name:
        return f"{table}.{name}"
    return str(name if name is not None else item)
