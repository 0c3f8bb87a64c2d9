"""Lenient decoding of FortiFlex request fields (spec §3.4): clients send ids as strings,
booleans as strings, dates in several formats; ``null`` means absent."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pydantic import BaseModel

from pointflex.domain.dates import parse_wire_day
from pointflex.domain.ends import RequestedEnd
from pointflex.errors import InvalidInput, LimitExceeded

# Whole numbers on the wire are ids and counts; the id columns are 32-bit on PostgreSQL (and a
# larger number overflows SQLite's 64 bits), so a bigger one is refused here, not in the driver.
WIRE_INT_MAX = 2**31 - 1
# ASCII digits only: str.isdigit() also takes "²" and "--5", which int() then refuses.
WHOLE_NUMBER = re.compile(r"-?[0-9]+")


def optional_int(body: dict[str, Any], field: str) -> int | None:
    value = body.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise InvalidInput(f"{field} must be a whole number")
    if isinstance(value, int):
        return _in_range(field, value)
    if isinstance(value, float) and value.is_integer():
        return _in_range(field, int(value))
    if isinstance(value, str) and WHOLE_NUMBER.fullmatch(value.strip()):
        digits = value.strip()
        # int() refuses strings over 4300 digits with a ValueError; none of them is in range.
        return _in_range(field, int(digits) if len(digits) <= 12 else WIRE_INT_MAX + 1)
    raise InvalidInput(f"{field} must be a whole number, not {value!r}")


def _in_range(field: str, value: int) -> int:
    if not -WIRE_INT_MAX <= value <= WIRE_INT_MAX:
        raise InvalidInput(f"{field} is out of range")
    return value


def required_int(body: dict[str, Any], field: str) -> int:
    value = optional_int(body, field)
    if value is None:
        raise InvalidInput(f"{field} is required")
    return value


def optional_str(body: dict[str, Any], field: str) -> str | None:
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise InvalidInput(f"{field} must be a string")
    return str(value)


def required_str(body: dict[str, Any], field: str) -> str:
    value = optional_str(body, field)
    if value is None or not value.strip():
        raise InvalidInput(f"{field} is required")
    return value.strip()


def optional_bool(body: dict[str, Any], field: str, default: bool = False) -> bool:
    value = body.get(field)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    raise InvalidInput(f"{field} must be true or false")


def requested_end(body: dict[str, Any], field: str = "endDate") -> RequestedEnd | None:
    """The end as written; the service resolves it in the program's time zone (C18)."""
    return RequestedEnd.parse(optional_str(body, field))


def required_day(body: dict[str, Any], field: str) -> date:
    return parse_wire_day(required_str(body, field))


def string_list(body: dict[str, Any], field: str, *, required: bool = True) -> list[str]:
    value = body.get(field)
    if value is None:
        if required:
            raise InvalidInput(f"{field} is required")
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise InvalidInput(f"{field} must be a list of strings")
    return [str(v) for v in value]


def parameter_list(body: dict[str, Any], field: str = "parameters") -> list[Any] | None:
    """The raw ``[{id, value}, ...]`` list, decoded later by the catalogue; None when absent."""
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, list):
        raise InvalidInput(f"{field} must be a list of {{id, value}} objects")
    return value


def documented_body(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    """``openapi_extra`` describing a request body that the handler decodes leniently itself.

    Handlers read bodies with ``json_body`` and the helpers above (a FastAPI body model would
    refuse the lenient inputs of §3.4), so the schema is added to the document by hand. Nested
    models are inlined: the schema lives inside the operation, where ``$defs`` cannot resolve.
    """
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})
    return {
        "requestBody": {
            "required": required,
            "content": {"application/json": {"schema": _inline_refs(schema, definitions)}},
        }
    }


def _inline_refs(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline_refs(definitions[ref.removeprefix("#/$defs/")], definitions)
        return {key: _inline_refs(value, definitions) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline_refs(item, definitions) for item in node]
    return node


def serial_numbers(body: dict[str, Any], limit: int, field: str = "serialNumbers") -> list[str]:
    """Serials as a de-duplicated list in the order given: upper case, blanks dropped.

    Serials are matched without regard to case everywhere; naming one twice means it once.
    The limit counts the list as sent, repeats included: a request may not carry more.
    """
    sent = string_list(body, field)
    if len(sent) > limit:
        raise LimitExceeded(f"{field} may list at most {limit} serial numbers, got {len(sent)}")
    wanted = [s.strip().upper() for s in sent if s.strip()]
    if not wanted:
        raise InvalidInput(f"{field} must name at least one serial number")
    return list(dict.fromkeys(wanted))
