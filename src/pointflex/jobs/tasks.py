"""What each job does: a thin call into the services, answering a one-line summary."""

from __future__ import annotations

from pointflex.bootstrap import Runtime
from pointflex.services.context import write
from pointflex.services.entitlements import scheduled as scheduled_activations
from pointflex.services.entitlements.lifecycle import apply_expiry
from pointflex.services.points.accrual import accrue_due


def accrual(rt: Runtime) -> str:
    """Charge every program's ended days; roll-over and negative-balance grace come with it
    (R9, R55), since each day's accrual settles them."""
    results = accrue_due(rt)
    done = [r for r in results if not r.skipped]
    points = sum((r.points for r in done), start=0)
    return f"{len(done)} program-day(s) accrued, {points} points"


def expiry(rt: Runtime) -> str:
    """Mark EXPIRED what has reached its end instant (P11: reads show it before this runs)."""
    with write(rt) as conn:
        expired = apply_expiry(rt, conn, rt.now())
    return f"{expired} entitlement(s) expired"


def scheduled_hardware(rt: Runtime) -> str:
    return str(scheduled_activations.activate_due(rt))


def alerts(rt: Runtime) -> str:
    from pointflex.services.alerts.occurrences import raise_due_alerts

    return f"{raise_due_alerts(rt)} alert(s) raised"


def deliveries(rt: Runtime) -> str:
    from pointflex.services.alerts.deliveries import deliver_due

    return f"{deliver_due(rt)} delivery attempt(s)"
