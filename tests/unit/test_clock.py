"""The clocks a runtime can run on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pointflex.bootstrap import default_clock
from pointflex.clock import OffsetClock, ScaledClock, SystemClock
from pointflex.config import Settings


def test_an_offset_clock_runs_that_far_ahead_of_the_system_clock() -> None:
    clock = OffsetClock(timedelta(days=2))
    before = datetime.now(UTC) + timedelta(days=2)
    seen = clock.now()
    after = datetime.now(UTC) + timedelta(days=2)
    assert before <= seen <= after
    assert seen.tzinfo is UTC


def test_the_runtime_uses_the_system_clock_unless_an_offset_is_set(tmp_path: Path) -> None:
    assert isinstance(default_clock(Settings(data_dir=tmp_path)), SystemClock)
    moved = default_clock(Settings(data_dir=tmp_path, clock_offset_seconds=3600))
    assert isinstance(moved, OffsetClock)
    assert moved.offset == timedelta(hours=1)


def test_a_scaled_clock_runs_faster_from_its_anchor_and_processes_agree_on_it() -> None:
    anchor = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
    clock = ScaledClock(anchor, 1440.0)  # a day per real minute
    assert clock.at(anchor) == anchor
    assert clock.at(anchor + timedelta(minutes=1)) == anchor + timedelta(days=1)
    other = ScaledClock(anchor, 1440.0)  # another process with the same settings
    real = anchor + timedelta(seconds=37)
    assert other.at(real) == clock.at(real)
    ahead = ScaledClock(anchor, 1440.0, timedelta(hours=2))
    assert ahead.at(anchor + timedelta(seconds=30)) == anchor + timedelta(hours=14)


def test_the_runtime_uses_a_scaled_clock_only_with_an_anchor_and_a_speed(tmp_path: Path) -> None:
    speed_only = default_clock(Settings(data_dir=tmp_path, clock_speed=60))
    assert isinstance(speed_only, SystemClock)
    scaled = default_clock(Settings(data_dir=tmp_path, clock_speed=60, clock_anchor=1.8e9))
    assert isinstance(scaled, ScaledClock)
    assert scaled.anchor == datetime.fromtimestamp(1.8e9, UTC)
    assert scaled.speed == 60
