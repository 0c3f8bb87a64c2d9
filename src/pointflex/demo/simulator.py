"""Demo data, made through the services only: two organisations, their programs and
configurations, thousands of entitlements and ``days`` of simulated history.

A :class:`~pointflex.clock.ManualClock` runs from ``days`` ago to now. Each simulated day
starts the way production does, by accruing the day before, then tops up prepaid points that
run low and does a handful of random customer actions. Everything random comes from one
``random.Random(seed)``: a seed gives the same data again (tokens aside, which are always
drawn from a cryptographic source).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pointflex.bootstrap import Runtime, build_runtime
from pointflex.clock import ManualClock
from pointflex.domain.catalog import FormFactor
from pointflex.domain.dates import add_years, day_start, local_day
from pointflex.domain.ends import FOLLOW_PROGRAM, RequestedEnd
from pointflex.domain.entitlements import Status, TokenStatus
from pointflex.domain.programs import ProgramKind
from pointflex.errors import InvalidInput, InvalidState
from pointflex.services.access import accounts
from pointflex.services.configs import configurations as configs
from pointflex.services.context import Actor, read
from pointflex.services.entitlements import changes, creation, transfers
from pointflex.services.entitlements.views import Entitlement, EntitlementFilter, iter_entitlements
from pointflex.services.points import programs
from pointflex.services.points import usage as points
from pointflex.services.points.accrual import accrue_through

DEFAULT_ENTITLEMENTS = 3000
DEFAULT_DAYS = 90
MIN_ENTITLEMENTS = 50
MAX_ENTITLEMENTS = 100_000
MAX_DAYS = 365
INITIAL_SHARE = 0.6  # of the fleet exists before the history starts; the rest is created in it
NEVER_REDEEMED = 0.07  # of PENDING VMs whose token is never used: they stay PENDING
COVER_DAYS = 10  # prepaid points are topped up when they cover fewer days than this

ProgressFn = Callable[[int, int], None]  # (days simulated, days in all)


@dataclass(frozen=True)
class Pool:
    """A configuration of the demo and the share of the entitlements created on it."""

    key: str
    name: str
    product_type_id: int
    parameters: tuple[tuple[int, str], ...]
    kind: ProgramKind
    member: bool  # owned by Acme's member account (the managed-services side)
    share: int  # per mille of the VM and hardware entitlements
    folders: tuple[str, ...]
    device_prefix: str = ""  # hardware: how the demo's device serials start

    def wire(self, parameters: tuple[tuple[int, str], ...] | None = None) -> list[dict[str, Any]]:
        return [{"id": pid, "value": value} for pid, value in parameters or self.parameters]


PREPAID, POSTPAID = ProgramKind.PREPAID, ProgramKind.POSTPAID
# The demo's configurations: Acme's (prepaid on its root account, postpaid on its
# managed-services member account), its cloud services, and Globex's one configuration.
# fmt: off
POOLS: tuple[Pool, ...] = (
    Pool("fgt2", "FGT-VM ENT 2 vCPU", 1, ((1, "2"), (2, "ENT")),
         PREPAID, False, 290, ("Production", "Branches/EMEA")),
    Pool("fgt4", "FGT-VM ENT 4 vCPU", 1, ((1, "4"), (2, "ENT"), (10, "5")),
         PREPAID, False, 125, ("Production", "Branches/APAC")),
    Pool("lcs", "FGT-VM LCS 2 vCPU IPS+AV", 4,
         ((6, "2"), (7, "IPS"), (7, "AVDB"), (8, "FC247"), (11, "0")),
         PREPAID, False, 80, ("Production", "Lab")),
    Pool("fmg", "FortiManager-VM 50 devices", 2, ((30, "50"), (9, "5")),
         PREPAID, False, 5, ("Management",)),
    Pool("fgt60f", "FortiGate-60F UTP", 101, ((27, "FGT60F"), (28, "FGHWUTP")),
         PREPAID, False, 70, ("Branches/EMEA", "Branches/APAC"), "FGT60FTK"),
    Pool("fap", "FortiAP-231F", 102, ((55, "FP231F"), (56, "FAPHWFC247")),
         PREPAID, False, 50, ("Branches/EMEA",), "FP231FTF"),
    Pool("mssp2", "Managed FGT-VM ATP 2 vCPU", 1, ((1, "2"), (2, "ATP")),
         POSTPAID, True, 220, ("Customers/Contoso", "Customers/Initech")),
    Pool("mssp4", "Managed FGT-VM ATP 4 vCPU", 1, ((1, "4"), (2, "ATP")),
         POSTPAID, True, 100, ("Customers/Contoso", "Customers/Initech")),
    Pool("mssp60f", "Managed FortiGate-60F", 101, ((27, "FGT60F"), (28, "FGHWFC247")),
         POSTPAID, True, 60, ("Customers/Contoso",), "FGT60FTK"),
)
CLOUD_POOLS: tuple[Pool, ...] = (
    Pool("sase", "FortiSASE 500 users", 205, ((48, "500"), (49, "FSASEADV")),
         PREPAID, False, 0, ("Cloud",)),
    Pool("edr", "Managed FortiEDR", 206, ((46, "FEDRPDR"),),
         POSTPAID, True, 0, ("Cloud",)),
)
GLOBEX_POOL = Pool("globex", "FGT-VM ENT 2 vCPU", 1, ((1, "2"), (2, "ENT")),
                   PREPAID, False, 0, ("Datacenter",))
# VMs moved to a bigger configuration now and then (a resize), within one product type.
RESIZES = {"fgt2": "fgt4", "mssp2": "mssp4"}
ACME_POOLS = frozenset(p.key for p in POOLS)  # where the random actions happen
# Configuration changes made during the history, in this order: the pool, its new name and
# its whole new parameter list.
UPGRADES: tuple[tuple[str, str, tuple[tuple[int, str], ...]], ...] = (
    ("lcs", "FGT-VM LCS 2 vCPU IPS+AV+Sandbox",
     ((6, "2"), (7, "IPS"), (7, "AVDB"), (7, "FAIS"), (8, "FC247"), (11, "0"))),
    ("fmg", "FortiManager-VM 75 devices", ((30, "75"), (9, "5"))),
    ("fgt4", "FGT-VM ENT 4 vCPU", ((1, "4"), (2, "ENT"), (10, "10"))),
    ("mssp2", "Managed FGT-VM ATP 2 vCPU Elite", ((1, "2"), (2, "ATP"), (45, "FGTFCELU"))),
)
# fmt: on


@dataclass(frozen=True)
class DemoOptions:
    entitlements: int = DEFAULT_ENTITLEMENTS
    days: int = DEFAULT_DAYS
    seed: int | None = None  # None: a random seed, reported in the summary
    if_empty: bool = False


@dataclass(frozen=True)
class ProgramSummary:
    serial: str
    kind: ProgramKind
    account_id: int
    account_name: str
    balance: Decimal | None  # prepaid only
    month_to_date: Decimal
    last_30_days: Decimal
    by_status: dict[str, int]


@dataclass(frozen=True)
class DemoSummary:
    seeded: bool
    seed: int | None
    days: int
    created: int
    actions: dict[str, int]
    programs: list[ProgramSummary]


def run_demo(
    rt: Runtime, actor: Actor, options: DemoOptions, progress: ProgressFn | None = None
) -> DemoSummary:
    """Seed an empty database with the demo; with ``if_empty``, leave a used one alone."""
    _check(options)
    if programs.list_programs(rt, actor):
        if options.if_empty:
            return DemoSummary(False, None, 0, 0, {}, summarise(rt, actor))
        raise InvalidState(
            "the database already has programs: the demo only seeds an empty database "
            "(--if-empty leaves a used one as it is)"
        )
    seed = options.seed if options.seed is not None else random.SystemRandom().randrange(10**6)
    simulation = Simulation(rt, actor, options, seed)
    simulation.run(progress)
    actions = dict(sorted(simulation.actions.items()))
    return DemoSummary(True, seed, options.days, simulation.created, actions, summarise(rt, actor))


def _check(options: DemoOptions) -> None:
    if not MIN_ENTITLEMENTS <= options.entitlements <= MAX_ENTITLEMENTS:
        raise InvalidInput(
            f"entitlements must be between {MIN_ENTITLEMENTS} and {MAX_ENTITLEMENTS:,}"
        )
    if not 1 <= options.days <= MAX_DAYS:
        raise InvalidInput(f"days must be between 1 and {MAX_DAYS}")
    if options.seed is not None and options.seed < 0:
        raise InvalidInput("seed must not be negative")


# --------------------------------------------------------------------------- summary


def summarise(rt: Runtime, actor: Actor) -> list[ProgramSummary]:
    """Per program: balance or month-to-date use, the last 30 days, entitlements by status."""
    names = {a.id: a.name for a in accounts.list_accounts(rt, actor)}
    found: list[ProgramSummary] = []
    for program in programs.list_programs(rt, actor):
        today = local_day(rt.now(), program.timezone)
        month = _consumed(rt, actor, program.serial, today.replace(day=1), today)
        yesterday = today - timedelta(days=1)
        recent = _consumed(rt, actor, program.serial, today - timedelta(days=30), yesterday)
        balance = None
        if program.kind is ProgramKind.PREPAID:
            balance = programs.balance(rt, actor, program.serial)
        found.append(
            ProgramSummary(
                program.serial,
                program.kind,
                program.account_id,
                names.get(program.account_id, ""),
                balance,
                month,
                recent,
                _statuses(rt, actor, program.serial),
            )
        )
    return found


def _consumed(rt: Runtime, actor: Actor, serial: str, start: date, end: date) -> Decimal:
    rows = points.report(rt, actor, serial, points.GroupBy.DAY, start, end)
    return sum((row.points for row in rows), Decimal("0.00"))


def _statuses(rt: Runtime, actor: Actor, serial: str) -> dict[str, int]:
    with read(rt) as conn:
        flt = EntitlementFilter(program_serial=serial)
        counts = Counter(e.status.value for e in iter_entitlements(rt, conn, actor, flt))
    return {status.value: counts[status.value] for status in Status if counts[status.value]}


# --------------------------------------------------------------------------- simulation


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


class Simulation:
    """The demo's history, day by day, on its own clock."""

    world: World  # made by setup(), the first step of run()

    def __init__(self, rt: Runtime, operator: Actor, options: DemoOptions, seed: int) -> None:
        self.real = rt
        self.operator = operator
        self.options = options
        self.rng = random.Random(seed)
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

    def run(self, progress: ProgressFn | None) -> None:
        self.world = self.setup()
        self.initial_fleet()
        for index in range(self.options.days):
            day = self.first + timedelta(days=index)
            if index:
                self.simulate(day)
            if progress is not None:
                progress(index + 1, self.options.days)
        # Back to the present: charge every day up to yesterday, as the daily job would.
        self.clock.set(max(self.clock.now(), self.real.now()))
        self.accrue(self.today - timedelta(days=1))

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

    # ----------------------------------------------------------------- one day

    def simulate(self, day: date) -> None:
        """Accrue yesterday just after midnight, then a working day of random actions."""
        self.clock.set(self.at(day, 0, 30))
        self.accrue(day - timedelta(days=1))
        self.clock.set(self.at(day, 7))
        self.top_up(day)
        steps: list[Callable[[date], None]] = [self.create_some, self.redeem]
        chances = (
            (0.6, self.stop_some),
            (0.4, self.reactivate_some),
            (0.15, self.resize),
            (0.05, self.upgrade),
            (0.2, self.regenerate),
            (0.1, self.remove_device),
        )
        steps += [action for chance, action in chances if self.rng.random() < chance]
        self.rng.shuffle(steps)
        for step in steps:
            self.clock.advance(timedelta(minutes=self.rng.randint(20, 90)))
            step(day)

    def accrue(self, through: date) -> None:
        for result in accrue_through(self.rt, through):
            self.burn[result.program_serial] = result.points

    def top_up(self, day: date) -> None:
        """Buy packs while a running prepaid program's points cover fewer than COVER_DAYS."""
        running = [self.world.program[PREPAID]]
        if day < self.globex_end:
            running.append(self.world.globex_program)
        for serial in running:
            burn = self.burn.get(serial, Decimal("0"))
            balance = programs.balance(self.rt, self.operator, serial)
            size = 50_000 if burn > 1_000 else 10_000
            while balance < burn * COVER_DAYS:
                balance = self.add_pack(serial, size)

    def create_some(self, day: date) -> None:
        days_left = (self.today - day).days
        open_pools = [p for p in POOLS if self.remaining[p.key] > 0]
        if not open_pools:
            return
        # The last day creates everything still planned; other days a share of two pools.
        last = days_left == 1
        chosen = open_pools if last else self.rng.sample(open_pools, k=min(2, len(open_pools)))
        for pool in chosen:
            left = self.remaining[pool.key]
            count = left if last else max(1, round(left / days_left * 2))
            self.create(pool, count, day, pending=0.5)

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

    def pick(self, status: Status, *, hardware: bool | None = None) -> list[Item]:
        """Items of one random pool in ``status`` (bulk actions need one product type, R60)."""
        found = [
            i
            for i in self.fleet.values()
            if i.status is status
            and self.alive(i)
            and i.pool in ACME_POOLS
            and (hardware is None or (i.form_factor is FormFactor.HARDWARE) == hardware)
        ]
        if not found:
            return []
        pool = self.rng.choice(found).pool
        return [i for i in found if i.pool == pool]

    def stop_some(self, day: date) -> None:
        candidates = self.pick(Status.ACTIVE)
        chosen = self.rng.sample(candidates, k=min(len(candidates), self.rng.randint(1, 6)))
        if chosen:
            self.change_status(chosen, Status.STOPPED)

    def reactivate_some(self, day: date) -> None:
        candidates = self.pick(Status.STOPPED)
        chosen = self.rng.sample(candidates, k=min(len(candidates), self.rng.randint(1, 3)))
        if chosen:
            self.change_status(chosen, Status.ACTIVE)

    def change_status(self, chosen: Sequence[Item], target: Status) -> None:
        serials = [i.serial for i in chosen]
        if target is Status.STOPPED:
            outcomes = changes.stop(self.rt, self.world.acme_user, serials)
        else:
            outcomes = changes.reactivate(self.rt, self.world.acme_user, serials)
        for outcome in outcomes:
            if outcome.error is not None:  # the demo only asks for allowed changes
                raise outcome.error
            assert outcome.entitlement is not None
            self.fleet[outcome.serial].status = outcome.entitlement.stored_status
        verb = "stopped" if target is Status.STOPPED else "reactivated"
        self.actions[f"entitlements {verb}"] += len(outcomes)

    def resize(self, day: date) -> None:
        """Move one running VM to the bigger configuration of its product type."""
        source = self.rng.choice(sorted(RESIZES))
        running = [
            i
            for i in self.fleet.values()
            if i.pool == source and i.status is Status.ACTIVE and self.alive(i)
        ]
        if not running:
            return
        item = self.rng.choice(running)
        target = RESIZES[source]
        changes.update_entitlement(
            self.rt, self.world.acme_user, item.serial, config_id=self.world.config[target]
        )
        item.pool = target
        self.actions["VMs resized"] += 1

    def upgrade(self, day: date) -> None:
        """Change a configuration's parameters: every entitlement on it follows (R52)."""
        if not self.upgrades:
            return
        key, name, parameters = self.upgrades.pop(0)
        configs.update_config(
            self.rt,
            self.world.acme_user,
            self.world.config[key],
            name=name,
            parameters=self.pool(key).wire(parameters),
        )
        self.actions["configurations changed"] += 1

    def regenerate(self, day: date) -> None:
        """A rebuilt VM gets a new token, which it uses a little later."""
        vms = [
            i
            for i in self.fleet.values()
            if i.form_factor is FormFactor.VM
            and i.pool in ACME_POOLS
            and i.status in (Status.ACTIVE, Status.STOPPED, Status.PENDING)
            and self.alive(i)
        ]
        if not vms:
            return
        item = self.rng.choice(vms)
        record = changes.regenerate_token(self.rt, self.world.acme_user, item.serial)
        item.token = record.token
        if record.token_status == TokenStatus.NOTUSED.value:
            item.redeem_on = day + timedelta(days=self.rng.choice((0, 1, 2)))
        self.actions["tokens regenerated"] += 1

    def remove_device(self, day: date) -> None:
        stopped = self.pick(Status.STOPPED, hardware=True)
        if not stopped:
            return
        item = self.rng.choice(stopped)
        changes.remove_hardware(self.rt, self.world.acme_user, [item.serial])
        del self.fleet[item.serial]
        self.actions["devices removed"] += 1


# --------------------------------------------------------------------------- API access

DEMO_API_USER = "pointflex demo: Acme Corporation, Admin"


def demo_credentials(rt: Runtime, actor: Actor) -> tuple[str, str] | None:
    """An Admin API user for the demo's first organisation, with a fresh password.

    The password is shown once and stored only as a hash, so each call resets it (R67);
    None when the database holds no organisation.
    """
    from sqlalchemy import select

    from pointflex.services.access import api_users
    from pointflex.store.tables import organizations

    with rt.engine.connect() as conn:
        org = conn.execute(select(organizations.c.id).order_by(organizations.c.id)).scalar()
    if org is None:
        return None
    existing = next(
        (
            u
            for u in api_users.list_api_users(rt, actor)
            if u.description == DEMO_API_USER and u.disabled_at is None
        ),
        None,
    )
    if existing is not None:
        return existing.username, api_users.reset_password(rt, actor, existing.username)
    user, password = api_users.create_api_user(
        rt,
        actor,
        permission=api_users.Permission.ADMIN,
        organization_id=org,
        description=DEMO_API_USER,
    )
    return user.username, password


DEMO_PORTAL_USER = "admin@acme.example"


def demo_portal_credentials(rt: Runtime, actor: Actor) -> tuple[str, str] | None:
    """An Admin portal user for the demo's first organisation, with a fresh password (each
    call resets it: it is stored only as a hash); None when there is no organisation."""
    from sqlalchemy import select

    from pointflex.errors import NotFound
    from pointflex.services.access import portal_users
    from pointflex.services.access.api_users import Permission
    from pointflex.store.tables import organizations

    with rt.engine.connect() as conn:
        org = conn.execute(select(organizations.c.id).order_by(organizations.c.id)).scalar()
    if org is None:
        return None
    try:
        return DEMO_PORTAL_USER, portal_users.reset_portal_password(rt, actor, DEMO_PORTAL_USER)
    except NotFound:
        _, password = portal_users.create_portal_user(
            rt,
            actor,
            DEMO_PORTAL_USER,
            permission=Permission.ADMIN,
            organization_id=org,
        )
        return DEMO_PORTAL_USER, password
