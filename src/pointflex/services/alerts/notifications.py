"""Where alerts go: webhook endpoints and e-mail recipients of an organisation or an account.

A webhook's secret is generated here, returned once to the caller, and kept encrypted (the
deliveries sign with it). Targets are never deleted (their deliveries refer to them): they
are disabled. Admins manage the targets of their scope; the CLI, everything.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, insert, select, update

from pointflex.bootstrap import Runtime
from pointflex.config import Settings
from pointflex.domain.alerts import AlertKind
from pointflex.errors import InvalidInput, NotFound
from pointflex.services.access.accounts import get_account, organization_accounts
from pointflex.services.access.api_users import check_scope
from pointflex.services.context import Actor, audit, read, write
from pointflex.store.tables import deliveries, notification_targets

WEBHOOK = "WEBHOOK"
EMAIL = "EMAIL"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SECRET_AAD = "pointflex webhook secret"  # noqa: S105 — associated data naming the secret
MAX_URL_CHARS = 2000
MAX_EMAIL_CHARS = 320  # RFC 3696: 64 for the local part, @, 255 for the domain


@dataclass(frozen=True)
class Target:
    id: int
    channel: str
    organization_id: int
    account_id: int | None
    address: str
    kinds: tuple[AlertKind, ...]  # empty: every kind
    enabled: bool
    created_by: str
    created_at: datetime

    @property
    def scope_label(self) -> str:
        if self.account_id is not None:
            return f"account {self.account_id}"
        return f"organisation {self.organization_id}"

    def wants(self, kind: AlertKind) -> bool:
        return not self.kinds or kind in self.kinds


def target_from_row(row: Any) -> Target:
    return target_from_mapping({c.name: row._mapping[c.name] for c in notification_targets.c})


def target_from_mapping(m: Mapping[str, Any]) -> Target:
    return Target(
        id=int(m["id"]),
        channel=m["channel"],
        organization_id=int(m["organization_id"]),
        account_id=m["account_id"],
        address=m["address"],
        kinds=parse_kinds(m["kinds"]),
        enabled=bool(m["enabled"]),
        created_by=m["created_by"],
        created_at=m["created_at"],
    )


def parse_kinds(text: str | Iterable[str]) -> tuple[AlertKind, ...]:
    """``"LOW_BALANCE,ENDING"`` (or a list) as kinds; empty: every kind."""
    items = text.split(",") if isinstance(text, str) else list(text)
    found: list[AlertKind] = []
    for item in (i.strip().upper() for i in items):
        if not item:
            continue
        try:
            found.append(AlertKind(item))
        except ValueError:
            names = ", ".join(k.value for k in AlertKind)
            raise InvalidInput(f"alert kind {item!r} is not one of {names}") from None
    return tuple(dict.fromkeys(found))


def check_url(url: str) -> str:
    """Only absolute http(s) URLs with a host are accepted."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"webhook URL {url!r} must be an absolute http:// or https:// URL")
    if parts.username or parts.password:
        raise InvalidInput("a webhook URL must not carry a user name or password")
    if len(url) > MAX_URL_CHARS:
        raise InvalidInput(f"a webhook URL is at most {MAX_URL_CHARS:,} characters")
    return url


def check_email(address: str) -> str:
    address = address.strip()
    if not _EMAIL.match(address) or len(address) > MAX_EMAIL_CHARS:
        raise InvalidInput(f"{address!r} is not an e-mail address")
    return address


def _scope_org(
    conn: Connection, actor: Actor, account_id: int | None, organization_id: int | None
) -> int:
    check_scope(conn, actor, account_id, organization_id, who="a webhook or recipient")
    if account_id is not None:
        return get_account(conn, account_id).organization_id
    if organization_id is None:  # check_scope refuses neither
        raise RuntimeError("neither an account nor an organisation")
    return organization_id


def add_target(
    rt: Runtime,
    actor: Actor,
    *,
    channel: str,
    address: str,
    account_id: int | None = None,
    organization_id: int | None = None,
    kinds: Iterable[AlertKind] = (),
) -> tuple[Target, str | None]:
    """Register a webhook (returns its secret, shown once) or an e-mail recipient."""
    actor.require_write()
    actor.require_admin()
    if channel == WEBHOOK:
        address, secret = check_url(address), "whsec_" + secrets.token_urlsafe(32)
    elif channel == EMAIL:
        address, secret = check_email(address), None
    else:
        raise InvalidInput(f"channel {channel!r} is not WEBHOOK or EMAIL")
    now = rt.now()
    with write(rt) as conn:
        org = _scope_org(conn, actor, account_id, organization_id)
        sealed = None if secret is None else rt.vault.encrypt(secret, _SECRET_AAD)
        target_id = conn.execute(
            insert(notification_targets).values(
                channel=channel,
                organization_id=org,
                account_id=account_id,
                address=address,
                secret=sealed,
                kinds=",".join(k.value for k in kinds),
                enabled=True,
                created_by=actor.name,
                created_at=now,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        target = _load(conn, int(target_id))
        audit(
            conn,
            actor,
            now,
            f"{channel.lower()}.add",
            "notification_target",
            target.id,
            account_id=account_id,
            after={"address": address, "organizationId": org, "kinds": [*target.kinds]},
        )
    return target, secret


def _load(conn: Connection, target_id: int) -> Target:
    row = conn.execute(
        select(notification_targets).where(notification_targets.c.id == target_id)
    ).first()
    if row is None:
        raise NotFound(f"webhook or recipient {target_id} not found")
    return target_from_row(row)


def visible_target(conn: Connection, actor: Actor, target_id: int) -> Target:
    """A target in the actor's scope: its account, or an organisation it wholly sees."""
    target = _load(conn, target_id)
    if actor.account_ids is None:
        return target
    if target.account_id is not None:
        if actor.sees(target.account_id):
            return target
    elif set(organization_accounts(conn, target.organization_id)) <= actor.account_ids:
        return target
    raise NotFound(f"webhook or recipient {target_id} not found")


def list_targets(rt: Runtime, actor: Actor) -> list[Target]:
    with read(rt) as conn:
        rows = conn.execute(select(notification_targets).order_by(notification_targets.c.id))
        found = [target_from_row(r) for r in rows]
        if actor.account_ids is None:
            return found
        visible: list[Target] = []
        for target in found:
            try:
                visible.append(visible_target(conn, actor, target.id))
            except NotFound:
                continue
        return visible


def disable_target(rt: Runtime, actor: Actor, target_id: int) -> Target:
    """Stop sending to a target; its pending deliveries are not attempted any more."""
    actor.require_write()
    actor.require_admin()
    now = rt.now()
    with write(rt) as conn:
        target = visible_target(conn, actor, target_id)
        conn.execute(
            update(notification_targets)
            .where(notification_targets.c.id == target_id)
            .values(enabled=False)
        )
        audit(
            conn,
            actor,
            now,
            f"{target.channel.lower()}.disable",
            "notification_target",
            target_id,
            account_id=target.account_id,
        )
        return _load(conn, target_id)


def target_secret(rt: Runtime, sealed: bytes | None) -> str | None:
    return rt.vault.decrypt(sealed, _SECRET_AAD)


def enqueue_deliveries(
    conn: Connection,
    settings: Settings,
    raised: list[tuple[int, int, AlertKind]],
    now: datetime,
) -> int:
    """One PENDING delivery per (alert, enabled target of its organisation that wants its
    kind); e-mail recipients only when SMTP is configured. ``raised`` holds (alert id,
    organisation id, kind). Part of the caller's transaction; returns how many."""
    if not raised:
        return 0
    rows = conn.execute(
        select(notification_targets).where(
            notification_targets.c.organization_id.in_(sorted({org for _, org, _ in raised})),
            notification_targets.c.enabled.is_(True),
        )
    ).all()
    by_org: dict[int, list[Target]] = {}
    for row in rows:
        target = target_from_row(row)
        if target.channel == WEBHOOK or settings.smtp_host:
            by_org.setdefault(target.organization_id, []).append(target)
    queued = [
        {
            "alert_id": alert_id,
            "target_id": t.id,
            "state": "PENDING",
            "attempts": 0,
            "next_attempt_at": now,
            "claimed_until": None,
            "claim": None,
            "created_at": now,
            "finished_at": None,
        }
        for alert_id, org, kind in raised
        for t in by_org.get(org, [])
        if t.wants(kind)
    ]
    if queued:
        conn.execute(insert(deliveries), queued)
    return len(queued)
