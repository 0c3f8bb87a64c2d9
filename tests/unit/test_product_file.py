"""The product catalogue file as pydantic models (pointflex.catalog.products): the shipped file
loads to the domain's dataclasses, and a bad file is refused with InvalidInput naming the file
and the place in it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from pointflex.catalog import default_catalog, load_catalog, parse_catalog
from pointflex.domain.catalog import Catalog, FormFactor, MaxBy, ParamKind
from pointflex.errors import InvalidInput

FILES = resources.files("pointflex.catalog")
Data = dict[str, Any]


SMALL_TEXT = """
products:
  - id: 1
    code: FGT_VM_Bundle
    name: FortiGate-VM Service Bundle
    form_factor: VM
    serial_prefix: FGVMMLTM
    parameters:
      - {id: 1, name: CPU, label: CPUs, tf_name: cpu_size, kind: NUMERIC, min: 1, max: 8,
         step: 1, required: true}
      - {id: 2, name: SERVICEPACK, label: Package, tf_name: service_pkg, kind: SINGLEVALUE,
         required: true, values: [{value: FC, description: F}, {value: ENT, description: E}]}
      - {id: 10, name: VDOM, label: VDOMs, tf_name: vdom_num, kind: NUMERIC, min: 0, max: 50,
         step: 1, default: "0", max_by: {param: 1, limits: [[1, 10], [4, 50]]}}
  - id: 101
    code: FGT_HW
    name: FortiGate-Hardware
    form_factor: HARDWARE
    parameters:
      - {id: 27, name: MODEL, label: Model, tf_name: device_model, kind: SINGLEVALUE,
         required: true, values: [{value: FGT40F, description: 40F}]}
"""
SMALL: Data = yaml.safe_load(SMALL_TEXT)


def catalogue_error(change: Callable[[Data], object]) -> str:
    """The message for SMALL with ``change`` applied to a copy of it."""
    data = copy.deepcopy(SMALL)
    change(data)
    with pytest.raises(InvalidInput) as caught:
        parse_catalog(data, "catalogue test.yaml")
    return caught.value.message


def param(data: Data, product: int, index: int) -> Data:
    found: Data = data["products"][product]["parameters"][index]
    return found


# ---------------------------------------------------------------- the shipped files


def test_the_shipped_catalogue_loads_every_product_and_parameter() -> None:
    catalog = default_catalog()
    products = catalog.products()
    assert len(products) == 24
    assert sum(len(p.parameters) for p in products) == 83
    fgt = catalog.product(1)
    assert (fgt.code, fgt.form_factor, fgt.serial_prefix) == (
        "FGT_VM_Bundle",
        FormFactor.VM,
        "FGVMMLTM",
    )
    assert [s.id for s in fgt.parameters] == [1, 2, 10, 43, 44, 45]
    assert fgt.parameter(10).max_by == MaxBy(1, ((1, 10), (2, 25), (4, 50), (8, 500)))
    assert fgt.parameter(43).kind is ParamKind.MULTIVALUE
    assert fgt.parameter(43).default == ()
    assert catalog.product(2).parameter(3).id == 30  # the legacy alias id
    assert catalog.product(101).serial_prefix is None
    assert catalog.product(212).parameter(92).keep_days == (("BPS", 90),)
    assert ("FCTFC247", "FNCFC247") in catalog.product(12).parameter(79).value_aliases


def test_the_shipped_catalogue_loads_the_same_from_its_path() -> None:
    assert load_catalog(FILES.joinpath("products.yaml")) == default_catalog()


def test_a_small_catalogue_converts_to_the_domain_dataclasses() -> None:
    catalog = parse_catalog(copy.deepcopy(SMALL))
    assert isinstance(catalog, Catalog)
    assert catalog.parse_parameters(1, [{"id": 1, "value": 2}, {"id": 2, "value": "ent"}]) == {
        1: "2",
        2: "ENT",
        10: "0",
    }


# ---------------------------------------------------------------- catalogue: located errors


def test_an_unknown_key_is_refused_with_its_place() -> None:
    message = catalogue_error(lambda d: param(d, 0, 0).update(mn=1))
    assert message == "catalogue test.yaml: products[0].parameters[0].mn: unknown key"


def test_a_duplicate_product_id_is_refused_with_its_place() -> None:
    message = catalogue_error(lambda d: d["products"][1].update(id=1))
    assert message == "catalogue test.yaml: products[1].id: product id 1 appears more than once"


def test_a_parameter_id_used_by_two_products_is_refused_with_its_place() -> None:
    message = catalogue_error(lambda d: param(d, 1, 0).update(id=10))
    assert message.endswith(
        ": products[1].parameters[0].id: parameter id 10 appears more than once"
    )


def test_a_legacy_alias_that_is_another_parameters_id_is_refused_with_its_place() -> None:
    message = catalogue_error(lambda d: param(d, 0, 2).update(aliases=[2]))
    assert "products[0].parameters[2].aliases[0]: parameter id 2 appears more than once" in message


def test_a_rule_referring_to_a_parameter_the_product_lacks_is_refused_with_its_place() -> None:
    message = catalogue_error(lambda d: param(d, 0, 2)["max_by"].update(param=27))
    assert message.endswith(
        ": products[0].parameters[2].max_by.param: "
        "a rule must refer to a NUMERIC parameter of this product"
    )


def test_a_rule_naming_a_value_the_other_parameter_lacks_is_refused_with_its_place() -> None:
    rule = {"min_by": {"param": 2, "mins": {"FC": 1, "GOLD": 2}}}
    message = catalogue_error(lambda d: param(d, 0, 2).update(rule))
    assert "products[0].parameters[2].min_by.mins[GOLD]: a rule names a value" in message


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("id", "one", "must be a whole number"),
        ("min", 1.5, "must be a whole number"),
        ("required", "yes", "must be true or false"),
        ("kind", "NUMBER", "must be one of 'NUMERIC', 'SINGLEVALUE', 'MULTIVALUE' or 'READONLY'"),
        ("name", "", "must be a non-empty string"),
        ("choices", "1, 2", "expected a list"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_with_its_place(
    field: str, value: object, problem: str
) -> None:
    message = catalogue_error(lambda d: param(d, 0, 0).update({field: value}))
    assert message == f"catalogue test.yaml: products[0].parameters[0].{field}: {problem}"


def test_a_missing_field_is_refused_with_its_place() -> None:
    message = catalogue_error(lambda d: param(d, 0, 1).pop("label"))
    assert (
        message == "catalogue test.yaml: products[0].parameters[1].label: required key is missing"
    )


def test_a_numeric_default_out_of_range_is_refused_with_its_place() -> None:
    message = catalogue_error(lambda d: param(d, 0, 2).update(default="99"))
    assert message.endswith(
        ": products[0].parameters[2].default: Parameter id 10 value 99 is out of range 0-50"
    )


def test_values_differing_only_in_case_are_refused_with_their_place() -> None:
    values = [{"value": "FC", "description": "a"}, {"value": "fc", "description": "b"}]
    message = catalogue_error(lambda d: param(d, 0, 1).update(values=values))
    assert "products[0].parameters[1].values[1].value: value fc appears more than once" in message


def test_a_value_alias_to_a_value_not_allowed_is_refused_with_its_place() -> None:
    message = catalogue_error(lambda d: param(d, 0, 1).update(value_aliases={"UTM": "GOLD"}))
    assert "products[0].parameters[1].value_aliases[UTM]: value_aliases must map" in message


@pytest.mark.parametrize(
    ("product", "prefix", "problem"),
    [
        (0, "fgvm", "serial_prefix must be 6-8 upper-case letters or digits"),
        (0, None, "serial_prefix must be 6-8 upper-case letters or digits"),
        (1, "FGHWMLTM", "hardware serials are supplied by users; no serial_prefix"),
    ],
)
def test_a_serial_prefix_that_does_not_fit_the_form_factor_is_refused_with_its_place(
    product: int, prefix: str | None, problem: str
) -> None:
    message = catalogue_error(lambda d: d["products"][product].update(serial_prefix=prefix))
    assert message == f"catalogue test.yaml: products[{product}].serial_prefix: {problem}"


def test_every_problem_of_a_file_is_named_at_once() -> None:
    def two_problems(data: Data) -> None:
        param(data, 0, 0).update(id="one")
        data["products"][1].pop("code")

    message = catalogue_error(two_problems)
    assert "products[0].parameters[0].id: must be a whole number" in message
    assert "; products[1].code: required key is missing" in message


@pytest.mark.parametrize(
    ("text", "problem"), [("products: [", "not valid YAML"), ("", "expected a mapping")]
)
def test_a_file_that_is_not_a_catalogue_is_refused_naming_the_file(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "products.yaml"
    path.write_text(text)
    with pytest.raises(InvalidInput, match=f"^catalogue products.yaml: {problem}"):
        load_catalog(path)
