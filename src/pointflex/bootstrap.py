"""Composition root: builds the runtime every entry point hands to the services."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine

from pointflex.clock import Clock, OffsetClock, ScaledClock, SystemClock
from pointflex.config import Settings
from pointflex.domain.catalog import Catalog, default_catalog
from pointflex.domain.dates import local_day
from pointflex.store.db import make_engine
from pointflex.store.tokens import TokenVault, load_or_create_secret


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    clock: Clock
    catalog: Catalog
    vault: TokenVault
    # Seconds for measuring intervals (rate limits): monotonic, never the business clock;
    # tests replace it to move time without sleeping.
    ticks: Callable[[], float] = time.monotonic
    extras: dict[str, object] = field(default_factory=dict)

    def now(self) -> datetime:
        return self.clock.now()

    def today(self, tz: str | None = None) -> date:
        return local_day(self.now(), tz or self.settings.default_timezone)


def build_runtime(
    settings: Settings | None = None, clock: Clock | None = None, engine: Engine | None = None
) -> Runtime:
    settings = settings or Settings()
    secret = load_or_create_secret(settings.secret_key, settings.data_dir)
    return Runtime(
        settings=settings,
        engine=engine or make_engine(settings.database_url),
        clock=clock or default_clock(settings),
        catalog=default_catalog(),
        vault=TokenVault(secret),
    )


def default_clock(settings: Settings) -> Clock:
    if settings.clock_anchor and settings.clock_speed != 1.0:
        anchor = datetime.fromtimestamp(settings.clock_anchor, UTC)
        offset = timedelta(seconds=settings.clock_offset_seconds)
        return ScaledClock(anchor, settings.clock_speed, offset)
    if settings.clock_offset_seconds:
        return OffsetClock(timedelta(seconds=settings.clock_offset_seconds))
    return SystemClock()
