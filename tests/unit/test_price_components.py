"""Price components and price lists of domain/pricing.py on hand-built data: a component whose
parameters are unset costs nothing; a value or product without a price is refused."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from pointflex.domain.catalog import Catalog, ParamValues
from pointflex.domain.pricing import Base, Choice, PerItem, PerUnit, PriceBook, PriceList, Table
from pointflex.errors import InvalidInput

CPU, PACKAGE, ADDONS = 1, 2, 3
D = Decimal


@pytest.mark.parametrize(
    "values",
    [{}, {PACKAGE: "ENT"}, {CPU: "4"}, {CPU: "4", PACKAGE: ("ENT",)}],
    ids=["nothing-set", "no-units", "no-key", "key-not-a-single-value"],
)
def test_a_per_unit_price_without_its_units_or_its_key_costs_nothing(values: ParamValues) -> None:
    per_cpu = PerUnit(CPU, PACKAGE, {"ENT": D("1.50")})
    assert per_cpu.price(values) == 0
    assert per_cpu.price({CPU: "4", PACKAGE: "ENT"}) == D("6.00")


def test_a_per_unit_price_for_a_key_without_a_price_names_the_keying_parameter() -> None:
    per_cpu = PerUnit(CPU, PACKAGE, {"ENT": D("1.50")})
    with pytest.raises(InvalidInput, match="no price for parameter id 2 value ATP"):
        per_cpu.price({CPU: "4", PACKAGE: "ATP"})


@pytest.mark.parametrize("values", [{}, {CPU: "4"}, {PACKAGE: "ENT"}])
def test_a_table_price_without_its_parameter_or_its_key_costs_nothing(values: ParamValues) -> None:
    table = Table(CPU, PACKAGE, {"ENT": ((D(1), D(2)), (D(4), D(5)))})
    assert table.price(values) == 0
    assert table.price({CPU: "2", PACKAGE: "ENT"}) == D(3)


def test_a_table_price_for_a_key_without_points_is_refused() -> None:
    table = Table(CPU, PACKAGE, {"ENT": ((D(1), D(2)),)})
    with pytest.raises(InvalidInput, match="no price for parameter id 2 value UTP"):
        table.price({CPU: "2", PACKAGE: "UTP"})


def test_a_choice_without_a_price_or_a_default_is_refused() -> None:
    choice = Choice(PACKAGE, {"ENT": D("3.00")})
    assert choice.price({}) == 0  # unset: nothing
    with pytest.raises(InvalidInput, match="no price for parameter id 2 value ATP"):
        choice.price({PACKAGE: "ATP"})
    assert Choice(PACKAGE, {}, default=D("1.00")).price({PACKAGE: "ATP"}) == D("1.00")


def test_items_without_a_price_or_a_default_are_refused() -> None:
    items = PerItem(ADDONS, {"AV": D("0.50")}, times=CPU)
    assert items.price({ADDONS: ("AV",), CPU: "4"}) == D("2.00")
    assert items.price({ADDONS: ("AV",)}) == 0  # no multiplier: nothing
    with pytest.raises(InvalidInput, match="no price for parameter id 3 value IPS"):
        items.price({ADDONS: ("AV", "IPS"), CPU: "4"})


def test_a_price_list_without_the_product_type_is_refused_naming_its_date() -> None:
    prices = PriceList(date(2026, 1, 1), {7: (Base(D("1.00")),)})
    assert prices.rate(7, {}) == D("1.00")
    with pytest.raises(InvalidInput, match="price list 2026-01-01 has no price for product type 8"):
        prices.rate(8, {})


def test_a_price_book_needs_at_least_one_price_list() -> None:
    with pytest.raises(InvalidInput, match="at least one price list"):
        PriceBook((), Catalog(()))
