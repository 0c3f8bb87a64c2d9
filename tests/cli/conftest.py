"""CLI fixtures: the ``pointflex`` app run in-process against the per-test database.

The CLI reads the real clock, so these tests build their data relative to *now* (never to a
fixed date): they pass whatever day they run on.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from pointflex.bootstrap import Runtime, build_runtime
from pointflex.cli.main import app
from pointflex.clock import ManualClock, SystemClock
from pointflex.config import Settings
from pointflex.domain.dates import PACIFIC, local_day
from tests.builders import World, world

USER = "tester"


@dataclass
class Cli:
    """Runs ``pointflex`` commands, given as a shell-like line: ``cli("programs list")``."""

    env: dict[str, str | None]

    def __call__(self, command: str, env: dict[str, str | None] | None = None) -> Result:
        args = shlex.split(command)
        return CliRunner().invoke(app, args, env={**self.env, **(env or {})})

    def ok(self, command: str) -> Result:
        """Run a command that must succeed; on failure, show what it printed."""
        result = self(command)
        assert result.exit_code == 0, f"exit {result.exit_code}\n{result.output}"
        return result


@pytest.fixture
def cli(settings: Settings) -> Cli:
    return Cli(
        {
            "POINTFLEX_DATABASE_URL": settings.database_url,
            "POINTFLEX_DATA_DIR": str(settings.data_dir),
            "POINTFLEX_SECRET_KEY": settings.secret_key,
            "USER": USER,
            # pytest-xdist workers export COLUMNS=80; unset, the CLI's own pipe width applies.
            "COLUMNS": None,
        }
    )


def assert_one_red_line(result: Result, *fragments: str) -> None:
    """The single error path: exit 1, nothing on stdout, one ``error:`` line on stderr."""
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0]
    assert result.stdout == ""


def today() -> date:
    """Today in the billing time zone of the test programs."""
    return local_day(datetime.now().astimezone(), PACIFIC)


@pytest.fixture
def live(settings: Settings, engine: Engine) -> Runtime:
    """A runtime on the real clock, like the CLI's."""
    return build_runtime(settings, clock=SystemClock(), engine=engine)


@pytest.fixture
def past(settings: Settings, engine: Engine) -> Runtime:
    """A runtime whose clock stands three days ago, to make history the CLI then reads."""
    clock = ManualClock(datetime.now().astimezone() - timedelta(days=3))
    return build_runtime(settings, clock=clock, engine=engine)


@pytest.fixture
def acme(live: Runtime) -> World:
    """An organisation (root + member) with a prepaid and a postpaid program running now."""
    return world(live, start=today() - timedelta(days=10), end=today() + timedelta(days=365))
