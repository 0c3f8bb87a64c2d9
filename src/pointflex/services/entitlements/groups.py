"""FortiFlex groups: asset folders seen as token pools (spec §4.19–§4.21, §5.5; R36, R63).

Folders are implicit: a folder exists while an entitlement names it in ``folder_path`` (Q14).
A group counts the VM tokens of the entitlements in it; hardware and cloud entitlements have no
token, so a folder holding only those is listed with zero counts. Removed (hardware)
entitlements are no longer managed and do not count. Everything is limited to the accounts in
the caller's scope (R63).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, func, select

from pointflex.bootstrap import Runtime
from pointflex.domain.catalog import FormFactor
from pointflex.domain.configs import ACTIVE
from pointflex.domain.entitlements import Status, TokenStatus
from pointflex.errors import InvalidInput, NoTokenAvailable
from pointflex.services.access.accounts import get_account
from pointflex.services.configs.configurations import visible_config
from pointflex.services.context import Actor, read
from pointflex.services.entitlements.fields import normalise_folder
from pointflex.services.entitlements.views import (
    Entitlement,
    ProgramFacts,
    base_query,
    shown_status_sql,
    to_record,
)
from pointflex.store.tables import configurations as C
from pointflex.store.tables import entitlements

E = entitlements


@dataclass(frozen=True)
class Group:
    """One asset folder of one account, with its VM token counts (§5.5)."""

    folder_path: str
    account_id: int
    available_tokens: int  # VM entitlements in the folder whose token is NOTUSED
    used_tokens: int  # VM entitlements in the folder whose token is USED


def _scope(actor: Actor) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [E.c.removed_at.is_(None)]
    if actor.account_ids is not None:
        conds.append(E.c.account_id.in_(sorted(actor.account_ids)))
    return conds


def _token_count(token_status: TokenStatus) -> ColumnElement[int]:
    is_vm_token = and_(
        E.c.form_factor == FormFactor.VM.value, E.c.token_status == token_status.value
    )
    return func.coalesce(func.sum(case((is_vm_token, 1), else_=0)), 0)


def list_groups(rt: Runtime, actor: Actor, account_id: int | None = None) -> list[Group]:
    """Folders of one account, or of every account in scope, with token counts.

    One GROUP BY over the entitlements; ordered by account, then folder path.
    """
    with read(rt) as conn:
        conds = _scope(actor)
        if account_id is not None:
            actor.require_account(account_id, f"account {account_id}")
            get_account(conn, account_id)
            conds.append(E.c.account_id == account_id)
        query = (
            select(
                E.c.account_id,
                E.c.folder_path,
                _token_count(TokenStatus.NOTUSED).label("available"),
                _token_count(TokenStatus.USED).label("used"),
            )
            .where(*conds)
            .group_by(E.c.account_id, E.c.folder_path)
            .order_by(E.c.account_id, E.c.folder_path)
        )
        rows = conn.execute(query).all()
    return [
        Group(
            folder_path=row.folder_path,
            account_id=row.account_id,
            available_tokens=int(row.available),
            used_tokens=int(row.used),
        )
        for row in rows
    ]


def parse_statuses(raw: Iterable[str]) -> tuple[str, ...]:
    """Entitlement statuses as the wire names them, upper-cased; blanks ignored."""
    known = {s.value for s in Status}
    wanted = tuple(dict.fromkeys(s.strip().upper() for s in raw if s and s.strip()))
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise InvalidInput(
            f"status {', '.join(unknown)} is not one of {', '.join(s.value for s in Status)}"
        )
    return wanted


def next_token(
    rt: Runtime,
    actor: Actor,
    *,
    config_id: int | None = None,
    folder_path: str | None = None,
    account_id: int | None = None,
    statuses: Iterable[str] = (),
) -> Entitlement:
    """The VM entitlement with the lowest (oldest) serial whose token is still NOTUSED (R36,
    Q20).

    Limited by configuration, exact folder and/or account (at least one is required; the
    Terraform provider and the Ansible collection document "accountId or configId"), and by
    shown status. The account alone means any ACTIVE configuration of that account; with a
    folder or a configuration it narrows within the account. Nothing is reserved: asking twice
    gives the same entitlement until its token is redeemed, and regenerating a USED token makes
    its entitlement eligible again. None left is :class:`NoTokenAvailable` (404); an account
    outside the caller's scope is not found.
    """
    folder = normalise_folder(folder_path) if folder_path and folder_path.strip() else None
    if config_id is None and folder is None and account_id is None:
        raise InvalidInput("accountId, configId or folderPath is required")
    wanted = parse_statuses(statuses)
    with read(rt) as conn:
        conds = _scope(actor)
        conds += [
            E.c.form_factor == FormFactor.VM.value,
            E.c.token_status == TokenStatus.NOTUSED.value,
        ]
        if config_id is not None:
            visible_config(conn, actor, config_id)
            conds.append(E.c.config_id == config_id)
        if account_id is not None:
            actor.require_account(account_id, f"account {account_id}")
            get_account(conn, account_id)
            conds.append(E.c.account_id == account_id)
            if config_id is None and folder is None:
                active = select(C.c.id).where(C.c.account_id == account_id, C.c.status == ACTIVE)
                conds.append(E.c.config_id.in_(active))
        if folder is not None:
            conds.append(E.c.folder_path == folder)
        facts = ProgramFacts(rt, rt.now())
        if wanted:
            conds.append(shown_status_sql(conn, facts).in_(wanted))
        row = conn.execute(base_query().where(*conds).order_by(E.c.serial).limit(1)).first()
        if row is None:
            raise NoTokenAvailable(_nothing_left(config_id, folder, account_id, wanted))
        return to_record(rt, facts, conn, row)


def _nothing_left(
    config_id: int | None, folder: str | None, account_id: int | None, statuses: tuple[str, ...]
) -> str:
    where = []
    if folder is not None:
        where.append(f"folder {folder}")
    if config_id is not None:
        where.append(f"configuration {config_id}")
    if account_id is not None:
        where.append(f"account {account_id}")
    text = "no unused token is available in " + " and ".join(where)
    if statuses:
        text += f" among {', '.join(statuses)} entitlements"
    return text
