"""Price list files (``prices/<date>.yaml``, or an operator's YAML/JSON): shape, checks, loading.

A file's shape is checked on its own (amounts, curves, which keys a component has); what it
prices is checked against the catalogue, passed as the validation context: every product type
priced, every parameter it names is one of that product's and of the right kind, every value of
a priced parameter has a price. The component kinds are described in
:mod:`pointflex.domain.pricing`, which computes rates from the loaded :class:`PriceList`.
"""

from __future__ import annotations

import functools
from abc import abstractmethod
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from importlib import resources
from importlib.resources.abc import Traversable
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    PlainValidator,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pointflex.catalog.products import default_catalog
from pointflex.catalog.schema import (
    FileModel,
    Id,
    Key,
    Problem,
    Text,
    read_document,
    refused,
    within,
)
from pointflex.domain.catalog import Catalog, ParameterSpec, ParamKind, ProductType
from pointflex.domain.pricing import (
    ANY,
    Base,
    Choice,
    Component,
    PerItem,
    PerUnit,
    Point,
    PriceBook,
    PriceList,
    Table,
)
from pointflex.errors import InvalidInput, InvalidParameter


def _amount(raw: object) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
        raise ValueError(f"price {raw!r} is not a number")
    try:
        # repr() of a float is its shortest exact spelling: 6.39 stays 6.39.
        amount = Decimal(repr(raw) if isinstance(raw, float) else raw)
    except InvalidOperation:
        raise ValueError(f"price {raw!r} is not a number") from None
    if not amount.is_finite():
        raise ValueError(f"price {raw} is not a number")
    if amount < 0:
        raise ValueError(f"price {raw} is negative")
    return amount


def _point(raw: object) -> Point:
    if not isinstance(raw, list) or len(raw) != 2:  # noqa: PLR2004 — a pair
        raise ValueError("each point is a pair [x, price]")
    return _amount(raw[0]), _amount(raw[1])


def _rising(points: tuple[Point, ...]) -> tuple[Point, ...]:
    if not points:
        raise ValueError("a table needs at least one point")
    for index, ((x0, y0), (x1, y1)) in enumerate(pairwise(points), start=1):
        # A bigger size never costs less: charging "the highest rate of the day" (R18)
        # relies on that ordering.
        if x1 <= x0 or y1 < y0:
            raise Problem("points must rise in x and never fall in price", index)
    return points


def _day(raw: object) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise ValueError("must be a date (YYYY-MM-DD)") from None


Amount = Annotated[Decimal, PlainValidator(_amount)]
"""A non-negative, finite number of points."""
Curve = Annotated[tuple[Annotated[Point, PlainValidator(_point)], ...], AfterValidator(_rising)]
"""A table's [x, price] points."""
Day = Annotated[date, PlainValidator(_day)]


class PricedPart(FileModel):
    """A component priced from parameters: it is checked against the product it prices."""

    param: Id

    @abstractmethod
    def to_component(self, product: ProductType) -> Component:
        """The domain's component, checked against ``product``; each kind says how."""


class ChoicePrice(PricedPart):
    prices: dict[Text, Amount]
    default: Amount | None = None

    def to_component(self, product: ProductType) -> Component:
        spec = _parameter(product, self.param, (ParamKind.SINGLEVALUE,), "param")
        _check_covered(self.prices, spec, self.default, "prices")
        return Choice(spec.id, self.prices, self.default)


class PerUnitPrice(PricedPart):
    by: Id | None = None
    price: Amount | None = None  # without ``by``
    prices: dict[Text, Amount] | None = None  # with ``by``: per value of that parameter

    @model_validator(mode="after")
    def _price_or_prices(self) -> Self:
        if self.by is None and self.price is None:
            raise Problem("a per_unit without by needs a price", "price")
        if self.by is None and self.prices is not None:
            raise Problem("prices per value need by, the parameter they depend on", "prices")
        if self.by is not None and self.prices is None:
            raise Problem("a per_unit with by needs prices, one per value of by", "prices")
        if self.by is not None and self.price is not None:
            raise Problem("with by, give prices per value instead of one price", "price")
        return self

    def to_component(self, product: ProductType) -> Component:
        spec = _numeric_parameter(product, self.param, "param")
        if self.by is None or self.prices is None:
            if self.price is None:
                raise RuntimeError("_price_or_prices requires price or by with prices")
            return PerUnit(spec.id, None, {ANY: self.price})
        by = _parameter(product, self.by, (ParamKind.SINGLEVALUE,), "by")
        _check_covered(self.prices, by, None, "prices")
        return PerUnit(spec.id, by.id, self.prices)


class TablePrice(PricedPart):
    by: Id | None = None
    points: dict[Key, Curve]  # per value of ``by``; one curve under ANY without it

    @field_validator("points", mode="before")
    @classmethod
    def _one_curve_without_by(cls, raw: object, info: ValidationInfo) -> object:
        if info.data.get("by") is None:
            if not isinstance(raw, list):
                raise ValueError("without by, points is a list of [x, price] pairs")
            return {ANY: raw}
        if not isinstance(raw, Mapping):
            raise ValueError("with by, points maps each value of by to [x, price] pairs")
        return raw

    def to_component(self, product: ProductType) -> Component:
        spec = _numeric_parameter(product, self.param, "param")
        if self.by is None:
            return Table(spec.id, None, self.points)
        by = _parameter(product, self.by, (ParamKind.SINGLEVALUE,), "by")
        _check_covered(self.points, by, None, "points")
        return Table(spec.id, by.id, self.points)


class PerItemPrice(PricedPart):
    prices: dict[Text, Amount]
    default: Amount | None = None
    times: Id | None = None

    def to_component(self, product: ProductType) -> Component:
        spec = _parameter(product, self.param, (ParamKind.MULTIVALUE,), "param")
        _check_covered(self.prices, spec, self.default, "prices")
        times = None if self.times is None else _numeric_parameter(product, self.times, "times")
        return PerItem(spec.id, self.prices, self.default, None if times is None else times.id)


KINDS = ("base", "choice", "per_unit", "table", "per_item")


class ComponentEntry(FileModel):
    """One component of a product's price: exactly one of the kinds, by its key."""

    base: Amount | None = None
    choice: ChoicePrice | None = None
    per_unit: PerUnitPrice | None = None
    table: TablePrice | None = None
    per_item: PerItemPrice | None = None

    @model_validator(mode="before")
    @classmethod
    def _exactly_one_kind(cls, data: object) -> object:
        if not isinstance(data, Mapping) or len(data) != 1 or next(iter(data)) not in KINDS:
            raise ValueError(f"each component is exactly one of {_join(KINDS)}")
        kind, body = next(iter(data.items()))
        if body is None:
            raise Problem(f"{kind} needs a value", kind)
        return data

    def to_component(self, product: ProductType) -> Component:
        if self.base is not None:
            return Base(self.base)
        parts = {
            "choice": self.choice,
            "per_unit": self.per_unit,
            "table": self.table,
            "per_item": self.per_item,
        }
        kind, part = next((k, p) for k, p in parts.items() if p is not None)
        with within(kind):
            return part.to_component(product)


class PriceListFile(FileModel):
    """A dated price list; validate it with ``context={"catalog": catalog}``."""

    effective: Day
    products: dict[Id, tuple[ComponentEntry, ...]]
    _components: dict[int, tuple[Component, ...]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _prices_the_catalogue(self, info: ValidationInfo) -> Self:
        catalog = info.context.get("catalog") if isinstance(info.context, dict) else None
        if not isinstance(catalog, Catalog):
            raise TypeError("a price list is checked against a catalogue: pass it as context")
        for product_id, entries in self.products.items():
            product = _product(catalog, product_id)
            self._components[product.id] = tuple(
                _built(entry, product, ("products", product_id, index))
                for index, entry in enumerate(entries)
            )
        missing = [p.id for p in catalog.products() if p.id not in self._components]
        if missing:
            raise Problem(f"no price for product type(s) {_join(missing)}", "products")
        return self

    def to_domain(self, source: str) -> PriceList:
        return PriceList(self.effective, dict(self._components), source)


def _built(entry: ComponentEntry, product: ProductType, place: tuple[str | int, ...]) -> Component:
    with within(*place):
        return entry.to_component(product)


def _product(catalog: Catalog, product_id: int) -> ProductType:
    try:
        return catalog.product(product_id)
    except InvalidInput:
        message = f"product type {product_id} is not in the catalogue"
        raise Problem(message, "products", product_id) from None


def _parameter(
    product: ProductType, param_id: int, kinds: tuple[ParamKind, ...], field: str
) -> ParameterSpec:
    try:
        spec = product.parameter(param_id)
    except InvalidParameter:
        message = f"parameter {param_id} is not a parameter of {product.name}"
        raise Problem(message, field) from None
    if spec.id != param_id or spec.kind not in kinds:  # a legacy alias id is not its parameter
        wanted = " or ".join(kinds)
        raise Problem(f"parameter {param_id} must be a {wanted} parameter", field)
    return spec


def _numeric_parameter(product: ProductType, param_id: int, field: str) -> ParameterSpec:
    """A NUMERIC parameter, or a SINGLEVALUE one whose values are all numbers (FortiWeb CPUs)."""
    spec = _parameter(product, param_id, (ParamKind.NUMERIC, ParamKind.SINGLEVALUE), field)
    if spec.kind is ParamKind.SINGLEVALUE and not all(v.isdigit() for v in spec.allowed):
        raise Problem(f"parameter {spec.id} does not hold numbers", field)
    return spec


def _check_covered(
    prices: Mapping[str, object], spec: ParameterSpec, default: Decimal | None, field: str
) -> None:
    unknown = [key for key in prices if key not in spec.allowed]
    if unknown:
        message = f"parameter {spec.id} has no value {_join(unknown)}"
        raise Problem(message, field, unknown[0])
    missing = [value for value in spec.allowed if value not in prices]
    if missing and default is None:
        raise Problem(f"no price for parameter {spec.id} value(s) {_join(missing)}", field)


def _join(items: Iterable[object]) -> str:
    return ", ".join(str(item) for item in items)


# ---------------------------------------------------------------- loading


@functools.cache
def default_price_lists() -> tuple[PriceList, ...]:
    """The illustrative price lists shipped with the package, loaded and checked once."""
    folder = resources.files("pointflex.catalog").joinpath("prices")
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)
    lists = tuple(load_price_list(f, default_catalog()) for f in files)
    for source, price_list in zip(files, lists, strict=True):
        # The file name is how operators find a version: it must not lie.
        if source.name != f"{price_list.effective.isoformat()}.yaml":
            raise InvalidInput(
                f"{source.name}: effective: {price_list.effective} differs from the file name"
            )
    return lists


@functools.cache
def default_price_book() -> PriceBook:
    """The shipped price lists over the shipped catalogue, built once."""
    return PriceBook(default_price_lists(), default_catalog())


def load_price_list(path: Path | Traversable, catalog: Catalog | None = None) -> PriceList:
    """Read and check an operator's price list (YAML, or JSON by its ``.json`` suffix)."""
    data = read_document(path, path.name)
    return parse_price_list(data, catalog or default_catalog(), source=path.name)


def parse_price_list(data: object, catalog: Catalog, *, source: str = "price list") -> PriceList:
    """Check price list data against the catalogue; problems raise InvalidInput naming their
    place in ``source``."""
    try:
        checked = PriceListFile.model_validate(data, context={"catalog": catalog})
    except ValidationError as exc:
        raise refused(exc, source) from exc
    return checked.to_domain(source)
