"""The configuration use cases on fakes: what they write, what they refuse, in how many units."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pointflex.bootstrap import Runtime
from pointflex.domain.configs import ACTIVE, DISABLED, Config
from pointflex.errors import Forbidden, InvalidInput, InvalidParameter, NotFound
from pointflex.services.configs import configurations as configs
from pointflex.services.context import Actor
from tests.unit.services.conftest import NOW
from tests.unit.services.fakes import FakeUnits

PROGRAM = "ELAVMR0000000001"
ACME, ACME_MEMBER, GLOBEX = 10, 11, 20  # accounts; Acme's two share organisation 1
FGT_VM = 1
ENT_2 = [{"id": 1, "value": "2"}, {"id": 2, "value": "ENT"}]
ENT_4 = [{"id": 1, "value": "4"}, {"id": 2, "value": "ENT"}]
OPERATOR = Actor("operator")
ACME_ADMIN = Actor("alice", frozenset({ACME}))
GLOBEX_ADMIN = Actor("bob", frozenset({GLOBEX}))


@pytest.fixture(autouse=True)
def tenants(units: FakeUnits) -> None:
    units.scope.programs[PROGRAM] = ACME
    units.scope.organizations.update({ACME: 1, ACME_MEMBER: 1, GLOBEX: 2})


def create(rt: Runtime, actor: Actor = ACME_ADMIN, **kw: object) -> Config:
    fields: dict[str, object] = {
        "program_serial": PROGRAM,
        "name": "  edge  ",
        "product_type_id": FGT_VM,
        "parameters": ENT_2,
    }
    return configs.create_config(rt, actor, **{**fields, **kw})  # type: ignore[arg-type]


def test_a_new_configuration_is_active_with_its_first_version_and_an_audit_row(
    rt: Runtime, units: FakeUnits
) -> None:
    made = create(rt)
    assert (made.name, made.status, made.account_id) == ("edge", ACTIVE, ACME)
    assert (made.values[1], made.values[2]) == ("2", "ENT")  # with the catalogue's defaults
    assert units.configs.versions(made.id) == [(NOW, made.values)]
    (entry,) = units.audit.entries
    assert (entry.action, entry.object_id, entry.actor) == ("config.create", str(made.id), "alice")
    assert (entry.after["parameters"]["1"], entry.after["parameters"]["2"]) == ("2", "ENT")
    assert units.opened == ["write"]


def test_a_program_outside_the_callers_organisations_is_reported_missing(
    rt: Runtime, units: FakeUnits
) -> None:
    with pytest.raises(NotFound, match=f"program {PROGRAM} not found"):
        create(rt, GLOBEX_ADMIN)
    assert not units.configs.rows
    assert not units.audit.entries


def test_a_member_account_of_the_programs_organisation_may_own_one(
    rt: Runtime, units: FakeUnits
) -> None:
    member = Actor("carol", frozenset({ACME_MEMBER}))
    assert create(rt, member).account_id == ACME_MEMBER


def test_an_account_of_another_organisation_cannot_own_one(rt: Runtime, units: FakeUnits) -> None:
    with pytest.raises(InvalidInput, match="not in the program's organisation"):
        create(rt, OPERATOR, account_id=GLOBEX)
    assert not units.configs.rows


def test_a_caller_with_several_accounts_must_say_which_owns_it(rt: Runtime) -> None:
    both = Actor("dave", frozenset({ACME_MEMBER, 99}))
    named = create(rt, both, account_id=ACME_MEMBER)
    assert named.account_id == ACME_MEMBER
    with pytest.raises(InvalidInput, match="accountId is required"):
        create(rt, both)


def test_a_read_only_caller_is_refused_before_any_transaction(
    rt: Runtime, units: FakeUnits
) -> None:
    with pytest.raises(Forbidden):
        create(rt, Actor("eve", frozenset({ACME}), can_write=False))
    assert units.opened == []


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_a_blank_or_overlong_name_is_refused_before_any_transaction(
    rt: Runtime, units: FakeUnits, name: str
) -> None:
    with pytest.raises(InvalidInput, match="configuration name"):
        create(rt, name=name)
    assert units.opened == []


def test_bad_parameters_are_refused_naming_the_parameter(rt: Runtime, units: FakeUnits) -> None:
    with pytest.raises(InvalidParameter, match="Parameter id 2"):
        create(rt, parameters=[{"id": 1, "value": "2"}, {"id": 2, "value": "NOPE"}])
    assert units.opened == []


def test_an_update_to_the_current_values_changes_nothing(rt: Runtime, units: FakeUnits) -> None:
    made = create(rt)
    again = configs.update_config(rt, ACME_ADMIN, made.id, name="edge", parameters=ENT_2)
    assert again == made
    assert len(units.configs.versions(made.id)) == 1
    assert len(units.audit.entries) == 1


def test_new_parameters_add_a_dated_version_and_audit_before_and_after(
    rt: Runtime, units: FakeUnits
) -> None:
    made = create(rt)
    rt.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    after = configs.update_config(rt, ACME_ADMIN, made.id, parameters=ENT_4)
    assert (after.values[1], after.values[2]) == ("4", "ENT")
    assert [at for at, _ in units.configs.versions(made.id)] == [NOW + timedelta(hours=1), NOW]
    entry = units.audit.entries[-1]
    assert entry.action == "config.update"
    assert (entry.before["parameters"]["1"], entry.after["parameters"]["1"]) == ("2", "4")
    assert units.configs.locked == [made.id]  # read FOR UPDATE before the change


def test_another_organisations_configuration_is_reported_missing(
    rt: Runtime, units: FakeUnits
) -> None:
    made = create(rt)
    with pytest.raises(NotFound, match=f"configuration {made.id} not found"):
        configs.update_config(rt, GLOBEX_ADMIN, made.id, name="mine")
    assert units.configs.rows[made.id].name == "edge"


def test_disabling_twice_writes_once(rt: Runtime, units: FakeUnits) -> None:
    made = create(rt)
    assert configs.set_config_status(rt, ACME_ADMIN, made.id, DISABLED).status == DISABLED
    assert configs.set_config_status(rt, ACME_ADMIN, made.id, DISABLED).status == DISABLED
    assert [e.action for e in units.audit.entries] == ["config.create", "config.disable"]


def test_an_unknown_status_is_refused_before_any_transaction(rt: Runtime, units: FakeUnits) -> None:
    with pytest.raises(InvalidInput, match="ACTIVE or DISABLED"):
        configs.set_config_status(rt, ACME_ADMIN, 1, "PAUSED")
    assert units.opened == []


def test_listing_keeps_to_the_callers_accounts(rt: Runtime, units: FakeUnits) -> None:
    mine = create(rt)
    theirs = create(rt, OPERATOR, account_id=ACME_MEMBER, name="member")
    assert configs.list_configs(rt, OPERATOR, PROGRAM) == [mine, theirs]
    assert configs.list_configs(rt, ACME_ADMIN, PROGRAM) == [mine]
    assert configs.list_configs(rt, OPERATOR, PROGRAM, account_id=ACME_MEMBER) == [theirs]
    with pytest.raises(NotFound, match="account 55 not found"):
        configs.list_configs(rt, OPERATOR, PROGRAM, account_id=55)
    assert units.opened[-4:] == ["read"] * 4


def test_entitlement_counts_leave_out_unused_and_out_of_scope_ones(
    rt: Runtime, units: FakeUnits
) -> None:
    units.configs.entitlements = {1: [ACME, ACME, GLOBEX], 2: [GLOBEX]}
    assert configs.entitlement_counts(rt, OPERATOR, [1, 2, 3]) == {1: 3, 2: 1}
    assert configs.entitlement_counts(rt, ACME_ADMIN, [1, 2, 3]) == {1: 2}
    assert configs.entitlement_counts(rt, ACME_ADMIN, []) == {}
    assert units.opened == ["read", "read"]
