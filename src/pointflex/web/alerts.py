"""Alerts and notifications in the portal (P8).

``/alerts``: the alerts of the programs the user sees, newest first; acknowledge one.
``/notifications`` (Admins): webhook endpoints and e-mail recipients of their scope (a new
webhook's secret is shown in the answer to the POST, once), each prepaid program's
low-balance threshold, the delivery log with every attempt, and a Redeliver button.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request, Response

from pointflex.domain.alerts import AlertKind
from pointflex.errors import PointflexError
from pointflex.services.access.scopes import scope_choices
from pointflex.services.alerts import deliveries, notifications
from pointflex.services.alerts import occurrences as alerts
from pointflex.services.alerts import thresholds as alert_thresholds
from pointflex.services.context import Actor
from pointflex.web.deps import portal_actor, require_admin, require_write, runtime
from pointflex.web.flash import flash, redirect
from pointflex.web.render import render

router = APIRouter()


@router.get("/alerts")
def alerts_page(
    request: Request, open_only: bool = False, actor: Actor = Depends(portal_actor)
) -> Response:
    found = alerts.list_alerts(runtime(request), actor, open_only=open_only)
    return render(request, "alerts.html", title="Alerts", alerts=found, open_only=open_only)


@router.post("/alerts/{alert_id}/acknowledge")
def alerts_acknowledge(
    request: Request, alert_id: int, actor: Actor = Depends(require_write)
) -> Response:
    done = alerts.acknowledge(runtime(request), actor, alert_id)
    flash(request, f"Alert {done.kind.value} on {done.program_serial} acknowledged.")
    return redirect(request, "/alerts")


def _page(
    request: Request,
    actor: Actor,
    *,
    secret: str | None = None,
    secret_for: str | None = None,
    error: str | None = None,
) -> Response:
    rt = runtime(request)
    return render(
        request,
        "notifications.html",
        title="Notifications",
        targets=notifications.list_targets(rt, actor),
        deliveries=deliveries.list_deliveries(rt, actor),
        choices=scope_choices(rt, actor),
        kinds=list(AlertKind),
        smtp_enabled=bool(rt.settings.smtp_host),
        thresholds=alert_thresholds.thresholds(rt, actor),
        secret=secret,
        secret_for=secret_for,
        error=error,
    )


@router.get("/notifications")
def notifications_page(request: Request, actor: Actor = Depends(require_admin)) -> Response:
    return _page(request, actor)


def _scope(value: str) -> tuple[int | None, int | None]:
    kind, _, number = value.partition(":")
    if not number.isdigit() or kind not in ("account", "organization"):
        return None, None
    return (int(number), None) if kind == "account" else (None, int(number))


@router.post("/notifications")
def notifications_add(
    request: Request,
    channel: str = Form(),
    address: str = Form(),
    scope: str = Form(),
    kinds: list[str] = Form(default=[]),
    actor: Actor = Depends(require_admin),
) -> Response:
    account_id, organization_id = _scope(scope)
    try:
        target, secret = notifications.add_target(
            runtime(request),
            actor,
            channel=channel,
            address=address,
            account_id=account_id,
            organization_id=organization_id,
            kinds=notifications.parse_kinds(kinds),
        )
    except PointflexError as exc:
        # A refusal in the form: answered 200 with the message (docs/portal.md).
        return _page(request, actor, error=str(exc))
    if secret is None:
        flash(request, f"E-mail recipient {target.address} added.")
        return redirect(request, "/notifications")
    return _page(request, actor, secret=secret, secret_for=target.address)


@router.post("/notifications/{target_id}/disable")
def notifications_disable(
    request: Request, target_id: int, actor: Actor = Depends(require_admin)
) -> Response:
    target = notifications.disable_target(runtime(request), actor, target_id)
    flash(request, f"{target.address} disabled: no more alerts are sent there.")
    return redirect(request, "/notifications")


@router.post("/notifications/deliveries/{delivery_id}/redeliver")
def notifications_redeliver(
    request: Request, delivery_id: int, actor: Actor = Depends(require_admin)
) -> Response:
    deliveries.redeliver(runtime(request), actor, delivery_id)
    flash(request, f"Delivery {delivery_id} will be sent again at the next run.")
    return redirect(request, "/notifications#deliveries")


@router.post("/notifications/thresholds/{serial}")
def notifications_threshold(
    request: Request,
    serial: str,
    days: str = Form(""),
    actor: Actor = Depends(require_admin),
) -> Response:
    """A program's own low-balance threshold; empty: back to the server's setting."""
    text = days.strip()
    if text and not text.isdigit():
        return _page(request, actor, error="A threshold is a whole number of days.")
    try:
        now = alert_thresholds.set_low_balance_days(
            runtime(request), actor, serial, int(text) if text else None
        )
    except PointflexError as exc:
        return _page(request, actor, error=str(exc))
    flash(request, f"Program {serial}: low-balance alert below {now} days of points.")
    return redirect(request, "/notifications#thresholds")
