"""Entitlement lifecycle: states, allowed transitions and end-date rules.

Stored statuses are PENDING, ACTIVE, STOPPED and EXPIRED. GRACE_PERIOD is never stored: it is
how an ACTIVE entitlement is shown while its program is in a grace period (R55, R57), so that
clearing the cause needs no mass update. EXPIRED is stored by the expiry job at the expiry
instant, and reads show it from that instant even before the job has run (P11).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pointflex.domain.catalog import FormFactor
from pointflex.domain.dates import PACIFIC, local_day
from pointflex.domain.programs import follow_program_expiry
from pointflex.errors import (
    AlreadyInState,
    InvalidDate,
    InvalidInput,
    InvalidState,
    LimitExceeded,
    MixedProductTypes,
    WrongProductType,
)


class Status(StrEnum):
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    STOPPED = "STOPPED"
    EXPIRED = "EXPIRED"
    GRACE_PERIOD = "GRACE_PERIOD"  # shown only, never stored


class TokenStatus(StrEnum):
    NOTUSED = "NOTUSED"
    USED = "USED"


class TerminationMode(StrEnum):
    FOLLOW_PROGRAM = "FOLLOW_PROGRAM"
    USER_DEFINED = "USER_DEFINED"


class EventKind(StrEnum):
    CREATED = "CREATED"
    ACTIVATED = "ACTIVATED"  # PENDING -> ACTIVE by token redemption
    STOPPED = "STOPPED"
    REACTIVATED = "REACTIVATED"
    EXPIRED = "EXPIRED"
    CONFIG_CHANGED = "CONFIG_CHANGED"
    DESCRIPTION_CHANGED = "DESCRIPTION_CHANGED"
    END_DATE_CHANGED = "END_DATE_CHANGED"
    TOKEN_REGENERATED = "TOKEN_REGENERATED"  # noqa: S105 — an event kind, not a secret
    TRANSFERRED = "TRANSFERRED"
    REMOVED = "REMOVED"


# Statuses during which a day is charged (R12): GRACE_PERIOD is stored as ACTIVE.
CHARGED_STATUSES: frozenset[Status] = frozenset({Status.ACTIVE})


class Selection(StrEnum):
    """What a list of serials is for: each kind has its own limit (R38, R41)."""

    CREATE = "created"  # hardware serials created at once (R38)
    SCHEDULE = "scheduled"  # hardware serials scheduled at once (R38)
    REMOVE = "removed"  # R41
    TRANSFER = "transferred"
    STATUS = "stopped or reactivated"  # a bulk status change


@dataclass(frozen=True)
class SelectionLimits:
    """How many serials one request may name; built from the settings, so that raising one
    moves the API, the portal, the CLI and the rules together."""

    per_request: int = 100  # R38, R41: created, removed or transferred at once
    scheduled: int = 1000  # R38: scheduled creation
    bulk: int = 10_000  # stop / reactivate a selection at once

    def of(self, kind: Selection) -> int:
        if kind is Selection.SCHEDULE:
            return self.scheduled
        if kind is Selection.STATUS:
            return self.bulk
        return self.per_request

    def check(self, kind: Selection, count: int) -> None:
        """Refuse more than the limit of ``kind``; ``count`` is the list as sent."""
        limit = self.of(kind)
        if count > limit:
            raise LimitExceeded(f"at most {limit} serials can be {kind.value} at once, got {count}")


# Reactivate from STOPPED and from PENDING (docs/decisions.md: FortiFlex accepts PENDING).
REACTIVATABLE: frozenset[Status] = frozenset({Status.STOPPED, Status.PENDING})


@dataclass(frozen=True)
class EntitlementView:
    """What the rules need to know about one entitlement."""

    serial: str
    form_factor: FormFactor
    product_type_id: int
    status: Status
    end_at: datetime
    termination_mode: TerminationMode
    removed: bool = False


def expiry_instant(
    end_at: datetime,
    mode: TerminationMode,
    program_end: datetime,
    program_grace: timedelta,
    tz: str = PACIFIC,
) -> datetime:
    """When an entitlement becomes EXPIRED.

    A User Defined end date expires the entitlement at that instant (R46). A Follow Program
    entitlement lives on through the program-expiry grace (R57) and expires when it ends (P7),
    counted in calendar days of the program's time zone.
    """
    if mode is TerminationMode.USER_DEFINED:
        return end_at
    return follow_program_expiry(local_day(program_end, tz), tz, program_grace.days)


class ShownIf(StrEnum):
    """The facts a shown status depends on, besides the stored status."""

    STORED_EXPIRED = "stored EXPIRED"
    PAST_EXPIRY = "at or past its expiry instant"
    ACTIVE_IN_GRACE = "stored ACTIVE while its program is in a grace period"


# The shown status (P11, R55, R57): the first rule that holds, else the stored status. Reads
# that filter by status in the database build their SQL from this same list
# (services/entitlement_views.shown_status_sql), so the two cannot drift apart.
SHOWN_STATUS_RULES: tuple[tuple[ShownIf, Status], ...] = (
    (ShownIf.STORED_EXPIRED, Status.EXPIRED),
    (ShownIf.PAST_EXPIRY, Status.EXPIRED),
    (ShownIf.ACTIVE_IN_GRACE, Status.GRACE_PERIOD),
)


def shown_status(
    stored: Status, now: datetime, expires_at: datetime, program_in_grace: bool
) -> Status:
    """The status a read shows at ``now`` (P11 for EXPIRED, R55/R57 for GRACE_PERIOD)."""
    holds = {
        ShownIf.STORED_EXPIRED: stored is Status.EXPIRED,
        ShownIf.PAST_EXPIRY: now >= expires_at,
        ShownIf.ACTIVE_IN_GRACE: stored is Status.ACTIVE and program_in_grace,
    }
    for condition, shown in SHOWN_STATUS_RULES:
        if holds[condition]:
            return shown
    return stored


def check_stop(view: EntitlementView) -> None:
    """Stop is allowed from ACTIVE (incl. GRACE_PERIOD) and PENDING (R50, P2)."""
    _check_managed(view)
    if view.status is Status.STOPPED:
        raise AlreadyInState(f"entitlement {view.serial} is already STOPPED")
    if view.status not in (Status.ACTIVE, Status.GRACE_PERIOD, Status.PENDING):
        raise InvalidState(f"entitlement {view.serial} is {view.status} and cannot be stopped")


def check_reactivate(view: EntitlementView) -> None:
    """Reactivate from STOPPED and from PENDING (docs/decisions.md: FortiFlex accepts PENDING,
    and the Terraform provider's folder retrieval and auto-scaling scripts rely on it; the
    token stays NOTUSED). ACTIVE is "already in state"; EXPIRED is final."""
    _check_managed(view)
    if view.status in (Status.ACTIVE, Status.GRACE_PERIOD):
        raise AlreadyInState(f"entitlement {view.serial} is already ACTIVE")
    if view.status not in REACTIVATABLE:
        raise InvalidState(
            f"entitlement {view.serial} is {view.status}; only STOPPED or PENDING entitlements "
            "can be reactivated"
        )


def check_regenerate_token(view: EntitlementView) -> None:
    """Tokens exist only on VM entitlements; regeneration on PENDING/ACTIVE/STOPPED (R34)."""
    _check_managed(view)
    if view.form_factor is not FormFactor.VM:
        raise WrongProductType(f"entitlement {view.serial} is not a VM and has no token")
    if view.status not in (Status.PENDING, Status.ACTIVE, Status.GRACE_PERIOD, Status.STOPPED):
        raise InvalidState(f"entitlement {view.serial} is {view.status}; its token is final")


def check_update(view: EntitlementView, *, changes_end_date: bool) -> None:
    """Configuration and description: PENDING, ACTIVE, STOPPED; end date: PENDING, ACTIVE (R47)."""
    _check_managed(view)
    if view.status is Status.EXPIRED:
        raise InvalidState(f"entitlement {view.serial} is EXPIRED and cannot be changed")
    if changes_end_date and view.status is Status.STOPPED:
        raise InvalidState(
            f"entitlement {view.serial} is STOPPED; its end date can be changed only while "
            "PENDING or ACTIVE"
        )


def check_bulk(views: Sequence[EntitlementView], *, removing: bool) -> None:
    """What refuses a whole bulk selection before anything changes (R60, R41)."""
    if not views:
        raise InvalidInput("select at least one entitlement")
    check_same_product_type(views)
    if removing:
        check_removable(views)


def check_removable(views: Sequence[EntitlementView]) -> None:
    """Hardware removal is all-or-nothing: every serial must be STOPPED or EXPIRED (R41)."""
    if not views:
        raise InvalidInput("serialNumbers must name at least one serial")
    for view in views:
        _check_managed(view)
        if view.form_factor is not FormFactor.HARDWARE:
            raise WrongProductType(f"{view.serial} is not a hardware entitlement")
        if view.status not in (Status.STOPPED, Status.EXPIRED):
            raise InvalidState(
                f"{view.serial} is {view.status}; only STOPPED or EXPIRED hardware can be "
                "removed, nothing was removed"
            )


def check_same_product_type(views: Iterable[EntitlementView]) -> None:
    """Bulk actions only within one product type (R60)."""
    types = {view.product_type_id for view in views}
    if len(types) > 1:
        raise MixedProductTypes(
            "bulk actions need serials of one product type; the selection has product types "
            + ", ".join(str(t) for t in sorted(types))
        )


def resolve_end(
    requested: datetime | None, now: datetime, program_end: datetime
) -> tuple[datetime, TerminationMode]:
    """Turn a requested end into (end instant, termination mode) (R42–R44, P11).

    ``None`` means Follow Program. A User Defined end must lie after ``now`` (a date-only end
    of today is 00:00 today and therefore already past) and not after the program end.
    """
    if requested is None:
        return program_end, TerminationMode.FOLLOW_PROGRAM
    if requested <= now:
        raise InvalidDate("endDate must be later than now")
    if requested > program_end:
        raise InvalidDate("endDate must not be later than the program end date")
    return requested, TerminationMode.USER_DEFINED


def _check_managed(view: EntitlementView) -> None:
    if view.removed:
        raise InvalidState(f"{view.serial} was removed and is no longer managed")
