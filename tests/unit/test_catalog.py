"""Product catalogue: loading, wire decoding/encoding, validation rules and tools/metadata."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pointflex.catalog import default_catalog, load_catalog
from pointflex.domain.catalog import Catalog, FormFactor, ParamKind, ParamValues
from pointflex.errors import InvalidInput, InvalidParameter

ALL_PRODUCT_IDS = [1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 101, 102, 103]
ALL_PRODUCT_IDS += [202, 203, 204, 205, 206, 207, 208, 209, 211, 212]
READ_ONLY_IDS = {47, 60, 85, 86, 87, 88}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return default_catalog()


def fgt(cpu: object = 2, pkg: object = "ENT", **extra: object) -> list[dict[str, object]]:
    """Wire parameters of a FortiGate-VM bundle configuration."""
    raw: list[dict[str, object]] = [{"id": 1, "value": cpu}, {"id": 2, "value": pkg}]
    raw += [{"id": int(k[1:]), "value": v} for k, v in extra.items()]
    return raw


def parse_error(catalog: Catalog, product_type_id: int, raw: list[dict[str, Any]]) -> str:
    with pytest.raises(InvalidParameter) as caught:
        catalog.parse_parameters(product_type_id, raw)
    return caught.value.message


# ---------------------------------------------------------------- products


def test_catalogue_holds_the_24_documented_product_types(catalog: Catalog) -> None:
    assert [p.id for p in catalog.products()] == ALL_PRODUCT_IDS


@pytest.mark.parametrize("product_type_id", ALL_PRODUCT_IDS)
def test_every_product_type_loads_with_its_parameters(
    catalog: Catalog, product_type_id: int
) -> None:
    product = catalog.product(product_type_id)
    assert product.parameters
    for spec in product.parameters:
        assert spec.name
        assert spec.label
        assert spec.tf_name
        if spec.kind in (ParamKind.SINGLEVALUE, ParamKind.MULTIVALUE):
            assert spec.values


def test_default_catalogue_is_loaded_once() -> None:
    assert default_catalog() is default_catalog()


@pytest.mark.parametrize(
    ("product_type_id", "substring"),
    [(1, "FortiGate-VM"), (4, "FortiGate-VM"), (101, "FortiGate-Hardware"), (10, "FortiSOAR-VM")],
)
def test_product_names_contain_what_the_community_client_matches(
    catalog: Catalog, product_type_id: int, substring: str
) -> None:
    assert substring in catalog.product(product_type_id).name


def test_unknown_product_type_is_refused_naming_the_id(catalog: Catalog) -> None:
    with pytest.raises(InvalidInput, match="product type 6 "):
        catalog.product(6)


def test_form_factors_have_the_wire_ids_of_q18() -> None:
    wire = {(f.wire_id, f.wire_name) for f in FormFactor}
    assert wire == {(1, "Virtual Machines"), (2, "Hardware"), (3, "Cloud Services")}


def test_form_factor_follows_the_product_id_ranges(catalog: Catalog) -> None:
    for product in catalog.products():
        expected = (
            FormFactor.VM
            if product.id < 100
            else FormFactor.HARDWARE
            if product.id < 200
            else FormFactor.CLOUD
        )
        assert product.form_factor is expected


def test_generated_serials_have_distinct_prefixes_and_hardware_has_none(
    catalog: Catalog,
) -> None:
    prefixes = [p.serial_prefix for p in catalog.products() if p.serial_prefix]
    assert len(prefixes) == len(set(prefixes)) == 21
    assert catalog.product(1).serial_prefix == "FGVMMLTM"
    for product in catalog.products():
        if product.form_factor is FormFactor.HARDWARE:
            assert product.serial_prefix is None


@pytest.mark.parametrize(
    ("product_type_id", "param_id", "count", "first_twelve"),
    [
        (101, 27, 149, "FGT40F FGT60F FGT70F FGT80F FG100F FGT60E FGT61F FG100E FG101F FG200E "
         "FG200F FG201F"),
        (102, 55, 27, "FP23JF FP221E FP223E FP231F FP231G FP233G FP234F FP234G FP431F FP431G "
         "FP432F F432FR"),
        (103, 53, 57, "S108EN S108EF S108EP S108FN S108FF S108FP S124EN S124EF S124EP S124FN "
         "S124FF S124FP"),
    ],
)  # fmt: skip
def test_hardware_model_lists_are_complete(
    catalog: Catalog, product_type_id: int, param_id: int, count: int, first_twelve: str
) -> None:
    models = catalog.product(product_type_id).parameter(param_id).allowed
    assert len(models) == count
    assert list(models[:12]) == first_twelve.split()


# ---------------------------------------------------------------- input leniency (§3.4)


@pytest.mark.parametrize("cpu", [4, "4", 4.0, "04", " 4 ", "4.0"])
def test_numeric_values_may_be_ints_floats_or_numeric_strings(
    catalog: Catalog, cpu: object
) -> None:
    assert catalog.parse_parameters(1, fgt(cpu=cpu))[1] == "4"


def test_parameter_ids_may_be_numeric_strings_or_floats(catalog: Catalog) -> None:
    values = catalog.parse_parameters(1, [{"id": "1", "value": "2"}, {"id": 2.0, "value": "FC"}])
    assert values[1] == "2"
    assert values[2] == "FC"


def test_single_values_match_case_insensitively_and_are_stored_canonically(
    catalog: Catalog,
) -> None:
    assert catalog.parse_parameters(1, fgt(pkg="ent"))[2] == "ENT"


def test_numeric_single_values_accept_numbers(catalog: Catalog) -> None:
    values = catalog.parse_parameters(3, [{"id": 4, "value": 8}, {"id": 5, "value": "FWBADV"}])
    assert values[4] == "8"


def test_optional_parameters_get_their_defaults(catalog: Catalog) -> None:
    values = catalog.parse_parameters(1, fgt())
    assert values == {1: "2", 2: "ENT", 10: "0", 43: (), 44: (), 45: "NONE"}


def test_list_parameters_arrive_as_repeated_ids_and_are_stored_sorted_and_distinct(
    catalog: Catalog,
) -> None:
    repeated = [{"id": 43, "value": v} for v in ("FGTFAIS", "FGTAVDB", "FGTFAIS")]
    raw = [*fgt(), *repeated]
    assert catalog.parse_parameters(1, raw)[43] == ("FGTAVDB", "FGTFAIS")


def test_a_single_none_entry_means_an_empty_list(catalog: Catalog) -> None:
    values = catalog.parse_parameters(1, fgt(p43="NONE", p44="none"))
    assert values[43] == ()
    assert values[44] == ()


def test_none_together_with_values_is_refused(catalog: Catalog) -> None:
    raw = [*fgt(p43="NONE"), {"id": 43, "value": "FGTAVDB"}]
    assert parse_error(catalog, 1, raw).startswith("Parameter id 43 ")


def test_read_only_parameter_ids_are_ignored_on_input(catalog: Catalog) -> None:
    edr = [{"id": 46, "value": "FEDRPDR"}, {"id": 47, "value": "999"}]
    assert 47 not in catalog.parse_parameters(206, edr)
    appsec = [{"id": pid, "value": "5"} for pid in (85, 86, 87, 88)]
    assert catalog.parse_parameters(211, appsec) == {82: (), 84: ()}
    assert catalog.parse_parameters(207, [{"id": 60, "value": 12}]) == {}


def test_read_only_ids_are_the_documented_ones(catalog: Catalog) -> None:
    found = {
        spec.id
        for product in catalog.products()
        for spec in product.parameters
        if spec.kind is ParamKind.READONLY
    }
    assert found == READ_ONLY_IDS


def test_fortimanager_legacy_parameter_3_is_read_as_30(catalog: Catalog) -> None:
    values = catalog.parse_parameters(2, [{"id": 3, "value": 12}, {"id": 9, "value": 1}])
    assert values == {30: "12", 9: "1"}


def test_fortinac_support_service_fctfc247_is_stored_as_fncfc247(catalog: Catalog) -> None:
    raw = [
        {"id": 77, "value": "FNCPRO"},
        {"id": 78, "value": 100},
        {"id": 79, "value": "FCTFC247"},
    ]
    assert catalog.parse_parameters(12, raw)[79] == "FNCFC247"


# ---------------------------------------------------------------- output (§5.2)


def test_wire_values_are_always_strings_in_catalogue_order(catalog: Catalog) -> None:
    values = catalog.parse_parameters(1, fgt(cpu=8, p10=100, p43="FGTAVDB"))
    wire = catalog.to_wire(1, values)
    assert [e["id"] for e in wire] == [1, 2, 10, 43, 44, 45]
    assert all(isinstance(e["value"], str) for e in wire)
    assert wire[0] == {"id": 1, "name": "CPU", "value": "8"}
    assert wire[1] == {"id": 2, "name": "SERVICEPACK", "value": "ENT"}


def test_empty_lists_are_emitted_as_one_none_entry_and_round_trip(catalog: Catalog) -> None:
    values = catalog.parse_parameters(1, fgt())
    wire = catalog.to_wire(1, values)
    assert {"id": 43, "name": "FORTIGUARD_SERVICES", "value": "NONE"} in wire
    assert catalog.parse_parameters(1, wire) == values


def test_list_values_are_emitted_as_repeated_ids_and_round_trip(catalog: Catalog) -> None:
    values: ParamValues = {1: "2", 2: "FC", 10: "0", 43: ("FGTAVDB", "FGTDLDB"), 44: ()}
    values[45] = "NONE"
    wire = catalog.to_wire(1, values)
    assert [e["value"] for e in wire if e["id"] == 43] == ["FGTAVDB", "FGTDLDB"]
    assert catalog.parse_parameters(1, wire) == values


def test_read_only_parameters_are_emitted_with_stored_or_default_value(
    catalog: Catalog,
) -> None:
    values = catalog.parse_parameters(206, [{"id": 46, "value": "FEDRPDR"}])
    assert {"id": 47, "name": "ENDPOINTS", "value": "0"} in catalog.to_wire(206, values)
    stored = {**values, 47: "120"}
    assert {"id": 47, "name": "ENDPOINTS", "value": "120"} in catalog.to_wire(206, stored)
    assert catalog.parse_parameters(206, catalog.to_wire(206, stored)) == values


def test_unset_optional_single_value_is_not_emitted(catalog: Catalog) -> None:
    values = catalog.parse_parameters(211, [{"id": 82, "value": "UCGSLB"}])
    assert 83 not in {e["id"] for e in catalog.to_wire(211, values)}


# ---------------------------------------------------------------- errors name the parameter


def test_out_of_range_value_is_refused_with_the_documented_wording(catalog: Catalog) -> None:
    assert parse_error(catalog, 1, fgt(cpu=200)) == "Parameter id 1 value 200 is out of range 1-96"


def test_unknown_parameter_id_is_refused_naming_it(catalog: Catalog) -> None:
    assert parse_error(catalog, 1, fgt(p99=1)).startswith("Parameter id 99 ")


def test_parameter_of_another_product_is_refused_naming_it(catalog: Catalog) -> None:
    assert parse_error(catalog, 1, fgt(p47=5)).startswith("Parameter id 47 ")


def test_missing_required_parameter_is_refused_naming_it(catalog: Catalog) -> None:
    message = parse_error(catalog, 1, [{"id": 1, "value": 2}])
    assert message.startswith("Parameter id 2 ")
    assert "required" in message


@pytest.mark.parametrize("cpu", ["two", 2.5, "2.5", True, None, [2], ""])
def test_value_that_is_not_a_whole_number_is_refused_naming_the_parameter(
    catalog: Catalog, cpu: object
) -> None:
    assert parse_error(catalog, 1, fgt(cpu=cpu)).startswith("Parameter id 1 ")


def test_retired_service_package_utm_is_refused(catalog: Catalog) -> None:
    message = parse_error(catalog, 1, fgt(pkg="UTM"))
    assert message == "Parameter id 2 value UTM is not one of FC, UTP, ENT, ATP"


def test_unknown_hardware_model_is_refused_without_listing_every_model(
    catalog: Catalog,
) -> None:
    raw = [{"id": 27, "value": "FGT999"}, {"id": 28, "value": "FGHWFC247"}]
    message = parse_error(catalog, 101, raw)
    assert message.startswith("Parameter id 27 value FGT999 ")
    assert "FGT40F" not in message


def test_a_single_value_parameter_given_twice_is_refused(catalog: Catalog) -> None:
    assert parse_error(catalog, 1, fgt(p1=4)).startswith("Parameter id 1 ")


def test_an_entry_that_is_not_an_object_is_refused(catalog: Catalog) -> None:
    with pytest.raises(InvalidParameter):
        catalog.parse_parameters(1, ["1=2"])


@pytest.mark.parametrize("raw", ["1=2", {"id": 1, "value": 2}])
def test_parameters_that_are_not_a_list_are_refused(catalog: Catalog, raw: Any) -> None:
    with pytest.raises(InvalidParameter, match="must be a list"):
        catalog.parse_parameters(1, raw)


def test_an_unparseable_id_is_refused(catalog: Catalog) -> None:
    assert parse_error(catalog, 1, [{"id": "cpu", "value": 2}]).startswith("Parameter id cpu ")


# ---------------------------------------------------------------- §8.1 value rules


@pytest.mark.parametrize(
    ("cpu", "cap"), [(1, 10), (2, 25), (3, 25), (4, 50), (7, 50), (8, 500), (96, 500)]
)
def test_vdoms_up_to_the_cap_for_the_vcpu_count_are_accepted(
    catalog: Catalog, cpu: int, cap: int
) -> None:
    assert catalog.parse_parameters(1, fgt(cpu=cpu, p10=cap))[10] == str(cap)


@pytest.mark.parametrize(("cpu", "cap"), [(1, 10), (2, 25), (3, 25), (4, 50), (7, 50)])
def test_vdom_above_cap_for_vcpu_is_refused_naming_parameter_10(
    catalog: Catalog, cpu: int, cap: int
) -> None:
    message = parse_error(catalog, 1, fgt(cpu=cpu, p10=cap + 1))
    assert message.startswith("Parameter id 10 ")
    assert f"maximum of {cap}" in message
    assert "parameter id 1 " in message


def ems(ztna: object) -> list[dict[str, object]]:
    return [
        {"id": 13, "value": ztna},
        {"id": 14, "value": 0},
        {"id": 15, "value": 0},
        {"id": 16, "value": "FCTFC247"},
    ]


@pytest.mark.parametrize("count", [0, 25, 50, 25000])
def test_ems_counts_of_zero_or_multiples_of_25_are_accepted(catalog: Catalog, count: int) -> None:
    assert catalog.parse_parameters(5, ems(count))[13] == str(count)


@pytest.mark.parametrize("count", [10, 30, 24, 25025])
def test_ems_counts_that_are_not_zero_or_multiples_of_25_are_refused(
    catalog: Catalog, count: int
) -> None:
    assert parse_error(catalog, 5, ems(count)).startswith("Parameter id 13 ")


def recon(assets: int, pkg: str = "FRNEASM", **extra: int) -> list[dict[str, object]]:
    raw: list[dict[str, object]] = [{"id": 61, "value": pkg}, {"id": 62, "value": assets}]
    return raw + [{"id": int(k[1:]), "value": v} for k, v in extra.items()]


def test_fortirecon_assets_must_be_a_multiple_of_50(catalog: Catalog) -> None:
    assert catalog.parse_parameters(208, recon(250))[62] == "250"
    assert parse_error(catalog, 208, recon(260)).startswith("Parameter id 62 ")


def test_fortirecon_executives_may_be_zero_only_without_adversary_intelligence(
    catalog: Catalog,
) -> None:
    assert catalog.parse_parameters(208, recon(200, "FRNEASMBP"))[64] == "0"
    message = parse_error(catalog, 208, recon(200, "FRNEASMBPACI", p65=3))
    assert message.startswith("Parameter id 64 ")
    values = catalog.parse_parameters(208, recon(200, "FRNEASMBPACI", p64=1, p65=1))
    assert values[64] == "1"


def test_siem_compute_units_step_by_10_and_storage_by_500(catalog: Catalog) -> None:
    ok = catalog.parse_parameters(209, [{"id": 66, "value": 20}, {"id": 67, "value": 1500}])
    assert ok == {66: "20", 67: "1500", 68: "0"}
    assert parse_error(catalog, 209, [{"id": 66, "value": 25}]).startswith("Parameter id 66 ")
    bad_storage = [{"id": 66, "value": 10}, {"id": 68, "value": 700}]
    assert parse_error(catalog, 209, bad_storage).startswith("Parameter id 68 ")


def test_fortiweb_cloud_throughput_must_be_one_of_the_listed_steps(catalog: Catalog) -> None:
    def raw(pid: int, throughput: int) -> list[dict[str, object]]:
        return [{"id": pid, "value": throughput}, {"id": pid + 1, "value": 1}]

    assert catalog.parse_parameters(202, raw(32, 10))[32] == "10"
    assert catalog.parse_parameters(202, raw(32, 1500))[32] == "1500"
    assert parse_error(catalog, 202, raw(32, 1200)).startswith("Parameter id 32 ")
    assert parse_error(catalog, 203, raw(34, 10)).startswith("Parameter id 34 ")


def test_appsec_waf_package_is_required_when_cloud_waf_is_chosen(catalog: Catalog) -> None:
    message = parse_error(catalog, 211, [{"id": 82, "value": "UCWAF"}])
    assert message.startswith("Parameter id 83 ")
    raw = [{"id": 82, "value": "UCWAF"}, {"id": 83, "value": "UCWAFADV"}]
    assert catalog.parse_parameters(211, raw)[83] == "UCWAFADV"


# ---------------------------------------------------------------- increase-only (R53)


@pytest.mark.parametrize(
    ("product_type_id", "param_id", "old", "new"),
    [
        (209, 67, "1000", "500"),
        (209, 68, "1000", "0"),
        (205, 59, "2", "1"),
        (205, 72, "3", "0"),
        (211, 83, "UCWAFENT", "UCWAFADV"),
        (211, 83, "UCWAFADV", "UCWAFSTD"),
    ],
)
def test_decreasing_an_increase_only_parameter_is_refused(
    catalog: Catalog, product_type_id: int, param_id: int, old: str, new: str
) -> None:
    with pytest.raises(InvalidParameter) as caught:
        catalog.check_change(product_type_id, {param_id: old}, {param_id: new})
    assert caught.value.message.startswith(f"Parameter id {param_id} cannot be decreased")


def test_increasing_or_keeping_an_increase_only_parameter_is_allowed(catalog: Catalog) -> None:
    catalog.check_change(209, {67: "500", 68: "0"}, {67: "1000", 68: "0"})
    catalog.check_change(211, {83: "UCWAFSTD"}, {83: "UCWAFENT"})
    catalog.check_change(211, {}, {83: "UCWAFSTD"})


def test_removing_the_waf_package_counts_as_a_decrease(catalog: Catalog) -> None:
    with pytest.raises(InvalidParameter, match=r"^Parameter id 83 "):
        catalog.check_change(211, {82: ("UCWAF",), 83: "UCWAFSTD"}, {82: ()})


def test_other_parameters_may_decrease(catalog: Catalog) -> None:
    catalog.check_change(1, {1: "8", 10: "100"}, {1: "2", 10: "0"})


# ---------------------------------------------------------------- tools/metadata (§4.23)


def test_metadata_has_the_documented_shape(catalog: Catalog) -> None:
    metadata = catalog.metadata()
    assert [m["productTypeId"] for m in metadata] == ALL_PRODUCT_IDS
    first = metadata[0]
    assert list(first) == ["productTypeId", "name", "formFactor", "parameters"]
    assert first["formFactor"] == {"formFactorId": 1, "name": "Virtual Machines"}
    cpu, service = first["parameters"][0], first["parameters"][1]
    assert cpu == {
        "parameterId": 1,
        "name": "Number of CPUs",
        "type": "NUMERIC",
        "minValue": 1,
        "maxValue": 96,
        "step": 1,
        "validValues": [],
    }
    assert list(service) == list(cpu)
    assert service["type"] == "SINGLEVALUE"
    assert service["minValue"] is service["maxValue"] is service["step"] is None
    assert {"value": "ENT", "description": "Enterprise"} in service["validValues"]


def test_metadata_only_numeric_parameters_carry_ranges(catalog: Catalog) -> None:
    kinds = {"NUMERIC", "SINGLEVALUE", "MULTIVALUE", "READONLY"}
    for product in catalog.metadata():
        for param in product["parameters"]:
            assert param["type"] in kinds
            if param["type"] != "NUMERIC":
                assert param["minValue"] is param["maxValue"] is param["step"] is None
            assert all(isinstance(v["value"], str) for v in param["validValues"])


def test_metadata_form_factors_for_hardware_and_cloud(catalog: Catalog) -> None:
    by_id = {m["productTypeId"]: m for m in catalog.metadata()}
    assert by_id[101]["formFactor"] == {"formFactorId": 2, "name": "Hardware"}
    assert by_id[205]["formFactor"] == {"formFactorId": 3, "name": "Cloud Services"}
    assert 3 not in {p["parameterId"] for p in by_id[2]["parameters"]}


# ---------------------------------------------------------------- loading from a path

SMALL_CATALOGUE = """
products:
  - id: 1
    code: FGT_VM_Bundle
    name: FortiGate-VM Service Bundle
    form_factor: VM
    serial_prefix: FGVMMLTM
    parameters:
      - {id: 1, name: CPU, label: CPUs, tf_name: cpu_size, kind: NUMERIC, min: 1, max: 4,
         step: 1, required: true}
"""


def test_a_catalogue_can_be_loaded_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "products.yaml"
    path.write_text(SMALL_CATALOGUE)
    catalog = load_catalog(path)
    assert catalog.parse_parameters(1, [{"id": 1, "value": 4}]) == {1: "4"}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("kind: NUMERIC", "kind: NUMBER"), "kind"),
        (("min: 1, max: 4", "min: 5, max: 4"), "min <= max"),
        (("serial_prefix: FGVMMLTM", "serial_prefix: fg"), "serial_prefix"),
        (("form_factor: VM", "form_factor: BOX"), "form_factor"),
        (("step: 1", "step: 0"), "step"),
    ],
)
def test_a_broken_catalogue_is_refused_naming_the_problem(
    tmp_path: Path, change: tuple[str, str], problem: str
) -> None:
    path = tmp_path / "products.yaml"
    path.write_text(SMALL_CATALOGUE.replace(*change))
    with pytest.raises(InvalidInput, match=problem):
        load_catalog(path)


def test_a_catalogue_with_a_duplicate_parameter_id_is_refused(tmp_path: Path) -> None:
    duplicate = SMALL_CATALOGUE + SMALL_CATALOGUE.split("parameters:\n")[1]
    path = tmp_path / "products.yaml"
    path.write_text(duplicate)
    with pytest.raises(InvalidInput, match="parameter id 1 appears more than once"):
        load_catalog(path)


# ---------------------------------------------------------------- kept values, legacy values

DLP = [{"id": 90, "value": "DLPSTD"}, {"id": 91, "value": 25}]
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def dlp(catalog: Catalog, *addons: str) -> ParamValues:
    raw = [*DLP, *({"id": 92, "value": a} for a in addons or ("NONE",))]
    return catalog.parse_parameters(212, raw)


@pytest.mark.parametrize(
    ("held", "refused"),
    [
        (timedelta(0), True),
        (timedelta(days=89, hours=23, minutes=59), True),
        (timedelta(days=90), False),
        (timedelta(days=400), False),
    ],
)
def test_fortidlp_bps_must_stay_chosen_90_days(
    catalog: Catalog, held: timedelta, refused: bool
) -> None:
    old, new = dlp(catalog, "BPS"), dlp(catalog)
    since = {(92, "BPS"): T0}
    if refused:
        with pytest.raises(InvalidParameter, match="at least 90 days"):
            catalog.check_change(212, old, new, chosen_since=since, now=T0 + held)
    else:
        catalog.check_change(212, old, new, chosen_since=since, now=T0 + held)


def test_keeping_or_adding_bps_is_never_refused(catalog: Catalog) -> None:
    catalog.check_change(212, dlp(catalog, "BPS"), dlp(catalog, "BPS"), chosen_since={}, now=T0)
    catalog.check_change(212, dlp(catalog), dlp(catalog, "BPS"), chosen_since={}, now=T0)


def test_a_value_with_no_known_start_counts_as_chosen_now(catalog: Catalog) -> None:
    with pytest.raises(InvalidParameter):
        catalog.check_change(212, dlp(catalog, "BPS"), dlp(catalog), chosen_since={}, now=T0)
    assert catalog.has_kept_values(212)
    assert not catalog.has_kept_values(1)


def test_bps_is_chosen_since_the_oldest_version_of_its_unbroken_run(catalog: Catalog) -> None:
    day = timedelta(days=1)
    history = [  # newest first
        (T0 + 3 * day, dlp(catalog, "BPS")),
        (T0 + 2 * day, dlp(catalog, "BPS")),
        (T0 + day, dlp(catalog)),  # off here: the run starts after it
        (T0, dlp(catalog, "BPS")),
    ]
    assert catalog.chosen_since(212, history) == {(92, "BPS"): T0 + 2 * day}
    assert catalog.chosen_since(212, history[2:3]) == {}


def test_legacy_values_are_accepted_and_name_the_client_that_sends_them(catalog: Catalog) -> None:
    legacy = {
        (product.id, spec.id, value.value): value.legacy
        for product in catalog.products()
        for spec in product.parameters
        for value in spec.values
        if value.legacy
    }
    assert set(legacy) == {
        (1, 43, "FGTFCSS"),
        (4, 7, "FURL"),
        (4, 7, "IOTH"),
        (4, 12, "FMGC"),
        (9, 26, "FDVSTD"),
        (9, 26, "FDVADV"),
        (11, 73, "32"),
    }
    assert all(
        client and ("Ansible" in client or "Terraform" in client or "SOAR" in client)
        for client in legacy.values()
    )
    assert catalog.parse_parameters(
        4, [{"id": 6, "value": 1}, {"id": 8, "value": "FC247"}, {"id": 7, "value": "FURL"}]
    )[7] == ("FURL",)


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ("keep_days: [[BPS, 0]]", "at least 1"),
        ("keep_days: [[XYZ, 90]]", "does not allow"),
        ("keep_days: [[BPS]]", "pairs"),
    ],
)
def test_a_broken_keep_days_rule_is_refused(tmp_path: Path, rule: str, problem: str) -> None:
    text = (
        "products:\n  - {id: 212, code: DLP, name: FortiDLP, form_factor: CLOUD,\n"
        "     serial_prefix: FDLPCLOD, parameters: [{id: 92, name: ADDONS, label: Add-ons,\n"
        "     tf_name: addons, kind: MULTIVALUE, values: [{value: BPS, description: B}], "
        + rule
        + "}]}\n"
    )
    path = tmp_path / "products.yaml"
    path.write_text(text)
    with pytest.raises(InvalidInput, match=problem):
        load_catalog(path)
