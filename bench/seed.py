"""Bulk seeding for benchmarks: a program with many entitlements and their event history.

Made with plain INSERTs (COPY on PostgreSQL) for speed; every row is what the services would
have written, including encrypted tokens and the events the accrual's slow path reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, text

from pointflex.bootstrap import Runtime
from pointflex.clock import ManualClock
from pointflex.domain.dates import day_start
from pointflex.domain.programs import ProgramKind
from pointflex.services.access import accounts
from pointflex.services.configs import configurations as configs
from pointflex.services.context import Actor
from pointflex.services.points import programs
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
            created=created,
            during=during,
            end_at=program.end_at,
        )
        _bulk(engine, entitlements, rows)
        _bulk(engine, entitlement_events, events)
        active += charged
    clock.set(day_start(day + timedelta(days=1), LA) + timedelta(hours=1))
    return Seeded(program.serial, root.id, config_ids, day, active)


# Of each hundred rows: 80 ACTIVE, 15 STOPPED, 5 PENDING (the buckets 0-79, 80-94, 95-99).
_FIRST_STOPPED, _FIRST_PENDING = 80, 95


def _rows(
    rt: Runtime,
    program: str,
    account: int,
    config_ids: list[int],
    numbers: range,
    *,
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
        status = (
            "ACTIVE"
            if bucket < _FIRST_STOPPED
            else ("STOPPED" if bucket < _FIRST_PENDING else "PENDING")
        )
        changed_at = created
        history = [("CREATED", created, status if bucket not in (80, 81) else "ACTIVE", config_id)]
        if bucket == 0:  # stopped during the day
            status, changed_at = "STOPPED", during
            history.append(("STOPPED", during, "STOPPED", config_id))
        elif bucket == _FIRST_STOPPED:  # stopped before the day, reactivated during it
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


# --------------------------------------------------------------------------- many accounts

# Configurations every account's program gets: (name, product type, parameters, share of the
# account's entitlements in tenths). Two VM sizes and one hardware model.
ACCOUNT_CONFIGS: tuple[tuple[str, int, list[dict[str, Any]], int], ...] = (
    ("vm-2cpu", 1, [{"id": 1, "value": 2}, {"id": 2, "value": "ENT"}], 6),
    ("vm-4cpu", 1, [{"id": 1, "value": 4}, {"id": 2, "value": "ENT"}], 3),
    ("hw-60f", 101, [{"id": 27, "value": "FGT60F"}, {"id": 28, "value": "FGHWENT"}], 1),
)
LARGEST_SHARE = 0.05  # of all entitlements, in the first (largest) account
POSTPAID_EVERY = 10  # every tenth account's program is postpaid


@dataclass(frozen=True)
class AccountPlan:
    account: int
    program: str
    kind: ProgramKind
    configs: tuple[int, ...]  # in ACCOUNT_CONFIGS order


def seed_accounts(rt: Runtime, n: int, start: date, end: date) -> list[AccountPlan]:
    """``n`` organisations through the services, each with one program and its configurations.

    A few service calls per account (audit rows, serial checks and parameter versions as the
    real thing writes them); the entitlements come afterwards, set-based.
    """
    plans: list[AccountPlan] = []
    for i in range(n):
        org = accounts.create_organization(rt, OPERATOR, f"Scale {i}", f"Scale root {i}")
        kind = (
            ProgramKind.POSTPAID
            if i % POSTPAID_EVERY == POSTPAID_EVERY - 1
            else ProgramKind.PREPAID
        )
        prefix = "ELAVMS" if kind is ProgramKind.POSTPAID else "ELAVMR"
        program = programs.register_program(
            rt,
            OPERATOR,
            account_id=org.id,
            kind=kind,
            start_date=start,
            end_date=end,
            serial=f"{prefix}{i:010d}",
            timezone=LA,
        )
        ids = tuple(
            configs.create_config(
                rt,
                OPERATOR,
                program_serial=program.serial,
                name=name,
                product_type_id=product,
                parameters=params,
            ).id
            for name, product, params, _ in ACCOUNT_CONFIGS
        )
        plans.append(AccountPlan(org.id, program.serial, kind, ids))
    return plans


# One INSERT … SELECT over generate_series. Row n goes to account 1 for the first 5 % of the
# rows, then to account 2 + floor((A - 1) * x^1.5) for x = its position among the rest: uneven
# (account 2 gets ~1 %, the last ~0.07 %). Status by (n / 10) % 100: 0–83 ACTIVE, 84–95
# STOPPED, 96–97 PENDING (hardware: ACTIVE), 98 ACTIVE with a User Defined end months ahead,
# 99 ACTIVE with a User Defined end at :ends_soon (the measured day, so the expiry has work).
_ENTITLEMENTS_SQL = """
INSERT INTO entitlements (serial, account_id, config_id, program_serial, product_type_id,
    form_factor, description, folder_path, status, token_enc, token_hash, token_status,
    start_at, end_at, termination_mode, removed_at, changed_at, created_at)
WITH plan AS (
    SELECT * FROM unnest(CAST(:accounts AS int[]), CAST(:programs AS text[]),
        CAST(:vm2 AS int[]), CAST(:vm4 AS int[]), CAST(:hw AS int[]))
        WITH ORDINALITY AS p(account_id, program_serial, vm2, vm4, hw, idx)
), numbered AS (
    SELECT n, n % 10 AS kind, (n / 10) % 100 AS bucket,
        CASE WHEN n < :big THEN 1
             ELSE 2 + floor((:n_accounts - 1)
                  * power((n - :big)::float8 / greatest(:size - :big, 1), 1.5))::int
        END AS idx
    FROM generate_series(0, :size - 1) AS n
), shaped AS (
    SELECT n, kind, kind = 9 AS hw, bucket, idx,
        CASE WHEN bucket BETWEEN 84 AND 95 THEN 'STOPPED'
             WHEN bucket IN (96, 97) AND kind <> 9 THEN 'PENDING'
             ELSE 'ACTIVE' END AS status
    FROM numbered
)
SELECT
    CASE WHEN s.hw THEN 'FGT60FTK' ELSE 'FGVMMLTM' END || lpad(s.n::text, 8, '0'),
    p.account_id,
    CASE WHEN s.hw THEN p.hw WHEN s.kind IN (6, 7, 8) THEN p.vm4 ELSE p.vm2 END,
    p.program_serial,
    CASE WHEN s.hw THEN 101 ELSE 1 END,
    CASE WHEN s.hw THEN 'HARDWARE' ELSE 'VM' END,
    'scale ' || s.n,
    'My Assets',
    s.status,
    NULL, NULL,
    CASE WHEN s.hw THEN NULL WHEN s.status = 'PENDING' THEN 'NOTUSED' ELSE 'USED' END,
    :created,
    CASE s.bucket WHEN 98 THEN :ends_later WHEN 99 THEN :ends_soon ELSE :program_end END,
    CASE WHEN s.bucket IN (98, 99) THEN 'USER_DEFINED' ELSE 'FOLLOW_PROGRAM' END,
    NULL,
    :created,
    :created
FROM shaped AS s JOIN plan AS p ON p.idx = s.idx
"""

# The history the services would have written: CREATED (ACTIVE, or PENDING), and STOPPED an
# hour later for the stopped ones; all before the first accrued day.
_EVENTS_SQL = """
INSERT INTO entitlement_events (serial, at, kind, status, config_id, program_serial,
    account_id, end_at, actor, request_id, detail)
SELECT e.serial, e.created_at + h.after, h.kind,
    CASE WHEN h.kind = 'STOPPED' THEN 'STOPPED' WHEN e.status = 'PENDING' THEN 'PENDING'
         ELSE 'ACTIVE' END,
    e.config_id, e.program_serial, e.account_id, e.end_at, 'bench', '', NULL
FROM entitlements AS e
JOIN (VALUES ('CREATED', interval '0'), ('STOPPED', interval '1 hour')) AS h(kind, after)
  ON h.kind = 'CREATED' OR e.status = 'STOPPED'
ORDER BY e.serial, h.after
"""


@dataclass(frozen=True)
class Ends:
    created: datetime  # every entitlement's creation (and last change)
    program_end: datetime  # Follow Program end instant
    soon: datetime  # User Defined end during the measured day
    later: datetime  # User Defined end months ahead


def bulk_entitlements(engine: Engine, plans: list[AccountPlan], size: int, ends: Ends) -> None:
    """``size`` entitlements over the accounts of ``plans`` and their events (PostgreSQL)."""
    params = {
        "accounts": [p.account for p in plans],
        "programs": [p.program for p in plans],
        "vm2": [p.configs[0] for p in plans],
        "vm4": [p.configs[1] for p in plans],
        "hw": [p.configs[2] for p in plans],
        "big": int(size * LARGEST_SHARE),
        "n_accounts": len(plans),
        "size": size,
        "created": ends.created,
        "program_end": ends.program_end,
        "ends_soon": ends.soon,
        "ends_later": ends.later,
    }
    with engine.begin() as conn:
        conn.execute(text(_ENTITLEMENTS_SQL), params)
        conn.execute(text(_EVENTS_SQL))
