"""Configurations: ``/configs`` (list), ``/configs/new`` and ``/configs/{id}`` (forms generated
from the catalogue), a live points-per-day estimate, enable and disable (R18, R51–R54)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ParamSpec, TypeVar

from fastapi import APIRouter, Depends, Form, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from pointflex.bootstrap import Runtime
from pointflex.domain.catalog import (
    FormFactor,
    ParameterSpec,
    ParamKind,
    ParamValues,
    ProductType,
)
from pointflex.domain.configs import Config
from pointflex.domain.programs import Program
from pointflex.errors import PointflexError
from pointflex.services.configs import configurations as configs
from pointflex.services.context import Actor
from pointflex.services.points import prices
from pointflex.services.points.programs import list_programs
from pointflex.web.deps import portal_actor, require_write, runtime
from pointflex.web.flash import flash, redirect
from pointflex.web.render import render

router = APIRouter()

P = ParamSpec("P")
T = TypeVar("T")

FORM_FACTOR_LABELS = {
    FormFactor.VM: "Virtual machines",
    FormFactor.HARDWARE: "Hardware",
    FormFactor.CLOUD: "Cloud services",
}

# What the form shows for each parameter value: a string, or a list for multi-value ones.
FormValues = dict[int, str | list[str]]


@dataclass(frozen=True)
class ConfigRow:
    config: Config
    product: ProductType
    summary: str
    entitlements: int


_PARAMETER_ERROR = re.compile(r"^Parameter id (\d+)")


def error_param(error: str | None) -> int | None:
    """The parameter a service's message is about ("Parameter id 10 value ..."), if any."""
    found = _PARAMETER_ERROR.match(error or "")
    return int(found.group(1)) if found else None


def field_name(param_id: int) -> str:
    return f"p{param_id}"


def help_for(product: ProductType, spec: ParameterSpec) -> str:
    """The allowed range of a parameter, in words, shown under its field."""
    parts: list[str] = []
    if spec.kind is ParamKind.NUMERIC:
        if spec.choices:
            parts.append(f"One of {', '.join(str(c) for c in spec.choices)}.")
        else:
            step = f" in steps of {spec.step}" if spec.step and spec.step > 1 else ""
            parts.append(f"A whole number from {spec.min_value} to {spec.max_value}{step}.")
    elif spec.kind is ParamKind.MULTIVALUE:
        parts.append("Tick any number, or none.")
    if spec.max_by is not None:
        caps = ", ".join(f"{limit} from {start}" for start, limit in spec.max_by.limits)
        governor = product.parameter(spec.max_by.param_id).label
        parts.append(f"The maximum depends on {governor}: {caps}.")
    if spec.min_by is not None:
        mins = ", ".join(f"{minimum} for {value}" for value, minimum in spec.min_by.mins)
        governor = product.parameter(spec.min_by.param_id).label
        parts.append(f"The minimum depends on {governor}: {mins}.")
    if spec.increase_only:
        parts.append("Can only be increased later.")
    if spec.required:
        parts.append("Required.")
    elif spec.default not in (None, ()):
        shown = ", ".join(spec.default) if isinstance(spec.default, tuple) else spec.default
        parts.append(f"Default: {shown}.")
    return " ".join(parts)


FIELD_HELPERS: dict[str, Any] = {"field_name": field_name, "help_for": help_for}


def product_groups(rt: Runtime) -> list[tuple[str, list[ProductType]]]:
    """Product types for a <select>, grouped by form factor."""
    return [
        (label, [p for p in rt.catalog.products() if p.form_factor is factor])
        for factor, label in FORM_FACTOR_LABELS.items()
    ]


def editable(product: ProductType) -> list[ParameterSpec]:
    return [s for s in product.parameters if s.kind is not ParamKind.READONLY]


def summary(product: ProductType, values: ParamValues) -> str:
    """``Number of CPUs: 2 · Service Package: ENT`` (empty lists shown as "none")."""
    parts: list[str] = []
    for spec in editable(product):
        value = values.get(spec.id)
        if value is None:
            continue
        shown = (", ".join(value) or "none") if isinstance(value, tuple) else value
        parts.append(f"{spec.label}: {shown}")
    return " · ".join(parts)


def form_values(product: ProductType, values: ParamValues | None) -> FormValues:
    """Stored (or default) values as the form shows them."""
    found: FormValues = {}
    for spec in editable(product):
        value = values.get(spec.id) if values is not None else spec.default
        if value is None and values is not None:
            value = spec.default
        if isinstance(value, tuple):
            found[spec.id] = list(value)
        elif value is not None:
            found[spec.id] = value
    return found


def posted_values(product: ProductType, form: FormData) -> FormValues:
    """The parameter fields of a posted form, as the form shows them."""
    found: FormValues = {}
    for spec in editable(product):
        name = field_name(spec.id)
        if spec.kind is ParamKind.MULTIVALUE:
            found[spec.id] = [str(v) for v in form.getlist(name)]
        else:
            text = str(form.get(name) or "").strip()
            if text:
                found[spec.id] = text
    return found


def wire_parameters(product: ProductType, values: FormValues) -> list[dict[str, Any]]:
    """Form values as the services take them (wire ``[{id, value}]``): an empty field is left
    out (its default applies, or "required" is reported), no box ticked is ``NONE``."""
    entries: list[dict[str, Any]] = []
    for spec in editable(product):
        value = values.get(spec.id)
        if spec.kind is ParamKind.MULTIVALUE:
            chosen = value if isinstance(value, list) else []
            for item in chosen or ["NONE"]:
                entries.append({"id": spec.id, "value": item})
        elif isinstance(value, str) and value:
            entries.append({"id": spec.id, "value": value})
    return entries


def rows_for(rt: Runtime, actor: Actor, programs: list[Program]) -> list[ConfigRow]:
    found = [c for p in programs for c in configs.list_configs(rt, actor, p.serial)]
    counts = configs.entitlement_counts(rt, actor, [c.id for c in found])
    rows: list[ConfigRow] = []
    for config in found:
        product = rt.catalog.product(config.product_type_id)
        rows.append(
            ConfigRow(config, product, summary(product, config.values), counts.get(config.id, 0))
        )
    return rows


@router.get("/configs")
def configs_page(request: Request, actor: Actor = Depends(portal_actor)) -> Response:
    rt = runtime(request)
    rows = rows_for(rt, actor, list_programs(rt, actor))
    return render(request, "configs.html", title="Configurations", rows=rows)


def _product_or_none(rt: Runtime, raw: str | None) -> ProductType | None:
    try:
        return rt.catalog.product(int(raw)) if raw else None
    except (ValueError, PointflexError):
        return None


def _new_form(
    request: Request,
    actor: Actor,
    *,
    product: ProductType | None,
    values: FormValues,
    name: str = "",
    program_serial: str = "",
    error: str | None = None,
) -> Response:
    rt = runtime(request)
    return render(
        request,
        "config_new.html",
        title="New configuration",
        programs=list_programs(rt, actor),
        groups=product_groups(rt),
        ptype=product,
        values=values,
        name=name,
        program_serial=program_serial,
        error=error,
        error_param=error_param(error),
        **FIELD_HELPERS,
    )


@router.get("/configs/new")
def new_config_page(
    request: Request, product_type_id: str | None = None, actor: Actor = Depends(require_write)
) -> Response:
    product = _product_or_none(runtime(request), product_type_id)
    values = form_values(product, None) if product else {}
    return _new_form(request, actor, product=product, values=values)


@router.get("/configs/fields")
def parameter_fields(
    request: Request, product_type_id: str | None = None, actor: Actor = Depends(portal_actor)
) -> Response:
    """The htmx fragment of parameter fields for the chosen product type."""
    product = _product_or_none(runtime(request), product_type_id)
    values = form_values(product, None) if product else {}
    return render(request, "_config_fields.html", ptype=product, values=values, **FIELD_HELPERS)


@router.post("/configs/estimate")
async def estimate_fragment(request: Request, actor: Actor = Depends(portal_actor)) -> Response:
    """The htmx fragment of the points-per-day estimate for the form's current values."""
    form = await request.form()
    rt = runtime(request)
    product = _product_or_none(rt, str(form.get("product_type_id") or ""))
    program_serial = str(form.get("program_serial") or "")
    points: Decimal | None = None
    error: str | None = None
    if product is None or not program_serial:
        error = "Choose a program and a product type to see the estimate."
    else:
        parameters = wire_parameters(product, posted_values(product, form))
        try:
            points, _, _ = await _in_thread(
                prices.estimate,
                rt,
                actor,
                program_serial=program_serial,
                product_type_id=product.id,
                parameters=parameters,
                count=1,
            )
        except PointflexError as exc:
            error = exc.message
    return render(request, "_config_estimate.html", points=points, error=error)


async def _in_thread(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Services are synchronous: run them off the event loop, as plain routes are."""
    return await run_in_threadpool(func, *args, **kwargs)


@router.post("/configs/new")
async def create_config(request: Request, actor: Actor = Depends(require_write)) -> Response:
    form = await request.form()
    rt = runtime(request)
    product = _product_or_none(rt, str(form.get("product_type_id") or ""))
    name = str(form.get("name") or "")
    program_serial = str(form.get("program_serial") or "")
    values = posted_values(product, form) if product else {}
    if product is None:
        return await _in_thread(
            _new_form,
            request,
            actor,
            product=None,
            values={},
            name=name,
            program_serial=program_serial,
            error="Choose a product type.",
        )
    try:
        made = await _in_thread(
            configs.create_config,
            rt,
            actor,
            program_serial=program_serial,
            name=name,
            product_type_id=product.id,
            parameters=wire_parameters(product, values),
        )
    except PointflexError as exc:
        return await _in_thread(
            _new_form,
            request,
            actor,
            product=product,
            values=values,
            name=name,
            program_serial=program_serial,
            error=exc.message,
        )
    flash(request, f"Configuration {made.name} created.")
    return redirect(request, f"/configs/{made.id}")


def _edit_page(
    request: Request,
    actor: Actor,
    config: Config,
    *,
    values: FormValues | None = None,
    name: str | None = None,
    error: str | None = None,
) -> Response:
    rt = runtime(request)
    product = rt.catalog.product(config.product_type_id)
    count = configs.entitlement_counts(rt, actor, [config.id]).get(config.id, 0)
    return render(
        request,
        "config_edit.html",
        title=f"Configuration {config.name}",
        config=config,
        ptype=product,
        summary=summary(product, config.values),
        values=values if values is not None else form_values(product, config.values),
        name=name if name is not None else config.name,
        count=count,
        error=error,
        error_param=error_param(error),
        **FIELD_HELPERS,
    )


@router.get("/configs/{config_id}")
def config_page(request: Request, config_id: int, actor: Actor = Depends(portal_actor)) -> Response:
    config = configs.get_config(runtime(request), actor, config_id)
    return _edit_page(request, actor, config)


@router.post("/configs/{config_id}")
async def update_config(
    request: Request, config_id: int, actor: Actor = Depends(require_write)
) -> Response:
    form = await request.form()
    rt = runtime(request)
    config = await _in_thread(configs.get_config, rt, actor, config_id)
    product = rt.catalog.product(config.product_type_id)
    values = posted_values(product, form)
    name = str(form.get("name") or "")
    try:
        await _in_thread(
            configs.update_config,
            rt,
            actor,
            config_id,
            name=name,
            parameters=wire_parameters(product, values),
        )
    except PointflexError as exc:
        return await _in_thread(
            _edit_page, request, actor, config, values=values, name=name, error=exc.message
        )
    flash(request, f"Configuration {name.strip()} saved.")
    return redirect(request, f"/configs/{config_id}")


@router.post("/configs/{config_id}/status")
def set_status(
    request: Request,
    config_id: int,
    status: str = Form(),
    back: str = Form(""),
    actor: Actor = Depends(require_write),
) -> Response:
    config = configs.set_config_status(runtime(request), actor, config_id, status)
    word = "enabled" if config.status == configs.ACTIVE else "disabled"
    flash(request, f"Configuration {config.name} {word}.")
    # Back to the list or the configuration's page; never to another site.
    return redirect(request, "/configs" if back == "list" else f"/configs/{config_id}")
