"""Creating entitlements: VM and cloud serials, hardware serials, re-adding removed ones."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from pointflex.bootstrap import Runtime
from pointflex.domain import entitlements as rules
from pointflex.domain.catalog import FormFactor
from pointflex.domain.configs import Config
from pointflex.domain.ends import FOLLOW_PROGRAM, RequestedEnd
from pointflex.domain.entitlements import (
    EventKind,
    Selection,
    Status,
    TerminationMode,
    TokenStatus,
)
from pointflex.domain.programs import Program, ProgramKind
from pointflex.errors import (
    AccountSuspended,
    ConfigDisabled,
    Duplicate,
    InvalidInput,
    LimitExceeded,
    WrongProductType,
)
from pointflex.services.configs.configurations import visible_config
from pointflex.services.context import Actor, audit_many, write
from pointflex.services.entitlements.fields import ROOT_FOLDER, check_description, normalise_folder
from pointflex.services.entitlements.lifecycle import record_events
from pointflex.services.entitlements.views import (
    Entitlement,
    load_records,
)
from pointflex.services.points.programs import load_program
from pointflex.store.sql import chunks, insert_ignoring_conflicts
from pointflex.store.tables import entitlements, serial_counters
from pointflex.store.tokens import new_token

E = entitlements
_HW_SERIAL = re.compile(r"^[A-Z0-9][A-Z0-9-]{3,39}$")
_LAST_SERIAL_NUMBER = 999_999  # VM serials end in six digits per prefix and year


def creation_target(
    rt: Runtime, conn: Connection, actor: Actor, config_id: int, form_factor: FormFactor
) -> tuple[Config, Program]:
    config = visible_config(conn, actor, config_id)
    product = rt.catalog.product(config.product_type_id)
    if product.form_factor is not form_factor:
        raise WrongProductType(
            f"configuration {config_id} is a {product.form_factor.value} product "
            f"({product.name}); use the {product.form_factor.value.lower()} create call"
        )
    if config.status != "ACTIVE":
        raise ConfigDisabled(
            f"configuration {config_id} is DISABLED; it accepts no new entitlements"
        )
    program = load_program(conn, config.program_serial)
    refuse_if_suspended(rt, program)
    return config, program


def refuse_if_suspended(rt: Runtime, program: Program) -> None:
    grace = timedelta(days=rt.settings.negative_grace_days)
    if program.kind is ProgramKind.PREPAID and program.grace(rt.now(), grace).suspended:
        raise AccountSuspended(
            f"program {program.serial} has had a negative balance for "
            f"{rt.settings.negative_grace_days} days or more: new entitlements and "
            "reactivations are refused until points are added"
        )


def _serial_prefix(rt: Runtime, config: Config) -> str:
    prefix = rt.catalog.product(config.product_type_id).serial_prefix
    if not prefix:  # the catalogue gives every VM and cloud product one
        raise InvalidInput(f"product type {config.product_type_id} has no serial prefix")
    return prefix


def _next_serials(conn: Connection, prefix: str, year: int, count: int) -> list[str]:
    """Serials ``prefix + YY + 6 digits`` (P10), unique across the installation."""
    key = f"{prefix}{year % 100:02d}"
    conn.execute(insert_ignoring_conflicts(conn, serial_counters).values(key=key, next_value=1))
    first = (
        conn.execute(
            update(serial_counters)
            .where(serial_counters.c.key == key)
            .values(next_value=serial_counters.c.next_value + count)
            .returning(serial_counters.c.next_value)
        ).scalar_one()
        - count
    )
    if first + count - 1 > _LAST_SERIAL_NUMBER:
        raise LimitExceeded(f"serial numbers for {key} are exhausted")
    return [f"{key}{n:06d}" for n in range(first, first + count)]


@dataclass(frozen=True)
class _Fields:
    """What every entitlement a request creates, or adds again, is written with."""

    description: str
    folder: str
    end: tuple[datetime, TerminationMode]
    now: datetime


def _insert_entitlements(
    rt: Runtime,
    conn: Connection,
    actor: Actor,
    config: Config,
    program: Program,
    serials: Sequence[str],
    *,
    status: Status,
    with_tokens: bool,
    fields: _Fields,
) -> list[str]:
    description, folder, end, now = fields.description, fields.folder, fields.end, fields.now
    product = rt.catalog.product(config.product_type_id)
    rows: list[dict[str, Any]] = []
    for serial in serials:
        token = new_token() if with_tokens else None
        rows.append(
            {
                "serial": serial,
                "account_id": config.account_id,
                "config_id": config.id,
                "program_serial": program.serial,
                "product_type_id": config.product_type_id,
                "form_factor": product.form_factor.value,
                "description": description,
                "folder_path": folder,
                "status": status.value,
                "token_enc": rt.vault.encrypt(token, serial) if token else None,
                "token_hash": rt.vault.lookup_hash(token) if token else None,
                "token_status": TokenStatus.NOTUSED.value if token else None,
                "start_at": now,
                "end_at": end[0],
                "termination_mode": end[1].value,
                "removed_at": None,
                "changed_at": now,
                "created_at": now,
            }
        )
    for part in chunks(rows):
        conn.execute(insert(E), list(part))
    record_events(conn, serials, EventKind.CREATED, now, actor)
    audit_many(
        conn,
        actor,
        now,
        "entitlement.create",
        (
            {
                "object_type": "entitlement",
                "object_id": s,
                "account_id": config.account_id,
                "after": {"configId": config.id, "status": status.value},
            }
            for s in serials
        ),
    )
    return list(serials)


def create_vm(
    rt: Runtime,
    actor: Actor,
    *,
    config_id: int,
    count: int = 1,
    description: str | None = None,
    end: RequestedEnd = FOLLOW_PROGRAM,
    folder_path: str | None = None,
    skip_pending: bool = False,
) -> list[Entitlement]:
    """New VM entitlements: PENDING with a NOTUSED token, or ACTIVE with skipPending (R24, R25)."""
    actor.require_write()
    if count < 1:
        raise InvalidInput("count must be at least 1")
    if count > rt.settings.max_vm_count:
        raise LimitExceeded(f"count must be at most {rt.settings.max_vm_count}")
    text, folder, now = check_description(description), normalise_folder(folder_path), rt.now()
    with write(rt) as conn:
        config, program = creation_target(rt, conn, actor, config_id, FormFactor.VM)
        resolved = end.resolve(program.timezone, now, program.end_at)
        prefix = _serial_prefix(rt, config)
        serials = _next_serials(conn, prefix, now.year, count)
        status = Status.ACTIVE if skip_pending else Status.PENDING
        _insert_entitlements(
            rt,
            conn,
            actor,
            config,
            program,
            serials,
            status=status,
            with_tokens=True,
            fields=_Fields(text, folder, resolved, now),
        )
        return load_records(rt, conn, actor, serials)


def create_hardware(
    rt: Runtime,
    actor: Actor,
    *,
    config_id: int,
    serials: Sequence[str],
    end: RequestedEnd = FOLLOW_PROGRAM,
    description: str | None = None,
    folder_path: str | None = None,
) -> list[Entitlement]:
    """Hardware entitlements for the caller's own device serials, ACTIVE at once (R27, R37, R38)."""
    actor.require_write()
    wanted = check_hardware_serials(serials, rt.settings.selection_limits, Selection.CREATE)
    text, folder = check_description(description), normalise_folder(folder_path)
    with write(rt) as conn:
        return insert_hardware(rt, conn, actor, config_id, wanted, end, text=text, folder=folder)


def insert_hardware(
    rt: Runtime,
    conn: Connection,
    actor: Actor,
    config_id: int,
    wanted: Sequence[str],
    end: RequestedEnd,
    *,
    text: str = "",
    folder: str = ROOT_FOLDER,
) -> list[Entitlement]:
    """``create_hardware`` within the caller's transaction (scheduled activations use it)."""
    now = rt.now()
    config, program = creation_target(rt, conn, actor, config_id, FormFactor.HARDWARE)
    fields = _Fields(text, folder, end.resolve(program.timezone, now, program.end_at), now)
    readded = _readd_removed(conn, actor, wanted)
    fresh = [s for s in wanted if s not in readded]
    _insert_entitlements(
        rt,
        conn,
        actor,
        config,
        program,
        fresh,
        status=Status.ACTIVE,
        with_tokens=False,
        fields=fields,
    )
    _reinstate(conn, actor, config, readded, fields)
    return load_records(rt, conn, actor, wanted)


def is_device_serial(serial: str) -> bool:
    """Whether ``serial`` (any case, surrounding spaces ignored) looks like a device serial."""
    return bool(_HW_SERIAL.match(serial.strip().upper()))


def check_hardware_serials(
    serials: Sequence[str], limits: rules.SelectionLimits, kind: rules.Selection
) -> list[str]:
    """Device serials, upper-cased, each once, within the limit of ``kind`` (R38)."""
    wanted = [s.strip().upper() for s in serials if s and s.strip()]
    if not wanted:
        raise InvalidInput("serialNumbers must name at least one device serial")
    limits.check(kind, len(wanted))
    bad = [s for s in wanted if not _HW_SERIAL.match(s)]
    if bad:
        raise InvalidInput(f"not a device serial number: {', '.join(bad[:5])}")
    if len(set(wanted)) != len(wanted):
        raise InvalidInput("serialNumbers lists a serial more than once")
    return wanted


def _readd_removed(conn: Connection, actor: Actor, wanted: Sequence[str]) -> list[str]:
    """Serials already known: removed ones can be managed again, live ones are duplicates."""
    rows = conn.execute(select(E.c.serial, E.c.removed_at).where(E.c.serial.in_(wanted))).all()
    live = [r.serial for r in rows if r.removed_at is None]
    if live:
        raise Duplicate(f"already managed: {', '.join(live[:5])}")
    return [r.serial for r in rows]


def _reinstate(
    conn: Connection, actor: Actor, config: Config, serials: Sequence[str], fields: _Fields
) -> None:
    if not serials:
        return
    description, folder, end, now = fields.description, fields.folder, fields.end, fields.now
    for part in chunks(serials):
        conn.execute(
            update(E)
            .where(E.c.serial.in_(part))
            .values(
                account_id=config.account_id,
                config_id=config.id,
                program_serial=config.program_serial,
                product_type_id=config.product_type_id,
                description=description,
                folder_path=folder,
                status=Status.ACTIVE.value,
                start_at=now,
                end_at=end[0],
                termination_mode=end[1].value,
                removed_at=None,
                changed_at=now,
            )
        )
    record_events(conn, serials, EventKind.CREATED, now, actor, {"readded": True})


def create_cloud(
    rt: Runtime,
    actor: Actor,
    *,
    config_id: int,
    count: int = 1,
    end: RequestedEnd = FOLLOW_PROGRAM,
    description: str | None = None,
    folder_path: str | None = None,
) -> list[Entitlement]:
    """One cloud-service entitlement per cloud product per account, ACTIVE at once (R27, R28)."""
    actor.require_write()
    if count != 1:
        raise InvalidInput("count must be 1 for cloud services")
    text, folder, now = check_description(description), normalise_folder(folder_path), rt.now()
    with write(rt) as conn:
        config, program = creation_target(rt, conn, actor, config_id, FormFactor.CLOUD)
        resolved = end.resolve(program.timezone, now, program.end_at)
        existing = conn.execute(
            select(E.c.serial).where(
                E.c.account_id == config.account_id,
                E.c.product_type_id == config.product_type_id,
                E.c.status != Status.EXPIRED.value,
                E.c.removed_at.is_(None),
            )
        ).first()
        if existing is not None:
            raise Duplicate(
                f"account {config.account_id} already has {existing.serial} for this cloud "
                "product; at most one per account"
            )
        prefix = _serial_prefix(rt, config)
        serials = _next_serials(conn, prefix, now.year, 1)
        _insert_entitlements(
            rt,
            conn,
            actor,
            config,
            program,
            serials,
            status=Status.ACTIVE,
            with_tokens=False,
            fields=_Fields(text, folder, resolved, now),
        )
        return load_records(rt, conn, actor, serials)
