"""Monthly statements against the database: lines equal the consumption rows, the balance
reconciles exactly, CSV and HTML carry the same charges, postpaid shape, scoping."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from pointflex.bootstrap import Runtime
from pointflex.clock import ManualClock
from pointflex.domain.dates import PACIFIC, day_start
from pointflex.errors import InvalidDate, NotFound, StatementDoesNotReconcile
from pointflex.renderers.statements import CSV_HEADER, statement_csv, statement_html
from pointflex.services.context import Actor, read, write
from pointflex.services.entitlements import changes, creation
from pointflex.services.points import programs
from pointflex.services.points.accrual import accrue_through
from pointflex.services.points.statements import statement
from pointflex.store.tables import accrual_runs, consumption
from tests.builders import FGT_ENT_4, OPERATOR, World, config, world

RATE_2, RATE_4 = Decimal("6.39"), Decimal("12.91")


def at(day: date, hour: int = 10) -> datetime:
    return day_start(day, PACIFIC) + timedelta(hours=hour)


@dataclass(frozen=True)
class Setup:
    world: World
    serials: list[str]
    member_serial: str


@pytest.fixture
def setup(rt: Runtime, clock: ManualClock) -> Setup:
    """February and March 2026 on both programs: packs, an adjustment, a stop, a member
    account's VM; everything through 9 April accrued (today is 10 April)."""
    clock.set(at(date(2026, 2, 10)))
    w = world(rt)
    programs.add_pack(rt, OPERATOR, w.prepaid, 10_000, reference="LIC-ELAVM-10K")
    small, large = config(rt, w.prepaid), config(rt, w.prepaid, FGT_ENT_4, name="big")
    member = config(rt, w.prepaid, name="branch", account_id=w.member)
    made = creation.create_vm(rt, OPERATOR, config_id=small.id, count=2, skip_pending=True)
    post = config(rt, w.postpaid, name="post")
    creation.create_vm(rt, OPERATOR, config_id=post.id, skip_pending=True)
    clock.set(at(date(2026, 3, 3)))
    made += creation.create_vm(rt, OPERATOR, config_id=large.id, skip_pending=True)
    branch = creation.create_vm(rt, OPERATOR, config_id=member.id, skip_pending=True)
    clock.set(at(date(2026, 3, 12)))
    programs.add_pack(rt, OPERATOR, w.prepaid, 50_000, reference="LIC-ELAVM-50K")
    programs.adjust(rt, OPERATOR, w.prepaid, Decimal("-12.34"), "goodwill correction")
    changes.stop(rt, OPERATOR, [made[0].serial])
    clock.set(at(date(2026, 4, 10)))
    accrue_through(rt, date(2026, 4, 9))
    return Setup(w, [e.serial for e in made], branch[0].serial)


def consumption_rows(rt: Runtime, serial: str, first: date, last: date) -> list[tuple]:
    c = consumption.c
    with read(rt) as conn:
        rows = conn.execute(
            select(c.day, c.serial, c.config_id, c.points)
            .where(c.program_serial == serial, c.day >= first, c.day <= last)
            .order_by(c.day, c.serial)
        ).all()
    return [(r.day, r.serial, r.config_id, Decimal(r.points)) for r in rows]


def test_prepaid_statement_lines_are_the_consumption_rows_and_the_balance_reconciles(
    rt: Runtime, setup: Setup
) -> None:
    st = statement(rt, OPERATOR, setup.world.prepaid, "2026-03")
    rows = consumption_rows(rt, setup.world.prepaid, date(2026, 3, 1), date(2026, 3, 31))
    assert [(c.day, c.serial, c.config_id, c.points) for c in st.lines] == rows
    s = st.summary
    # Hand computation: 2 small VMs all of March except the one stopped on 12 March (charged
    # 1–12), the big VM and the branch VM from 3 March.
    expected = RATE_2 * (31 + 12) + RATE_4 * 29 + RATE_2 * 29
    assert s.consumption == expected
    assert s.credits == Decimal("49987.66")
    february = RATE_2 * 2 * 19  # 10–28 February
    assert s.opening == Decimal("10000") - february
    assert s.opening + s.credits - s.consumption == s.closing
    assert [e.reference for e in st.ledger] == ["LIC-ELAVM-50K", ""]
    assert st.complete
    assert st.through == date(2026, 3, 31)
    assert sum((t.points for t in st.totals), Decimal(0)) == s.consumption
    assert {t.name: t.entitlements for t in st.totals} == {"fgt": 2, "big": 1, "branch": 1}


def test_the_current_month_says_through_which_day_it_is_charged(rt: Runtime, setup: Setup) -> None:
    st = statement(rt, OPERATOR, setup.world.prepaid, date(2026, 4, 20))
    assert not st.complete
    assert st.through == date(2026, 4, 9)
    assert "through 2026-04-09" in st.status_note
    assert "through 2026-04-09" in statement_html(st)


def test_csv_parses_back_to_the_same_totals(rt: Runtime, setup: Setup) -> None:
    st = statement(rt, OPERATOR, setup.world.prepaid, "2026-03")
    rows = list(csv.DictReader(io.StringIO(statement_csv(st))))
    assert list(rows[0]) == CSV_HEADER
    assert len(rows) == len(st.lines)
    by_config: dict[int, Decimal] = defaultdict(Decimal)
    for row in rows:
        by_config[int(row["config_id"])] += Decimal(row["points"])
    assert dict(by_config) == {t.config_id: t.points for t in st.totals}
    assert sum(by_config.values(), Decimal(0)) == st.summary.consumption
    assert {row["product_type"] for row in rows} == {"FortiGate-VM Service Bundle"}


def test_html_lists_every_serial_and_the_balance(rt: Runtime, setup: Setup) -> None:
    st = statement(rt, OPERATOR, setup.world.prepaid, "2026-03")
    page = statement_html(st)
    for serial in {*setup.serials, setup.member_serial}:
        assert serial in page
    assert f"{st.summary.closing:,.2f}" in page
    assert "LIC-ELAVM-50K" in page
    assert "<link" not in page
    assert "<script" not in page
    assert "src=" not in page


def test_postpaid_statement_is_consumption_only(rt: Runtime, setup: Setup) -> None:
    st = statement(rt, OPERATOR, setup.world.postpaid, "2026-03")
    assert st.summary.consumption == RATE_2 * 31
    assert not st.shows_balance
    assert st.ledger == []
    body = st.to_json()
    assert "opening" not in body
    assert "closing" not in body
    page = statement_html(st)
    assert "Closing balance" not in page
    assert "invoiced" in page


def test_a_member_account_user_sees_only_its_own_charges_and_no_balance(
    rt: Runtime, setup: Setup
) -> None:
    branch = Actor(name="branch", account_ids=frozenset({setup.world.member}))
    st = statement(rt, branch, setup.world.prepaid, "2026-03")
    assert st.partial
    assert not st.shows_balance
    assert {c.serial for c in st.lines} == {setup.member_serial}
    assert st.summary.consumption == RATE_2 * 29


def test_another_organisation_cannot_read_the_statement(rt: Runtime, setup: Setup) -> None:
    other = world(rt)
    outsider = Actor(name="outsider", account_ids=frozenset({other.root}))
    with pytest.raises(NotFound):
        statement(rt, outsider, setup.world.prepaid, "2026-03")


def test_a_bad_month_is_refused(rt: Runtime, setup: Setup) -> None:
    with pytest.raises(InvalidDate):
        statement(rt, OPERATOR, setup.world.prepaid, "2026-13")


def test_a_statement_whose_parts_disagree_is_refused(rt: Runtime, setup: Setup) -> None:
    # Corrupt one daily total: the balance from the daily totals no longer matches.
    with write(rt) as conn:
        conn.execute(
            update(accrual_runs)
            .where(
                accrual_runs.c.program_serial == setup.world.prepaid,
                accrual_runs.c.day == date(2026, 3, 15),
            )
            .values(points=accrual_runs.c.points + 1)
        )
    with pytest.raises(StatementDoesNotReconcile, match="closing balance"):
        statement(rt, OPERATOR, setup.world.prepaid, "2026-03")
