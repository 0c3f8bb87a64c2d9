"""``/assets/{serial}``: one entitlement's details, history and points, with its actions.

Stop, Reactivate (the seed's single reactivation: optional changes, then the termination
mode), Modify (R47) and Regenerate token (R32–R34). Every action redirects back to the
details page with a message; a refusal by the services changes nothing and says why.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Form, Request, Response

from pointflex.domain.catalog import FormFactor
from pointflex.domain.dates import local_day
from pointflex.domain.ends import FOLLOW_PROGRAM, RequestedEnd
from pointflex.domain.entitlements import REACTIVATABLE, Status, TerminationMode
from pointflex.errors import InvalidDate, PointflexError
from pointflex.services.context import Actor
from pointflex.services.entitlements import changes
from pointflex.services.entitlements.details import Details, entitlement_details
from pointflex.web.deps import portal_actor, require_write, runtime
from pointflex.web.flash import Level, flash, redirect
from pointflex.web.render import render

router = APIRouter()

STOPPABLE = {Status.ACTIVE, Status.GRACE_PERIOD, Status.PENDING}
MODIFIABLE = {Status.PENDING, Status.ACTIVE, Status.GRACE_PERIOD, Status.STOPPED}
END_CHANGEABLE = {Status.PENDING, Status.ACTIVE, Status.GRACE_PERIOD}
TOKEN_STATUSES = {Status.PENDING, Status.ACTIVE, Status.GRACE_PERIOD, Status.STOPPED}
FOLLOW = TerminationMode.FOLLOW_PROGRAM.value
USER_DEFINED = TerminationMode.USER_DEFINED.value


def chart_data(details: Details) -> dict[str, Any]:
    return {
        "label": "Points per day",
        "x": [int(datetime.combine(d, time(), UTC).timestamp()) for d, _ in details.daily],
        "y": [float(p) for _, p in details.daily],
    }


def actions(details: Details) -> dict[str, bool]:
    record = details.record
    managed = record.removed_at is None
    return {
        "stop": managed and record.status in STOPPABLE,
        "reactivate": managed and record.status in REACTIVATABLE,
        "modify": managed and record.status in MODIFIABLE,
        "end": managed and record.status in END_CHANGEABLE,
        "token": managed
        and record.form_factor is FormFactor.VM
        and record.status in TOKEN_STATUSES,
    }


def page_url(serial: str, action: str | None = None) -> str:
    return f"/assets/{serial}" + (f"?action={action}" if action else "")


@router.get("/assets/{serial}")
def details_page(
    request: Request,
    serial: str,
    action: str | None = None,
    actor: Actor = Depends(portal_actor),
) -> Response:
    details = entitlement_details(runtime(request), actor, serial)
    allowed = actions(details) if actor.can_write else dict.fromkeys(actions(details), False)
    form = action if action in ("reactivate", "modify") and allowed.get(action) else None
    return render(
        request,
        "details.html",
        title=details.record.serial,
        d=details,
        e=details.record,
        allowed=allowed,
        form=form,
        chart=chart_data(details),
        # Dates in the program's time zone: an end is 00:00 of its day there (P11).
        start_day=local_day(details.record.start_at, details.record.timezone),
        end_day=local_day(details.record.end_at, details.record.timezone),
        min_end=details.today + timedelta(days=1),  # an end of today is already past
        follow=FOLLOW,
        user_defined=USER_DEFINED,
    )


def _requested_end(mode: str, end_date: str) -> RequestedEnd:
    """The termination mode of a form: Follow Program, or User Defined at 00:00 of the date
    in the program's time zone (P11; resolved by the service, where the date shown sent back
    is no change)."""
    if mode == FOLLOW:
        return FOLLOW_PROGRAM
    if mode != USER_DEFINED:
        raise InvalidDate("choose a termination mode")
    try:
        return RequestedEnd.on_day(date.fromisoformat(end_date.strip()))
    except ValueError:
        raise InvalidDate("enter the expiration date (YYYY-MM-DD) for User Defined") from None


def _refused(request: Request, exc: PointflexError) -> None:
    flash(request, f"Nothing was changed: {exc}", Level.DANGER)


@router.post("/assets/{serial}/stop")
def stop(request: Request, serial: str, actor: Actor = Depends(require_write)) -> Response:
    try:
        (outcome,) = changes.stop(runtime(request), actor, [serial])
    except PointflexError as exc:
        _refused(request, exc)
    else:
        if outcome.error is not None:
            _refused(request, outcome.error)
        else:
            flash(request, f"{outcome.serial} stopped: status STOPPED.")
    return redirect(request, page_url(serial))


def _config_id(text: str) -> int | None:
    return int(text) if text.strip().isdigit() else None


@router.post("/assets/{serial}/reactivate")
def reactivate(
    request: Request,
    serial: str,
    *,
    termination_mode: str = Form(""),
    end_date: str = Form(""),
    description: str | None = Form(None),
    config_id: str = Form(""),
    actor: Actor = Depends(require_write),
) -> Response:
    rt = runtime(request)
    try:
        end = _requested_end(termination_mode, end_date)
        (outcome,) = changes.reactivate(rt, actor, [serial], end=end)
        if outcome.error is not None:
            raise outcome.error
    except PointflexError as exc:
        _refused(request, exc)
        return redirect(request, page_url(serial, "reactivate"))
    try:
        changes.update_entitlement(
            rt, actor, serial, config_id=_config_id(config_id), description=description
        )
    except PointflexError as exc:
        flash(request, f"{serial} reactivated, but the changes were refused: {exc}", "warning")
        return redirect(request, page_url(serial))
    flash(request, f"{serial} reactivated: status ACTIVE.")
    return redirect(request, page_url(serial))


@router.post("/assets/{serial}/modify")
def modify(
    request: Request,
    serial: str,
    *,
    termination_mode: str = Form(""),
    end_date: str = Form(""),
    description: str | None = Form(None),
    config_id: str = Form(""),
    actor: Actor = Depends(require_write),
) -> Response:
    try:
        end = _requested_end(termination_mode, end_date) if termination_mode else None
        changes.update_entitlement(
            runtime(request),
            actor,
            serial,
            config_id=_config_id(config_id),
            description=description,
            end=end,
        )
    except PointflexError as exc:
        _refused(request, exc)
        return redirect(request, page_url(serial, "modify"))
    flash(request, f"{serial} updated.")
    return redirect(request, page_url(serial))


@router.post("/assets/{serial}/token")
def regenerate(request: Request, serial: str, actor: Actor = Depends(require_write)) -> Response:
    try:
        changes.regenerate_token(runtime(request), actor, serial)
    except PointflexError as exc:
        _refused(request, exc)
        return redirect(request, page_url(serial))
    flash(
        request,
        f"A new token was generated for {serial} (shown below). Inject it into the VM: "
        "once it is redeemed, the instance licensed with the old token is revoked.",
    )
    return redirect(request, page_url(serial) + "#token")
