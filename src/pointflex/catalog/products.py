"""The product catalogue file (``products.yaml``): its shape, its checks, and loading it.

Each model is one part of the file (the keys are described at the top of products.yaml). A file
that passes every check converts into the domain's frozen dataclasses (:class:`Catalog`,
:class:`ProductType`, :class:`ParameterSpec`), which hold the rules.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Self

from pydantic import (
    Field,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pointflex.catalog.schema import (
    FileModel,
    Flag,
    Place,
    Problem,
    Text,
    Whole,
    read_document,
    refused,
    within,
)
from pointflex.domain.catalog import Catalog, FormFactor, ProductType
from pointflex.domain.parameters import (
    AllowedValue,
    MaxBy,
    MinBy,
    ParameterSpec,
    ParamKind,
    ParamValue,
    RequiredIf,
    decode_numeric,
)
from pointflex.errors import InvalidParameter

SERIAL_PREFIX_LENGTHS = range(6, 9)  # a product's serial prefix has 6 to 8 characters


def _whole_pair(raw: object) -> tuple[int, int]:
    if (
        not isinstance(raw, list)
        or len(raw) != 2  # noqa: PLR2004 — a pair
        or any(isinstance(n, bool) or not isinstance(n, int) for n in raw)
    ):
        raise ValueError("must be a [from, max] pair of whole numbers")
    return raw[0], raw[1]


def _kept_value(raw: object) -> tuple[str, int]:
    if (
        not isinstance(raw, list)
        or len(raw) != 2  # noqa: PLR2004 — a pair
        or isinstance(raw[1], bool)
        or not isinstance(raw[1], int)
    ):
        raise ValueError("keep_days must be [value, days] pairs")
    if raw[1] < 1:
        raise ValueError("keep_days days must be at least 1")
    return str(raw[0]), raw[1]


Limit = Annotated[tuple[int, int], PlainValidator(_whole_pair)]
KeptValue = Annotated[tuple[str, int], PlainValidator(_kept_value)]


class ValueEntry(FileModel):
    value: Text
    description: Text
    legacy: Text | None = None  # the client that still sends a value FortiFlex retired

    def to_domain(self) -> AllowedValue:
        return AllowedValue(self.value, self.description, self.legacy)


class MaxByRule(FileModel):
    param: Whole
    limits: tuple[Limit, ...]

    def to_domain(self) -> MaxBy:
        return MaxBy(self.param, self.limits)

    @field_validator("limits")
    @classmethod
    def _ascending(cls, limits: tuple[Limit, ...]) -> tuple[Limit, ...]:
        if not limits:
            raise ValueError("must list at least one [from, max] pair")
        starts = [start for start, _ in limits]
        if starts != sorted(set(starts)):
            raise ValueError("must be in ascending order of from")
        return limits


class MinByRule(FileModel):
    param: Whole
    mins: dict[Text, Whole]

    def to_domain(self) -> MinBy:
        return MinBy(self.param, tuple(self.mins.items()))


class RequiredIfRule(FileModel):
    param: Whole
    value: Text

    def to_domain(self) -> RequiredIf:
        return RequiredIf(self.param, self.value)


class ParameterEntry(FileModel):
    id: Whole
    name: Text
    label: Text
    tf_name: Text
    kind: ParamKind
    required: Flag = False
    # Checked against ``kind``, declared above it; validated when absent too (MULTIVALUE: ()).
    default: ParamValue | None = Field(None, validate_default=True)
    min_value: Whole | None = Field(None, alias="min")
    max_value: Whole | None = Field(None, alias="max")
    step: Whole | None = None
    choices: tuple[Whole, ...] = ()
    values: tuple[ValueEntry, ...] = ()
    value_aliases: dict[Text, Text] = Field(default_factory=dict)
    aliases: tuple[Whole, ...] = ()
    increase_only: Flag = False
    max_by: MaxByRule | None = None
    min_by: MinByRule | None = None
    required_if: RequiredIfRule | None = None
    keep_days: tuple[KeptValue, ...] = ()

    @field_validator("default", mode="plain")
    @classmethod
    def _default_fits_kind(cls, raw: object, info: ValidationInfo) -> ParamValue | None:
        if info.data.get("kind") is ParamKind.MULTIVALUE:
            if raw is None:
                return ()
            if not isinstance(raw, list):
                raise ValueError("the default of a MULTIVALUE parameter is a list")
            return tuple(sorted({str(item) for item in raw}))
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, str | int):
            raise ValueError("default must be a string or a whole number")
        return str(raw)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        spec = self.to_spec()
        if spec.kind is ParamKind.NUMERIC:
            _check_numeric(spec)
        elif (found := self._numeric_only_keys()) is not None:
            raise Problem("min, max, step and choices are for NUMERIC parameters", found)
        if spec.kind in (ParamKind.SINGLEVALUE, ParamKind.MULTIVALUE):
            _check_value_list(spec)
        elif spec.values or spec.value_aliases:
            where = "values" if spec.values else "value_aliases"
            raise Problem("values are for SINGLEVALUE and MULTIVALUE parameters", where)
        _check_options(spec)
        return self

    def _numeric_only_keys(self) -> str | None:
        given = {
            "min": self.min_value is not None,
            "max": self.max_value is not None,
            "step": bool(self.step),
            "choices": bool(self.choices),
        }
        return next((key for key, present in given.items() if present), None)

    def to_spec(self) -> ParameterSpec:
        return ParameterSpec(
            id=self.id,
            name=self.name,
            label=self.label,
            tf_name=self.tf_name,
            kind=self.kind,
            required=self.required,
            default=self.default,
            min_value=self.min_value,
            max_value=self.max_value,
            step=self.step,
            choices=self.choices,
            values=tuple(value.to_domain() for value in self.values),
            value_aliases=tuple(self.value_aliases.items()),
            aliases=self.aliases,
            increase_only=self.increase_only,
            max_by=None if self.max_by is None else self.max_by.to_domain(),
            min_by=None if self.min_by is None else self.min_by.to_domain(),
            required_if=None if self.required_if is None else self.required_if.to_domain(),
            keep_days=self.keep_days,
        )


def _check_numeric(spec: ParameterSpec) -> None:
    low, high, step = spec.min_value, spec.max_value, spec.step
    if low is None or high is None or low > high:
        raise Problem("NUMERIC needs min <= max", "min" if low is None else "max")
    if spec.choices:
        if step is not None or list(spec.choices) != sorted(set(spec.choices)):
            raise Problem("choices must ascend and replace step", "choices")
        if spec.choices[0] < low or spec.choices[-1] > high:
            raise Problem("choices must lie within min-max", "choices")
    elif step is None or step < 1 or low % step:
        # "must be a multiple of step" is only true when min itself is one.
        raise Problem("step must be >= 1 and divide min", "step")
    if isinstance(spec.default, str):
        try:
            decode_numeric(spec, spec.default)
        except InvalidParameter as exc:
            raise Problem(exc.message, "default") from exc


def _check_value_list(spec: ParameterSpec) -> None:
    if not spec.values:
        raise Problem("values must list at least one allowed value", "values")
    seen: set[str] = set()
    for index, value in enumerate(spec.allowed):
        if value.upper() in seen:  # values are matched case-insensitively
            raise Problem(f"value {value} appears more than once", "values", index, "value")
        seen.add(value.upper())
    for alias, target in spec.value_aliases:
        if target not in spec.allowed:
            raise Problem("value_aliases must map to allowed values", "value_aliases", alias)
    defaults = spec.default if isinstance(spec.default, tuple) else (spec.default,)
    if any(d is not None and d not in spec.allowed for d in defaults):
        raise Problem(f"default {spec.default} is not an allowed value", "default")


def _check_options(spec: ParameterSpec) -> None:
    if spec.required and spec.default not in (None, ()):
        raise Problem("a required parameter has no default", "default")
    if spec.increase_only and spec.kind not in (ParamKind.NUMERIC, ParamKind.SINGLEVALUE):
        message = "only NUMERIC and SINGLEVALUE parameters can be increase_only"
        raise Problem(message, "increase_only")
    if spec.keep_days and spec.kind is not ParamKind.MULTIVALUE:
        raise Problem("keep_days is for MULTIVALUE parameters", "keep_days")
    for index, (value, _) in enumerate(spec.keep_days):
        if value not in spec.allowed:
            message = "keep_days names a value the parameter does not allow"
            raise Problem(message, "keep_days", index)


class ProductEntry(FileModel):
    id: Whole
    code: Text
    name: Text
    form_factor: FormFactor
    serial_prefix: Text | None = None
    parameters: tuple[ParameterEntry, ...] = ()

    @model_validator(mode="after")
    def _prefix_fits_form_factor(self) -> Self:
        prefix = self.serial_prefix
        if self.form_factor is FormFactor.HARDWARE:
            if prefix is not None:
                message = "hardware serials are supplied by users; no serial_prefix"
                raise Problem(message, "serial_prefix")
        elif prefix is None or not _is_serial_prefix(prefix):
            raise Problem("serial_prefix must be 6-8 upper-case letters or digits", "serial_prefix")
        return self

    @model_validator(mode="after")
    def _rules_refer_to_this_product(self) -> Self:
        specs = {entry.id: entry.to_spec() for entry in self.parameters}
        for index, entry in enumerate(self.parameters):
            with within("parameters", index):
                _check_rules(entry, specs)
        return self

    def to_domain(self) -> ProductType:
        return ProductType(
            id=self.id,
            code=self.code,
            name=self.name,
            form_factor=self.form_factor,
            serial_prefix=self.serial_prefix,
            parameters=tuple(entry.to_spec() for entry in self.parameters),
        )


def _is_serial_prefix(text: str) -> bool:
    return len(text) in SERIAL_PREFIX_LENGTHS and text.isalnum() and text.isupper()


def _check_rules(entry: ParameterEntry, specs: Mapping[int, ParameterSpec]) -> None:
    """``entry``'s rules name parameters of its product, of the kind each rule needs."""
    if entry.max_by is not None:
        _expect(specs.get(entry.max_by.param), ParamKind.NUMERIC, {}, ("max_by",))
    if entry.min_by is not None:
        keys: dict[str, Place] = {key: ("mins", key) for key in entry.min_by.mins}
        _expect(specs.get(entry.min_by.param), ParamKind.SINGLEVALUE, keys, ("min_by",))
    if entry.required_if is not None:
        needed: dict[str, Place] = {entry.required_if.value: ("value",)}
        rule: Place = ("required_if",)
        _expect(specs.get(entry.required_if.param), ParamKind.MULTIVALUE, needed, rule)


def _expect(
    other: ParameterSpec | None, kind: ParamKind, values: dict[str, Place], rule: Place
) -> None:
    """A rule's parameter is of ``kind`` in this product and allows the ``values`` it names."""
    if other is None or other.kind is not kind:
        raise Problem(f"a rule must refer to a {kind} parameter of this product", *rule, "param")
    for value, place in values.items():
        if value not in other.allowed:
            message = f"a rule names a value parameter {other.id} does not allow"
            raise Problem(message, *rule, *place)


class CatalogueFile(FileModel):
    """``products.yaml``: every product type, in the order tools/metadata lists them."""

    products: tuple[ProductEntry, ...]

    @model_validator(mode="after")
    def _unique(self) -> Self:
        entries = list(enumerate(self.products))
        _check_unique("product id", ((p.id, (i, "id")) for i, p in entries))
        _check_unique("product code", ((p.code, (i, "code")) for i, p in entries))
        prefixes = ((p.serial_prefix, (i, "serial_prefix")) for i, p in entries if p.serial_prefix)
        _check_unique("prefix", prefixes)
        # Parameter ids are global in FortiFlex: one id never means two things.
        _check_unique("parameter id", self._parameter_ids())
        return self

    def _parameter_ids(self) -> Iterable[tuple[object, Place]]:
        for i, product in enumerate(self.products):
            for j, entry in enumerate(product.parameters):
                yield entry.id, (i, "parameters", j, "id")
                for k, alias in enumerate(entry.aliases):
                    yield alias, (i, "parameters", j, "aliases", k)

    def to_domain(self) -> Catalog:
        return Catalog(tuple(product.to_domain() for product in self.products))


def _check_unique(what: str, items: Iterable[tuple[object, Place]]) -> None:
    seen: set[object] = set()
    for item, place in items:
        if item in seen:
            raise Problem(f"{what} {item} appears more than once", "products", *place)
        seen.add(item)


# ---------------------------------------------------------------- loading


@functools.cache
def default_catalog() -> Catalog:
    """The catalogue shipped with the package, loaded and checked once."""
    return load_catalog(resources.files("pointflex.catalog").joinpath("products.yaml"))


def load_catalog(path: Path | Traversable) -> Catalog:
    """Load and check a catalogue file; problems raise InvalidInput naming their place."""
    where = f"catalogue {path.name}"
    return parse_catalog(read_document(path, where), where)


def parse_catalog(data: object, where: str = "catalogue") -> Catalog:
    """Check catalogue data (as read from its file) and build the domain's catalogue."""
    try:
        return CatalogueFile.model_validate(data).to_domain()
    except ValidationError as exc:
        raise refused(exc, where) from exc
