"""A configuration: a product type and its parameter values, owned by an account (R18, R51)."""

from __future__ import annotations

from dataclasses import dataclass

from pointflex.domain.catalog import ParamValues
from pointflex.errors import InvalidInput

ACTIVE = "ACTIVE"
DISABLED = "DISABLED"
STATUSES = (ACTIVE, DISABLED)
MAX_NAME = 200


@dataclass(frozen=True)
class Config:
    id: int
    name: str
    program_serial: str
    account_id: int
    status: str
    product_type_id: int
    values: ParamValues


def check_name(name: str | None) -> str:
    """A configuration's name: not blank, at most 200 characters, kept without the spaces
    around it."""
    if name is None or not name.strip():
        raise InvalidInput("configuration name must not be empty")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"configuration name must be at most {MAX_NAME} characters")
    return name.strip()


def check_status(status: str) -> str:
    if status not in STATUSES:
        raise InvalidInput(f"configuration status must be {ACTIVE} or {DISABLED}")
    return status
