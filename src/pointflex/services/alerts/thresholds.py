"""A prepaid program's own LOW_BALANCE threshold (days of current burn), overriding the
setting ``alert_low_balance_days`` (P8; docs/alerts.md)."""

from __future__ import annotations

from dataclasses import dataclass

from pointflex.bootstrap import Runtime
from pointflex.domain.programs import ProgramKind
from pointflex.errors import InvalidInput, ProgramConflict
from pointflex.services.access.visibility import visible_program_of, visible_programs_of
from pointflex.services.context import Actor, record

# What a program's own threshold may be, in days of current burn.
MIN_DAYS, MAX_DAYS = 1, 3650


def set_low_balance_days(rt: Runtime, actor: Actor, serial: str, days: int | None) -> int:
    """A program's own LOW_BALANCE threshold (None: back to the setting); returns the
    threshold now in effect."""
    actor.require_write()
    actor.require_admin()
    if days is not None and not MIN_DAYS <= days <= MAX_DAYS:
        raise InvalidInput("a low-balance threshold is between 1 and 3,650 days")
    now = rt.now()
    with rt.unit(write=True) as uow:
        program = visible_program_of(uow, actor, serial)
        # Set by who holds the program (its root account), not by a member account's Admin.
        actor.require_account(program.account_id, f"program {serial}")
        if program.kind is not ProgramKind.PREPAID:
            raise ProgramConflict(f"program {serial} is postpaid and has no point balance")
        before = uow.alerts.set_low_balance_days(serial, days, actor.name, now)
        record(
            uow,
            actor,
            now,
            "alert.threshold",
            ("program", serial),
            account_id=program.account_id,
            before={"lowBalanceDays": before},
            after={"lowBalanceDays": days},
        )
    return rt.settings.alert_low_balance_days if days is None else days


@dataclass(frozen=True)
class Threshold:
    program_serial: str
    low_balance_days: int
    own: bool  # set for this program (else the setting)


def thresholds(rt: Runtime, actor: Actor) -> list[Threshold]:
    """The low-balance threshold of every prepaid program the actor sees (one snapshot)."""
    with rt.unit(write=False) as uow:
        visible = [
            p
            for p in visible_programs_of(uow, actor)
            if p.kind is ProgramKind.PREPAID and actor.sees(p.account_id)
        ]
        own = uow.alerts.low_balance_days()
    default = rt.settings.alert_low_balance_days
    return [Threshold(p.serial, own.get(p.serial, default), p.serial in own) for p in visible]
