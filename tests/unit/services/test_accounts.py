"""Organisations and accounts on fakes: ids, names, duplicates, who sees which account."""

from __future__ import annotations

import pytest

from pointflex.bootstrap import Runtime
from pointflex.domain.accounts import FIRST_ACCOUNT_ID, Account
from pointflex.errors import Duplicate, Forbidden, InvalidInput, NotFound
from pointflex.services.access import accounts
from pointflex.services.context import Actor
from tests.unit.services.fakes import FakeUnits

OPERATOR = Actor("operator")


def test_an_organisation_comes_with_its_root_account_audited(rt: Runtime, units: FakeUnits) -> None:
    root = accounts.create_organization(rt, OPERATOR, " Acme ", " Acme HQ ")
    assert root == Account(FIRST_ACCOUNT_ID, 1, "Acme HQ", True)
    assert units.accounts.names == {1: "Acme"}
    (entry,) = units.audit.entries
    assert (entry.action, entry.object_id) == ("organization.create", "1")
    assert units.opened == ["write"]


def test_account_ids_follow_the_highest_one_in_use(rt: Runtime) -> None:
    acme = accounts.create_organization(rt, OPERATOR, "Acme", "Acme HQ", root_account_id=200_000)
    member = accounts.create_account(rt, OPERATOR, acme.organization_id, "Acme Lab")
    assert (member.id, member.is_root) == (200_001, False)


def test_a_chosen_account_id_in_use_is_refused(rt: Runtime, units: FakeUnits) -> None:
    acme = accounts.create_organization(rt, OPERATOR, "Acme", "Acme HQ")
    with pytest.raises(Duplicate, match=f"account {acme.id} already exists"):
        accounts.create_account(rt, OPERATOR, acme.organization_id, "Again", account_id=acme.id)
    assert list(units.accounts.rows) == [acme.id]


@pytest.mark.parametrize(("org", "root"), [("  ", "HQ"), ("Acme", " ")])
def test_blank_names_are_refused(rt: Runtime, units: FakeUnits, org: str, root: str) -> None:
    with pytest.raises(InvalidInput, match="name must not be empty"):
        accounts.create_organization(rt, OPERATOR, org, root)
    assert not units.accounts.rows


def test_a_member_account_needs_an_existing_organisation(rt: Runtime) -> None:
    with pytest.raises(NotFound, match="organization 7 not found"):
        accounts.create_account(rt, OPERATOR, 7, "Lab")


def test_a_read_only_caller_creates_nothing(rt: Runtime, units: FakeUnits) -> None:
    with pytest.raises(Forbidden):
        accounts.create_organization(rt, Actor("eve", can_write=False), "Acme", "HQ")
    assert units.opened == []


def test_callers_list_only_the_accounts_in_their_scope(rt: Runtime) -> None:
    acme = accounts.create_organization(rt, OPERATOR, "Acme", "Acme HQ")
    globex = accounts.create_organization(rt, OPERATOR, "Globex", "Globex IT")
    assert accounts.list_accounts(rt, OPERATOR) == [acme, globex]
    assert accounts.list_accounts(rt, Actor("bob", frozenset({globex.id}))) == [globex]
