"""What the catalogue's data files share: the strict model base, scalar field types, reading a
file, and turning a refused file into one :class:`InvalidInput` that names each problem's place.

A place is written as a path into the file, ``products[3].parameters[2].max_by``: keys by name,
list positions and mapping keys in brackets.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, PlainValidator, StrictBool, StrictInt, ValidationError
from pydantic_core import ErrorDetails

from pointflex.errors import InvalidInput

Place = tuple[str | int, ...]

# More problems than this in one message would bury the first, which is often the cause.
_MAX_PROBLEMS = 5

# Pydantic's wording for the usual mistakes, said the way the rest of pointflex says them.
_WORDING = {
    "extra_forbidden": "unknown key",
    "missing": "required key is missing",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
}


class FileModel(BaseModel):
    """One part of a data file: unknown keys are refused, and a loaded file never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Problem(ValueError):
    """A problem a validator found, at ``place`` below the part of the file it checks."""

    def __init__(self, message: str, *place: str | int) -> None:
        super().__init__(message)
        self.message = message
        self.place: Place = place

    def under(self, *outer: str | int) -> Problem:
        return Problem(self.message, *outer, *self.place)


@contextmanager
def within(*outer: str | int) -> Iterator[None]:
    """Problems raised inside are placed below ``outer``."""
    try:
        yield
    except Problem as problem:
        raise problem.under(*outer) from None


def _text(raw: object) -> str:
    # YAML reads unquoted values such as 32 or 2026 as numbers; as text they are the same.
    if isinstance(raw, bool) or not isinstance(raw, str | int) or str(raw) == "":
        raise ValueError("must be a non-empty string")
    return str(raw)


def _key(raw: object) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise ValueError("must be a string or a whole number")
    return str(raw)


def _id(raw: object) -> int:
    # JSON writes mapping keys as strings: a product type id may arrive as "8".
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ValueError("must be a whole number")
    return raw


Text = Annotated[str, PlainValidator(_text)]
"""A non-empty string; a whole number is read as its digits."""
Key = Annotated[str, PlainValidator(_key)]
"""A mapping key: a string (possibly empty) or a whole number read as its digits."""
Whole = StrictInt
"""A whole number, never a string or true/false."""
Id = Annotated[int, PlainValidator(_id)]
"""A product type or parameter id: a whole number, or its digits as a string."""
Flag = StrictBool


def read_document(path: Path | Traversable, where: str) -> object:
    """A file's data: JSON by its ``.json`` suffix (amounts as exact decimals), else YAML."""
    text = path.read_text(encoding="utf-8")
    if path.name.endswith(".json"):
        try:
            return json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{where}: not valid JSON: {exc}") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{where}: not valid YAML: {exc}") from exc


def refused(exc: ValidationError, where: str) -> InvalidInput:
    """The error for a refused file: ``where`` (the file), then each problem at its place."""
    problems = [_describe(error) for error in exc.errors()]
    shown = "; ".join(problems[:_MAX_PROBLEMS])
    if len(problems) > _MAX_PROBLEMS:
        shown += f"; and {len(problems) - _MAX_PROBLEMS} more"
    return InvalidInput(f"{where}: {shown}")


def _describe(error: ErrorDetails) -> str:
    place: Place = tuple(error["loc"])
    found = error.get("ctx", {}).get("error")
    if isinstance(found, Problem):
        place += found.place
    if place and place[-1] == "[key]":  # pydantic's mark: the key itself is wrong
        return f"{render(place[:-2])}[{place[-2]}]: key {_message(error)}"
    path = render(place)
    return f"{path}: {_message(error)}" if path else _message(error)


def _message(error: ErrorDetails) -> str:
    context = error.get("ctx", {})
    if error["type"] == "value_error":
        found = context.get("error")
        return found.message if isinstance(found, Problem) else str(found)
    if error["type"] == "enum":
        return f"must be one of {context.get('expected')}"
    return _WORDING.get(error["type"], error["msg"])


def render(place: Place) -> str:
    """``("products", 3, "parameters", 2, "max_by")`` -> ``products[3].parameters[2].max_by``.

    Keys of the file's models are lower-case names; anything else is a list position or a
    mapping key (a product type id, a parameter value such as ``ENT``) and goes in brackets.
    """
    path = ""
    for part in place:
        if part == "":  # the key of a one-curve table (see prices.ANY): not in the file
            continue
        if isinstance(part, str) and part.isidentifier() and part.islower():
            path += f".{part}" if path else part
        else:
            path += f"[{part}]"
    return path
