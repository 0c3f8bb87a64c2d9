"""Configuration parameters: what a parameter allows, and decoding one parameter's wire values.

Canonical values (:data:`ParamValues`) map a parameter id to a string for numeric and
single-value parameters (numbers normalised: ``"02"`` -> ``"2"``) and to a sorted tuple of
distinct strings for multi-value parameters (``()`` = none). The input leniency is the one
clients need (spec §3.4): numbers as ints, integral floats or numeric strings, single values
matched case-insensitively, ``"NONE"`` for an empty list.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from pointflex.errors import InvalidParameter

ParamValue = str | tuple[str, ...]
ParamValues = dict[int, ParamValue]

NONE_MARKER = "NONE"
"""The wire value of an empty list parameter (§3.4)."""

# Longest list of allowed values spelled out in an error message; hardware model lists are
# far longer and would drown the message.
_MAX_LISTED_VALUES = 12
# Numbers with more digits than this are out of every range; refusing them early avoids
# building huge integers from inputs such as "1e999999".
_MAX_DIGITS = 15
# A value longer than this is cut short in an error message.
_SHOWN_CHARS = 40


class ParamKind(StrEnum):
    NUMERIC = "NUMERIC"
    SINGLEVALUE = "SINGLEVALUE"
    MULTIVALUE = "MULTIVALUE"
    READONLY = "READONLY"


@dataclass(frozen=True)
class AllowedValue:
    value: str
    description: str
    legacy: str | None = None  # the client that still sends a value FortiFlex retired


@dataclass(frozen=True)
class MaxBy:
    """The maximum depends on another numeric parameter (R54: VDOMs by vCPUs)."""

    param_id: int
    limits: tuple[tuple[int, int], ...]  # (from, max), ascending "from"

    def limit_for(self, governor: int) -> int | None:
        found: int | None = None
        for start, limit in self.limits:
            if governor >= start:
                found = limit
        return found


@dataclass(frozen=True)
class MinBy:
    """The minimum depends on another parameter's single value (FortiRecon)."""

    param_id: int
    mins: tuple[tuple[str, int], ...]

    def minimum_for(self, governor: str) -> int | None:
        return dict(self.mins).get(governor)


@dataclass(frozen=True)
class RequiredIf:
    """Required when a multi-value parameter contains ``value`` (FortiAppSec WAF package)."""

    param_id: int
    value: str


@dataclass(frozen=True)
class ParameterSpec:
    id: int
    name: str
    label: str
    tf_name: str
    kind: ParamKind
    required: bool = False
    default: ParamValue | None = None
    min_value: int | None = None
    max_value: int | None = None
    step: int | None = None
    choices: tuple[int, ...] = ()
    values: tuple[AllowedValue, ...] = ()
    value_aliases: tuple[tuple[str, str], ...] = ()
    aliases: tuple[int, ...] = ()
    increase_only: bool = False
    max_by: MaxBy | None = None
    min_by: MinBy | None = None
    required_if: RequiredIf | None = None
    keep_days: tuple[tuple[str, int], ...] = ()  # a chosen value stays chosen this many days

    @property
    def allowed(self) -> tuple[str, ...]:
        return tuple(v.value for v in self.values)

    @functools.cached_property
    def _lookup(self) -> dict[str, str]:
        # Case-insensitive, so "ent" finds "ENT"; aliases map to their canonical value.
        table = {v.value.upper(): v.value for v in self.values}
        table.update({alias.upper(): target for alias, target in self.value_aliases})
        return table

    def canonical(self, text: str) -> str | None:
        """The catalogue spelling of an allowed value, or None if ``text`` is not allowed."""
        found = self._lookup.get(text.upper())
        if found is None and (number := whole_number(text)) is not None:
            found = self._lookup.get(str(number))
        return found

    def rank(self, value: str) -> int:
        """Order used by increase-only checks: the number, or the position in ``values``."""
        if self.kind is ParamKind.NUMERIC:
            return int(value)
        return self.allowed.index(value)


# ---------------------------------------------------------------- wire decoding


def decode_or_default(spec: ParameterSpec, raw: list[object] | None) -> ParamValue | None:
    """The canonical value of ``raw`` (every wire value given for ``spec``), or its default."""
    if raw is None:
        if spec.required:
            raise InvalidParameter(f"Parameter id {spec.id} ({spec.label}) is required")
        return spec.default
    if spec.kind is ParamKind.MULTIVALUE:
        return _decode_multi(spec, raw)
    if len(raw) > 1:
        raise InvalidParameter(f"Parameter id {spec.id} is given more than once")
    if spec.kind is ParamKind.NUMERIC:
        return decode_numeric(spec, raw[0])
    return _decode_single(spec, raw[0])


def _decode_multi(spec: ParameterSpec, raw: list[object]) -> tuple[str, ...]:
    texts = [_as_text(spec, item) for item in raw]
    if any(text.upper() == NONE_MARKER for text in texts):
        if len(texts) > 1:
            raise InvalidParameter(
                f"Parameter id {spec.id} value NONE cannot be combined with other values"
            )
        return ()
    return tuple(sorted({_decode_single(spec, text) for text in texts}))


def _decode_single(spec: ParameterSpec, raw: object) -> str:
    text = _as_text(spec, raw)
    found = spec.canonical(text)
    if found is None:
        raise InvalidParameter(
            f"Parameter id {spec.id} value {show(text)} is not {_allowed_phrase(spec)}"
        )
    return found


def decode_numeric(spec: ParameterSpec, raw: object) -> str:
    """A numeric parameter's value, normalised (``"04"`` -> ``"4"``) and checked."""
    number = whole_number(raw)
    if number is None:
        raise InvalidParameter(f"Parameter id {spec.id} value {show(raw)} is not a whole number")
    _check_numeric(spec, number)
    return str(number)


def _check_numeric(spec: ParameterSpec, number: int) -> None:
    if spec.min_value is None or spec.max_value is None:
        # The catalogue loader refuses a NUMERIC parameter without both bounds.
        raise RuntimeError(f"numeric parameter {spec.id} has no bounds")
    if not spec.min_value <= number <= spec.max_value:
        raise InvalidParameter(
            f"Parameter id {spec.id} value {number} is out of range "
            f"{spec.min_value}-{spec.max_value}"
        )
    if spec.choices and number not in spec.choices:
        listed = ", ".join(str(c) for c in spec.choices)
        raise InvalidParameter(f"Parameter id {spec.id} value {number} is not one of {listed}")
    if spec.step and (number - spec.min_value) % spec.step:
        raise InvalidParameter(
            f"Parameter id {spec.id} value {number} must be a multiple of {spec.step}"
        )


def _as_text(spec: ParameterSpec, raw: object) -> str:
    if isinstance(raw, str):
        return raw.strip()
    number = whole_number(raw)
    if number is None:
        raise InvalidParameter(f"Parameter id {spec.id} value {show(raw)} is not a valid value")
    return str(number)


def whole_number(raw: object) -> int | None:  # noqa: PLR0911 — one early return per input type
    """An integer from an int, an integral float or a numeric string; else None."""
    if isinstance(raw, bool):  # JSON true is not 1
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float | Decimal | str):
        try:
            number = Decimal(raw.strip() if isinstance(raw, str) else raw)
        except (InvalidOperation, ValueError):
            return None
        if not number.is_finite() or number != number.to_integral_value():
            return None
        if number and number.adjusted() > _MAX_DIGITS:
            return None
        return int(number)
    return None


def show(raw: object) -> str:
    """``raw`` short enough for an error message."""
    text = str(raw)
    if len(text) <= _SHOWN_CHARS:
        return text
    return text[: _SHOWN_CHARS - 3] + "..."


def _allowed_phrase(spec: ParameterSpec) -> str:
    if len(spec.values) > _MAX_LISTED_VALUES:
        return "an allowed value (see tools/metadata)"
    return "one of " + ", ".join(spec.allowed)
