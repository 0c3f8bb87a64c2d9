"""Programs and points: ``/programs`` (the programs the user sees) and ``/programs/{serial}``
(point packs, ledger entries, a report by day / entitlement / configuration with a CSV
download). Point packs are added by the platform operator (DESIGN.md), so they are shown
read-only here."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from fastapi import APIRouter, Depends, Request, Response

from pointflex.bootstrap import Runtime
from pointflex.domain.programs import LedgerKind, Program
from pointflex.domain.usage import GroupBy, ReportRow
from pointflex.errors import NotFound
from pointflex.http.statement_responses import csv_download, html_page
from pointflex.services.context import Actor
from pointflex.services.points import statements
from pointflex.services.points import usage as points_service
from pointflex.services.points.dashboard import ProgramDashboard, dashboard
from pointflex.services.points.programs import ledger, list_programs
from pointflex.web.deps import portal_actor, runtime
from pointflex.web.render import render

router = APIRouter()

GROUP_LABELS = {
    GroupBy.DAY: "Day",
    GroupBy.ENTITLEMENT: "Entitlement",
    GroupBy.CONFIGURATION: "Configuration",
}


@dataclass(frozen=True)
class ReportQuery:
    group: GroupBy
    start: date
    end: date
    error: str | None


def _program(rt: Runtime, actor: Actor, serial: str) -> tuple[Program, ProgramDashboard]:
    """The program (with its time zone) and its figures, if the actor sees it."""
    found = {p.serial: p for p in list_programs(rt, actor)}
    for figures in dashboard(rt, actor):
        if figures.serial == serial and serial in found:
            return found[serial], figures
    raise NotFound(f"program {serial} not found")


def _parse_day(raw: str | None, default: date) -> tuple[date, bool]:
    if not raw:
        return default, True
    try:
        return date.fromisoformat(raw), True
    except ValueError:
        return default, False


def report_query(
    rt: Runtime, program: Program, group: str | None, start: str | None, end: str | None
) -> ReportQuery:
    """The report's parameters; the default is this month so far, grouped by day."""
    today = rt.today(program.timezone)
    first = today.replace(day=1)
    chosen = GroupBy(group) if group in {g.value for g in GroupBy} else GroupBy.DAY
    start_day, start_ok = _parse_day(start, first)
    end_day, end_ok = _parse_day(end, today)
    error = None
    if not (start_ok and end_ok):
        error = "Dates are written YYYY-MM-DD; the default range is shown."
        start_day, end_day = first, today
    elif end_day < start_day:
        error = "The end date must not be before the start date; the default range is shown."
        start_day, end_day = first, today
    return ReportQuery(chosen, start_day, end_day, error)


def report_rows(rt: Runtime, actor: Actor, serial: str, query: ReportQuery) -> list[ReportRow]:
    return points_service.report(rt, actor, serial, query.group, query.start, query.end)


def csv_text(group: GroupBy, rows: list[ReportRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([GROUP_LABELS[group], "Entitlements", "Points"])
    for row in rows:
        writer.writerow([row.label, row.entitlements, f"{Decimal(row.points):.2f}"])
    return out.getvalue()


@router.get("/programs")
def programs_page(request: Request, actor: Actor = Depends(portal_actor)) -> Response:
    found = dashboard(runtime(request), actor)
    return render(request, "programs.html", title="Programs & points", programs=found)


@router.get("/programs/{serial}")
def program_page(
    request: Request,
    serial: str,
    group: str | None = None,
    start: str | None = None,
    end: str | None = None,
    actor: Actor = Depends(portal_actor),
) -> Response:
    rt = runtime(request)
    entries = ledger(rt, actor, serial)
    program, figures = _program(rt, actor, serial)
    query = report_query(rt, program, group, start, end)
    rows = report_rows(rt, actor, serial, query)
    total = sum((Decimal(r.points) for r in rows), Decimal("0.00"))
    return render(
        request,
        "program.html",
        title=f"Program {serial}",
        program=figures,
        entries=entries,
        packs=[e for e in entries if e.kind is LedgerKind.PACK],
        query=query,
        groups=GROUP_LABELS,
        rows=rows,
        total=total,
        months=statement_months(program, rt.today(program.timezone)),
    )


def statement_months(program: Program, today: date, limit: int = 24) -> list[str]:
    """``YYYY-MM`` of the program's months up to this one, newest first (at most ``limit``)."""
    months: list[str] = []
    month = today.replace(day=1)
    first = program.start_date.replace(day=1)
    while month >= first and len(months) < limit:
        months.append(f"{month:%Y-%m}")
        month = (month - timedelta(days=1)).replace(day=1)
    return months


@router.get("/programs/{serial}/statement")
def statement_page(
    request: Request,
    serial: str,
    month: str | None = None,
    format: str = "html",
    actor: Actor = Depends(portal_actor),
) -> Response:
    """The monthly statement as a printable HTML document, or its charges as CSV."""
    rt = runtime(request)
    if not month:
        program, _ = _program(rt, actor, serial)
        month = f"{rt.today(program.timezone):%Y-%m}"
    found = statements.statement(rt, actor, serial, month)
    return csv_download(found) if format == "csv" else html_page(found)


@router.get("/programs/{serial}/report.csv")
def report_csv(
    request: Request,
    serial: str,
    group: str | None = None,
    start: str | None = None,
    end: str | None = None,
    actor: Actor = Depends(portal_actor),
) -> Response:
    rt = runtime(request)
    program, _ = _program(rt, actor, serial)
    query = report_query(rt, program, group, start, end)
    rows = report_rows(rt, actor, serial, query)
    name = f"{serial}-{query.group.value}-{query.start.isoformat()}-{query.end.isoformat()}.csv"
    return Response(
        csv_text(query.group, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
