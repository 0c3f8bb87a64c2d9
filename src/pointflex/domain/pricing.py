"""Prices: dated price lists and the daily rate of a configuration (R20, R21, P9).

A price list is data (``pointflex/catalog/prices/<date>.yaml``, or a YAML/JSON file an operator
imports), loaded and checked against the catalogue by :mod:`pointflex.catalog`. For each
product type it holds a list of components whose prices add up to the points per day of one
unit:

``base: A``
    a fixed amount.
``choice: {param, prices: {value: A}, default: A}``
    the price of the chosen value of a single-value parameter.
``per_unit: {param, price: A}`` or ``per_unit: {param, by, prices: {value: A}}``
    a numeric parameter times a unit price; with ``by`` the unit price depends on another
    parameter's value (e.g. price per vCPU by service package).
``table: {param, points: [[x, A], ...]}`` or ``table: {param, by, points: {value: [[x, A]]}}``
    a piecewise-linear price over a numeric parameter, interpolated between points and
    continued with the last slope beyond the last point (e.g. vCPUs x service package).
``per_item: {param, prices: {value: A}, default: A, times: param}``
    the sum of the prices of the chosen values of a multi-value parameter, optionally
    multiplied by a numeric parameter (e.g. an add-on priced per vCPU).

A "numeric" parameter may also be a single-value parameter whose allowed values are all
numbers (FortiWeb-VM's CPU list). Amounts are ``Decimal`` throughout; a rate is rounded once,
half up, to two places, and never below 0.01 when it is positive (P9).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import pairwise

from pointflex.domain.catalog import Catalog, FormFactor, ParamValues, ProductType
from pointflex.domain.money import CENT, to_points, to_points_half_up
from pointflex.errors import InvalidInput

ZERO = Decimal("0")

ANY = ""
"""The key of a keyed price map whose component is not keyed by another parameter."""

Point = tuple[Decimal, Decimal]


def round_rate(raw: Decimal) -> Decimal:
    """Two places, half up; a positive rate never rounds below 0.01 (P9)."""
    if raw <= 0:
        return to_points(ZERO)
    return max(to_points_half_up(raw), CENT)


# ---------------------------------------------------------------- components


@dataclass(frozen=True)
class Base:
    amount: Decimal

    def price(self, values: ParamValues) -> Decimal:
        return self.amount


@dataclass(frozen=True)
class Choice:
    param_id: int
    prices: Mapping[str, Decimal]
    default: Decimal | None = None

    def price(self, values: ParamValues) -> Decimal:
        value = values.get(self.param_id)
        if not isinstance(value, str):  # an optional parameter left unset costs nothing
            return ZERO
        return _lookup(self.prices, value, self.default, self.param_id)


@dataclass(frozen=True)
class PerUnit:
    param_id: int
    by: int | None
    prices: Mapping[str, Decimal]  # keyed by the ``by`` parameter's value, or ANY

    def price(self, values: ParamValues) -> Decimal:
        units = _number(values, self.param_id)
        key = _key(values, self.by)
        if units is None or key is None:
            return ZERO
        return units * _lookup(self.prices, key, None, self.by or self.param_id)


@dataclass(frozen=True)
class Table:
    param_id: int
    by: int | None
    points: Mapping[str, tuple[Point, ...]]  # keyed by the ``by`` parameter's value, or ANY

    def price(self, values: ParamValues) -> Decimal:
        x = _number(values, self.param_id)
        key = _key(values, self.by)
        if x is None or key is None:
            return ZERO
        points = self.points.get(key)
        if points is None:
            raise InvalidInput(f"no price for parameter id {self.by} value {key}")
        return _interpolate(points, x)


@dataclass(frozen=True)
class PerItem:
    param_id: int
    prices: Mapping[str, Decimal]
    default: Decimal | None = None
    times: int | None = None

    def price(self, values: ParamValues) -> Decimal:
        items = values.get(self.param_id)
        if not isinstance(items, tuple) or not items:
            return ZERO
        total = sum((_lookup(self.prices, i, self.default, self.param_id) for i in items), ZERO)
        if self.times is None:
            return total
        multiplier = _number(values, self.times)
        return ZERO if multiplier is None else total * multiplier


Component = Base | Choice | PerUnit | Table | PerItem


def _lookup(prices: Mapping[str, Decimal], key: str, default: Decimal | None, pid: int) -> Decimal:
    found = prices.get(key, default)
    if found is None:
        raise InvalidInput(f"no price for parameter id {pid} value {key}")
    return found


def _number(values: ParamValues, param_id: int) -> Decimal | None:
    value = values.get(param_id)
    return Decimal(value) if isinstance(value, str) else None


def _key(values: ParamValues, by: int | None) -> str | None:
    if by is None:
        return ANY
    value = values.get(by)
    return value if isinstance(value, str) else None


def _interpolate(points: tuple[Point, ...], x: Decimal) -> Decimal:
    """Linear between points; flat before the first; the last slope after the last."""
    first_x, first_y = points[0]
    if x <= first_x or len(points) == 1:
        return first_y
    for (x0, y0), (x1, y1) in pairwise(points):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    (x0, y0), (x1, y1) = points[-2], points[-1]
    return y1 + (y1 - y0) * (x - x1) / (x1 - x0)


# ---------------------------------------------------------------- price lists


@dataclass(frozen=True)
class PriceList:
    """The prices in force from ``effective`` until the next list's date."""

    effective: date
    products: Mapping[int, tuple[Component, ...]]
    source: str = ""

    def raw_rate(self, product_type_id: int, values: ParamValues) -> Decimal:
        """Unrounded points per day of one unit."""
        components = self.products.get(product_type_id)
        if components is None:
            raise InvalidInput(
                f"price list {self.effective} has no price for product type {product_type_id}"
            )
        return sum((c.price(values) for c in components), ZERO)

    def rate(self, product_type_id: int, values: ParamValues) -> Decimal:
        return round_rate(self.raw_rate(product_type_id, values))


@dataclass(frozen=True)
class PriceBook:
    """Every dated price list, in date order, and the catalogue they price."""

    lists: tuple[PriceList, ...]
    catalog: Catalog = field(compare=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.lists, key=lambda p: p.effective))
        if not ordered:
            raise InvalidInput("a price book needs at least one price list")
        dates = [p.effective for p in ordered]
        if len(set(dates)) != len(dates):
            raise InvalidInput("two price lists have the same effective date")
        object.__setattr__(self, "lists", ordered)

    @classmethod
    def from_lists(cls, lists: Iterable[PriceList], catalog: Catalog) -> PriceBook:
        """The shipped book is :func:`pointflex.catalog.default_price_book`."""
        return cls(tuple(lists), catalog)

    def with_list(self, price_list: PriceList) -> PriceBook:
        """A book with ``price_list`` added, replacing a list of the same date."""
        kept = [p for p in self.lists if p.effective != price_list.effective]
        return PriceBook((*kept, price_list), self.catalog)

    def version_on(self, day: date) -> PriceList:
        """The list in force on ``day``.

        The first list also covers every earlier day: there is no older price to use, and
        history from before the first list must still be chargeable.
        """
        current = self.lists[0]
        for price_list in self.lists[1:]:
            if price_list.effective > day:
                break
            current = price_list
        return current

    def next_after(self, day: date) -> PriceList | None:
        """The first list that takes effect after ``day``, if one is scheduled."""
        return next((p for p in self.lists if p.effective > day), None)

    def rate(self, product_type_id: int, values: ParamValues, day: date) -> Decimal:
        """Points per day for one unit on ``day`` (R20), two places (P9)."""
        self.catalog.product(product_type_id)
        return self.version_on(day).rate(product_type_id, values)

    def calc(
        self, product_type_id: int, values: ParamValues, count: int, day: date
    ) -> tuple[Decimal, Decimal | None, date | None]:
        """tools/calc: today's cost of ``count`` units and the next scheduled one (R21)."""
        _check_count(self.catalog.product(product_type_id), count)
        current = self.rate(product_type_id, values, day) * count
        upcoming = self.next_after(day)
        if upcoming is None:
            return current, None, None
        return current, upcoming.rate(product_type_id, values) * count, upcoming.effective


def _check_count(product: ProductType, count: int) -> None:
    if isinstance(count, bool) or not isinstance(count, int):
        raise InvalidInput("count must be a whole number")
    if count < 1:
        raise InvalidInput("count must be at least 1")
    if product.form_factor is FormFactor.CLOUD and count != 1:
        raise InvalidInput(f"count must be 1 for cloud product type {product.id} ({product.name})")
