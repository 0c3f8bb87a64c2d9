"""The demo's history: each simulated day starts the way production does, by accruing the day
before, then tops up prepaid points that run low and does a handful of random customer actions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal

from pointflex.demo.plan import ACME_POOLS, COVER_DAYS, POOLS, PREPAID, RESIZES, ProgressFn
from pointflex.demo.world import Builder, Item
from pointflex.domain.catalog import FormFactor
from pointflex.domain.entitlements import Status, TokenStatus
from pointflex.services.configs import configurations as configs
from pointflex.services.entitlements import changes
from pointflex.services.points import programs
from pointflex.services.points.accrual import accrue_through

# A program burning more points a day than this is topped up with large packs.
_HEAVY_BURN = 1_000
_LARGE_PACK, _SMALL_PACK = 50_000, 10_000


class Simulation(Builder):
    """The demo's history, day by day, on its own clock."""

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
            size = _LARGE_PACK if burn > _HEAVY_BURN else _SMALL_PACK
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
            if outcome.entitlement is None:
                raise RuntimeError("a change that was not refused carries its entitlement")
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
