"""Price list files as pydantic models (pointflex.catalog.prices): the shipped lists load to
the domain's dataclasses, and a bad list is refused with InvalidInput naming the file and the
place in it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from pointflex.catalog import (
    default_catalog,
    default_price_book,
    default_price_lists,
    load_price_list,
    parse_price_list,
)
from pointflex.domain.pricing import ANY, Base, Choice, PerItem, PerUnit, Table
from pointflex.errors import InvalidInput

FILES = resources.files("pointflex.catalog")
Data = dict[str, Any]


def shipped_prices() -> Data:
    data: Data = yaml.safe_load(FILES.joinpath("prices", "2026-01-01.yaml").read_text())
    return data


def price_error(change: Callable[[Data], object]) -> str:
    """The message for the first shipped price list with ``change`` applied."""
    data = shipped_prices()
    change(data)
    with pytest.raises(InvalidInput) as caught:
        parse_price_list(data, default_catalog(), source="bad.yaml")
    return caught.value.message


def priced(product_type_id: int, *components: object) -> Callable[[Data], object]:
    return lambda data: data["products"].update({product_type_id: list(components)})


# ---------------------------------------------------------------- the shipped lists


def test_the_shipped_price_lists_load_with_their_dates_and_every_product() -> None:
    lists = default_price_lists()
    assert [p.effective for p in lists] == [date(2026, 1, 1), date(2027, 1, 1)]
    assert [p.source for p in lists] == ["2026-01-01.yaml", "2027-01-01.yaml"]
    every_id = {p.id for p in default_catalog().products()}
    assert all(set(p.products) == every_id for p in lists)
    table, vdoms, services, cloud, support = lists[0].products[1]
    assert isinstance(table, Table)
    assert (table.param_id, table.by) == (1, 2)
    assert table.points["ENT"][:3] == (
        (1, Decimal("3.25")),
        (2, Decimal("6.39")),
        (4, Decimal("12.91")),
    )
    assert vdoms == PerUnit(10, None, {ANY: Decimal("0.03")})
    assert isinstance(services, PerItem)
    assert services.times == 1
    assert isinstance(cloud, PerItem)
    assert cloud.times is None
    assert support == Choice(45, {"NONE": Decimal("0"), "FGTFCELU": Decimal("0.35")})
    assert lists[0].products[2][0] == Base(Decimal("0.50"))
    assert default_price_book().lists == lists


def test_a_price_list_read_back_as_json_loads_the_same() -> None:
    # Imported lists are stored as JSON: product type ids come back as strings.
    stored = json.loads(json.dumps(shipped_prices(), default=str), parse_float=Decimal)
    assert parse_price_list(stored, default_catalog()).products == default_price_lists()[0].products


# ---------------------------------------------------------------- price lists: located errors


def test_a_price_not_covering_a_value_is_refused_with_its_place() -> None:
    message = price_error(priced(103, {"choice": {"param": 54, "prices": {"FSWHWFC247": 1}}}))
    assert message == (
        "bad.yaml: products[103][0].choice.prices: no price for parameter 54 value(s) FSWHWFCEL"
    )


def test_a_price_for_a_value_the_parameter_lacks_is_refused_with_its_place() -> None:
    prices = {"FSWHWFC247": 1, "FSWHWFCEL": 1, "GOLD": 2}
    message = price_error(priced(103, {"choice": {"param": 54, "prices": prices}}))
    assert (
        message == "bad.yaml: products[103][0].choice.prices[GOLD]: parameter 54 has no value GOLD"
    )


def test_an_unknown_key_in_a_component_is_refused_with_its_place() -> None:
    message = price_error(
        priced(8, {"base": 0.5}, {"per_unit": {"param": 24, "price": 1, "cost": 2}})
    )
    assert message == "bad.yaml: products[8][1].per_unit.cost: unknown key"


def test_an_unknown_top_level_key_is_refused_with_its_place() -> None:
    assert price_error(lambda d: d.update(currency="EUR")) == "bad.yaml: currency: unknown key"


@pytest.mark.parametrize(
    ("component", "problem"),
    [
        (
            {"per_unit": {"param": 30, "price": 1}},
            "per_unit.param: parameter 30 is not a parameter",
        ),
        (
            {"choice": {"param": 24, "prices": {}}},
            "choice.param: parameter 24 must be a SINGLEVALUE",
        ),
        ({"per_item": {"param": 24, "prices": {}}}, "per_item.param: parameter 24 must be a MULTI"),
    ],
)
def test_a_component_naming_the_wrong_parameter_is_refused_with_its_place(
    component: Data, problem: str
) -> None:
    assert price_error(priced(8, component)).startswith(f"bad.yaml: products[8][0].{problem}")


def test_a_legacy_alias_id_is_not_a_priced_parameter() -> None:
    message = price_error(priced(2, {"per_unit": {"param": 3, "price": 1}}))
    assert message == (
        "bad.yaml: products[2][0].per_unit.param: "
        "parameter 3 must be a NUMERIC or SINGLEVALUE parameter"
    )


@pytest.mark.parametrize(
    ("component", "problem"),
    [
        ({"base": "cheap"}, "base: price 'cheap' is not a number"),
        ({"base": True}, "base: price True is not a number"),
        ({"base": "NaN"}, "base: price NaN is not a number"),
        ({"base": -1}, "base: price -1 is negative"),
        ({"per_unit": {"param": "cpu", "price": 1}}, "per_unit.param: must be a whole number"),
        (
            {"table": {"param": 24, "points": [[1, 2, 3]]}},
            "table.points[0]: each point is a pair [x, price]",
        ),
        (
            {"table": {"param": 24, "points": [[1, 2], [1, 3]]}},
            "table.points[1]: points must rise in x and never fall in price",
        ),
        ({"table": {"param": 24, "points": []}}, "table.points: a table needs at least one point"),
    ],
)
def test_a_value_of_the_wrong_type_in_a_price_is_refused_with_its_place(
    component: Data, problem: str
) -> None:
    assert price_error(priced(8, component)) == f"bad.yaml: products[8][0].{problem}"


@pytest.mark.parametrize(
    ("product", "component", "problem"),
    [
        (1, {"choice": {"param": 45}}, "choice.prices: required key is missing"),
        (8, {"per_unit": {"param": 24}}, "per_unit.price: a per_unit without by needs a price"),
        (
            3,
            {"per_unit": {"param": 4, "by": 5}},
            "per_unit.prices: a per_unit with by needs prices",
        ),
        (8, {"base": None}, "base: base needs a value"),
    ],
)
def test_a_missing_field_in_a_price_is_refused_with_its_place(
    product: int, component: Data, problem: str
) -> None:
    message = price_error(priced(product, component))
    assert message.startswith(f"bad.yaml: products[{product}][0].{problem}")


def test_a_table_keyed_by_a_parameter_needs_points_per_value() -> None:
    message = price_error(priced(1, {"table": {"param": 1, "by": 2, "points": [[1, 1]]}}))
    assert message == (
        "bad.yaml: products[1][0].table.points: "
        "with by, points maps each value of by to [x, price] pairs"
    )


def test_a_product_key_that_is_not_an_id_is_refused_with_its_place() -> None:
    message = price_error(lambda d: d["products"].update({"FortiGate": [{"base": 1}]}))
    assert message == "bad.yaml: products[FortiGate]: key must be a whole number"


def test_a_product_type_the_catalogue_lacks_is_refused_with_its_place() -> None:
    message = price_error(priced(6, {"base": 1}))
    assert message == "bad.yaml: products[6]: product type 6 is not in the catalogue"


def test_an_effective_date_that_is_not_a_date_is_refused_with_its_place() -> None:
    message = price_error(lambda d: d.update(effective="next year"))
    assert message == "bad.yaml: effective: must be a date (YYYY-MM-DD)"


@pytest.mark.parametrize(("name", "text"), [("bad.json", "{"), ("bad.yaml", "products: [")])
def test_a_price_file_that_does_not_parse_is_refused_naming_the_file(
    tmp_path: Path, name: str, text: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    kind = "JSON" if name.endswith(".json") else "YAML"
    with pytest.raises(InvalidInput, match=f"^{name}: not valid {kind}"):
        load_price_list(path)
