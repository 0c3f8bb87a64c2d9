"""Product catalogue: product types, their parameters, and the rules over a configuration.

The catalogue itself is data (``pointflex/catalog/products.yaml``), loaded and checked by
:mod:`pointflex.catalog`. This module implements the rules around it: decoding a
configuration's wire parameters (spec §3.4; one parameter's values are decoded by
:mod:`pointflex.domain.parameters`), range and cross-parameter checks (§8.1, R53, R54), the
canonical wire encoding (always strings, repeated ids for lists, ``"NONE"`` for an empty list)
and ``tools/metadata``.

Read-only parameters are never produced by :meth:`Catalog.parse_parameters`: their values are
derived by the server.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pointflex.domain.parameters import (
    NONE_MARKER,
    AllowedValue,
    MaxBy,
    MinBy,
    ParameterSpec,
    ParamKind,
    ParamValue,
    ParamValues,
    RequiredIf,
    decode_or_default,
    show,
    whole_number,
)
from pointflex.errors import InvalidInput, InvalidParameter

# The parameter types are also reached through this module, where they have always been.
__all__ = [
    "NONE_MARKER",
    "AllowedValue",
    "Catalog",
    "FormFactor",
    "MaxBy",
    "MinBy",
    "ParamKind",
    "ParamValue",
    "ParamValues",
    "ParameterSpec",
    "ProductType",
    "RequiredIf",
]


class FormFactor(StrEnum):
    """Decides which create call is valid (VM, hardware or cloud)."""

    VM = "VM"
    HARDWARE = "HARDWARE"
    CLOUD = "CLOUD"

    @property
    def wire_id(self) -> int:
        """``formFactorId`` in tools/metadata (Q18: 1, 2, 3 is pointflex's own choice)."""
        return _FORM_FACTOR_WIRE[self][0]

    @property
    def wire_name(self) -> str:
        return _FORM_FACTOR_WIRE[self][1]


_FORM_FACTOR_WIRE: dict[FormFactor, tuple[int, str]] = {
    FormFactor.VM: (1, "Virtual Machines"),
    FormFactor.HARDWARE: (2, "Hardware"),
    FormFactor.CLOUD: (3, "Cloud Services"),
}


@dataclass(frozen=True)
class ProductType:
    id: int
    code: str
    name: str
    form_factor: FormFactor
    serial_prefix: str | None
    parameters: tuple[ParameterSpec, ...]

    @functools.cached_property
    def _by_input_id(self) -> dict[int, ParameterSpec]:
        index = {spec.id: spec for spec in self.parameters}
        index.update({alias: spec for spec in self.parameters for alias in spec.aliases})
        return index

    def parameter(self, param_id: int) -> ParameterSpec:
        """The parameter with this id (or a legacy alias id such as FortiManager's 3)."""
        spec = self._by_input_id.get(param_id)
        if spec is None:
            raise InvalidParameter(
                f"Parameter id {param_id} is not a parameter of product type {self.id} "
                f"({self.name})"
            )
        return spec


@dataclass(frozen=True)
class Catalog:
    product_types: tuple[ProductType, ...]
    _by_id: dict[int, ProductType] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {p.id: p for p in self.product_types})

    def products(self) -> tuple[ProductType, ...]:
        return self.product_types

    def product(self, product_type_id: int) -> ProductType:
        found = self._by_id.get(product_type_id)
        if found is None:
            raise InvalidInput(f"product type {product_type_id} does not exist")
        return found

    def parse_parameters(self, product_type_id: int, raw: Sequence[object] | None) -> ParamValues:
        """Decode wire ``[{id, value}, ...]`` into canonical values, or raise InvalidParameter.

        ``raw`` is taken as it came off the wire: entries that are not objects are refused here.
        """
        product = self.product(product_type_id)
        if raw is not None and (
            isinstance(raw, str | bytes | Mapping) or not isinstance(raw, Sequence)
        ):  # iterating these would "work" wrongly, or not at all
            raise InvalidParameter("Parameters must be a list of {id, value} objects")
        given = _collect(product, raw or [])
        values: ParamValues = {}
        for spec in product.parameters:
            if spec.kind is ParamKind.READONLY:
                continue
            decoded = decode_or_default(spec, given.get(spec.id))
            if decoded is not None:
                values[spec.id] = decoded
        _check_cross_rules(product, values)
        return values

    def check_change(
        self,
        product_type_id: int,
        old: ParamValues,
        new: ParamValues,
        *,
        chosen_since: Mapping[tuple[int, str], datetime] | None = None,
        now: datetime | None = None,
    ) -> None:
        """Refuse lowering an increase-only parameter (R53), and dropping a value that must
        stay chosen for some days (FortiDLP's BPS add-on: 90) before they have passed.

        ``chosen_since`` says since when each (parameter id, value) of ``old`` has been chosen
        without a break; values it does not name count as chosen at ``now``.
        """
        for spec in self.product(product_type_id).parameters:
            if spec.keep_days and now is not None:
                _check_kept(spec, old.get(spec.id), new.get(spec.id), chosen_since or {}, now)
        for spec in self.product(product_type_id).parameters:
            before = old.get(spec.id)
            if not spec.increase_only or not isinstance(before, str):
                continue
            after = new.get(spec.id)
            if not isinstance(after, str) or spec.rank(after) < spec.rank(before):
                shown = after if isinstance(after, str) else "none"
                raise InvalidParameter(
                    f"Parameter id {spec.id} cannot be decreased from {before} to {shown}: "
                    f"{spec.label} may only increase"
                )

    def has_kept_values(self, product_type_id: int) -> bool:
        """Whether a value of this product must stay chosen for some days (keep_days)."""
        return any(spec.keep_days for spec in self.product(product_type_id).parameters)

    def chosen_since(
        self, product_type_id: int, history: Sequence[tuple[datetime, ParamValues]]
    ) -> dict[tuple[int, str], datetime]:
        """Since when each value with a keep_days rule has been chosen without a break, from
        the configuration's dated versions ``(valid_from, values)``, newest first."""
        found: dict[tuple[int, str], datetime] = {}
        for spec in self.product(product_type_id).parameters:
            for value, _ in spec.keep_days:
                for valid_from, values in history:
                    if value not in _items(values.get(spec.id)):
                        break
                    found[(spec.id, value)] = valid_from
        return found

    def to_wire(
        self, product_type_id: int, values: Mapping[int, ParamValue]
    ) -> list[dict[str, Any]]:
        """Canonical wire form: catalogue order, values always strings (§3.4, §5.2)."""
        entries: list[dict[str, Any]] = []
        for spec in self.product(product_type_id).parameters:
            value = values.get(spec.id, spec.default)
            if spec.kind is ParamKind.MULTIVALUE:
                items = value if isinstance(value, tuple) else ()
                for item in items or (NONE_MARKER,):
                    entries.append({"id": spec.id, "name": spec.name, "value": item})
            elif isinstance(value, str):
                entries.append({"id": spec.id, "name": spec.name, "value": value})
        return entries

    def metadata(self) -> list[dict[str, Any]]:
        """``productTypes`` of tools/metadata (§4.23), generated from the same data."""
        return [_product_metadata(product) for product in self.product_types]


# ---------------------------------------------------------------- wire decoding


def _collect(product: ProductType, raw: Iterable[object]) -> dict[int, list[object]]:
    """Raw values per canonical parameter id; read-only ids dropped (TF omits them, C9)."""
    given: dict[int, list[object]] = {}
    for position, entry in enumerate(raw, start=1):
        if not isinstance(entry, Mapping):
            raise InvalidParameter(
                f"Parameter entry {position} must be an object with id and value"
            )
        param_id = _decode_id(entry.get("id"), position)
        spec = product.parameter(param_id)
        if spec.kind is ParamKind.READONLY:
            continue
        value = entry.get("value")
        if value is None:
            raise InvalidParameter(f"Parameter id {param_id} has no value")
        given.setdefault(spec.id, []).append(value)
    return given


def _decode_id(raw: object, position: int) -> int:
    number = whole_number(raw)
    if number is None:
        if raw is None:
            raise InvalidParameter(f"Parameter entry {position} has no id")
        raise InvalidParameter(f"Parameter id {show(raw)} is not a number")
    return number


# ---------------------------------------------------------------- rules over time


def _check_kept(
    spec: ParameterSpec,
    before: ParamValue | None,
    after: ParamValue | None,
    chosen_since: Mapping[tuple[int, str], datetime],
    now: datetime,
) -> None:
    for value, days in spec.keep_days:
        if value not in _items(before) or value in _items(after):
            continue
        since = chosen_since.get((spec.id, value), now)
        until = since + timedelta(days=days)
        if now < until:
            raise InvalidParameter(
                f"Parameter id {spec.id} value {value} must stay enabled for at least {days} "
                f"days: it was chosen on {since:%Y-%m-%d} and can be removed from "
                f"{until:%Y-%m-%d %H:%M} UTC"
            )


def _items(value: ParamValue | None) -> tuple[str, ...]:
    """A multi-value parameter's values (``()`` when unset)."""
    return value if isinstance(value, tuple) else ()


# ---------------------------------------------------------------- cross-parameter rules


def _check_cross_rules(product: ProductType, values: ParamValues) -> None:
    for spec in product.parameters:
        value = values.get(spec.id)
        if spec.required_if is not None and value is None:
            _check_required_if(spec, spec.required_if, values)
        if isinstance(value, str) and spec.max_by is not None:
            _check_max_by(product, spec, spec.max_by, int(value), values)
        if isinstance(value, str) and spec.min_by is not None:
            _check_min_by(product, spec, spec.min_by, int(value), values)


def _check_required_if(spec: ParameterSpec, rule: RequiredIf, values: ParamValues) -> None:
    governor = values.get(rule.param_id)
    if isinstance(governor, tuple) and rule.value in governor:
        raise InvalidParameter(
            f"Parameter id {spec.id} ({spec.label}) is required when parameter id "
            f"{rule.param_id} includes {rule.value}"
        )


def _check_max_by(
    product: ProductType, spec: ParameterSpec, rule: MaxBy, number: int, values: ParamValues
) -> None:
    governor = values.get(rule.param_id)
    if not isinstance(governor, str):
        return
    limit = rule.limit_for(int(governor))
    if limit is not None and number > limit:
        other = product.parameter(rule.param_id)
        raise InvalidParameter(
            f"Parameter id {spec.id} value {number} exceeds the maximum of {limit} when "
            f"parameter id {rule.param_id} ({other.label}) is {governor}"
        )


def _check_min_by(
    product: ProductType, spec: ParameterSpec, rule: MinBy, number: int, values: ParamValues
) -> None:
    governor = values.get(rule.param_id)
    if not isinstance(governor, str):
        return
    minimum = rule.minimum_for(governor)
    if minimum is not None and number < minimum:
        other = product.parameter(rule.param_id)
        raise InvalidParameter(
            f"Parameter id {spec.id} value {number} is below the minimum of {minimum} when "
            f"parameter id {rule.param_id} ({other.label}) is {governor}"
        )


# ---------------------------------------------------------------- tools/metadata


def _product_metadata(product: ProductType) -> dict[str, Any]:
    return {
        "productTypeId": product.id,
        "name": product.name,
        "formFactor": {
            "formFactorId": product.form_factor.wire_id,
            "name": product.form_factor.wire_name,
        },
        "parameters": [_parameter_metadata(spec) for spec in product.parameters],
    }


def _parameter_metadata(spec: ParameterSpec) -> dict[str, Any]:
    numeric = spec.kind is ParamKind.NUMERIC
    valid = [
        {"value": v.value, "description": v.description + (" (legacy)" if v.legacy else "")}
        for v in spec.values
    ]
    valid += [{"value": str(c), "description": str(c)} for c in spec.choices]
    return {
        "parameterId": spec.id,
        # The OpenAPI example shows human names here ("Number of CPUs"), unlike configs.
        "name": spec.label,
        "type": str(spec.kind),
        "minValue": spec.min_value if numeric else None,
        "maxValue": spec.max_value if numeric else None,
        "step": spec.step if numeric else None,
        "validValues": valid,
    }
