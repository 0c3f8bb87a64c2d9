"""Pricing: dated price lists, rates, tools/calc and operator imports (R20, R21, P9)."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from pointflex.catalog import (
    default_catalog,
    default_price_book,
    load_price_list,
    parse_price_list,
)
from pointflex.domain.catalog import ParameterSpec, ParamKind, ParamValues, ProductType
from pointflex.domain.pricing import PriceBook, PriceList, round_rate
from pointflex.errors import InvalidInput

CATALOG = default_catalog()
BOOK = default_price_book()
FIRST = date(2026, 1, 1)
SECOND = date(2027, 1, 1)
TODAY = date(2026, 11, 27)
PRICES = resources.files("pointflex").joinpath("catalog", "prices")


def fgt(cpu: int, pkg: str = "ENT", **extra: object) -> ParamValues:
    raw: list[dict[str, object]] = [{"id": 1, "value": cpu}, {"id": 2, "value": pkg}]
    raw += [{"id": int(k[1:]), "value": v} for k, v in extra.items()]
    return CATALOG.parse_parameters(1, raw)


def shipped_data() -> dict[str, Any]:
    """The first shipped list as plain data, for tests that build variants of it."""
    data: dict[str, Any] = yaml.safe_load(PRICES.joinpath("2026-01-01.yaml").read_text())
    return copy.deepcopy(data)


def variant(
    product_type_id: int, components: list[Any], effective: str = "2026-01-01"
) -> PriceList:
    data = shipped_data()
    data["effective"] = effective
    data["products"][product_type_id] = components
    return parse_price_list(data, CATALOG)


def minimal_values(product: ProductType) -> ParamValues:
    """The smallest valid configuration: every required parameter at its first value."""

    def first(spec: ParameterSpec) -> object:
        if spec.kind is ParamKind.NUMERIC:
            return spec.choices[0] if spec.choices else spec.min_value
        return spec.allowed[0]

    raw = [{"id": s.id, "value": first(s)} for s in product.parameters if s.required]
    return CATALOG.parse_parameters(product.id, raw)


# ---------------------------------------------------------------- the public figures


def test_fortigate_vm_ent_two_vcpu_costs_6_39() -> None:
    assert BOOK.rate(1, fgt(2), TODAY) == Decimal("6.39")


def test_fortigate_vm_ent_four_vcpu_costs_12_91() -> None:
    assert BOOK.rate(1, fgt(4), TODAY) == Decimal("12.91")


def test_rates_are_decimals_with_two_places() -> None:
    rate = BOOK.rate(1, fgt(3, p43="FGTAVDB"), TODAY)
    assert isinstance(rate, Decimal)
    assert rate.as_tuple().exponent == -2


def test_the_shipped_lists_say_they_are_illustrative() -> None:
    for name in ("2026-01-01.yaml", "2027-01-01.yaml"):
        assert "ILLUSTRATIVE" in PRICES.joinpath(name).read_text()


@pytest.mark.parametrize("day", [FIRST, SECOND])
@pytest.mark.parametrize("product", CATALOG.products(), ids=lambda p: str(p.id))
def test_every_product_type_is_priced_in_every_shipped_list(
    product: ProductType, day: date
) -> None:
    rate = BOOK.rate(product.id, minimal_values(product), day)
    assert rate >= 0
    assert rate.as_tuple().exponent == -2


# ---------------------------------------------------------------- components


def test_table_interpolates_between_points() -> None:
    # ENT: 2 vCPU 6.39, 4 vCPU 12.91, so 3 vCPU is half way.
    assert BOOK.rate(1, fgt(3), TODAY) == Decimal("9.65")


def test_table_continues_with_the_last_slope_beyond_the_last_point() -> None:
    prices = variant(
        1,
        [
            {
                "table": {
                    "param": 1,
                    "by": 2,
                    "points": {p: [[1, 1], [2, 3]] for p in ["FC", "UTP", "ENT", "ATP"]},
                }
            }
        ],
    )
    book = PriceBook.from_lists([prices], CATALOG)
    assert book.rate(1, fgt(5), TODAY) == Decimal("9.00")


def test_table_without_a_key_parameter_prices_one_curve() -> None:
    # FortiWeb Cloud private: 10 Mbps 2.50, 100 Mbps 9.00, plus 0.15 per application. 55 Mbps
    # is not an allowed step, but the curve itself is continuous: half way is 5.75.
    assert BOOK.rate(202, {32: "55", 33: "1"}, TODAY) == Decimal("5.90")
    assert BOOK.rate(202, {32: "100", 33: "2"}, TODAY) == Decimal("9.30")


def test_per_unit_price_can_depend_on_another_parameter() -> None:
    fwb = CATALOG.parse_parameters(3, [{"id": 4, "value": "4"}, {"id": 5, "value": "FWBADV"}])
    assert BOOK.rate(3, fwb, TODAY) == Decimal("7.60")  # 4 vCPU x 1.90


def test_per_item_adds_each_chosen_value_and_can_scale_by_a_number() -> None:
    # FortiGuard services are priced per vCPU: (0.20 + 0.25) x 2 on top of 6.39.
    values = fgt(2) | {43: ("FGTAVDB", "FGTFAIS")}
    assert BOOK.rate(1, values, TODAY) == Decimal("7.29")


def test_choice_adds_the_price_of_the_chosen_value() -> None:
    assert BOOK.rate(1, fgt(2, p45="FGTFCELU"), TODAY) == Decimal("6.74")


def test_choice_with_a_default_prices_unlisted_values() -> None:
    small: ParamValues = {27: "FGT40F", 28: "FGHWFC247", 29: ()}
    big: ParamValues = {27: "FG3K0F", 28: "FGHWFC247", 29: ()}
    assert BOOK.rate(101, small, TODAY) == Decimal("0.80")
    assert BOOK.rate(101, big, TODAY) == Decimal("10.80")


def test_an_unset_optional_parameter_costs_nothing() -> None:
    appsec = CATALOG.parse_parameters(211, [{"id": 82, "value": "UCGSLB"}])
    assert BOOK.rate(211, appsec, TODAY) == Decimal("1.50")


# ---------------------------------------------------------------- rounding (P9)


@pytest.mark.parametrize(
    ("raw", "rounded"),
    [
        ("0.001", "0.01"),
        ("0.004999", "0.01"),
        ("0.005", "0.01"),
        ("0.015", "0.02"),
        ("1.005", "1.01"),
        ("1.0049", "1.00"),
        ("0", "0.00"),
    ],
)
def test_rates_round_half_up_and_never_below_one_cent(raw: str, rounded: str) -> None:
    assert round_rate(Decimal(raw)) == Decimal(rounded)


def test_a_tiny_positive_rate_is_charged_one_cent() -> None:
    prices = variant(8, [{"per_unit": {"param": 24, "price": "0.0001"}}])
    book = PriceBook.from_lists([prices], CATALOG)
    assert book.rate(8, {24: "3"}, TODAY) == Decimal("0.01")


def test_a_configuration_with_nothing_in_it_costs_nothing() -> None:
    ems_cloud: ParamValues = {37: "0", 38: "0", 39: "0", 40: "0", 41: "0", 42: ()}
    assert BOOK.rate(204, ems_cloud, TODAY) == Decimal("0.00")


# ---------------------------------------------------------------- versions (R21)


def test_price_version_switches_on_its_effective_date() -> None:
    assert BOOK.rate(1, fgt(2), date(2026, 12, 31)) == Decimal("6.39")
    assert BOOK.rate(1, fgt(2), SECOND) == Decimal("6.59")


def test_days_before_the_first_list_use_the_first_list() -> None:
    assert BOOK.version_on(date(2020, 5, 1)).effective == FIRST


def test_version_on_and_next_after_follow_the_dates() -> None:
    assert BOOK.version_on(TODAY).effective == FIRST
    assert BOOK.version_on(date(2030, 1, 1)).effective == SECOND
    upcoming = BOOK.next_after(TODAY)
    assert upcoming is not None
    assert upcoming.effective == SECOND
    assert BOOK.next_after(SECOND) is None


def test_calc_returns_current_and_the_next_scheduled_price_for_count_units() -> None:
    current, latest, effective = BOOK.calc(1, fgt(2), 3, TODAY)
    assert (current, latest, effective) == (Decimal("19.17"), Decimal("19.77"), SECOND)


def test_calc_has_no_latest_price_when_none_is_scheduled() -> None:
    assert BOOK.calc(1, fgt(4), 1, SECOND) == (Decimal("13.31"), None, None)


@pytest.mark.parametrize("count", [0, -1])
def test_calc_count_must_be_at_least_one(count: int) -> None:
    with pytest.raises(InvalidInput, match="at least 1"):
        BOOK.calc(1, fgt(2), count, TODAY)


def test_calc_count_must_be_a_whole_number() -> None:
    with pytest.raises(InvalidInput):
        BOOK.calc(1, fgt(2), True, TODAY)


def test_cloud_count_must_be_1() -> None:
    sase = minimal_values(CATALOG.product(205))
    with pytest.raises(InvalidInput, match="count must be 1"):
        BOOK.calc(205, sase, 2, TODAY)
    current, _, _ = BOOK.calc(205, sase, 1, TODAY)
    assert current == BOOK.rate(205, sase, TODAY)


def test_rate_of_an_unknown_product_type_is_refused() -> None:
    with pytest.raises(InvalidInput, match="product type 6 "):
        BOOK.rate(6, {}, TODAY)


def test_a_price_book_refuses_two_lists_of_the_same_date() -> None:
    first = BOOK.version_on(FIRST)
    with pytest.raises(InvalidInput, match="same effective date"):
        PriceBook.from_lists([first, first], CATALOG)


def test_adding_a_list_replaces_the_one_of_the_same_date() -> None:
    cheaper = variant(2, [{"base": 0.10}], effective="2027-01-01")
    book = BOOK.with_list(cheaper)
    assert len(book.lists) == 2
    assert book.rate(2, {30: "1", 9: "0"}, SECOND) == Decimal("0.10")


# ---------------------------------------------------------------- operator imports


def test_an_operator_price_list_can_be_imported_from_yaml(tmp_path: Path) -> None:
    data = shipped_data()
    data["effective"] = "2028-03-01"
    data["products"][1][0]["table"]["points"]["ENT"] = [[1, 4], [2, 8]]
    path = tmp_path / "prices.yaml"
    path.write_text(yaml.safe_dump(data))
    imported = load_price_list(path)
    assert imported.effective == date(2028, 3, 1)
    book = BOOK.with_list(imported)
    assert book.rate(1, fgt(2), date(2028, 3, 1)) == Decimal("8.00")


def test_an_operator_price_list_can_be_imported_from_json(tmp_path: Path) -> None:
    data = shipped_data()
    data["effective"] = "2028-03-01"
    data["products"][8] = [{"per_unit": {"param": 24, "price": 0.333}}]
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(data, default=str))
    assert load_price_list(path).rate(8, {24: "3"}) == Decimal("1.00")


def import_error(tmp_path: Path, data: dict[str, Any]) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InvalidInput) as caught:
        load_price_list(path)
    return caught.value.message


def test_import_refuses_an_unknown_product_type(tmp_path: Path) -> None:
    data = shipped_data()
    data["products"][999] = [{"base": 1}]
    assert "product type 999" in import_error(tmp_path, data)


def test_import_refuses_an_unknown_parameter(tmp_path: Path) -> None:
    data = shipped_data()
    data["products"][2] = [{"per_unit": {"param": 99, "price": 1}}]
    assert "parameter 99" in import_error(tmp_path, data)


def test_import_refuses_a_negative_price(tmp_path: Path) -> None:
    data = shipped_data()
    data["products"][8] = [{"per_unit": {"param": 24, "price": -0.5}}]
    message = import_error(tmp_path, data)
    # The place names product type 8 (its key in products), the component and the field.
    assert "negative" in message
    assert "products[8][0].per_unit.price" in message


def test_import_refuses_a_list_that_leaves_a_product_unpriced(tmp_path: Path) -> None:
    data = shipped_data()
    del data["products"][212]
    assert "212" in import_error(tmp_path, data)


def test_import_refuses_a_price_for_a_value_the_parameter_does_not_allow(
    tmp_path: Path,
) -> None:
    data = shipped_data()
    data["products"][103] = [{"choice": {"param": 54, "prices": {"FSWHWFC247": 1, "GOLD": 2}}}]
    assert "GOLD" in import_error(tmp_path, data)


def test_import_refuses_a_choice_that_leaves_a_value_unpriced(tmp_path: Path) -> None:
    data = shipped_data()
    data["products"][103] = [{"choice": {"param": 54, "prices": {"FSWHWFC247": 1}}}]
    assert "FSWHWFCEL" in import_error(tmp_path, data)


def test_import_refuses_a_table_whose_price_falls_as_size_grows(tmp_path: Path) -> None:
    data = shipped_data()
    data["products"][202] = [{"table": {"param": 32, "points": [[10, 5], [100, 4]]}}]
    assert "never fall" in import_error(tmp_path, data)


def test_import_refuses_an_unknown_component_kind(tmp_path: Path) -> None:
    data = shipped_data()
    data["products"][207] = [{"flat": 1}]
    assert "one of base, choice" in import_error(tmp_path, data)


def test_import_refuses_a_missing_effective_date(tmp_path: Path) -> None:
    data = shipped_data()
    del data["effective"]
    assert "effective" in import_error(tmp_path, data)


# ---------------------------------------------------------------- property


@st.composite
def fortigate_vm_wire(draw: st.DrawFn) -> list[dict[str, object]]:
    """Any valid FortiGate-VM bundle configuration, in any of the wire spellings."""
    cpu = draw(st.integers(1, 96))
    cap = 10 if cpu == 1 else 25 if cpu < 4 else 50 if cpu < 8 else 500
    spec = CATALOG.product(1)

    def spelled(number: int) -> object:
        return draw(st.sampled_from([number, str(number), float(number), f"0{number}"]))

    raw: list[dict[str, object]] = [
        {"id": spelled(1), "value": spelled(cpu)},
        {"id": 2, "value": draw(st.sampled_from(spec.parameter(2).allowed))},
    ]
    if draw(st.booleans()):
        raw.append({"id": 10, "value": spelled(draw(st.integers(0, cap)))})
    for list_id in (43, 44):
        chosen = draw(st.lists(st.sampled_from(spec.parameter(list_id).allowed)))
        raw += [{"id": list_id, "value": v} for v in chosen] or [{"id": list_id, "value": "NONE"}]
    if draw(st.booleans()):
        raw.append({"id": 45, "value": draw(st.sampled_from(spec.parameter(45).allowed))})
    return draw(st.permutations(raw))


@given(raw=fortigate_vm_wire(), day=st.dates(date(2025, 1, 1), date(2030, 12, 31)))
def test_any_valid_fortigate_vm_configuration_round_trips_and_has_a_positive_price(
    raw: list[dict[str, object]], day: date
) -> None:
    values = CATALOG.parse_parameters(1, raw)
    wire = CATALOG.to_wire(1, values)
    assert all(isinstance(entry["value"], str) for entry in wire)
    assert CATALOG.parse_parameters(1, wire) == values
    rate = BOOK.rate(1, values, day)
    assert rate > 0
    assert rate.as_tuple().exponent == -2
