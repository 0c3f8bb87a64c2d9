"""What an actor may see, asked of a unit of work: programs of its organisations (R63, R65)."""

from __future__ import annotations

from pointflex.domain.programs import Program
from pointflex.errors import NotFound
from pointflex.services.context import Actor
from pointflex.store.unit_of_work import UnitOfWork


def visible_program_account(uow: UnitOfWork, actor: Actor, serial: str) -> int:
    """The account of a program the actor may see: registered to, or in the organisation of,
    its accounts. Any other program is reported as missing (R63)."""
    account = uow.scope.program_account(serial)
    if account is None:
        raise NotFound(f"program {serial} not found")
    _require_sees(uow, actor, account, serial)
    return account


def visible_program_of(uow: UnitOfWork, actor: Actor, serial: str) -> Program:
    """:func:`visible_program_account`, the whole program."""
    program = uow.programs.get(serial)
    if program is None:
        raise NotFound(f"program {serial} not found")
    _require_sees(uow, actor, program.account_id, serial)
    return program


def _require_sees(uow: UnitOfWork, actor: Actor, account: int, serial: str) -> None:
    if actor.account_ids is None or actor.sees(account):
        return
    organization = organization_of(uow, account)
    if not actor.account_ids & uow.scope.organization_accounts(organization):
        raise NotFound(f"program {serial} not found")


def organization_of(uow: UnitOfWork, account_id: int) -> int:
    found = uow.scope.organization_of(account_id)
    if found is None:
        raise NotFound(f"account {account_id} not found")
    return found


def visible_organizations_of(uow: UnitOfWork, actor: Actor) -> frozenset[int] | None:
    """Organisations whose programs the actor sees (None: all): programs belong to an
    organisation's root account and every member account's user sees them (R65)."""
    if actor.account_ids is None:
        return None
    return uow.scope.organizations_of(actor.account_ids)


def visible_programs_of(uow: UnitOfWork, actor: Actor) -> list[Program]:
    """Every program :func:`visible_program_of` would let the actor see, in serial order."""
    return uow.programs.of_organizations(visible_organizations_of(uow, actor))
