"""Organisations and their accounts (R63–R66): an organisation has one root account and any
number of member accounts; ids are FortiFlex-like six-digit numbers."""

from __future__ import annotations

from dataclasses import dataclass

from pointflex.errors import InvalidInput

FIRST_ACCOUNT_ID = 100_001


@dataclass(frozen=True)
class Account:
    id: int
    organization_id: int
    name: str
    is_root: bool


def next_account_id(highest: int | None) -> int:
    """The id after the highest one in use, never below :data:`FIRST_ACCOUNT_ID`."""
    return max((highest or 0) + 1, FIRST_ACCOUNT_ID)


def check_name(name: str, what: str) -> str:
    """A name, kept without the spaces around it; blank is refused."""
    if not name.strip():
        raise InvalidInput(f"{what} name must not be empty")
    return name.strip()
