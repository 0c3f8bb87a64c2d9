"""Points amounts: ``Decimal`` with two places, never floats.

Two roundings are in use and both are kept on purpose:

- :func:`to_points` rounds as ``Decimal.quantize`` does by default (half even). Sums read back
  from the ledger are exact to the cent already; it only fixes their exponent for display and
  comparison, and balances and burn rates have always been rounded this way.
- :func:`to_points_half_up` rounds half up, the rule for a price (P9) and for the share of
  points a roll-over keeps (R9).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
"""The smallest points amount."""

PointsLike = Decimal | int | float | str


def to_points(value: PointsLike) -> Decimal:
    """``value`` as points, two places, rounded by the context's default (half even)."""
    return Decimal(value).quantize(CENT)


def to_points_half_up(value: Decimal) -> Decimal:
    """``value`` as points, two places, rounded half up (prices, P9; roll-over shares, R9)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)
