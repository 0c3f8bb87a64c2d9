"""``GET /``: the dashboard, one card per program the user sees."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from pointflex.services.context import Actor
from pointflex.services.points.dashboard import ProgramDashboard, dashboard
from pointflex.services.points.forecasts import forecast_all
from pointflex.web.deps import portal_actor, runtime
from pointflex.web.render import render

router = APIRouter()


def chart_data(program: ProgramDashboard) -> dict[str, Any]:
    """What portal.js hands to uPlot: x as Unix seconds (each day's midnight UTC), y points."""
    return {
        "label": "Points per day",
        "x": [int(datetime.combine(d, time(), UTC).timestamp()) for d, _ in program.daily],
        "y": [float(points) for _, points in program.daily],
    }


@router.get("/")
def dashboard_page(request: Request, actor: Actor = Depends(portal_actor)) -> Response:
    rt = runtime(request)
    programs = dashboard(rt, actor)
    charts = {p.serial: chart_data(p) for p in programs}
    forecasts = {f.program_serial: f for f in forecast_all(rt, actor)}
    return render(
        request,
        "dashboard.html",
        title="Dashboard",
        programs=programs,
        charts=charts,
        forecasts=forecasts,
    )
