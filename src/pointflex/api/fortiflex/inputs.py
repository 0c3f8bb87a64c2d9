"""Lenient FortiFlex request fields (spec §3.4), each kind declared once as an annotated type.

Clients send the same field with different JSON types: ids and counts as numbers or numeric
strings, booleans as strings or 0/1, dates in several formats, a single string where a list
is expected; ``null`` (and ``""`` where noted) means absent. Each ``Wire*`` type decodes one
such kind with a ``BeforeValidator`` and states what it accepts in its JSON schema. A request
model built from them (:class:`WireRequest`) is a route's body parameter, so one declaration
validates the route and documents it in the OpenAPI document.

A refusal is a pydantic error whose message names the field (``configId must be a whole
number, not 'x'``); :func:`refusal` turns the first one into the error the API answers with.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, InstanceOf, WithJsonSchema
from pydantic_core import PydanticCustomError
from pydantic_core.core_schema import ValidationInfo

from pointflex.domain.dates import parse_wire_day
from pointflex.domain.ends import FOLLOW_PROGRAM, RequestedEnd
from pointflex.errors import InvalidDate, InvalidInput, LimitExceeded

# Whole numbers on the wire are ids and counts; the id columns are 32-bit on PostgreSQL (and a
# larger number overflows SQLite's 64 bits), so a bigger one is refused here, not in the driver.
WIRE_INT_MAX = 2**31 - 1
# Longer than any number in range (ten digits and a sign): refused without parsing it.
_MAX_PARSED_DIGITS = 12
# ASCII digits only: str.isdigit() also takes "²" and "--5", which int() then refuses.
WHOLE_NUMBER = re.compile(r"-?[0-9]+")
# pydantic error types of the refusals below; the message of each is complete.
INVALID = "wire_invalid"
INVALID_DATE = "wire_date"

_FLAGS = {"true": True, "1": True, "false": False, "0": False}


class WireRequest(BaseModel):
    """A FortiFlex request body. Unknown keys are ignored (§3.1: pyfortiflex passes extra
    filters through). A field's default is what its type decodes ``null`` to, so an absent
    key and ``null`` mean the same."""

    model_config = ConfigDict(extra="ignore")


# --------------------------------------------------------------------------- refusals


def _refused(info: ValidationInfo, predicate: str, kind: str = INVALID) -> PydanticCustomError:
    # Built as a finished message: it may hold braces ("{id, value}") that are not placeholders.
    return PydanticCustomError(kind, f"{info.field_name or 'value'} {predicate}")


def _missing(info: ValidationInfo) -> PydanticCustomError:
    return _refused(info, "is required")


def refusal(errors: Sequence[Mapping[str, Any]]) -> InvalidInput:
    """The first validation error as the error the API answers with (a 400 envelope).

    The wire types' own messages are complete; pydantic's "missing" (a required key absent)
    gets the same wording as a required key sent as ``null``. Anything else, such as a bad
    query parameter of pointflex's own API, is shown as ``where: pydantic's message``.
    """
    if not errors:
        return InvalidInput("invalid request")
    first = errors[0]
    kind, message = first.get("type"), str(first.get("msg", "invalid value"))
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    if kind == INVALID_DATE:
        return InvalidDate(message)
    if kind == INVALID:
        return InvalidInput(message)
    if kind == "missing":
        return InvalidInput(f"{where} is required")
    return InvalidInput(f"{where}: {message}" if where else "invalid request")


# --------------------------------------------------------------------------- whole numbers


def _whole_number(value: object, info: ValidationInfo) -> int | None:
    """An int from a number or a numeric string; None for ``null`` and ``""``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):  # JSON true is not 1
        raise _refused(info, "must be a whole number")
    if isinstance(value, int):
        return _in_range(value, info)
    if isinstance(value, float) and value.is_integer():
        return _in_range(int(value), info)
    if isinstance(value, str) and WHOLE_NUMBER.fullmatch(value.strip()):
        digits = value.strip()
        # int() refuses strings over 4300 digits with a ValueError; none of them is in range.
        too_long = len(digits) > _MAX_PARSED_DIGITS
        return _in_range(WIRE_INT_MAX + 1 if too_long else int(digits), info)
    raise _refused(info, f"must be a whole number, not {value!r}")


def _in_range(value: int, info: ValidationInfo) -> int:
    if not -WIRE_INT_MAX <= value <= WIRE_INT_MAX:
        raise _refused(info, "is out of range")
    return value


def _required_int(value: object, info: ValidationInfo) -> int:
    number = _whole_number(value, info)
    if number is None:
        raise _missing(info)
    return number


def _unset_zero(value: object, info: ValidationInfo) -> int | None:
    return _whole_number(value, info) or None  # Terraform sends 0 for an id it has not set


def _count(value: object, info: ValidationInfo) -> int:
    number = _whole_number(value, info)
    return 1 if number is None else number  # spec §4.8, §4.22: one unit unless told


_INTEGER = {"type": "integer", "minimum": -WIRE_INT_MAX, "maximum": WIRE_INT_MAX}
_NUMERIC = {"type": "string", "pattern": r"^\s*-?[0-9]+\s*$"}
_NUMERIC_OR_BLANK = {"type": "string", "pattern": r"^\s*(-?[0-9]+)?\s*$"}
_NULL = {"type": "null"}
_INT_NOTE = "a whole number; a numeric string is accepted"
_OPTIONAL_NOTE = _INT_NOTE + '; null or "" means absent'

WireInt = Annotated[
    int,
    BeforeValidator(_required_int),
    WithJsonSchema({"anyOf": [_INTEGER, _NUMERIC], "description": _INT_NOTE}),
]
WireOptionalInt = Annotated[
    int | None,
    BeforeValidator(_whole_number),
    WithJsonSchema({"anyOf": [_INTEGER, _NUMERIC_OR_BLANK, _NULL], "description": _OPTIONAL_NOTE}),
]
WireOptionalId = Annotated[
    int | None,
    BeforeValidator(_unset_zero),
    WithJsonSchema(
        {"anyOf": [_INTEGER, _NUMERIC_OR_BLANK, _NULL], "description": _OPTIONAL_NOTE + "; so is 0"}
    ),
]
WireCount = Annotated[
    int,
    BeforeValidator(_count),
    WithJsonSchema(
        {"anyOf": [_INTEGER, _NUMERIC_OR_BLANK, _NULL], "description": _INT_NOTE + "; default 1"}
    ),
]

# --------------------------------------------------------------------------- text


def _text(value: object, info: ValidationInfo) -> str | None:
    """The value as sent (numbers as their text); None for ``null``."""
    if value is None:
        return None
    if isinstance(value, dict | list):
        raise _refused(info, "must be a string")
    return str(value)


def _required_text(value: object, info: ValidationInfo) -> str:
    text = _text(value, info)
    if text is None or not text.strip():
        raise _missing(info)
    return text.strip()


def _filter(value: object, info: ValidationInfo) -> str | None:
    text = _text(value, info)
    return text.strip() if text is not None and text.strip() else None


_STRING = {"type": "string"}

WireText = Annotated[
    str | None, BeforeValidator(_text), WithJsonSchema({"anyOf": [_STRING, _NULL]})
]
WireRequiredText = Annotated[
    str,
    BeforeValidator(_required_text),
    WithJsonSchema(
        {"type": "string", "pattern": r"\S", "description": "surrounding blanks ignored"}
    ),
]
WireFilter = Annotated[
    str | None,
    BeforeValidator(_filter),
    WithJsonSchema({"anyOf": [_STRING, _NULL], "description": 'exact match; null or "": any'}),
]

# --------------------------------------------------------------------------- flags


def _flag(value: object, info: ValidationInfo) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _FLAGS:
        return _FLAGS[value.strip().lower()]
    raise _refused(info, "must be true or false")


WireFlag = Annotated[
    bool,
    BeforeValidator(_flag),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "boolean"},
                {"type": "integer", "enum": [0, 1]},
                {"type": "string", "enum": sorted(_FLAGS)},
                _NULL,
            ],
            "description": 'true or false; "true"/"false" and 0/1 are accepted; null: false',
        }
    ),
]

# --------------------------------------------------------------------------- lists


def _strings(value: object, info: ValidationInfo) -> list[str] | None:
    """A list of strings; a single string is a list of one, numbers are taken as text."""
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str | int) for item in items):
        raise _refused(info, "must be a list of strings")
    return [str(item) for item in items]


def _required_strings(value: object, info: ValidationInfo) -> list[str]:
    items = _strings(value, info)
    if items is None:
        raise _missing(info)
    return items


def _optional_strings(value: object, info: ValidationInfo) -> list[str]:
    return _strings(value, info) or []


_STRINGS = {"type": "array", "items": {"type": "string"}}

WireStringList = Annotated[
    list[str],
    BeforeValidator(_required_strings),
    WithJsonSchema({"anyOf": [_STRINGS, _STRING], "description": "a single string is accepted"}),
]
WireOptionalStringList = Annotated[
    list[str],
    BeforeValidator(_optional_strings),
    WithJsonSchema(
        {"anyOf": [_STRINGS, _STRING, _NULL], "description": "a single string is accepted"}
    ),
]


def _parameters(value: object, info: ValidationInfo) -> list[Any] | None:
    """The raw ``[{id, value}, ...]`` list. Its entries are decoded by the catalogue, which
    alone knows what a value means for a product type and words refusals "Parameter id N"
    (spec §3.3, C15, which Terraform and Ansible rewrite into the parameter's name)."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise _refused(info, "must be a list of {id, value} objects")
    return value


def _required_parameters(value: object, info: ValidationInfo) -> list[Any]:
    entries = _parameters(value, info)
    if entries is None:
        raise _missing(info)
    return entries


_PARAMETERS = {
    "type": "array",
    "description": "one {id, value} per value: a list parameter repeats its id, and the single "
    'value "NONE" means an empty list; read-only parameter ids are ignored',
    "items": {
        "type": "object",
        "required": ["id", "value"],
        "properties": {
            "id": {"anyOf": [_INTEGER, _NUMERIC], "description": "parameter id (tools/metadata)"},
            "value": {"anyOf": [_STRING, {"type": "number"}], "description": "numbers accepted"},
        },
    },
}

WireParameters = Annotated[
    list[Any], BeforeValidator(_required_parameters), WithJsonSchema(_PARAMETERS)
]
WireOptionalParameters = Annotated[
    list[Any] | None,
    BeforeValidator(_parameters),
    WithJsonSchema({"anyOf": [_PARAMETERS, _NULL]}),
]

# --------------------------------------------------------------------------- dates


def _date_refused(exc: InvalidDate, info: ValidationInfo) -> PydanticCustomError:
    # The domain's wording, prefixed by the field; answered as InvalidDate (code 1003).
    return PydanticCustomError(INVALID_DATE, f"{info.field_name or 'value'}: {exc.message}")


def _end_change(value: object, info: ValidationInfo) -> RequestedEnd | None:
    try:
        return RequestedEnd.parse(_text(value, info))
    except InvalidDate as exc:
        raise _date_refused(exc, info) from exc


def _end(value: object, info: ValidationInfo) -> RequestedEnd:
    return _end_change(value, info) or FOLLOW_PROGRAM


def _day(value: object, info: ValidationInfo) -> date:
    text = _required_text(value, info)
    try:
        return parse_wire_day(text)
    except InvalidDate as exc:
        raise _date_refused(exc, info) from exc


_DATE_NOTE = (
    "YYYY-MM-DD, or with a time (space or T; to the hour, minute, second or a fraction) and "
    "optionally Z or an offset; without one it is the program's local time (spec §7)"
)

WireEnd = Annotated[
    InstanceOf[RequestedEnd],
    BeforeValidator(_end),
    WithJsonSchema(
        {"anyOf": [_STRING, _NULL], "description": _DATE_NOTE + '; null or "": the program end'}
    ),
]
WireEndChange = Annotated[
    InstanceOf[RequestedEnd] | None,
    BeforeValidator(_end_change),
    WithJsonSchema({"anyOf": [_STRING, _NULL], "description": _DATE_NOTE + '; null or "": kept'}),
]


def program_end() -> Any:
    """The default of a create's ``endDate``: Follow Program, which the wire writes null."""
    return Field(FOLLOW_PROGRAM, json_schema_extra={"default": None})


WireDay = Annotated[
    date, BeforeValidator(_day), WithJsonSchema({"type": "string", "description": _DATE_NOTE})
]

# --------------------------------------------------------------------------- selections


def selected_serials(sent: list[str], limit: int, field: str = "serialNumbers") -> list[str]:
    """Serials as a de-duplicated list in the order given: upper case, blanks dropped.

    Serials are matched without regard to case everywhere; naming one twice means it once.
    The limit (from the settings, so not part of the model) counts the list as sent, repeats
    included: a request may not carry more.
    """
    if len(sent) > limit:
        raise LimitExceeded(f"{field} may list at most {limit} serial numbers, got {len(sent)}")
    wanted = [s.strip().upper() for s in sent if s.strip()]
    if not wanted:
        raise InvalidInput(f"{field} must name at least one serial number")
    return list(dict.fromkeys(wanted))
