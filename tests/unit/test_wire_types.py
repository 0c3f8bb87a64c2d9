"""The lenient FortiFlex wire types (api/fortiflex/inputs, spec §3.4), without a database or a
server: what each decodes, what it refuses and how a refusal is worded."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import Field, ValidationError

from pointflex.api.fortiflex.inputs import (
    WIRE_INT_MAX,
    WireCount,
    WireDay,
    WireEnd,
    WireEndChange,
    WireFilter,
    WireFlag,
    WireInt,
    WireOptionalId,
    WireOptionalInt,
    WireOptionalParameters,
    WireOptionalStringList,
    WireParameters,
    WireRequest,
    WireRequiredText,
    WireStringList,
    WireText,
    program_end,
    refusal,
    selected_serials,
)
from pointflex.domain.ends import FOLLOW_PROGRAM, RequestedEnd
from pointflex.errors import InvalidDate, InvalidInput, LimitExceeded


class Ids(WireRequest):
    configId: WireInt
    accountId: WireOptionalInt = None
    folderId: WireOptionalId = None
    count: WireCount = 1


class Texts(WireRequest):
    name: WireRequiredText
    description: WireText = None
    status: WireFilter = None


class Flags(WireRequest):
    skipPending: WireFlag = False


class Lists(WireRequest):
    serialNumbers: WireStringList
    status: WireOptionalStringList = Field(default_factory=list)


class Parameters(WireRequest):
    parameters: WireParameters
    changes: WireOptionalParameters = None


class Dates(WireRequest):
    startDate: WireDay
    endDate: WireEnd = program_end()
    newEnd: WireEndChange = None


def refused(model: type[WireRequest], body: dict[str, Any]) -> InvalidInput:
    """The error the API would answer ``body`` with."""
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    return refusal(caught.value.errors())


# --------------------------------------------------------------------------- whole numbers


@pytest.mark.parametrize("sent", [42, "42", " 42 ", 42.0, "0042"])
def test_a_whole_number_comes_as_a_json_number_or_a_numeric_string(sent: Any) -> None:
    assert Ids.model_validate({"configId": sent}).configId == 42


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        (True, "configId must be a whole number"),
        (1.5, "configId must be a whole number, not 1.5"),
        ("٣", "configId must be a whole number, not '٣'"),
        ("1_000", "configId must be a whole number, not '1_000'"),
        ({"id": 1}, "configId must be a whole number, not {'id': 1}"),
        (WIRE_INT_MAX + 1, "configId is out of range"),
        ("9" * 5000, "configId is out of range"),
        (1e300, "configId is out of range"),
    ],
)
def test_anything_else_is_refused_naming_the_field(sent: Any, message: str) -> None:
    error = refused(Ids, {"configId": sent})
    assert (type(error), error.message) == (InvalidInput, message)


@pytest.mark.parametrize("sent", [None, "", "  "])
def test_null_or_blank_is_absent_required_or_optional(sent: Any) -> None:
    assert refused(Ids, {"configId": sent}).message == "configId is required"
    assert refused(Ids, {}).message == "configId is required"
    decoded = Ids.model_validate({"configId": 1, "accountId": sent, "count": sent})
    assert (decoded.accountId, decoded.count) == (None, 1)


def test_an_optional_id_of_zero_is_unset_as_terraform_means_it() -> None:
    assert Ids.model_validate({"configId": 1, "folderId": 0}).folderId is None
    assert Ids.model_validate({"configId": 1, "folderId": "7"}).folderId == 7
    assert Ids.model_validate({"configId": 1, "accountId": 0}).accountId == 0


def test_a_count_keeps_zero_for_the_service_to_refuse() -> None:
    assert Ids.model_validate({"configId": 1, "count": "0"}).count == 0
    assert Ids.model_validate({"configId": 1}).count == 1


# --------------------------------------------------------------------------- text


def test_text_is_kept_as_sent_and_numbers_as_their_text() -> None:
    decoded = Texts.model_validate({"name": " fgt ", "description": 5, "status": " ACTIVE "})
    assert (decoded.name, decoded.description, decoded.status) == ("fgt", "5", "ACTIVE")
    assert Texts.model_validate({"name": "x", "description": ""}).description == ""


def test_a_blank_filter_is_no_filter() -> None:
    assert Texts.model_validate({"name": "x", "status": "  "}).status is None


def test_required_text_must_not_be_blank() -> None:
    assert refused(Texts, {"name": "   "}).message == "name is required"


def test_an_object_or_a_list_is_not_text() -> None:
    assert refused(Texts, {"name": "x", "description": ["a"]}).message == (
        "description must be a string"
    )


# --------------------------------------------------------------------------- flags


@pytest.mark.parametrize(
    ("sent", "flag"),
    [
        *[(True, True), ("true", True), (" TRUE ", True), (1, True), ("1", True)],
        *[(None, False), (False, False), ("false", False), (0, False), ("0", False)],
    ],
)
def test_a_flag_comes_as_a_boolean_a_word_or_zero_and_one(sent: Any, flag: bool) -> None:
    assert Flags.model_validate({"skipPending": sent}).skipPending is flag


@pytest.mark.parametrize("sent", ["yes", 2, 1.0, []])
def test_anything_else_is_not_a_flag(sent: Any) -> None:
    assert refused(Flags, {"skipPending": sent}).message == "skipPending must be true or false"


# --------------------------------------------------------------------------- lists


def test_a_list_of_strings_takes_a_single_string_and_numbers() -> None:
    decoded = Lists.model_validate({"serialNumbers": "FGT1", "status": ["ACTIVE", 7]})
    assert (decoded.serialNumbers, decoded.status) == (["FGT1"], ["ACTIVE", "7"])
    assert Lists.model_validate({"serialNumbers": [], "status": None}).status == []


@pytest.mark.parametrize("sent", [{"a": 1}, [["x"]], [None], 5])
def test_anything_else_is_not_a_list_of_strings(sent: Any) -> None:
    error = refused(Lists, {"serialNumbers": sent})
    assert error.message == "serialNumbers must be a list of strings"


def test_a_missing_list_is_required() -> None:
    assert refused(Lists, {"serialNumbers": None}).message == "serialNumbers is required"


def test_parameter_entries_are_left_for_the_catalogue_to_decode() -> None:
    raw = [{"id": "x"}, "not an entry", {"id": 1, "value": 2}]
    decoded = Parameters.model_validate({"parameters": raw})
    assert (decoded.parameters, decoded.changes) == (raw, None)
    error = refused(Parameters, {"parameters": {"id": 1, "value": "2"}})
    assert error.message == "parameters must be a list of {id, value} objects"
    assert refused(Parameters, {"parameters": None}).message == "parameters is required"


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize("sent", [None, "", "  "])
def test_no_end_date_follows_the_program_or_keeps_the_end(sent: Any) -> None:
    decoded = Dates.model_validate({"startDate": "2026-03-01", "endDate": sent, "newEnd": sent})
    assert (decoded.endDate, decoded.newEnd) == (FOLLOW_PROGRAM, None)
    assert Dates.model_validate({"startDate": "2026-03-01"}).endDate == FOLLOW_PROGRAM


def test_an_end_date_is_kept_as_written_for_the_program_zone() -> None:
    decoded = Dates.model_validate({"startDate": "2026-03-01", "endDate": "2026-05-31T10:00"})
    assert decoded.endDate == RequestedEnd.parse("2026-05-31T10:00")
    assert not decoded.endDate.follows_program


def test_a_day_may_carry_a_time_and_is_the_date_as_written() -> None:
    assert Dates.model_validate({"startDate": "2026-03-03 23:59:59"}).startDate == date(2026, 3, 3)


def test_a_bad_date_is_an_invalid_date_naming_the_field() -> None:
    error = refused(Dates, {"startDate": "2026-03-01", "endDate": "March"})
    assert type(error) is InvalidDate
    assert error.code == 1003
    assert error.message == "endDate: date 'March' is not in a supported format (e.g. 2026-05-31)"
    assert refused(Dates, {"startDate": "2026-02-30"}).message.startswith("startDate: date ")
    assert refused(Dates, {"startDate": ""}).message == "startDate is required"


def test_the_documented_default_of_an_end_date_is_null() -> None:
    assert Dates.model_json_schema()["properties"]["endDate"]["default"] is None


# --------------------------------------------------------------------------- models, refusals


def test_unknown_keys_are_ignored() -> None:
    assert Ids.model_validate({"configId": 1, "anything": [1, {"x": None}]}).configId == 1


def test_a_refusal_of_another_kind_names_where_it_is() -> None:
    error = refusal([{"type": "enum", "loc": ("query", "format"), "msg": "Input should be 'json'"}])
    assert error.message == "query.format: Input should be 'json'"
    assert refusal([]).message == "invalid request"


def test_each_wire_type_documents_what_it_accepts() -> None:
    properties = Ids.model_json_schema()["properties"]
    accepted = [branch.get("type") for branch in properties["configId"]["anyOf"]]
    assert accepted == ["integer", "string"]
    assert {"type": "null"} in properties["accountId"]["anyOf"]
    assert properties["count"]["default"] == 1


# --------------------------------------------------------------------------- selections


def test_selected_serials_are_upper_case_distinct_and_in_order() -> None:
    assert selected_serials([" fgt1 ", "FGT2", "fgt1", ""], 4) == ["FGT1", "FGT2"]


def test_the_serial_limit_counts_the_list_as_sent() -> None:
    with pytest.raises(LimitExceeded) as caught:
        selected_serials(["A", "A", "A"], 2)
    assert caught.value.message == "serialNumbers may list at most 2 serial numbers, got 3"
    with pytest.raises(InvalidInput) as empty:
        selected_serials(["  "], 2)
    assert empty.value.message == "serialNumbers must name at least one serial number"
