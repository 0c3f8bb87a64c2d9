"""The shown status has one rule: the SQL that filters by it agrees with the domain everywhere.

Every stored status, with both termination modes and ends behind and ahead, on programs that
are running, in a negative-balance grace period (R55), ended but in the program grace (R57),
and ended past it (P7): the status read row by row (the domain's ``shown_status``) and the
status the database computes (``shown_status_sql``, built from ``SHOWN_STATUS_RULES``) match.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from sqlalchemy import select, update

from pointflex.bootstrap import Runtime
from pointflex.clock import ManualClock
from pointflex.domain.entitlements import Status, TerminationMode
from pointflex.services.context import read, write
from pointflex.services.entitlements import creation
from pointflex.services.entitlements.views import ProgramFacts, load_records, shown_status_sql
from pointflex.store.tables import entitlements, programs
from tests.builders import OPERATOR, config, world

E = entitlements
STORED = [Status.PENDING, Status.ACTIVE, Status.STOPPED, Status.EXPIRED]
MODES = [TerminationMode.FOLLOW_PROGRAM, TerminationMode.USER_DEFINED]


def program_states(rt: Runtime, clock: ManualClock) -> list[str]:
    """Four programs: running, negative balance (R55), ended in grace (R57), ended past it."""
    first, second = world(rt), world(rt)
    today = clock.now().date()
    changes = {
        first.prepaid: {},
        first.postpaid: {"negative_since": today - timedelta(days=3)},
        second.prepaid: {"end_date": today - timedelta(days=5)},
        second.postpaid: {"end_date": today - timedelta(days=rt.settings.program_grace_days + 5)},
    }
    with write(rt) as conn:
        for serial, values in changes.items():
            if values:
                conn.execute(update(programs).where(programs.c.serial == serial).values(**values))
    return list(changes)


def test_the_database_and_the_domain_show_the_same_status_for_every_case(
    rt: Runtime, clock: ManualClock
) -> None:
    serials = program_states(rt, clock)
    now = clock.now()
    made: list[str] = []
    for program in serials:
        cfg = config(rt, program)
        cases = list(itertools.product(STORED, MODES, (-2, 2)))
        created = creation.create_vm(rt, OPERATOR, config_id=cfg.id, count=len(cases))
        with write(rt) as conn:
            for record, (stored, mode, days) in zip(created, cases, strict=True):
                conn.execute(
                    update(E)
                    .where(E.c.serial == record.serial)
                    .values(
                        status=stored.value,
                        termination_mode=mode.value,
                        end_at=now + timedelta(days=days),
                    )
                )
        made.extend(r.serial for r in created)
    with read(rt) as conn:
        by_domain = {r.serial: r.status.value for r in load_records(rt, conn, OPERATOR, made)}
        shown = shown_status_sql(conn, ProgramFacts(rt, rt.now()))
        by_sql = dict(conn.execute(select(E.c.serial, shown).where(E.c.serial.in_(made))).all())
    assert by_sql == by_domain
    # The cases reach every status a read can show, so a drift in any rule shows up here.
    assert set(by_domain.values()) == {s.value for s in Status}


def test_a_program_past_its_grace_expires_follow_program_entitlements_in_both(
    rt: Runtime, clock: ManualClock
) -> None:
    w = world(rt, start=date(2026, 1, 1), end=date(2026, 4, 1))
    (record,) = creation.create_vm(
        rt, OPERATOR, config_id=config(rt, w.prepaid).id, skip_pending=True
    )
    clock.set(clock.now() + timedelta(days=31 + rt.settings.program_grace_days + 1))
    with read(rt) as conn:
        (loaded,) = load_records(rt, conn, OPERATOR, [record.serial])
        shown = shown_status_sql(conn, ProgramFacts(rt, rt.now()))
        in_sql = conn.execute(select(shown).where(E.c.serial == record.serial)).scalar_one()
    assert loaded.status is Status.EXPIRED
    assert in_sql == Status.EXPIRED.value
