"""Audit log: ``/audit``, the audit rows of the accounts in the user's scope, newest first,
50 a page (keyset: ``?before=<id>``), filtered by action, object id, actor and UTC days."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response

from pointflex.services.context import Actor
from pointflex.services.ops.audit_views import KNOWN_ACTIONS, AuditFilters, audit_page
from pointflex.web.deps import portal_actor, runtime
from pointflex.web.render import render

router = APIRouter()


def compact(value: Any) -> str:
    """A before/after value as one line of JSON ("" for none)."""
    if value is None:
        return ""
    return json.dumps(value, separators=(", ", ": "), sort_keys=True, default=str)


def _day(text: str, errors: list[str], label: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.append(f"{label} is not a date (YYYY-MM-DD); ignored.")
        return None


def _cursor(text: str) -> int | None:
    return int(text) if text.strip().isdigit() else None


@router.get("/audit")
def audit(
    request: Request,
    *,
    action: str = "",
    object_id: str = "",
    actor_name: str = "",
    date_from: str = "",
    date_to: str = "",
    before: str = "",
    actor: Actor = Depends(portal_actor),
) -> Response:
    errors: list[str] = []
    filters = AuditFilters(
        action=action.strip()[:60],
        object_id=object_id[:60],
        actor=actor_name[:200],
        date_from=_day(date_from, errors, "From"),
        date_to=_day(date_to, errors, "To"),
    )
    found = audit_page(runtime(request), actor, filters, before_id=_cursor(before))
    query = {
        "action": filters.action,
        "object_id": object_id,
        "actor_name": actor_name,
        "date_from": date_from,
        "date_to": date_to,
    }
    kept = {k: v for k, v in query.items() if v}
    next_url = None
    if found.next_before is not None:
        next_url = "/audit?" + urlencode({**kept, "before": found.next_before})
    first_url = ("/audit?" + urlencode(kept)) if kept else "/audit"
    return render(
        request,
        "audit.html",
        title="Audit log",
        rows=found.rows,
        actions=KNOWN_ACTIONS,
        query=query,
        errors=errors,
        next_url=next_url,
        first_url=first_url if before else None,
        compact=compact,
    )
