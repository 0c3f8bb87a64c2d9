"""Plumbing shared by every command group: runtime, actor, errors, dates and Rich output.

Commands stay thin: they parse their arguments with the helpers here, call one service
function and print the result. :class:`PointflexGroup`, the root command group, is the one
place where a :class:`~pointflex.errors.PointflexError` becomes a red line on stderr and exit
code 1.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn

import typer
from pydantic import ValidationError
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Column, Table
from sqlalchemy.exc import OperationalError, ProgrammingError
from typer.core import TyperGroup

from pointflex.bootstrap import Runtime, build_runtime
from pointflex.config import Settings
from pointflex.domain.catalog import Catalog
from pointflex.domain.dates import format_wire, parse_wire_day
from pointflex.errors import InvalidDate, InvalidInput, PointflexError
from pointflex.services.context import Actor

# Width used when stdout is not a terminal (pipes, files, tests): wide enough that no table
# row is ever wrapped, so that each row stays one greppable line. An explicit COLUMNS wins.
PIPE_WIDTH = 2000
_MONTH = re.compile(r"^\d{4}-\d{2}$")
DATABASE_HINT = "check POINTFLEX_DATABASE_URL; run 'pointflex db upgrade'"


class PointflexGroup(TyperGroup):
    """The root command group; it turns every service error into one red line and exit 1."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except PointflexError as exc:
            fail(exc.message)
        except (OperationalError, ProgrammingError) as exc:
            # An unreachable or never-upgraded database is the usual cause: say so plainly
            # rather than with a traceback.
            reason = str(exc.orig or exc).strip().splitlines()[0]
            fail(f"database error: {reason} ({DATABASE_HINT})")


def fail(message: str) -> NoReturn:
    """Print ``message`` as one red line on stderr and stop with exit code 1."""
    line = " ".join(message.split())  # one line, whatever the message holds
    error_console().print(f"[bold red]error:[/] [red]{escape(line)}[/]", soft_wrap=True)
    raise typer.Exit(1)


# --------------------------------------------------------------------------- runtime


@contextmanager
def runtime() -> Iterator[Runtime]:
    """The runtime built from ``POINTFLEX_*`` settings; its connections close on exit."""
    rt = build_runtime(load_settings())
    try:
        yield rt
    finally:
        rt.engine.dispose()


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "POINTFLEX_" + "_".join(str(part) for part in first["loc"]).upper()
        raise InvalidInput(f"setting {name} is invalid: {first['msg']}") from exc


def cli_actor() -> Actor:
    """The CLI acts as the platform operator (every account in scope), named after the user."""
    user = os.environ.get("USER") or os.environ.get("LOGNAME") or "unknown"
    return Actor(name=f"cli:{user}")


# --------------------------------------------------------------------------- parsing


def parse_day(text: str) -> date:
    return parse_wire_day(text)


def parse_month(text: str) -> date:
    """``YYYY-MM`` as the first day of that month."""
    if not _MONTH.match(text.strip()):
        raise InvalidDate(f"month {text!r} is not in the format YYYY-MM (e.g. 2026-05)")
    return parse_wire_day(f"{text.strip()}-01")


def parse_points(text: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation as exc:
        raise InvalidInput(f"points {text!r} is not a number") from exc
    if not value.is_finite():
        raise InvalidInput(f"points {text!r} is not a number")
    return value


def parse_params(items: list[str] | None) -> list[dict[str, Any]] | None:
    """``ID=VALUE`` options as wire parameters; a list parameter repeats its id."""
    if items is None:
        return None
    found: list[dict[str, Any]] = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"--param {item!r} must be ID=VALUE (e.g. --param 1=2)")
        # The catalogue decodes ids and values with the same leniency as the API.
        found.append({"id": key.strip(), "value": value.strip()})
    return found


# --------------------------------------------------------------------------- output


def console() -> Console:
    """Standard output, for results; markup is off, so data such as "[lab]" prints as is."""
    out = Console(highlight=False, markup=False)
    if not out.is_terminal and "COLUMNS" not in os.environ:
        out.width = PIPE_WIDTH
    return out


def error_console() -> Console:
    """Standard error, for errors, progress bars and spinners (stdout stays pipeable)."""
    return Console(stderr=True, highlight=False)


def table(*columns: str | Column, title: str | None = None) -> Table:
    return Table(*columns, title=title, box=box.SIMPLE_HEAD, title_justify="left")


def number(header: str) -> Column:
    """A right-aligned column for counts and points."""
    return Column(header, justify="right", no_wrap=True)


def key(header: str) -> Column:
    """A column of identifiers (serials, tokens, statuses) that are never split over lines."""
    return Column(header, no_wrap=True)


def product_name(catalog: Catalog, product_type_id: int) -> str:
    return catalog.product(product_type_id).name


def points(value: Decimal | int) -> str:
    return f"{Decimal(value):,.2f}"


def when(instant: datetime | None, tz: str) -> str:
    """An instant as FortiFlex shows it: local time in the program's time zone."""
    return format_wire(instant, tz) or ""


@contextmanager
def progress_bar() -> Iterator[Progress]:
    """A transient progress bar on stderr; tasks without a total show a pulsing bar.

    Off when stderr is not a terminal: a log file gains nothing from it.
    """
    err = error_console()
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        yield bar


@contextmanager
def spinner(message: str) -> Iterator[None]:
    """A spinner on stderr while a long call runs (off when stderr is not a terminal)."""
    err = error_console()
    if not err.is_terminal:
        yield
        return
    with err.status(message):
        yield
