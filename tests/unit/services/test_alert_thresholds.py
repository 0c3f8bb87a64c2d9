"""A prepaid program's own LOW_BALANCE threshold, on fakes: who may set it, what it replaces."""

from __future__ import annotations

from datetime import date

import pytest

from pointflex.bootstrap import Runtime
from pointflex.domain.programs import Program, ProgramKind
from pointflex.errors import Forbidden, InvalidInput, NotFound, ProgramConflict
from pointflex.services.alerts import thresholds
from pointflex.services.context import Actor
from tests.unit.services.fakes import FakeUnits

PREPAID, POSTPAID, GLOBEX_PREPAID = "ELAVMR0000000001", "ELAVMS0000000002", "ELAVMR0000000003"
ACME, ACME_MEMBER, GLOBEX = 10, 11, 20
OPERATOR = Actor("operator")
ACME_ADMIN = Actor("alice", frozenset({ACME}))
MEMBER_ADMIN = Actor("carol", frozenset({ACME_MEMBER}))


def program(serial: str, account: int, kind: ProgramKind) -> Program:
    tz = "UTC"
    return Program(serial, account, kind, date(2026, 1, 1), date(2027, 1, 1), tz, False, None)


@pytest.fixture(autouse=True)
def tenants(units: FakeUnits) -> None:
    for serial, account, kind in (
        (PREPAID, ACME, ProgramKind.PREPAID),
        (POSTPAID, ACME, ProgramKind.POSTPAID),
        (GLOBEX_PREPAID, GLOBEX, ProgramKind.PREPAID),
    ):
        units.programs.rows[serial] = program(serial, account, kind)
        units.scope.programs[serial] = account
    units.scope.organizations.update({ACME: 1, ACME_MEMBER: 1, GLOBEX: 2})


def test_a_programs_own_threshold_replaces_the_setting_and_is_audited(
    rt: Runtime, units: FakeUnits
) -> None:
    assert thresholds.set_low_balance_days(rt, ACME_ADMIN, PREPAID, 45) == 45
    assert thresholds.set_low_balance_days(rt, ACME_ADMIN, PREPAID, None) == (
        rt.settings.alert_low_balance_days
    )
    changes = [(e.before, e.after) for e in units.audit.entries]
    assert changes == [
        ({"lowBalanceDays": None}, {"lowBalanceDays": 45}),
        ({"lowBalanceDays": 45}, {"lowBalanceDays": None}),
    ]
    assert units.alerts.own == {}
    assert units.opened == ["write", "write"]


@pytest.mark.parametrize("days", [0, 3651])
def test_a_threshold_out_of_range_is_refused_before_any_transaction(
    rt: Runtime, units: FakeUnits, days: int
) -> None:
    with pytest.raises(InvalidInput, match="between 1 and 3,650 days"):
        thresholds.set_low_balance_days(rt, ACME_ADMIN, PREPAID, days)
    assert units.opened == []


def test_a_member_accounts_admin_sees_the_program_but_may_not_set_it(
    rt: Runtime, units: FakeUnits
) -> None:
    with pytest.raises(NotFound, match=f"program {PREPAID} not found"):
        thresholds.set_low_balance_days(rt, MEMBER_ADMIN, PREPAID, 45)
    assert not units.alerts.own


def test_a_postpaid_program_has_no_low_balance(rt: Runtime) -> None:
    with pytest.raises(ProgramConflict, match="postpaid"):
        thresholds.set_low_balance_days(rt, ACME_ADMIN, POSTPAID, 45)


def test_a_read_only_or_non_admin_caller_is_refused(rt: Runtime) -> None:
    for actor in (
        Actor("eve", frozenset({ACME}), can_write=False),
        Actor("dan", frozenset({ACME}), is_admin=False),
    ):
        with pytest.raises(Forbidden):
            thresholds.set_low_balance_days(rt, actor, PREPAID, 45)


def test_the_list_shows_each_visible_prepaid_program_with_its_threshold(
    rt: Runtime, units: FakeUnits
) -> None:
    units.alerts.own = {PREPAID: 45, GLOBEX_PREPAID: 5}
    default = rt.settings.alert_low_balance_days
    listed = [
        (t.program_serial, t.low_balance_days, t.own) for t in thresholds.thresholds(rt, OPERATOR)
    ]
    assert listed == [(PREPAID, 45, True), (GLOBEX_PREPAID, 5, True)]
    assert [t.program_serial for t in thresholds.thresholds(rt, ACME_ADMIN)] == [PREPAID]
    assert thresholds.thresholds(rt, MEMBER_ADMIN) == []  # sees it, does not hold it
    units.alerts.own.clear()
    assert thresholds.thresholds(rt, ACME_ADMIN)[0].low_balance_days == default
    assert set(units.opened) == {"read"}
