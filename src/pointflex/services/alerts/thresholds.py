"""A prepaid program's own LOW_BALANCE threshold (days of current burn), overriding the
setting ``alert_low_balance_days`` (P8; docs/alerts.md)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, insert, select

from pointflex.bootstrap import Runtime
from pointflex.domain.programs import ProgramKind
from pointflex.errors import InvalidInput, ProgramConflict
from pointflex.services.context import Actor, audit, read, write
from pointflex.services.points.programs import list_programs, visible_program
from pointflex.store.tables import alert_thresholds


def set_low_balance_days(rt: Runtime, actor: Actor, serial: str, days: int | None) -> int:
    """A program's own LOW_BALANCE threshold (None: back to the setting); returns the
    threshold now in effect."""
    actor.require_write()
    actor.require_admin()
    if days is not None and not 1 <= days <= 3650:
        raise InvalidInput("a low-balance threshold is between 1 and 3,650 days")
    now = rt.now()
    with write(rt) as conn:
        program = visible_program(conn, actor, serial)
        # Set by who holds the program (its root account), not by a member account's Admin.
        actor.require_account(program.account_id, f"program {serial}")
        if program.kind is not ProgramKind.PREPAID:
            raise ProgramConflict(f"program {serial} is postpaid and has no point balance")
        before = conn.execute(
            select(alert_thresholds.c.low_balance_days).where(
                alert_thresholds.c.program_serial == serial
            )
        ).scalar()
        conn.execute(delete(alert_thresholds).where(alert_thresholds.c.program_serial == serial))
        if days is not None:
            conn.execute(
                insert(alert_thresholds).values(
                    program_serial=serial, low_balance_days=days, set_by=actor.name, set_at=now
                )
            )
        audit(
            conn,
            actor,
            now,
            "alert.threshold",
            "program",
            serial,
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
    """The low-balance threshold of every prepaid program the actor sees."""
    visible = [
        p
        for p in list_programs(rt, actor)
        if p.kind is ProgramKind.PREPAID and actor.sees(p.account_id)
    ]
    with read(rt) as conn:
        own = dict(
            conn.execute(
                select(alert_thresholds.c.program_serial, alert_thresholds.c.low_balance_days)
            ).all()
        )
    default = rt.settings.alert_low_balance_days
    return [Threshold(p.serial, own.get(p.serial, default), p.serial in own) for p in visible]
