"""Decoding one parameter's wire values (domain/parameters.py) on hand-made specs: numbers
spelled as strings, values that are neither text nor number, numbers too large for any range."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pointflex.domain.parameters import (
    AllowedValue,
    ParameterSpec,
    ParamKind,
    decode_numeric,
    decode_or_default,
    show,
    whole_number,
)
from pointflex.errors import InvalidParameter

CPU = ParameterSpec(
    id=1,
    name="cpu",
    label="Number of CPUs",
    tf_name="cpu_size",
    kind=ParamKind.SINGLEVALUE,
    values=(AllowedValue("1", "1 CPU"), AllowedValue("2", "2 CPUs"), AllowedValue("4", "4 CPUs")),
)
ADDONS = ParameterSpec(
    id=9,
    name="addons",
    label="Add-ons",
    tf_name="addons",
    kind=ParamKind.MULTIVALUE,
    values=(AllowedValue("FGTAVDB", "AV database"), AllowedValue("FGTELAV", "Extended AV")),
)
USERS = ParameterSpec(
    id=5,
    name="users",
    label="Users",
    tf_name="users",
    kind=ParamKind.NUMERIC,
    min_value=0,
    max_value=10**6,
)


@pytest.mark.parametrize("sent", ["02", " 2 ", "2.0", 2, 2.0])
def test_a_numbered_single_value_is_found_however_the_number_is_spelled(sent: object) -> None:
    assert decode_or_default(CPU, [sent]) == "2"


def test_a_number_that_is_no_allowed_single_value_is_refused_with_the_allowed_ones() -> None:
    with pytest.raises(InvalidParameter, match="value 03 is not one of 1, 2, 4"):
        decode_or_default(CPU, ["03"])


@pytest.mark.parametrize("sent", [None, True, ["FGTAVDB"], {"value": "FGTAVDB"}, 1.5])
def test_a_value_that_is_neither_text_nor_a_whole_number_is_not_a_valid_value(
    sent: object,
) -> None:
    with pytest.raises(InvalidParameter, match=r"Parameter id 9 value .* is not a valid value"):
        decode_or_default(ADDONS, [sent])


def test_a_single_value_that_is_neither_text_nor_a_number_is_refused_too() -> None:
    with pytest.raises(InvalidParameter, match="Parameter id 1 value None is not a valid value"):
        decode_or_default(CPU, [None])


@pytest.mark.parametrize("sent", ["1e16", "1E+20", 10.0**20, Decimal("1e999999")])
def test_a_number_with_more_than_fifteen_digits_is_no_whole_number(sent: object) -> None:
    assert whole_number(sent) is None


def test_fifteen_digits_are_still_a_whole_number_and_zero_has_none() -> None:
    assert whole_number("1e15") == 10**15
    assert whole_number("0e999999") == 0
    assert whole_number(Decimal("-0")) == 0


def test_a_huge_numeric_value_is_refused_as_not_a_whole_number_not_out_of_range() -> None:
    with pytest.raises(InvalidParameter, match="value 1e999999 is not a whole number"):
        decode_numeric(USERS, "1e999999")


def test_a_numeric_parameter_without_bounds_is_a_catalogue_bug_not_a_refusal() -> None:
    unbounded = ParameterSpec(
        id=6, name="n", label="N", tf_name="n", kind=ParamKind.NUMERIC, min_value=0
    )
    with pytest.raises(RuntimeError, match="numeric parameter 6 has no bounds"):
        decode_numeric(unbounded, 3)


def test_a_long_value_is_cut_short_in_a_message() -> None:
    assert show("x" * 40) == "x" * 40
    assert show("x" * 41) == "x" * 37 + "..."
    assert len(show(list(range(100)))) == 40
