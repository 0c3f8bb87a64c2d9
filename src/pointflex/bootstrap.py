"""Composition root: builds the runtime every entry point hands to the services."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Generic, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Engine

from pointflex.catalog import default_catalog
from pointflex.clock import Clock, OffsetClock, ScaledClock, SystemClock
from pointflex.config import Settings
from pointflex.domain.catalog import Catalog
from pointflex.domain.dates import local_day
from pointflex.store.db import make_engine
from pointflex.store.tokens import TokenVault, load_or_create_secret
from pointflex.store.unit_of_work import UnitFactory, UnitOfWork, sql_units


# eq=False: a runtime is itself, compared and hashed by identity, so per-runtime state
# (PerRuntime below) can be keyed by it.
@dataclass(eq=False)
class Runtime:
    settings: Settings
    engine: Engine
    clock: Clock
    catalog: Catalog
    vault: TokenVault
    # Seconds for measuring intervals (rate limits): monotonic, never the business clock;
    # tests replace it to move time without sleeping.
    ticks: Callable[[], float] = time.monotonic
    # Where units of work come from; None: transactions on ``engine``. Unit tests of the
    # services give fakes here.
    units: UnitFactory | None = None

    def now(self) -> datetime:
        return self.clock.now()

    def unit(self, *, write: bool) -> AbstractContextManager[UnitOfWork]:
        """One transaction and the typed queries on it (store.unit_of_work)."""
        return (self.units or sql_units(self.engine))(write=write)

    def today(self, tz: str | None = None) -> date:
        return local_day(self.now(), tz or self.settings.default_timezone)


T = TypeVar("T")


class PerRuntime(Generic[T]):
    """One ``T`` per runtime, made on first use and dropped with the runtime.

    Process state (the key ring, the caller cache, the rate limiter) is kept by the module
    that owns it, typed, rather than in a bag on the runtime; a test's fresh runtime, or a
    copy of one (``dataclasses.replace``), starts with fresh state, as a new process would.
    """

    def __init__(self, make: Callable[[Runtime], T]) -> None:
        self._make = make
        self._made: WeakKeyDictionary[Runtime, T] = WeakKeyDictionary()
        self._lock = threading.Lock()

    def __call__(self, rt: Runtime) -> T:
        with self._lock:
            found = self._made.get(rt)
            if found is None:
                found = self._made[rt] = self._make(rt)
            return found

    def put(self, rt: Runtime, value: T) -> None:
        """Use ``value`` for ``rt`` from now on (tests set a cache off this way)."""
        with self._lock:
            self._made[rt] = value


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
