"""The clock is injected everywhere so tests and the demo can run months in seconds."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to; thread-safe."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, value: datetime) -> None:
        with self._lock:
            self._now = value.astimezone(UTC)

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now += delta
            return self._now


class OffsetClock:
    """The system clock moved by a fixed offset: the service runs as if it were later.

    For rehearsals and demonstrations of what time does (expiry, accrual, grace) with real
    processes; ``POINTFLEX_CLOCK_OFFSET_SECONDS`` selects it. Never set in production.
    """

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class ScaledClock:
    """Time that runs ``speed`` times faster than the system clock from ``anchor`` on.

    For soak tests: every process given the same anchor (a Unix time) and speed agrees on the
    time, so a server, job loops and CLI runs can live through days in minutes together.
    ``POINTFLEX_CLOCK_SPEED`` and ``POINTFLEX_CLOCK_ANCHOR`` select it. Never in production.
    """

    def __init__(self, anchor: datetime, speed: float, offset: timedelta = timedelta()) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self.anchor = anchor.astimezone(UTC)
        self.speed = speed
        self.offset = offset

    def now(self) -> datetime:
        return self.at(datetime.now(UTC))

    def at(self, real: datetime) -> datetime:
        """The scaled time at the real instant ``real``."""
        return self.anchor + (real - self.anchor) * self.speed + self.offset
