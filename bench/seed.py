"""Bulk seeding for benchmarks: a program with many entitlements and their event history.

Made with plain INSERTs (COPY on PostgreSQL) for speed; every row is what the services would
have written, including encrypted tokens and the events the accrual's slow path reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert

from pointflex.bootstrap import Runtime
from pointflex.clock import ManualClock
from pointflex.domain.dates import day_start
from pointflex.domain.programs import ProgramKind
from pointflex.services import accounts, configs, programs
from pointflex.services.context import Actor
from pointflex.store.tables import entitlement_events, entitlements

OPERATOR = Actor(name="bench")
LA = "America/Los_Angeles"
N_CONFIGS = 10
CHUNK = 50_000


@dataclass(frozen=True)
class Seeded:
    program: str
    account: int
    configs: list[int]
    day: date
    active: int


def seed(rt: Runtime, clock: ManualClock, engine: Engine, size: int, day: date) -> Seeded:
    """``size`` entitlements: 80 % ACTIVE, 15 % STOPPED, 5 % PENDING; 3 % change on ``day``."""
    clock.set(day_start(day, LA) - timedelta(days=5))
    root = accounts.create_organization(rt, OPERATOR, "Bench", "Bench root")
    program = programs.register_program(
        rt,
        OPERATOR,
        account_id=root.id,
        kind=ProgramKind.PREPAID,
        start_date=day,
        end_date=date(day.year + 1, day.month, 1),
    )
    config_ids = [
        configs.create_config(
            rt,
            OPERATOR,
            program_serial=program.serial,
            name=f"bench-{cpu}",
            product_type_id=1,
            parameters=[{"id": 1, "value": cpu}, {"id": 2, "value": "ENT"}],
        ).id
        for cpu in range(1, N_CONFIGS + 1)
    ]
    created = day_start(day, LA) - timedelta(days=2)
    during = day_start(day, LA) + timedelta(hours=10)
    active = 0
    # In chunks, so that seeding a million rows does not itself need gigabytes.
    for first in range(0, size, CHUNK):
        rows, events, charged = _rows(
            rt,
            program.serial,
            root.id,
            config_ids,
            range(first, min(size, first + CHUNK)),
            created,
            during,
            program.end_at,
        )
        _bulk(engine, entitlements, rows)
        _bulk(engine, entitlement_events, events)
        active += charged
    clock.set(day_start(day + timedelta(days=1), LA) + timedelta(hours=1))
    return Seeded(program.serial, root.id, config_ids, day, active)


def _rows(
    rt: Runtime,
    program: str,
    account: int,
    config_ids: list[int],
    numbers: range,
    created: datetime,
    during: datetime,
    end_at: datetime,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    rows: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    active = 0
    for n in numbers:
        serial = f"FGVMBENCH{n:07d}"
        config_id = config_ids[n % len(config_ids)]
        bucket = n % 100
        status = "ACTIVE" if bucket < 80 else ("STOPPED" if bucket < 95 else "PENDING")
        changed_at = created
        history = [("CREATED", created, status if bucket not in (80, 81) else "ACTIVE", config_id)]
        if bucket == 0:  # stopped during the day
            status, changed_at = "STOPPED", during
            history.append(("STOPPED", during, "STOPPED", config_id))
        elif bucket == 80:  # stopped before the day, reactivated during it
            history.append(("STOPPED", created + timedelta(hours=1), "STOPPED", config_id))
            status, changed_at = "ACTIVE", during
            history.append(("REACTIVATED", during, "ACTIVE", config_id))
        elif bucket == 1:  # moved to a bigger configuration during the day
            config_id = config_ids[-1]
            changed_at = during
            history.append(("CONFIG_CHANGED", during, "ACTIVE", config_id))
        active += status == "ACTIVE" or bucket == 0
        token = f"{n:020X}"
        rows.append(
            {
                "serial": serial,
                "account_id": account,
                "config_id": config_id,
                "program_serial": program,
                "product_type_id": 1,
                "form_factor": "VM",
                "description": f"bench vm {n}",
                "folder_path": "My Assets/Bench",
                "status": status,
                "token_enc": rt.vault.encrypt(token, serial),
                "token_hash": rt.vault.lookup_hash(token),
                "token_status": "USED" if status != "PENDING" else "NOTUSED",
                "start_at": created,
                "end_at": end_at,
                "termination_mode": "FOLLOW_PROGRAM",
                "removed_at": None,
                "changed_at": changed_at,
                "created_at": created,
            }
        )
        events.extend(
            {
                "serial": serial,
                "at": at,
                "kind": kind,
                "status": st,
                "config_id": cfg,
                "program_serial": program,
                "account_id": account,
                "end_at": end_at,
                "actor": "bench",
                "request_id": "",
                "detail": None,
            }
            for kind, at, st, cfg in history
        )
    return rows, events, active


def _bulk(engine: Engine, table: Any, rows: list[dict[str, Any]]) -> None:
    if engine.dialect.name == "postgresql":
        _copy(engine, table, rows)
        return
    with engine.begin() as conn:
        conn.execute(insert(table), rows)


def _copy(engine: Engine, table: Any, rows: list[dict[str, Any]]) -> None:
    columns = [c.name for c in table.columns if c.name != "id"]
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(  # type: ignore[attr-defined]
            f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row([_copy_value(row[c]) for c in columns])
        raw.commit()
    finally:
        raw.close()


def _copy_value(value: Any) -> Any:
    if isinstance(value, dict):
        return json.dumps(value)
    return value
