"""pointflex's own API (beyond FortiFlex): forecasts and monthly statements.

Same bearer tokens as the FortiFlex routes; answers in the FortiFlex envelope (``status: 0``)
for JSON, and as documents for CSV and HTML statements.
"""

from __future__ import annotations

from enum import StrEnum

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse

from pointflex.api.deps import current_actor, runtime
from pointflex.api.envelope import ok
from pointflex.bootstrap import Runtime
from pointflex.http.statement_responses import csv_download, html_page
from pointflex.services.context import Actor
from pointflex.services.points import forecasts, statements

PREFIX = "/api/pointflex/v1"
router = APIRouter(prefix=PREFIX, tags=["pointflex"])


class StatementFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    HTML = "html"


@router.get("/programs/forecast")
def all_forecasts(
    rt: Runtime = Depends(runtime), actor: Actor = Depends(current_actor)
) -> JSONResponse:
    """The forecast of every program the caller sees."""
    return ok({"forecasts": [f.to_json() for f in forecasts.forecast_all(rt, actor)]})


@router.get("/programs/{serial}/forecast")
def program_forecast(
    serial: str, rt: Runtime = Depends(runtime), actor: Actor = Depends(current_actor)
) -> JSONResponse:
    return ok({"forecast": forecasts.forecast(rt, actor, serial).to_json()})


# Left out of the OpenAPI document: its 200 is CSV or HTML as well as JSON, and the document
# (api/openapi_doc.py) describes every 200 as the JSON envelope.
@router.get("/programs/{serial}/statements/{month}", include_in_schema=False)
def program_statement(
    serial: str,
    month: str,
    format: StatementFormat = StatementFormat.JSON,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(current_actor),
) -> Response:
    found = statements.statement(rt, actor, serial, month)
    if format is StatementFormat.CSV:
        return csv_download(found)
    if format is StatementFormat.HTML:
        return html_page(found)
    return ok({"statement": found.to_json()})
