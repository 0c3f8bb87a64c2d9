"""The demo's world: its tenants, programs, configurations and fleet, and what it knows of them."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from pointflex.bootstrap import Runtime, build_runtime
from pointflex.clock import ManualClock
from pointflex.demo.plan import (
    CLOUD_POOLS,
    GLOBEX_POOL,
    INITIAL_SHARE,
    NEVER_REDEEMED,
    POOLS,
    POSTPAID,
    PREPAID,
    UPGRADES,
    DemoOptions,
    Pool,
)
from pointflex.domain.catalog import FormFactor
from pointflex.domain.dates import add_years, day_start, local_day
from pointflex.domain.ends import FOLLOW_PROGRAM, RequestedEnd
from pointflex.domain.entitlements import Status
from pointflex.domain.programs import ProgramKind
from pointflex.services.access import accounts
from pointflex.services.configs import configurations as configs
from pointflex.services.context import Actor
from pointflex.services.entitlements import creation, transfers
from pointflex.services.entitlements.views import Entitlement
from pointflex.services.points import programs


@dataclass
class Item:
    """What the demo knows of one of its entitlements, to pick sensible actions."""

    serial: str
    pool: str
    form_factor: FormFactor
    status: Status
    end_at: datetime
    token: str | None
    redeem_on: date | None = None  # when its VM will use the token; None: not planned


@dataclass(frozen=True)
class World:
    """The demo's tenants: who acts for each, their programs and configurations."""

    acme_member: int  # Acme's managed-services account
    acme_user: Actor
    globex_user: Actor
    program: dict[ProgramKind, str]  # Acme's programs
    globex_program: str
    config: dict[str, int] = field(default_factory=dict)  # configuration id per pool


class Builder:
    """The demo's tenants and fleet, made through the services on the demo's own clock."""

    world: World  # made by setup(), the first step of run()

    def __init__(self, rt: Runtime, operator: Actor, options: DemoOptions, seed: int) -> None:
        self.real = rt
        self.operator = operator
        self.options = options
        self.rng = random.Random(seed)  # noqa: S311 — seeded demo data, not cryptography
        self.tz = rt.settings.default_timezone
        self.today = local_day(rt.now(), self.tz)
        self.first = self.today - timedelta(days=options.days)
        lapse = min(max(1, options.days // 10), options.days - 1)
        self.globex_end = self.today - timedelta(days=lapse)
        self.clock = ManualClock(self.at(self.first, 6))
        self.rt = build_runtime(rt.settings, clock=self.clock, engine=rt.engine)
        self.fleet: dict[str, Item] = {}
        self.remaining: dict[str, int] = {}  # entitlements still to create, per pool
        self.burn: dict[str, Decimal] = {}  # points charged on the last accrued day
        self.upgrades = list(UPGRADES)
        self.devices = 0
        self.created = 0
        self.actions: Counter[str] = Counter()

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return day_start(day, self.tz) + timedelta(hours=hour, minutes=minute)

    # ----------------------------------------------------------------- the world

    def setup(self) -> World:
        op = self.operator
        acme = accounts.create_organization(self.rt, op, "Acme Corporation", "Acme HQ")
        member = accounts.create_account(self.rt, op, acme.organization_id, "Acme Managed Services")
        globex = accounts.create_organization(self.rt, op, "Globex Industries", "Globex IT")
        end = add_years(self.first, 1)
        w = World(
            acme_member=member.id,
            acme_user=Actor("alice@acme.example", frozenset({acme.id, member.id})),
            globex_user=Actor("bob@globex.example", frozenset({globex.id})),
            program={kind: self.register(acme.id, kind, end) for kind in (PREPAID, POSTPAID)},
            # Globex's contract ended a few days ago: its entitlements are in the expiry grace.
            globex_program=self.register(globex.id, PREPAID, self.globex_end),
        )
        for pool in (*POOLS, *CLOUD_POOLS):
            w.config[pool.key] = self.make_config(w, pool, w.program[pool.kind], w.acme_user)
        w.config[GLOBEX_POOL.key] = self.make_config(
            w, GLOBEX_POOL, w.globex_program, w.globex_user
        )
        for _ in range(2):
            self.add_pack(w.program[PREPAID], 50_000)
        self.add_pack(w.globex_program, 10_000)
        return w

    def register(self, account_id: int, kind: ProgramKind, end: date) -> str:
        prefix = "ELAVMR" if kind is PREPAID else "ELAVMS"
        serial = f"{prefix}{self.rng.randrange(10**10):010d}"
        program = programs.register_program(
            self.rt,
            self.operator,
            account_id=account_id,
            kind=kind,
            start_date=self.first,
            end_date=end,
            serial=serial,
            timezone=self.tz,
        )
        return program.serial

    def make_config(self, w: World, pool: Pool, program: str, user: Actor) -> int:
        owner = w.acme_member if pool.member else None
        config = configs.create_config(
            self.rt,
            user,
            program_serial=program,
            name=pool.name,
            product_type_id=pool.product_type_id,
            parameters=pool.wire(),
            account_id=owner,
        )
        return config.id

    def add_pack(self, program: str, size: int) -> Decimal:
        self.actions["point pack added"] += 1
        return programs.add_pack(self.rt, self.operator, program, size, reference="LIC-ELAVM")

    def pool(self, key: str) -> Pool:
        return next(p for p in (*POOLS, *CLOUD_POOLS, GLOBEX_POOL) if p.key == key)

    # ----------------------------------------------------------------- the fleet

    def initial_fleet(self) -> None:
        """The fleet before the history starts: mostly ACTIVE, a few VMs still PENDING."""
        total = self.options.entitlements
        globex = max(5, total // 50)
        spread = total - globex - len(CLOUD_POOLS)
        for pool in POOLS:
            self.remaining[pool.key] = spread * pool.share // 1000
        self.remaining["fgt2"] += spread - sum(self.remaining.values())
        for pool in CLOUD_POOLS:
            self.track(self.create_cloud(pool), pool)
        self.create_vms(GLOBEX_POOL, globex, self.first, pending=0.0, user=self.world.globex_user)
        # With a single day of history there is no later day to create the rest on.
        share = INITIAL_SHARE if self.options.days > 1 else 1.0
        for pool in POOLS:
            self.create(pool, round(self.remaining[pool.key] * share), self.first, pending=0.1)
        # Short-lived lab VMs: their user-defined end dates fall inside the history.
        self.create(self.pool("lcs"), max(2, total // 200), self.first, pending=0.0, lab=True)
        self.redeem(self.first)

    def create(
        self, pool: Pool, count: int, day: date, *, pending: float, lab: bool = False
    ) -> None:
        count = min(count, self.remaining[pool.key])
        if count <= 0:
            return
        self.remaining[pool.key] -= count
        if pool.device_prefix:
            self.create_hardware(pool, count)
        else:
            self.create_vms(pool, count, day, pending=pending, lab=lab)

    def create_vms(
        self,
        pool: Pool,
        count: int,
        day: date,
        *,
        pending: float,
        lab: bool = False,
        user: Actor | None = None,
    ) -> None:
        """``count`` VMs, the ``pending`` share of them PENDING until their VM uses the token."""
        end = FOLLOW_PROGRAM
        if lab:
            end = RequestedEnd.on_day(day + timedelta(days=self.rng.randint(1, self.lab_days())))
        waiting = round(count * pending)
        folder = "Lab" if lab else self.rng.choice(pool.folders)
        limit = self.rt.settings.max_vm_count
        for size, skip in ((count - waiting, True), (waiting, False)):
            for start in range(0, size, limit):
                made = creation.create_vm(
                    self.rt,
                    user or self.world.acme_user,
                    config_id=self.world.config[pool.key],
                    count=min(limit, size - start),
                    description="lab, short-lived" if lab else f"{pool.name} instance",
                    end=end,
                    folder_path=folder,
                    skip_pending=skip,
                )
                self.track(made, pool)
                self.plan_redemptions(made, day)
        self.actions["VMs created"] += count

    def lab_days(self) -> int:
        return max(1, min(14, self.options.days // 3))

    def create_hardware(self, pool: Pool, count: int) -> None:
        limit = self.rt.settings.max_serials_per_request
        for start in range(0, count, limit):
            serials = [self.device_serial(pool) for _ in range(min(limit, count - start))]
            made = creation.create_hardware(
                self.rt,
                self.world.acme_user,
                config_id=self.world.config[pool.key],
                serials=serials,
                description=f"{pool.name} device",
                folder_path=self.rng.choice(pool.folders),
            )
            self.track(made, pool)
        self.actions["devices added"] += count

    def device_serial(self, pool: Pool) -> str:
        self.devices += 1
        return f"{pool.device_prefix}{self.first.year % 100:02d}{self.devices:06d}"

    def create_cloud(self, pool: Pool) -> list[Entitlement]:
        self.actions["cloud services created"] += 1
        return creation.create_cloud(
            self.rt,
            self.world.acme_user,
            config_id=self.world.config[pool.key],
            description=pool.name,
            folder_path=pool.folders[0],
        )

    def track(self, records: Sequence[Entitlement], pool: Pool) -> None:
        for r in records:
            self.fleet[r.serial] = Item(
                r.serial, pool.key, r.form_factor, r.stored_status, r.end_at, r.token
            )
        self.created += len(records)

    def plan_redemptions(self, records: Sequence[Entitlement], day: date) -> None:
        """Most VMs apply their token within days; skipPending ones are charged regardless."""
        for record in records:
            if self.rng.random() >= NEVER_REDEEMED:
                delay = self.rng.choice((0, 0, 1, 1, 2, 3))
                self.fleet[record.serial].redeem_on = day + timedelta(days=delay)

    def redeem(self, day: date) -> None:
        """VMs use their tokens; a redeemed token turns PENDING into ACTIVE (R26)."""
        for item in self.fleet.values():
            if item.redeem_on is None or item.redeem_on > day or item.token is None:
                continue
            item.redeem_on = None
            if item.status in (Status.PENDING, Status.ACTIVE) and self.alive(item):
                record = transfers.mark_token_used(self.rt, item.token)
                item.status = record.stored_status
                self.actions["tokens redeemed"] += 1

    def alive(self, item: Item) -> bool:
        return item.end_at > self.clock.now() and item.status is not Status.EXPIRED
