"""Product catalogue: product types, their parameters, and how parameter values travel.

The catalogue itself is data (``pointflex/catalog/products.yaml``); this module loads it once,
checks it, and implements the rules around it: wire decoding with the input leniency clients
need (spec §3.4), range and cross-parameter checks (§8.1, R53, R54), the canonical wire encoding
(always strings, repeated ids for lists, ``"NONE"`` for an empty list) and ``tools/metadata``.

Canonical values (:data:`ParamValues`) map a parameter id to a string for numeric and
single-value parameters (numbers normalised: ``"02"`` -> ``"2"``) and to a sorted tuple of
distinct strings for multi-value parameters (``()`` = none). Read-only parameters are never
produced by :meth:`Catalog.parse_parameters`: their values are derived by the server.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from pointflex.errors import InvalidInput, InvalidParameter

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
        if found is None and (number := _whole_number(text)) is not None:
            found = self._lookup.get(str(number))
        return found

    def rank(self, value: str) -> int:
        """Order used by increase-only checks: the number, or the position in ``values``."""
        if self.kind is ParamKind.NUMERIC:
            return int(value)
        return self.allowed.index(value)


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
            decoded = _decode_or_default(spec, given.get(spec.id))
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
    number = _whole_number(raw)
    if number is None:
        if raw is None:
            raise InvalidParameter(f"Parameter entry {position} has no id")
        raise InvalidParameter(f"Parameter id {_show(raw)} is not a number")
    return number


def _decode_or_default(spec: ParameterSpec, raw: list[object] | None) -> ParamValue | None:
    if raw is None:
        if spec.required:
            raise InvalidParameter(f"Parameter id {spec.id} ({spec.label}) is required")
        return spec.default
    if spec.kind is ParamKind.MULTIVALUE:
        return _decode_multi(spec, raw)
    if len(raw) > 1:
        raise InvalidParameter(f"Parameter id {spec.id} is given more than once")
    if spec.kind is ParamKind.NUMERIC:
        return _decode_numeric(spec, raw[0])
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
            f"Parameter id {spec.id} value {_show(text)} is not {_allowed_phrase(spec)}"
        )
    return found


def _decode_numeric(spec: ParameterSpec, raw: object) -> str:
    number = _whole_number(raw)
    if number is None:
        raise InvalidParameter(f"Parameter id {spec.id} value {_show(raw)} is not a whole number")
    _check_numeric(spec, number)
    return str(number)


def _check_numeric(spec: ParameterSpec, number: int) -> None:
    assert spec.min_value is not None and spec.max_value is not None  # loader guarantees
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
    number = _whole_number(raw)
    if number is None:
        raise InvalidParameter(f"Parameter id {spec.id} value {_show(raw)} is not a valid value")
    return str(number)


def _whole_number(raw: object) -> int | None:
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


def _show(raw: object) -> str:
    text = str(raw)
    return text if len(text) <= 40 else text[:37] + "..."


def _allowed_phrase(spec: ParameterSpec) -> str:
    if len(spec.values) > _MAX_LISTED_VALUES:
        return "an allowed value (see tools/metadata)"
    return "one of " + ", ".join(spec.allowed)


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


# ---------------------------------------------------------------- loading


@functools.cache
def default_catalog() -> Catalog:
    """The catalogue shipped with the package, loaded and checked once."""
    return load_catalog(resources.files("pointflex").joinpath("catalog", "products.yaml"))


def load_catalog(path: Path | Traversable) -> Catalog:
    """Load and check a catalogue file; problems raise InvalidInput naming what is wrong."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Catalog(_parse_products(data, where=f"catalogue {path.name}"))


def _parse_products(data: object, where: str) -> tuple[ProductType, ...]:
    items = _list(_mapping(data, where).get("products"), f"{where}: products")
    products = tuple(_parse_product(item, where) for item in items)
    _check_unique([p.id for p in products], f"{where}: product id")
    _check_unique([p.code for p in products], f"{where}: product code")
    _check_unique([p.serial_prefix for p in products if p.serial_prefix], f"{where}: prefix")
    # Parameter ids are global in FortiFlex: one id never means two things.
    every_id = [i for p in products for s in p.parameters for i in (s.id, *s.aliases)]
    _check_unique(every_id, f"{where}: parameter id")
    return products


def _parse_product(data: object, where: str) -> ProductType:
    fields = _mapping(data, f"{where}: product")
    here = f"{where}: product {fields.get('id')}"
    product = ProductType(
        id=_int(fields, "id", here),
        code=_str(fields, "code", here),
        name=_str(fields, "name", here),
        form_factor=FormFactor(_choice(fields, "form_factor", list(FormFactor), here)),
        serial_prefix=_opt_str(fields, "serial_prefix", here),
        parameters=tuple(
            _parse_parameter(item, here)
            for item in _list(fields.get("parameters", []), f"{here}: parameters")
        ),
    )
    _check_prefix(product, here)
    _check_references(product, here)
    return product


def _check_prefix(product: ProductType, here: str) -> None:
    prefix = product.serial_prefix
    if product.form_factor is FormFactor.HARDWARE:
        if prefix is not None:
            raise InvalidInput(f"{here}: hardware serials are supplied by users; no serial_prefix")
        return
    if prefix is None or not (6 <= len(prefix) <= 8 and prefix.isalnum() and prefix.isupper()):
        raise InvalidInput(f"{here}: serial_prefix must be 6-8 upper-case letters or digits")


def _parse_parameter(data: object, where: str) -> ParameterSpec:
    fields = _mapping(data, f"{where}: parameter")
    here = f"{where} parameter {fields.get('id')}"
    kind = ParamKind(_choice(fields, "kind", list(ParamKind), here))
    spec = ParameterSpec(
        id=_int(fields, "id", here),
        name=_str(fields, "name", here),
        label=_str(fields, "label", here),
        tf_name=_str(fields, "tf_name", here),
        kind=kind,
        required=_bool(fields, "required", here),
        default=_default(fields.get("default"), kind, here),
        min_value=_opt_int(fields, "min", here),
        max_value=_opt_int(fields, "max", here),
        step=_opt_int(fields, "step", here),
        choices=tuple(_ints(fields.get("choices", []), f"{here}: choices")),
        values=tuple(_allowed_value(v, here) for v in _list(fields.get("values", []), here)),
        value_aliases=tuple(
            (str(k), str(v)) for k, v in _mapping(fields.get("value_aliases", {}), here).items()
        ),
        aliases=tuple(_ints(fields.get("aliases", []), f"{here}: aliases")),
        increase_only=_bool(fields, "increase_only", here),
        max_by=_max_by(fields.get("max_by"), here),
        min_by=_min_by(fields.get("min_by"), here),
        required_if=_required_if(fields.get("required_if"), here),
        keep_days=_keep_days(fields.get("keep_days"), here),
    )
    _check_spec(spec, here)
    return spec


def _allowed_value(data: object, here: str) -> AllowedValue:
    fields = _mapping(data, f"{here}: values")
    return AllowedValue(
        _str(fields, "value", here),
        _str(fields, "description", here),
        _opt_str(fields, "legacy", here),
    )


def _keep_days(raw: object, here: str) -> tuple[tuple[str, int], ...]:
    if raw is None:
        return ()
    pairs: list[tuple[str, int]] = []
    for item in _list(raw, f"{here}: keep_days"):
        pair = _list(item, f"{here}: keep_days")
        if len(pair) != 2 or not isinstance(pair[1], int) or isinstance(pair[1], bool):
            raise InvalidInput(f"{here}: keep_days must be [value, days] pairs")
        if pair[1] < 1:
            raise InvalidInput(f"{here}: keep_days days must be at least 1")
        pairs.append((str(pair[0]), pair[1]))
    return tuple(pairs)


def _default(raw: object, kind: ParamKind, here: str) -> ParamValue | None:
    if kind is ParamKind.MULTIVALUE:
        items = _list(raw if raw is not None else [], f"{here}: default")
        return tuple(sorted({str(item) for item in items}))
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise InvalidInput(f"{here}: default must be a string or a whole number")
    return str(raw)


def _max_by(raw: object, here: str) -> MaxBy | None:
    if raw is None:
        return None
    fields = _mapping(raw, f"{here}: max_by")
    limits = [_ints(pair, f"{here}: max_by limits") for pair in _list(fields.get("limits"), here)]
    if any(len(pair) != 2 for pair in limits) or not limits:
        raise InvalidInput(f"{here}: max_by limits must be [from, max] pairs")
    if [p[0] for p in limits] != sorted({p[0] for p in limits}):
        raise InvalidInput(f"{here}: max_by limits must be in ascending order of from")
    return MaxBy(_int(fields, "param", here), tuple((p[0], p[1]) for p in limits))


def _min_by(raw: object, here: str) -> MinBy | None:
    if raw is None:
        return None
    fields = _mapping(raw, f"{here}: min_by")
    mins = _mapping(fields.get("mins"), f"{here}: min_by mins")
    return MinBy(
        _int(fields, "param", here),
        tuple((str(k), _int(mins, k, f"{here}: min_by")) for k in mins),
    )


def _required_if(raw: object, here: str) -> RequiredIf | None:
    if raw is None:
        return None
    fields = _mapping(raw, f"{here}: required_if")
    return RequiredIf(_int(fields, "param", here), _str(fields, "value", here))


def _check_spec(spec: ParameterSpec, here: str) -> None:
    if spec.kind is ParamKind.NUMERIC:
        _check_numeric_spec(spec, here)
    elif spec.min_value is not None or spec.max_value is not None or spec.step or spec.choices:
        raise InvalidInput(f"{here}: min, max, step and choices are for NUMERIC parameters")
    if spec.kind in (ParamKind.SINGLEVALUE, ParamKind.MULTIVALUE):
        _check_value_list(spec, here)
    elif spec.values or spec.value_aliases:
        raise InvalidInput(f"{here}: values are for SINGLEVALUE and MULTIVALUE parameters")
    if spec.required and spec.default not in (None, ()):
        raise InvalidInput(f"{here}: a required parameter has no default")
    if spec.increase_only and spec.kind not in (ParamKind.NUMERIC, ParamKind.SINGLEVALUE):
        raise InvalidInput(f"{here}: only NUMERIC and SINGLEVALUE parameters can be increase_only")
    if spec.keep_days and spec.kind is not ParamKind.MULTIVALUE:
        raise InvalidInput(f"{here}: keep_days is for MULTIVALUE parameters")
    if any(value not in spec.allowed for value, _ in spec.keep_days):
        raise InvalidInput(f"{here}: keep_days names a value the parameter does not allow")


def _check_numeric_spec(spec: ParameterSpec, here: str) -> None:
    low, high, step = spec.min_value, spec.max_value, spec.step
    if low is None or high is None or low > high:
        raise InvalidInput(f"{here}: NUMERIC needs min <= max")
    if spec.choices:
        if step is not None or list(spec.choices) != sorted(set(spec.choices)):
            raise InvalidInput(f"{here}: choices must ascend and replace step")
        if spec.choices[0] < low or spec.choices[-1] > high:
            raise InvalidInput(f"{here}: choices must lie within min-max")
    elif step is None or step < 1 or low % step:
        # "must be a multiple of step" is only true when min itself is one.
        raise InvalidInput(f"{here}: step must be >= 1 and divide min")
    if isinstance(spec.default, str):
        try:
            _decode_numeric(spec, spec.default)
        except InvalidParameter as exc:
            raise InvalidInput(f"{here}: default: {exc.message}") from exc


def _check_value_list(spec: ParameterSpec, here: str) -> None:
    if not spec.values:
        raise InvalidInput(f"{here}: values must list at least one allowed value")
    _check_unique([v.upper() for v in spec.allowed], f"{here}: value")
    if any(target not in spec.allowed for _, target in spec.value_aliases):
        raise InvalidInput(f"{here}: value_aliases must map to allowed values")
    defaults = spec.default if isinstance(spec.default, tuple) else (spec.default,)
    if any(d is not None and d not in spec.allowed for d in defaults):
        raise InvalidInput(f"{here}: default {spec.default} is not an allowed value")


def _check_references(product: ProductType, here: str) -> None:
    kinds = {spec.id: spec for spec in product.parameters}
    for spec in product.parameters:
        where = f"{here} parameter {spec.id}"
        if spec.max_by is not None:
            _expect_kind(kinds.get(spec.max_by.param_id), ParamKind.NUMERIC, (), where)
        if spec.min_by is not None:
            keys = tuple(k for k, _ in spec.min_by.mins)
            _expect_kind(kinds.get(spec.min_by.param_id), ParamKind.SINGLEVALUE, keys, where)
        if spec.required_if is not None:
            needed = (spec.required_if.value,)
            _expect_kind(kinds.get(spec.required_if.param_id), ParamKind.MULTIVALUE, needed, where)


def _expect_kind(
    other: ParameterSpec | None, kind: ParamKind, values: tuple[str, ...], where: str
) -> None:
    if other is None or other.kind is not kind:
        raise InvalidInput(f"{where}: a rule must refer to a {kind} parameter of this product")
    if any(value not in other.allowed for value in values):
        raise InvalidInput(f"{where}: a rule names a value parameter {other.id} does not allow")


# Small typed readers for YAML data: each names where the problem is.


def _mapping(data: object, where: str) -> Mapping[str, object]:
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{where}: expected a mapping")
    return {str(k): v for k, v in data.items()}


def _list(data: object, where: str) -> list[object]:
    if not isinstance(data, list):
        raise InvalidInput(f"{where}: expected a list")
    return data


def _str(fields: Mapping[str, object], key: str, where: str) -> str:
    value = fields.get(key)
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
        raise InvalidInput(f"{where}: {key} must be a non-empty string")
    return str(value)


def _opt_str(fields: Mapping[str, object], key: str, where: str) -> str | None:
    return None if fields.get(key) is None else _str(fields, key, where)


def _int(fields: Mapping[str, object], key: str, where: str) -> int:
    value = fields.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(f"{where}: {key} must be a whole number")
    return value


def _opt_int(fields: Mapping[str, object], key: str, where: str) -> int | None:
    return None if fields.get(key) is None else _int(fields, key, where)


def _ints(data: object, where: str) -> list[int]:
    numbers: list[int] = []
    for item in _list(data, where):
        if not isinstance(item, int) or isinstance(item, bool):
            raise InvalidInput(f"{where}: expected whole numbers")
        numbers.append(item)
    return numbers


def _bool(fields: Mapping[str, object], key: str, where: str) -> bool:
    value = fields.get(key, False)
    if not isinstance(value, bool):
        raise InvalidInput(f"{where}: {key} must be true or false")
    return value


def _choice(fields: Mapping[str, object], key: str, allowed: list[str], where: str) -> str:
    value = fields.get(key)
    if value not in allowed:
        raise InvalidInput(f"{where}: {key} must be one of {', '.join(allowed)}")
    return str(value)


def _check_unique(items: Sequence[object], what: str) -> None:
    seen: set[object] = set()
    for item in items:
        if item in seen:
            raise InvalidInput(f"{what} {item} appears more than once")
        seen.add(item)
