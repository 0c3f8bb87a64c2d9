"""Services on fakes: a runtime whose units of work are in memory (tests/unit/services/fakes)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pointflex.bootstrap import Runtime
from pointflex.catalog import default_catalog
from pointflex.clock import ManualClock
from pointflex.domain.catalog import Catalog
from tests.unit.services.fakes import FakeUnits, fake_runtime

NOW = datetime(2026, 3, 2, 18, 15, tzinfo=UTC)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return default_catalog()


@pytest.fixture
def units() -> FakeUnits:
    return FakeUnits()


@pytest.fixture
def rt(units: FakeUnits, catalog: Catalog) -> Runtime:
    return fake_runtime(units, catalog, ManualClock(NOW))
