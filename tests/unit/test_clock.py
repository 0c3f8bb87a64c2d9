"""The clocks a runtime can run on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pointflex.bootstrap import default_clock
from pointflex.clock import OffsetClock, SystemClock
from pointflex.config import Settings


def test_an_offset_clock_runs_that_far_ahead_of_the_system_clock() -> None:
    clock = OffsetClock(timedelta(days=2))
    before = datetime.now(UTC) + timedelta(days=2)
    seen = clock.now()
    after = datetime.now(UTC) + timedelta(days=2)
    assert before <= seen <= after and seen.tzinfo is UTC


def test_the_runtime_uses_the_system_clock_unless_an_offset_is_set(tmp_path: Path) -> None:
    assert isinstance(default_clock(Settings(data_dir=tmp_path)), SystemClock)
    moved = default_clock(Settings(data_dir=tmp_path, clock_offset_seconds=3600))
    assert isinstance(moved, OffsetClock) and moved.offset == timedelta(hours=1)
