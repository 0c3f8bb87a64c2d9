"""``/create``: new VM, hardware and cloud entitlements (R24–R30, R37, R38, R44)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fastapi import APIRouter, Depends, Form, Request, Response

from pointflex.bootstrap import Runtime
from pointflex.domain.catalog import FormFactor, ProductType
from pointflex.domain.configs import Config
from pointflex.domain.dates import parse_wire_day
from pointflex.domain.ends import FOLLOW_PROGRAM, RequestedEnd
from pointflex.errors import InvalidInput, PointflexError
from pointflex.services.configs import configurations as configs
from pointflex.services.context import Actor
from pointflex.services.entitlements import creation
from pointflex.services.entitlements.scheduled import (
    SCHEDULED,
    ScheduledActivation,
    cancel,
    list_scheduled,
    schedule_hardware,
)
from pointflex.services.entitlements.views import Entitlement
from pointflex.services.points.programs import list_programs
from pointflex.web.deps import require_write, runtime
from pointflex.web.flash import Level, flash, redirect
from pointflex.web.render import render

router = APIRouter()

KINDS = {"vm": FormFactor.VM, "hardware": FormFactor.HARDWARE, "cloud": FormFactor.CLOUD}
_SEPARATORS = re.compile(r"[,;\s]+")


@dataclass(frozen=True)
class ConfigChoice:
    config: Config
    product: ProductType

    @property
    def label(self) -> str:
        return f"{self.config.name} — {self.product.name} ({self.config.program_serial})"


@dataclass
class Outcome:
    """What one create form shows after it was sent."""

    kind: str
    created: list[Entitlement] = field(default_factory=list)
    scheduled: list[ScheduledActivation] = field(default_factory=list)
    error: str | None = None
    line_errors: list[str] = field(default_factory=list)


def choices(rt: Runtime, actor: Actor) -> dict[str, list[ConfigChoice]]:
    """ACTIVE configurations the user sees, per create form (R29)."""
    found: dict[str, list[ConfigChoice]] = {kind: [] for kind in KINDS}
    by_factor = {factor: kind for kind, factor in KINDS.items()}
    for program in list_programs(rt, actor):
        for config in configs.list_configs(rt, actor, program.serial):
            if config.status != configs.ACTIVE:
                continue
            product = rt.catalog.product(config.product_type_id)
            found[by_factor[product.form_factor]].append(ConfigChoice(config, product))
    return found


def split_serials(text: str) -> tuple[list[str], list[str]]:
    """Serials pasted one a line or separated by commas, and a message per malformed one."""
    serials: list[str] = []
    problems: list[str] = []
    first_line: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        for item in _SEPARATORS.split(line.strip()):
            if not item:
                continue
            serial = item.upper()
            if not creation.is_device_serial(item):
                problems.append(f"Line {number}: “{item[:60]}” is not a device serial number.")
            elif serial in first_line:
                problems.append(
                    f"Line {number}: {serial} is already listed on line {first_line[serial]}."
                )
            else:
                first_line[serial] = number
                serials.append(serial)
    return serials, problems


def _page(request: Request, actor: Actor, outcome: Outcome | None = None) -> Response:
    """The whole page, or for htmx only the result of the form that was sent."""
    if outcome is not None and request.headers.get("HX-Request"):
        return render(request, "_create_result.html", outcome=outcome)
    return render(
        request,
        "create.html",
        title="Create entitlements",
        choices=choices(runtime(request), actor),
        outcome=outcome,
        waiting=list_scheduled(runtime(request), actor, state=SCHEDULED),
    )


@router.get("/create")
def create_page(request: Request, actor: Actor = Depends(require_write)) -> Response:
    return _page(request, actor)


def _config_id(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput("Choose a configuration.") from None


@router.post("/create/vm")
def create_vm(
    request: Request,
    *,
    config_id: str = Form(""),
    count: str = Form("1"),
    description: str = Form(""),
    folder: str = Form(""),
    end_date: str = Form(""),
    skip_pending: str = Form(""),
    actor: Actor = Depends(require_write),
) -> Response:
    rt = runtime(request)
    outcome = Outcome("vm")
    try:
        chosen = _config_id(config_id)
        try:
            number = int(count)
        except ValueError:
            number = 0
        outcome.created = creation.create_vm(
            rt,
            actor,
            config_id=chosen,
            count=number,
            description=description,
            end=RequestedEnd.parse(end_date) or FOLLOW_PROGRAM,
            folder_path=folder,
            skip_pending=bool(skip_pending),
        )
    except PointflexError as exc:
        outcome.error = exc.message
    return _page(request, actor, outcome)


@router.post("/create/hardware")
def create_hardware(
    request: Request,
    *,
    config_id: str = Form(""),
    serials: str = Form(""),
    description: str = Form(""),
    folder: str = Form(""),
    end_date: str = Form(""),
    start_date: str = Form(""),
    actor: Actor = Depends(require_write),
) -> Response:
    rt = runtime(request)
    outcome = Outcome("hardware")
    wanted, outcome.line_errors = split_serials(serials)
    if outcome.line_errors:
        outcome.error = "Nothing was created: correct the serial numbers below."
        return _page(request, actor, outcome)
    # How many serials may be pasted (R38) is the service's rule, checked there.
    try:
        chosen = _config_id(config_id)
        if start_date.strip():
            outcome.scheduled = schedule_hardware(
                rt,
                actor,
                config_id=chosen,
                serials=wanted,
                start_date=parse_wire_day(start_date),
                end_date=parse_wire_day(end_date) if end_date.strip() else None,
                description=description,
                folder_path=folder,
            )
        else:
            outcome.created = creation.create_hardware(
                rt,
                actor,
                config_id=chosen,
                serials=wanted,
                end=RequestedEnd.parse(end_date) or FOLLOW_PROGRAM,
                description=description,
                folder_path=folder,
            )
    except PointflexError as exc:
        outcome.error = f"{exc.message}. Nothing was created."
    return _page(request, actor, outcome)


@router.post("/create/scheduled/cancel")
def cancel_scheduled(
    request: Request, serial: str = Form(""), actor: Actor = Depends(require_write)
) -> Response:
    try:
        cancel(runtime(request), actor, [serial])
        flash(request, f"The scheduled activation of {serial.upper()} was cancelled.")
    except PointflexError as exc:
        flash(request, exc.message, Level.DANGER)
    return redirect(request, "/create#scheduled")


@router.post("/create/cloud")
def create_cloud(
    request: Request,
    config_id: str = Form(""),
    description: str = Form(""),
    folder: str = Form(""),
    end_date: str = Form(""),
    actor: Actor = Depends(require_write),
) -> Response:
    rt = runtime(request)
    outcome = Outcome("cloud")
    try:
        chosen = _config_id(config_id)
        outcome.created = creation.create_cloud(
            rt,
            actor,
            config_id=chosen,
            end=RequestedEnd.parse(end_date) or FOLLOW_PROGRAM,
            description=description,
            folder_path=folder,
        )
    except PointflexError as exc:
        outcome.error = exc.message
    return _page(request, actor, outcome)
