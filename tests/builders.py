"""Builders for integration tests: a small world made through the real services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from pointflex.bootstrap import Runtime
from pointflex.domain.configs import Config
from pointflex.domain.programs import ProgramKind
from pointflex.services.access import accounts
from pointflex.services.configs import configurations as configs
from pointflex.services.context import Actor
from pointflex.services.points import programs

OPERATOR = Actor(name="operator")

FGT_ENT_2 = [{"id": 1, "value": "2"}, {"id": 2, "value": "ENT"}]
FGT_ENT_4 = [{"id": 1, "value": 4}, {"id": 2, "value": "ENT"}]
FGT_HW = [{"id": 27, "value": "FGT60F"}, {"id": 28, "value": "FGHWFC247"}]


@dataclass(frozen=True)
class World:
    root: int
    member: int
    prepaid: str
    postpaid: str


def world(rt: Runtime, *, start: date = date(2026, 1, 1), end: date = date(2027, 1, 1)) -> World:
    root = accounts.create_organization(rt, OPERATOR, "Acme", "Acme root")
    member = accounts.create_account(rt, OPERATOR, root.organization_id, "Acme branch")
    prepaid = programs.register_program(
        rt, OPERATOR, account_id=root.id, kind=ProgramKind.PREPAID, start_date=start, end_date=end
    )
    postpaid = programs.register_program(
        rt, OPERATOR, account_id=root.id, kind=ProgramKind.POSTPAID, start_date=start, end_date=end
    )
    return World(root.id, member.id, prepaid.serial, postpaid.serial)


def config(
    rt: Runtime,
    program: str,
    parameters: list[dict[str, Any]] | None = None,
    *,
    product: int = 1,
    name: str = "fgt",
    account_id: int | None = None,
) -> Config:
    return configs.create_config(
        rt,
        OPERATOR,
        program_serial=program,
        name=name,
        product_type_id=product,
        parameters=parameters if parameters is not None else FGT_ENT_2,
        account_id=account_id,
    )
