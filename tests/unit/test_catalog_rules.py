"""The configuration rules of domain/catalog.py on a small hand-built catalogue: a cap or a
minimum set by a parameter left unset, an entry without an id, a value chosen all along."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pointflex.domain.catalog import (
    AllowedValue,
    Catalog,
    FormFactor,
    MaxBy,
    MinBy,
    ParameterSpec,
    ParamKind,
    ProductType,
)
from pointflex.errors import InvalidParameter

T0 = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
PRODUCT = 900

CPU = ParameterSpec(  # optional, no default: may be absent from a configuration
    id=1,
    name="CPU_SIZE",
    label="Number of CPUs",
    tf_name="cpu_size",
    kind=ParamKind.NUMERIC,
    min_value=1,
    max_value=96,
)
VDOMS = ParameterSpec(
    id=10,
    name="VDOM_NUM",
    label="Number of VDOMs",
    tf_name="vdom_num",
    kind=ParamKind.NUMERIC,
    min_value=0,
    max_value=500,
    default="0",
    max_by=MaxBy(1, ((1, 10), (4, 50))),
)
PLAN = ParameterSpec(  # optional, no default
    id=61,
    name="PLAN",
    label="Plan",
    tf_name="plan",
    kind=ParamKind.SINGLEVALUE,
    values=(AllowedValue("BASIC", "Basic"), AllowedValue("ACI", "Adversary intelligence")),
)
ANALYSTS = ParameterSpec(
    id=64,
    name="ANALYSTS",
    label="Analysts",
    tf_name="analysts",
    kind=ParamKind.NUMERIC,
    min_value=0,
    max_value=10,
    default="0",
    min_by=MinBy(61, (("ACI", 1),)),
)
ADDONS = ParameterSpec(
    id=92,
    name="ADDONS",
    label="Add-ons",
    tf_name="addons",
    kind=ParamKind.MULTIVALUE,
    values=(AllowedValue("BPS", "Best Practice Service"), AllowedValue("XDR", "XDR")),
    keep_days=(("BPS", 90),),
)
CATALOG = Catalog(
    (
        ProductType(
            id=PRODUCT,
            code="TEST",
            name="Test product",
            form_factor=FormFactor.VM,
            serial_prefix=None,
            parameters=(CPU, VDOMS, PLAN, ANALYSTS, ADDONS),
        ),
    )
)


def test_without_the_governing_parameter_no_cap_applies() -> None:
    values = CATALOG.parse_parameters(PRODUCT, [{"id": 10, "value": 300}])
    assert values == {10: "300", 64: "0"}  # unset and no default: absent


def test_with_the_governing_parameter_set_its_cap_applies() -> None:
    with pytest.raises(InvalidParameter, match="exceeds the maximum of 50 when parameter id 1"):
        CATALOG.parse_parameters(PRODUCT, [{"id": 1, "value": 4}, {"id": 10, "value": 300}])


def test_without_the_governing_parameter_no_minimum_applies() -> None:
    values = CATALOG.parse_parameters(PRODUCT, [{"id": 64, "value": 0}])
    assert values[64] == "0"
    assert 61 not in values


def test_with_the_governing_value_chosen_its_minimum_applies() -> None:
    raw = [{"id": 61, "value": "aci"}, {"id": 64, "value": 0}]
    with pytest.raises(InvalidParameter, match="below the minimum of 1 when parameter id 61"):
        CATALOG.parse_parameters(PRODUCT, raw)
    # A value the rule does not name sets no minimum.
    assert CATALOG.parse_parameters(PRODUCT, [{"id": 61, "value": "BASIC"}])[61] == "BASIC"


@pytest.mark.parametrize("entry", [{"value": 4}, {"id": None, "value": 4}])
def test_an_entry_without_an_id_is_refused_by_its_position(entry: dict[str, object]) -> None:
    with pytest.raises(InvalidParameter, match="Parameter entry 2 has no id"):
        CATALOG.parse_parameters(PRODUCT, [{"id": 10, "value": 1}, entry])


def test_a_value_chosen_in_every_version_is_chosen_since_the_oldest() -> None:
    day = timedelta(days=1)
    with_bps = {92: ("BPS",)}
    history = [(T0 + 2 * day, {92: ("BPS", "XDR")}), (T0 + day, with_bps), (T0, with_bps)]
    assert CATALOG.chosen_since(PRODUCT, history) == {(92, "BPS"): T0}
    assert CATALOG.chosen_since(PRODUCT, []) == {}
