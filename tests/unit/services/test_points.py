"""Points use cases on fakes: balances, packs and adjustments, reports, monthly statements."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from pointflex.bootstrap import Runtime
from pointflex.domain.programs import LedgerKind, Program, ProgramKind
from pointflex.domain.usage import GroupBy
from pointflex.errors import Forbidden, InvalidDate, InvalidInput, NotFound, ProgramConflict
from pointflex.services.context import Actor
from pointflex.services.points import programs, usage
from pointflex.store.queries.programs import LedgerLine
from tests.unit.services.conftest import NOW
from tests.unit.services.fakes import FakeUnits

PREPAID, POSTPAID = "ELAVMR0000000001", "ELAVMS0000000002"
ACME, ACME_MEMBER, GLOBEX = 10, 11, 20
OPERATOR = Actor("operator")
ACME_ADMIN = Actor("alice", frozenset({ACME}))
MEMBER = Actor("carol", frozenset({ACME_MEMBER}))
GLOBEX_ADMIN = Actor("bob", frozenset({GLOBEX}))
TZ = "America/Los_Angeles"


def program(serial: str, kind: ProgramKind, negative_since: date | None = None) -> Program:
    return Program(
        serial, ACME, kind, date(2026, 1, 1), date(2027, 1, 1), TZ, False, negative_since
    )


def credit(units: FakeUnits, day: date, points: str) -> None:
    line = LedgerLine(day, LedgerKind.PACK, Decimal(points), "", "", NOW, "operator")
    units.programs.add_ledger_entry(PREPAID, line)


@pytest.fixture(autouse=True)
def tenants(units: FakeUnits) -> None:
    units.programs.rows.update(
        {
            PREPAID: program(PREPAID, ProgramKind.PREPAID),
            POSTPAID: program(POSTPAID, ProgramKind.POSTPAID),
        }
    )
    units.scope.programs.update({PREPAID: ACME, POSTPAID: ACME})
    units.scope.organizations.update({ACME: 1, ACME_MEMBER: 1, GLOBEX: 2})


def test_the_balance_is_credits_less_the_accrued_days(rt: Runtime, units: FakeUnits) -> None:
    credit(units, date(2026, 1, 1), "1000")
    units.programs.consumed[PREPAID] = [(date(2026, 1, 1), Decimal("6.39"))]
    assert programs.balance(rt, MEMBER, PREPAID) == Decimal("993.61")
    assert units.opened == ["read"]


def test_a_postpaid_program_has_no_balance(rt: Runtime) -> None:
    with pytest.raises(ProgramConflict, match="postpaid and has no point balance"):
        programs.balance(rt, ACME_ADMIN, POSTPAID)


def test_another_organisations_program_is_reported_missing(rt: Runtime) -> None:
    with pytest.raises(NotFound, match=f"program {PREPAID} not found"):
        programs.balance(rt, GLOBEX_ADMIN, PREPAID)


def test_a_pack_is_credited_on_the_programs_day_and_audited(rt: Runtime, units: FakeUnits) -> None:
    assert programs.add_pack(rt, OPERATOR, PREPAID, 10_000, "PO-1") == Decimal("10000.00")
    (line,) = units.programs.ledger[PREPAID]
    # 18:15 UTC on 2 March is 10:15 in Los Angeles: the program's day is the 2nd.
    assert (line.day, line.kind, line.reference) == (date(2026, 3, 2), LedgerKind.PACK, "PO-1")
    (entry,) = units.audit.entries
    assert entry.action == "points.pack"
    assert entry.after["balance"] == "10000.00"
    assert units.opened == ["write"]


def test_a_credit_that_clears_a_negative_balance_ends_the_grace(
    rt: Runtime, units: FakeUnits
) -> None:
    units.programs.rows[PREPAID] = program(PREPAID, ProgramKind.PREPAID, date(2026, 2, 1))
    units.programs.consumed[PREPAID] = [(date(2026, 2, 1), Decimal("15000"))]
    programs.add_pack(rt, OPERATOR, PREPAID, 10_000)
    assert units.programs.rows[PREPAID].negative_since is not None  # still -5,000
    programs.add_pack(rt, OPERATOR, PREPAID, 10_000)
    assert units.programs.rows[PREPAID].negative_since is None


def test_customers_cannot_credit_their_own_program(rt: Runtime, units: FakeUnits) -> None:
    with pytest.raises(Forbidden, match="platform operator"):
        programs.add_pack(rt, ACME_ADMIN, PREPAID, 10_000)
    assert units.opened == []
    assert not units.programs.ledger


def test_a_pack_of_another_size_is_refused_before_any_transaction(
    rt: Runtime, units: FakeUnits
) -> None:
    with pytest.raises(InvalidInput, match="10,000 or 50,000"):
        programs.add_pack(rt, OPERATOR, PREPAID, 500)
    assert units.opened == []


def test_points_go_to_prepaid_programs_only(rt: Runtime, units: FakeUnits) -> None:
    with pytest.raises(ProgramConflict, match="points are for prepaid programs"):
        programs.add_pack(rt, OPERATOR, POSTPAID, 10_000)
    assert not units.programs.ledger
    assert not units.audit.entries


def test_an_adjustment_needs_a_reason_and_a_non_zero_amount(rt: Runtime, units: FakeUnits) -> None:
    with pytest.raises(InvalidInput, match="needs a note"):
        programs.adjust(rt, OPERATOR, PREPAID, Decimal("-5"), "  ")
    with pytest.raises(InvalidInput, match="0 points"):
        programs.adjust(rt, OPERATOR, PREPAID, Decimal("0"), "typo")
    assert programs.adjust(rt, OPERATOR, PREPAID, Decimal("-5"), "typo") == Decimal("-5.00")
    assert units.audit.entries[-1].action == "points.adjustment"


def consume(units: FakeUnits, day: date, serial: str, account: int, points: str) -> None:
    config = (1, "edge") if serial.startswith("FGVM") else (2, "branch")
    units.usage.rows.append((PREPAID, day, serial, account, *config, Decimal(points)))


def test_a_report_groups_the_days_points_and_keeps_to_the_callers_accounts(
    rt: Runtime, units: FakeUnits
) -> None:
    consume(units, date(2026, 2, 1), "FGVM01", ACME, "6.39")
    consume(units, date(2026, 2, 1), "FGT60F", ACME_MEMBER, "2.00")
    consume(units, date(2026, 2, 2), "FGVM01", ACME, "6.39")
    days = (date(2026, 2, 1), date(2026, 2, 28))
    by_config = usage.report(rt, OPERATOR, PREPAID, GroupBy.CONFIGURATION, *days)
    assert [(r.key, r.label, r.entitlements, r.points) for r in by_config] == [
        ("1", "edge", 1, Decimal("12.78")),
        ("2", "branch", 1, Decimal("2.00")),
    ]
    mine = usage.report(rt, ACME_ADMIN, PREPAID, GroupBy.DAY, *days)
    assert [(r.key, r.points) for r in mine] == [
        ("2026-02-01", Decimal("6.39")),
        ("2026-02-02", Decimal("6.39")),
    ]


def test_a_report_ending_before_it_starts_is_refused_before_any_transaction(
    rt: Runtime, units: FakeUnits
) -> None:
    with pytest.raises(InvalidDate):
        usage.report(rt, OPERATOR, PREPAID, GroupBy.DAY, date(2026, 2, 2), date(2026, 2, 1))
    assert units.opened == []


def test_a_monthly_statement_carries_the_balance_forward(rt: Runtime, units: FakeUnits) -> None:
    credit(units, date(2026, 1, 1), "1000")
    credit(units, date(2026, 2, 10), "500")
    units.programs.consumed[PREPAID] = [(date(2026, 1, 31), Decimal("100"))]
    consume(units, date(2026, 2, 1), "FGVM01", ACME, "6.39")
    consume(units, date(2026, 2, 28), "FGVM01", ACME, "6.39")
    consume(units, date(2026, 3, 1), "FGVM01", ACME, "6.39")  # next month: left out
    st = usage.monthly_statement(rt, ACME_ADMIN, PREPAID, date(2026, 2, 14))
    assert st.month == date(2026, 2, 1)
    assert st.kind is ProgramKind.PREPAID
    assert (st.opening, st.credits, st.consumption) == (
        Decimal("900.00"),
        Decimal("500.00"),
        Decimal("12.78"),
    )
    assert st.closing == st.opening + st.credits - st.consumption == Decimal("1387.22")
    assert units.opened == ["read"]  # one snapshot
