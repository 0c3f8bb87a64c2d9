"""Delivering alerts to webhooks and e-mail: claim, send, record, retry with backoff (P8).

``deliver_due`` claims the due deliveries with one guarded UPDATE (PENDING, due, and no live
claim), so two runners never send the same attempt; sends each one outside any transaction;
then records the attempt and the delivery's next state in a short transaction of its own. A
runner that dies mid-way leaves claims that run out after ``delivery_claim_seconds``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from pointflex.adapters import senders
from pointflex.bootstrap import Runtime
from pointflex.domain.alerts import backoff
from pointflex.errors import InvalidState, NotFound
from pointflex.services.alerts.notifications import (
    WEBHOOK,
    Target,
    target_from_mapping,
    target_secret,
    visible_target,
)
from pointflex.services.alerts.occurrences import StoredAlert, alert_from_mapping
from pointflex.services.context import Actor, audit, read, write
from pointflex.services.points.programs import visible_organizations
from pointflex.store.tables import alerts, deliveries, delivery_attempts, notification_targets

PENDING, DELIVERED, FAILED = "PENDING", "DELIVERED", "FAILED"
BATCH = 100  # deliveries claimed per round


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    attempts: int
    claim: str
    alert: StoredAlert
    target: Target
    secret: str | None


def alert_document(alert: StoredAlert) -> dict[str, Any]:
    """The event sent to webhooks (and summarised in e-mails)."""
    return {
        "eventId": alert.event_id,
        "kind": alert.kind.value,
        "programSerial": alert.program_serial,
        "accountId": alert.account_id,
        "organizationId": alert.organization_id,
        "occurrence": alert.occurrence,
        "message": alert.message,
        "figures": alert.figures,
        "raisedAt": alert.raised_at.isoformat(),
    }


def deliver_due(rt: Runtime) -> int:
    """Attempt every due delivery once; returns the number of attempts made."""
    made = 0
    while True:
        claimed = _claim(rt)
        for item in claimed:
            _record(rt, item, _send(rt, item))
        made += len(claimed)
        if len(claimed) < BATCH:
            return made


def _claim(rt: Runtime) -> list[Claimed]:
    now = rt.now()
    claim = uuid.uuid4().hex
    until = now + timedelta(seconds=rt.settings.delivery_claim_seconds)
    d = deliveries.c
    free = or_(d.claimed_until.is_(None), d.claimed_until < now)
    with write(rt) as conn:
        due = (
            conn.execute(
                select(d.id)
                .join(notification_targets, notification_targets.c.id == d.target_id)
                .where(
                    d.state == PENDING,
                    d.next_attempt_at <= now,
                    free,
                    notification_targets.c.enabled.is_(True),
                )
                .order_by(d.next_attempt_at, d.id)
                .limit(BATCH)
            )
            .scalars()
            .all()
        )
        if not due:
            return []
        # The guard is repeated in the UPDATE: of two runners, only one moves each row.
        conn.execute(
            update(deliveries)
            .where(d.id.in_(due), d.state == PENDING, d.next_attempt_at <= now, free)
            .values(claimed_until=until, claim=claim)
        )
        rows = conn.execute(
            select(deliveries, alerts, notification_targets)
            .join(alerts, alerts.c.id == d.alert_id)
            .join(notification_targets, notification_targets.c.id == d.target_id)
            .where(d.claim == claim)
            .order_by(d.id)
        ).all()
    return [_claimed(rt, r, claim) for r in rows]


def _claimed(rt: Runtime, row: Any, claim: str) -> Claimed:
    """A delivery joined with its alert and target (their columns share names: read each
    table's own columns by column object)."""
    m = row._mapping
    return Claimed(
        delivery_id=int(m[deliveries.c.id]),
        attempts=int(m[deliveries.c.attempts]),
        claim=claim,
        alert=alert_from_mapping({c.name: m[c] for c in alerts.c}),
        target=target_from_mapping({c.name: m[c] for c in notification_targets.c}),
        secret=target_secret(rt, m[notification_targets.c.secret]),
    )


def _send(rt: Runtime, item: Claimed) -> senders.Outcome:
    document = alert_document(item.alert)
    if item.target.channel == WEBHOOK:
        if item.secret is None:
            raise RuntimeError(f"webhook target {item.target.id} has no secret")
        return senders.post_webhook(
            item.target.address,
            item.secret,
            senders.payload(document),
            item.alert.event_id,
            rt.now(),
            rt.settings.webhook_timeout_seconds,
        )
    return senders.send_email(rt.settings, item.target.address, document)


def _record(rt: Runtime, item: Claimed, outcome: senders.Outcome) -> None:
    """Log the attempt and move the delivery on: DELIVERED, retried later, or FAILED."""
    now = rt.now()
    attempts = item.attempts + 1
    values: dict[str, Any] = {"attempts": attempts, "claimed_until": None, "claim": None}
    if outcome.ok:
        values.update(state=DELIVERED, finished_at=now, next_attempt_at=None)
    elif attempts >= rt.settings.delivery_max_attempts:
        values.update(state=FAILED, finished_at=now, next_attempt_at=None)
    else:
        wait = backoff(attempts, rt.settings.delivery_backoff_seconds)
        values.update(next_attempt_at=now + wait)
    with write(rt) as conn:
        conn.execute(
            insert(delivery_attempts).values(
                delivery_id=item.delivery_id,
                started_at=now,
                duration_ms=outcome.duration_ms,
                ok=outcome.ok,
                status_code=outcome.status_code,
                response_excerpt=outcome.excerpt[:500],
                error=outcome.error[:500],
            )
        )
        # Only the claim's holder records: a runner whose claim ran out and was taken over
        # does not overwrite the newer state.
        conn.execute(
            update(deliveries)
            .where(deliveries.c.id == item.delivery_id, deliveries.c.claim == item.claim)
            .values(**values)
        )


# --------------------------------------------------------------------------- portal and CLI


@dataclass(frozen=True)
class Attempt:
    started_at: datetime
    duration_ms: int
    ok: bool
    status_code: int | None
    response_excerpt: str
    error: str


@dataclass(frozen=True)
class Delivery:
    id: int
    alert: StoredAlert
    target: Target
    state: str
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    finished_at: datetime | None
    log: list[Attempt]


def list_deliveries(
    rt: Runtime, actor: Actor, *, target_id: int | None = None, limit: int = 100
) -> list[Delivery]:
    """Deliveries (newest first) with their attempts, for the targets the actor sees."""
    with read(rt) as conn:
        query = (
            select(deliveries, alerts, notification_targets)
            .join(alerts, alerts.c.id == deliveries.c.alert_id)
            .join(notification_targets, notification_targets.c.id == deliveries.c.target_id)
            .order_by(deliveries.c.id.desc())
            .limit(limit)
        )
        if target_id is not None:
            query = query.where(deliveries.c.target_id == target_id)
        orgs = visible_organizations(conn, actor)
        if orgs is not None:
            query = query.where(notification_targets.c.organization_id.in_(sorted(orgs)))
        rows = conn.execute(query).all()
        found = [_delivery(rt, r) for r in rows]
        visible = {t.id for t in _visible_targets(conn, actor, {d.target.id for d in found})}
        found = [d for d in found if d.target.id in visible]
        logs = _attempts(conn, [d.id for d in found])
    return [replace(d, log=logs.get(d.id, [])) for d in found]


def _visible_targets(conn: Connection, actor: Actor, ids: set[int]) -> list[Target]:
    found: list[Target] = []
    for target_id in sorted(ids):
        try:
            found.append(visible_target(conn, actor, target_id))
        except NotFound:
            continue
    return found


def _delivery(rt: Runtime, row: Any) -> Delivery:
    claimed = _claimed(rt, row, "")
    m = row._mapping
    return Delivery(
        id=claimed.delivery_id,
        alert=claimed.alert,
        target=claimed.target,
        state=m[deliveries.c.state],
        attempts=claimed.attempts,
        next_attempt_at=m[deliveries.c.next_attempt_at],
        created_at=m[deliveries.c.created_at],
        finished_at=m[deliveries.c.finished_at],
        log=[],
    )


def _attempts(conn: Connection, delivery_ids: list[int]) -> dict[int, list[Attempt]]:
    if not delivery_ids:
        return {}
    rows = conn.execute(
        select(delivery_attempts)
        .where(delivery_attempts.c.delivery_id.in_(delivery_ids))
        .order_by(delivery_attempts.c.id)
    ).all()
    found: dict[int, list[Attempt]] = {}
    for r in rows:
        found.setdefault(int(r.delivery_id), []).append(
            Attempt(r.started_at, r.duration_ms, r.ok, r.status_code, r.response_excerpt, r.error)
        )
    return found


def redeliver(rt: Runtime, actor: Actor, delivery_id: int) -> None:
    """Send a delivery again at the next run, whatever its state (one more attempt)."""
    actor.require_write()
    actor.require_admin()
    now = rt.now()
    with write(rt) as conn:
        row = conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)).first()
        if row is None:
            raise NotFound(f"delivery {delivery_id} not found")
        target = visible_target(conn, actor, int(row.target_id))
        if not target.enabled:
            raise InvalidState(f"the {target.channel.lower()} target {target.id} is disabled")
        conn.execute(
            update(deliveries)
            .where(deliveries.c.id == delivery_id)
            .values(
                state=PENDING,
                next_attempt_at=now,
                claimed_until=None,
                claim=None,
                finished_at=None,
            )
        )
        audit(
            conn,
            actor,
            now,
            "delivery.redeliver",
            "delivery",
            delivery_id,
            account_id=target.account_id,
            before={"state": row.state, "attempts": row.attempts},
        )
