"""Which configuration rate applies to a day (R18, R20, R21, R23).

A configuration's parameters have a history of versions, each valid from an instant until the
next one. A day is charged at the highest rate of any version in effect at any moment of it,
priced with the price list effective that day.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from pointflex.domain.catalog import ParamValues
from pointflex.domain.dates import DayWindow


@dataclass(frozen=True)
class ConfigVersion:
    valid_from: datetime
    product_type_id: int
    values: ParamValues


RateFn = Callable[[int, ParamValues], Decimal]


def versions_in_window(versions: Sequence[ConfigVersion], window: DayWindow) -> list[ConfigVersion]:
    """Versions in effect at any moment of ``window``; ``versions`` sorted by ``valid_from``."""
    found: list[ConfigVersion] = []
    for index, version in enumerate(versions):
        if version.valid_from >= window.end:
            break
        following = versions[index + 1] if index + 1 < len(versions) else None
        if following is None or following.valid_from > window.start:
            found.append(version)
    return found


def day_rate(versions: Sequence[ConfigVersion], window: DayWindow, rate: RateFn) -> Decimal | None:
    """Highest rate of the versions in effect during the day, or None if none was."""
    rates = [rate(v.product_type_id, v.values) for v in versions_in_window(versions, window)]
    return max(rates) if rates else None
