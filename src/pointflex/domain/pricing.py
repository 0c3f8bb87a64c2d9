"""Prices: dated price lists and the daily rate of a configuration (R20, R21, P9).

A price list is data (``pointflex/catalog/prices/<date>.yaml``, or a YAML/JSON file an operator
imports). For each product type it holds a list of components whose prices add up to the
points per day of one unit:

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

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from importlib import resources
from importlib.resources.abc import Traversable
from itertools import pairwise
from pathlib import Path

import yaml

from pointflex.domain.catalog import (
    Catalog,
    FormFactor,
    ParameterSpec,
    ParamKind,
    ParamValues,
    ProductType,
    default_catalog,
)
from pointflex.errors import InvalidInput, InvalidParameter

CENT = Decimal("0.01")
ZERO = Decimal("0")

# Key used in keyed price maps when a component is not keyed by another parameter.
_ANY = ""

Point = tuple[Decimal, Decimal]


def round_rate(raw: Decimal) -> Decimal:
    """Two places, half up; a positive rate never rounds below 0.01 (P9)."""
    if raw <= 0:
        return ZERO.quantize(CENT)
    return max(raw.quantize(CENT, rounding=ROUND_HALF_UP), CENT)


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
    prices: Mapping[str, Decimal]  # keyed by the ``by`` parameter's value, or _ANY

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
    points: Mapping[str, tuple[Point, ...]]  # keyed by the ``by`` parameter's value, or _ANY

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
        return _ANY
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
    def from_lists(cls, lists: Iterable[PriceList], catalog: Catalog | None = None) -> PriceBook:
        return cls(tuple(lists), catalog or default_catalog())

    @classmethod
    def load_default(cls) -> PriceBook:
        """The illustrative price lists shipped with the package."""
        return cls(_default_lists(), default_catalog())

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


# ---------------------------------------------------------------- loading and validation


@functools.cache
def _default_lists() -> tuple[PriceList, ...]:
    folder = resources.files("pointflex").joinpath("catalog", "prices")
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)
    lists = tuple(load_price_list(f) for f in files)
    for source, price_list in zip(files, lists, strict=True):
        # The file name is how operators find a version: it must not lie.
        if source.name != f"{price_list.effective.isoformat()}.yaml":
            raise InvalidInput(f"{source.name}: effective date {price_list.effective} differs")
    return lists


def load_price_list(path: Path | Traversable, catalog: Catalog | None = None) -> PriceList:
    """Read and check an operator's price list (YAML, or JSON by its ``.json`` suffix)."""
    text = path.read_text(encoding="utf-8")
    if path.name.endswith(".json"):
        try:
            data: object = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{path.name}: not valid JSON: {exc}") from exc
    else:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InvalidInput(f"{path.name}: not valid YAML: {exc}") from exc
    return parse_price_list(data, catalog or default_catalog(), source=path.name)


def parse_price_list(data: object, catalog: Catalog, *, source: str = "price list") -> PriceList:
    """Check a price list against the catalogue: every product priced, every reference known."""
    fields = _mapping(data, source)
    effective = _date(fields.get("effective"), source)
    where = f"{source} ({effective})"
    products: dict[int, tuple[Component, ...]] = {}
    for raw_id, raw_components in _mapping(fields.get("products"), f"{where}: products").items():
        product = _product(catalog, raw_id, where)
        here = f"{where}: product type {product.id}"
        items = _list(raw_components, here)
        products[product.id] = tuple(_parse_component(item, product, here) for item in items)
    missing = [p.id for p in catalog.products() if p.id not in products]
    if missing:
        raise InvalidInput(f"{where}: no price for product type(s) {_join(missing)}")
    return PriceList(effective, products, source)


def _product(catalog: Catalog, raw_id: object, where: str) -> ProductType:
    try:
        return catalog.product(int(str(raw_id)))
    except (ValueError, InvalidInput) as exc:
        raise InvalidInput(f"{where}: product type {raw_id} is not in the catalogue") from exc


def _parse_component(data: object, product: ProductType, where: str) -> Component:
    fields = _mapping(data, where)
    if len(fields) != 1 or next(iter(fields)) not in _PARSERS:
        raise InvalidInput(f"{where}: each component is exactly one of {_join(list(_PARSERS))}")
    kind, body = next(iter(fields.items()))
    return _PARSERS[kind](body, product, f"{where} {kind}")


def _parse_base(body: object, product: ProductType, where: str) -> Component:
    return Base(_amount(body, where))


def _parse_choice(body: object, product: ProductType, where: str) -> Component:
    fields = _mapping(body, where)
    spec = _param(product, fields.get("param"), (ParamKind.SINGLEVALUE,), where)
    default = _opt_amount(fields.get("default"), where)
    prices = _value_prices(fields.get("prices"), spec, default, where)
    return Choice(spec.id, prices, default)


def _parse_per_unit(body: object, product: ProductType, where: str) -> Component:
    fields = _mapping(body, where)
    spec = _numeric_param(product, fields.get("param"), where)
    if fields.get("by") is None:
        return PerUnit(spec.id, None, {_ANY: _amount(fields.get("price"), where)})
    by = _param(product, fields.get("by"), (ParamKind.SINGLEVALUE,), where)
    return PerUnit(spec.id, by.id, _value_prices(fields.get("prices"), by, None, where))


def _parse_table(body: object, product: ProductType, where: str) -> Component:
    fields = _mapping(body, where)
    spec = _numeric_param(product, fields.get("param"), where)
    if fields.get("by") is None:
        return Table(spec.id, None, {_ANY: _points(fields.get("points"), where)})
    by = _param(product, fields.get("by"), (ParamKind.SINGLEVALUE,), where)
    raw = _mapping(fields.get("points"), f"{where} points")
    _check_covered(raw, by, None, where)
    return Table(spec.id, by.id, {str(k): _points(v, f"{where} {k}") for k, v in raw.items()})


def _parse_per_item(body: object, product: ProductType, where: str) -> Component:
    fields = _mapping(body, where)
    spec = _param(product, fields.get("param"), (ParamKind.MULTIVALUE,), where)
    default = _opt_amount(fields.get("default"), where)
    prices = _value_prices(fields.get("prices"), spec, default, where)
    times = fields.get("times")
    times_id = None if times is None else _numeric_param(product, times, where).id
    return PerItem(spec.id, prices, default, times_id)


_PARSERS: dict[str, Callable[[object, ProductType, str], Component]] = {
    "base": _parse_base,
    "choice": _parse_choice,
    "per_unit": _parse_per_unit,
    "table": _parse_table,
    "per_item": _parse_per_item,
}


def _param(
    product: ProductType, raw: object, kinds: tuple[ParamKind, ...], where: str
) -> ParameterSpec:
    try:
        spec = product.parameter(int(str(raw)))
    except (ValueError, InvalidParameter) as exc:
        raise InvalidInput(
            f"{where}: parameter {raw} is not a parameter of {product.name}"
        ) from exc
    if spec.id != int(str(raw)) or spec.kind not in kinds:
        raise InvalidInput(f"{where}: parameter {raw} must be a {_join(kinds)} parameter")
    return spec


def _numeric_param(product: ProductType, raw: object, where: str) -> ParameterSpec:
    spec = _param(product, raw, (ParamKind.NUMERIC, ParamKind.SINGLEVALUE), where)
    if spec.kind is ParamKind.SINGLEVALUE and not all(v.isdigit() for v in spec.allowed):
        raise InvalidInput(f"{where}: parameter {spec.id} does not hold numbers")
    return spec


def _value_prices(
    raw: object, spec: ParameterSpec, default: Decimal | None, where: str
) -> dict[str, Decimal]:
    prices = {str(k): _amount(v, f"{where} {k}") for k, v in _mapping(raw, where).items()}
    _check_covered(prices, spec, default, where)
    return prices


def _check_covered(
    prices: Mapping[str, object], spec: ParameterSpec, default: Decimal | None, where: str
) -> None:
    unknown = [k for k in prices if k not in spec.allowed]
    if unknown:
        raise InvalidInput(f"{where}: parameter {spec.id} has no value {_join(unknown)}")
    missing = [v for v in spec.allowed if v not in prices]
    if missing and default is None:
        raise InvalidInput(f"{where}: no price for parameter {spec.id} value(s) {_join(missing)}")


def _points(raw: object, where: str) -> tuple[Point, ...]:
    points: list[Point] = []
    for pair in _list(raw, f"{where} points"):
        if not isinstance(pair, list) or len(pair) != 2:
            raise InvalidInput(f"{where}: each point is a pair [x, price]")
        points.append((_amount(pair[0], where), _amount(pair[1], where)))
    if not points:
        raise InvalidInput(f"{where}: a table needs at least one point")
    for (x0, y0), (x1, y1) in pairwise(points):
        # A bigger size never costs less: charging "the highest rate of the day" (R18)
        # relies on that ordering.
        if x1 <= x0 or y1 < y0:
            raise InvalidInput(f"{where}: points must rise in x and never fall in price")
    return tuple(points)


def _amount(raw: object, where: str) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
        raise InvalidInput(f"{where}: price {raw!r} is not a number")
    try:
        # repr() of a float is its shortest exact spelling: 6.39 stays 6.39.
        amount = Decimal(repr(raw) if isinstance(raw, float) else raw)
    except InvalidOperation as exc:
        raise InvalidInput(f"{where}: price {raw!r} is not a number") from exc
    if not amount.is_finite():
        raise InvalidInput(f"{where}: price {raw} is not a number")
    if amount < 0:
        raise InvalidInput(f"{where}: price {raw} is negative")
    return amount


def _opt_amount(raw: object, where: str) -> Decimal | None:
    return None if raw is None else _amount(raw, f"{where} default")


def _date(raw: object, where: str) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError as exc:
        raise InvalidInput(f"{where}: effective must be a date (YYYY-MM-DD)") from exc


def _mapping(data: object, where: str) -> dict[str, object]:
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{where}: expected a mapping")
    return {str(k): v for k, v in data.items()}


def _list(data: object, where: str) -> list[object]:
    if not isinstance(data, list):
        raise InvalidInput(f"{where}: expected a list")
    return data


def _join(items: Iterable[object]) -> str:
    return ", ".join(str(i) for i in items)
