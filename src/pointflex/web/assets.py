"""Flex Entitlements > My Assets: the table, its filters, bulk actions and exports.

- ``GET /assets``: the page; an htmx request (filter, sort, page) gets only the table.
- ``POST /assets/confirm``: the confirmation dialog of a bulk action, naming what will
  change, or why the selection is refused (R41, R60) before anything changes.
- ``POST /assets/apply``: the confirmed action; answers the result per serial and tells the
  table to reload (``HX-Trigger: assets-changed``).
- ``POST /assets/export``: the selection (or the filtered view) as CSV, XLSX or JSON (P1).

A selection is either the serials checked (``serial``) or, with ``all=1``, every entitlement
matching the filter, resolved on the server when the request arrives.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from typing import IO, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from pointflex.domain.ends import FOLLOW_PROGRAM, RequestedEnd
from pointflex.domain.entitlements import Status
from pointflex.errors import InvalidInput, PointflexError
from pointflex.renderers.exports import (
    ExportFormat,
    export_entitlements,
    export_filename,
)
from pointflex.services.context import Actor
from pointflex.services.entitlements.asset_table import (
    PAGE_SIZE,
    SortKey,
    asset_page,
    config_options,
)
from pointflex.services.entitlements.bulk import BulkAction, apply_bulk, preview_bulk
from pointflex.services.entitlements.fields import normalise_folder
from pointflex.services.entitlements.views import Entitlement, EntitlementFilter
from pointflex.web.deps import portal_actor, require_write, runtime
from pointflex.web.render import render

router = APIRouter()

LISTED = 20  # serials named in a confirmation dialog
STATUSES = [s.value for s in Status]
CHUNK = 64 * 1024


ACTION_LABELS = {
    BulkAction.STOP: "Stop",
    BulkAction.REACTIVATE: "Reactivate",
    BulkAction.REMOVE: "Remove",
}


@dataclass(frozen=True)
class TableQuery:
    """The table's state as it appears in the URL (the names of the filter form)."""

    q_serial: str = ""
    product: str = ""
    status: str = ""
    config: str = ""
    folder: str = ""
    q_description: str = ""
    sort: str = SortKey.SERIAL.value
    dir: str = "asc"
    page: int = 1

    FILTERS = ("q_serial", "product", "status", "config", "folder", "q_description")

    @classmethod
    def from_mapping(cls, values: Any) -> TableQuery:
        def text(name: str) -> str:
            value = values.get(name)
            return value.strip() if isinstance(value, str) else ""

        try:
            page = int(text("page") or 1)
        except ValueError:
            page = 1
        sort = text("sort") if text("sort") in {k.value for k in SortKey} else SortKey.SERIAL
        return cls(
            q_serial=text("q_serial"),
            product=text("product"),
            status=text("status"),
            config=text("config"),
            folder=text("folder"),
            q_description=text("q_description"),
            sort=str(sort),
            dir="desc" if text("dir") == "desc" else "asc",
            page=page,
        )

    def entitlement_filter(self) -> EntitlementFilter:
        def number(value: str) -> int | None:
            return int(value) if value.isdigit() else None

        return EntitlementFilter(
            serial_contains=self.q_serial or None,
            product_type_id=number(self.product),
            status=self.status.upper() if self.status.upper() in STATUSES else None,
            config_id=number(self.config),
            # A folder shows what is in it and in the folders below it, as a file browser.
            folder_tree=normalise_folder(self.folder) if self.folder.strip() else None,
            description_contains=self.q_description or None,
        )

    def params(self, **changes: Any) -> dict[str, Any]:
        state = replace(self, **changes)
        out: dict[str, Any] = {name: getattr(state, name) for name in self.FILTERS}
        out = {k: v for k, v in out.items() if v}
        if state.sort != SortKey.SERIAL or state.dir != "asc":
            out.update(sort=state.sort, dir=state.dir)
        if state.page > 1:
            out["page"] = state.page
        return out

    def url(self, **changes: Any) -> str:
        query = urlencode(self.params(**changes))
        return "/assets" + (f"?{query}" if query else "")

    def sort_url(self, key: str) -> str:
        descending = self.sort == key and self.dir == "asc"
        return self.url(sort=key, dir="desc" if descending else "asc", page=1)

    def sorted_by(self, key: str) -> str:
        if self.sort != key:
            return "none"
        return "descending" if self.dir == "desc" else "ascending"

    def filtered(self) -> bool:
        return any(getattr(self, name) for name in self.FILTERS)


def _table_context(request: Request, actor: Actor, query: TableQuery) -> dict[str, Any]:
    rt = runtime(request)
    found = asset_page(
        rt,
        actor,
        query.entitlement_filter(),
        sort=SortKey(query.sort),
        descending=query.dir == "desc",
        page=query.page,
        size=PAGE_SIZE,
    )
    return {
        "table": found,
        "q": replace(query, page=found.page),
        "product_name": _product_name(request),
    }


def _product_name(request: Request) -> Any:
    catalog = runtime(request).catalog

    def name(product_type_id: int) -> str:
        try:
            return catalog.product(product_type_id).name
        except (KeyError, PointflexError):
            return str(product_type_id)

    return name


@router.get("/assets")
def assets_page(request: Request, actor: Actor = Depends(portal_actor)) -> Response:
    query = TableQuery.from_mapping(request.query_params)
    context = _table_context(request, actor, query)
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "assets-table":
        return render(request, "_assets_table.html", **context)
    rt = runtime(request)
    return render(
        request,
        "assets.html",
        title="My Assets",
        configs=config_options(rt, actor),
        products=rt.catalog.products(),
        statuses=STATUSES,
        **context,
    )


@dataclass(frozen=True)
class Selection:
    serials: list[str]
    everything: bool  # the filter, not the serials
    query: TableQuery

    def entitlement_filter(self) -> EntitlementFilter | None:
        return self.query.entitlement_filter() if self.everything else None


async def _selection(request: Request) -> Selection:
    form = await request.form()
    serials = [str(s) for s in form.getlist("serial") if str(s).strip()]
    return Selection(serials, form.get("all") == "1", TableQuery.from_mapping(form))


@router.post("/assets/confirm")
async def confirm(request: Request, actor: Actor = Depends(require_write)) -> Response:
    form = await request.form()
    try:
        action = BulkAction(str(form.get("action", "")))
    except ValueError:
        raise InvalidInput("unknown action") from None
    selection = await _selection(request)
    refusal: str | None = None
    records: list[Entitlement] = []
    try:
        records = await _run(
            preview_bulk,
            runtime(request),
            actor,
            action,
            selection.serials,
            selection.entitlement_filter(),
        )
    except PointflexError as exc:
        refusal = exc.message
    return render(
        request,
        "_assets_confirm.html",
        action=action,
        label=ACTION_LABELS[action],
        selection=selection,
        records=records,
        listed=records[:LISTED] if len(records) <= LISTED else [],
        refusal=refusal,
        product_name=_product_name(request),
        filter_fields=selection.query.params(page=1),
    )


@dataclass(frozen=True)
class Result:
    serial: str
    changed: bool
    reason: str = ""


def _requested_end(form: Any) -> RequestedEnd:
    """The reactivation dialog's termination mode; a date is 00:00 of that day in each
    entitlement's own program time zone (resolved by the service, P11)."""
    if str(form.get("mode", "follow")) != "user":
        return FOLLOW_PROGRAM
    try:
        return RequestedEnd.on_day(date.fromisoformat(str(form.get("end_date", "")).strip()))
    except ValueError:
        raise InvalidInput("choose an expiration date for User Defined") from None


@router.post("/assets/apply")
async def apply(request: Request, actor: Actor = Depends(require_write)) -> Response:
    form = await request.form()
    try:
        action = BulkAction(str(form.get("action", "")))
    except ValueError:
        raise InvalidInput("unknown action") from None
    selection = await _selection(request)
    rt = runtime(request)
    results: list[Result] = []
    refusal: str | None = None
    try:
        end = _requested_end(form) if action is BulkAction.REACTIVATE else None
        outcomes = await _run(
            apply_bulk, rt, actor, action, selection.serials, selection.entitlement_filter(), end
        )
        results = [Result(o.serial, o.ok, o.error.message if o.error else "") for o in outcomes]
    except PointflexError as exc:
        refusal = exc.message
    return render(
        request,
        "_assets_result.html",
        label=ACTION_LABELS[action],
        results=results,
        changed=sum(1 for r in results if r.changed),
        refusal=refusal,
        headers={"HX-Trigger": "assets-changed"},
    )


def _stream(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        spool.seek(0)
        while chunk := spool.read(CHUNK):
            yield chunk
    finally:
        spool.close()


MEDIA = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.JSON: "application/json",
}


@router.post("/assets/export")
async def export(request: Request, actor: Actor = Depends(portal_actor)) -> Response:
    """The selection, or the filtered view when nothing is selected, as a download (P1).

    The export service writes into a spooled file (memory up to a few MB, then disk), sent in
    chunks: an error shows as a page instead of a cut-off download.
    """
    form = await request.form()
    try:
        fmt = ExportFormat(str(form.get("format", "")))
    except ValueError:
        raise InvalidInput("choose CSV, XLSX or JSON") from None
    selection = await _selection(request)
    if selection.serials and not selection.everything:
        flt = EntitlementFilter(serials=tuple(s.strip().upper() for s in selection.serials))
    else:
        flt = selection.query.entitlement_filter()
    rt = runtime(request)
    # Closed by _stream once sent (or below on failure): it outlives this function.
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 — outlives this function
    try:
        await _run(export_entitlements, rt, actor, flt, fmt, spool)
    except BaseException:
        spool.close()
        raise
    name = export_filename(fmt, rt.now())
    return StreamingResponse(
        _stream(spool),
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def _run(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Services are synchronous: run them in the thread pool, off the event loop."""
    return await run_in_threadpool(function, *args, **kwargs)
