"""Property: the accrued ledger equals an independent oracle, to the cent.

Hypothesis drives random sequences of creates, stops, reactivations, token redemptions,
configuration changes, moves between configurations, user-defined end dates and a price
change, over random days and time zones. The oracle below knows nothing of events, fast or
slow paths or SQL: it replays the actions as time segments and applies the charging rules
(R12–R18, R25, R46, P11) literally.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from pointflex.bootstrap import build_runtime
from pointflex.clock import ManualClock
from pointflex.config import Settings
from pointflex.domain.ends import FOLLOW_PROGRAM, RequestedEnd
from pointflex.domain.money import CENT
from pointflex.domain.programs import ProgramKind
from pointflex.services.access import accounts
from pointflex.services.configs import configurations as configs
from pointflex.services.entitlements import changes, creation
from pointflex.services.entitlements.transfers import mark_token_used
from pointflex.services.points import programs
from pointflex.services.points.accrual import accrue_through
from pointflex.services.points.prices import import_price_list
from pointflex.store.db import make_engine
from pointflex.store.tables import consumption
from tests.builders import OPERATOR
from tests.conftest import SECRET, fresh_database

ZONES = ["America/Los_Angeles", "UTC", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe"]
T0 = datetime(2026, 3, 1, 7, 0, tzinfo=UTC)
N_CONFIGS = 2

# ------------------------------------------------------------------ the oracle


def local_window(day: date, tz: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    return start, end


@dataclass
class OracleEntitlement:
    created: datetime
    end: datetime | None  # user-defined end instant, None = follows the (distant) program end
    segments: list[tuple[datetime, str, int]] = field(default_factory=list)  # (from, status, cfg)

    def status_at(self, instant: datetime) -> str:
        if self.end is not None and instant >= self.end:
            return "EXPIRED"
        return self.segments[-1][1]


@dataclass
class Oracle:
    tz: str
    # per configuration: (valid from, vCPUs)
    config_cpus: dict[int, list[tuple[datetime, int]]] = field(default_factory=dict)
    # price per vCPU per day: (effective day, price)
    prices: list[tuple[date, Decimal]] = field(default_factory=list)
    entitlements: dict[str, OracleEntitlement] = field(default_factory=dict)

    def price_on(self, day: date) -> Decimal:
        return max((p for p in self.prices if p[0] <= day), key=lambda p: p[0])[1]

    def config_day_rate(self, cfg: int, day: date) -> Decimal:
        start, end = local_window(day, self.tz)
        history = self.config_cpus[cfg]
        cpus = [
            cpu
            for i, (since, cpu) in enumerate(history)
            if since < end and (i + 1 == len(history) or history[i + 1][0] > start)
        ]
        raw = Decimal(max(cpus)) * self.price_on(day)
        return max(raw.quantize(CENT, ROUND_HALF_UP), CENT)

    def charges(self, last_day: date) -> dict[tuple[str, date], Decimal]:
        found: dict[tuple[str, date], Decimal] = {}
        for serial, item in self.entitlements.items():
            day = item.created.astimezone(ZoneInfo(self.tz)).date()
            while day <= last_day:
                rate = self._day_charge(item, day)
                if rate is not None:
                    found[(serial, day)] = rate
                day += timedelta(days=1)
        return found

    def _day_charge(self, item: OracleEntitlement, day: date) -> Decimal | None:
        start, end = local_window(day, self.tz)
        rates: list[Decimal] = []
        for i, (since, status, cfg) in enumerate(item.segments):
            until = item.segments[i + 1][0] if i + 1 < len(item.segments) else end
            if item.end is not None:
                until = min(until, item.end)
            if status == "ACTIVE" and since < end and until > start and since < until:
                rates.append(self.config_day_rate(cfg, day))
        return max(rates) if rates else None


# ------------------------------------------------------------------ random scenarios

actions = st.one_of(
    st.tuples(
        st.just("create"),
        st.integers(0, N_CONFIGS - 1),
        st.booleans(),
        st.one_of(st.none(), st.integers(1, 12)),
    ),
    st.tuples(st.just("stop"), st.integers(0, 9)),
    st.tuples(st.just("reactivate"), st.integers(0, 9)),
    st.tuples(st.just("redeem"), st.integers(0, 9)),
    st.tuples(st.just("cpus"), st.integers(0, N_CONFIGS - 1), st.integers(1, 8)),
    st.tuples(st.just("move"), st.integers(0, 9), st.integers(0, N_CONFIGS - 1)),
)
steps = st.lists(st.tuples(st.integers(1, 1800), actions), min_size=1, max_size=25)


def price_file(folder: Path, effective: date, per_cpu: Decimal) -> Path:
    """The shipped list with FortiGate-VM repriced as a flat price per vCPU."""
    shipped = resources.files("pointflex").joinpath("catalog", "prices", "2026-01-01.yaml")
    document: dict[str, Any] = yaml.safe_load(shipped.read_text())
    document["effective"] = effective.isoformat()
    document["products"][1] = [{"per_unit": {"param": 1, "price": str(per_cpu)}}]
    path = folder / f"{effective.isoformat()}.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


class Scenario:
    def __init__(self, template: str, folder: Path, tz: str) -> None:
        url = fresh_database(template, folder)
        self.clock = ManualClock(T0)
        self.engine = make_engine(url)
        cfg = Settings(database_url=url, data_dir=folder, secret_key=SECRET)
        self.rt = build_runtime(cfg, clock=self.clock, engine=self.engine)
        self.oracle = Oracle(tz)
        root = accounts.create_organization(self.rt, OPERATOR, "Org", "Root")
        self.program = programs.register_program(
            self.rt,
            OPERATOR,
            account_id=root.id,
            kind=ProgramKind.PREPAID,
            start_date=date(2026, 2, 28),
            end_date=date(2026, 12, 31),
            timezone=tz,
        )
        self.configs: list[int] = []
        for index in range(N_CONFIGS):
            created = configs.create_config(
                self.rt,
                OPERATOR,
                program_serial=self.program.serial,
                name=f"c{index}",
                product_type_id=1,
                parameters=[{"id": 1, "value": index + 1}, {"id": 2, "value": "ENT"}],
            )
            self.configs.append(created.id)
            self.oracle.config_cpus[index] = [(T0, index + 1)]
        self.serials: list[str] = []
        self.tokens: dict[str, str] = {}

    def price_change(self, day: date, first: Decimal, second: Decimal) -> None:
        import_price_list(
            self.rt, OPERATOR, price_file(Path(tempfile.mkdtemp()), date(2026, 1, 1), first)
        )
        import_price_list(self.rt, OPERATOR, price_file(Path(tempfile.mkdtemp()), day, second))
        self.oracle.prices = [(date(2026, 1, 1), first), (day, second)]

    def apply(self, action: tuple[Any, ...]) -> None:
        now = self.clock.now()
        kind = action[0]
        if kind == "create":
            self._create(now, action[1], action[2], action[3])
            return
        if kind == "cpus":
            cfg, cpus = action[1], action[2]
            configs.update_config(
                self.rt,
                OPERATOR,
                self.configs[cfg],
                parameters=[{"id": 1, "value": cpus}, {"id": 2, "value": "ENT"}],
            )
            self.oracle.config_cpus[cfg].append((now, cpus))
            return
        if not self.serials:
            return
        serial = self.serials[action[1] % len(self.serials)]
        item = self.oracle.entitlements[serial]
        status = item.status_at(now)
        cfg = item.segments[-1][2]
        if kind == "stop" and status in ("ACTIVE", "PENDING"):
            (outcome,) = changes.stop(self.rt, OPERATOR, [serial])
            assert outcome.ok, outcome.error
            item.segments.append((now, "STOPPED", cfg))
        elif kind == "reactivate" and status == "STOPPED":
            (outcome,) = changes.reactivate(self.rt, OPERATOR, [serial])
            assert outcome.ok, outcome.error
            item.segments.append((now, "ACTIVE", cfg))
        elif kind == "redeem" and status in ("PENDING", "ACTIVE") and serial in self.tokens:
            mark_token_used(self.rt, self.tokens.pop(serial))
            item.segments.append((now, "ACTIVE", cfg))
        elif kind == "move" and status != "EXPIRED" and action[2] != cfg:
            changes.update_entitlement(self.rt, OPERATOR, serial, config_id=self.configs[action[2]])
            item.segments.append((now, item.segments[-1][1], action[2]))

    def _create(self, now: datetime, cfg: int, skip: bool, end_days: int | None) -> None:
        end = None
        if end_days is not None:
            local = now.astimezone(ZoneInfo(self.oracle.tz)).date()
            end = local_window(local + timedelta(days=end_days), self.oracle.tz)[0]
        (record,) = creation.create_vm(
            self.rt,
            OPERATOR,
            config_id=self.configs[cfg],
            skip_pending=skip,
            end=FOLLOW_PROGRAM if end is None else RequestedEnd.at(end),
        )
        assert record.token is not None
        self.serials.append(record.serial)
        self.tokens[record.serial] = record.token
        item = OracleEntitlement(created=now, end=end)
        item.segments.append((now, "ACTIVE" if skip else "PENDING", cfg))
        self.oracle.entitlements[record.serial] = item

    def accrued(self) -> dict[tuple[str, date], Decimal]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(consumption.c.serial, consumption.c.day, consumption.c.points)
            ).all()
        return {(r.serial, r.day): r.points for r in rows}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    tz=st.sampled_from(ZONES),
    script=steps,
    price_day=st.integers(0, 30),
    prices=st.tuples(
        st.sampled_from(["1.25", "3.33", "0.005", "6.395"]),
        st.sampled_from(["0.70", "2.00", "4.444"]),
    ),
)
def test_accrued_ledger_matches_an_independent_oracle_to_the_cent(
    database_template: str,
    tmp_path: Path,
    tz: str,
    script: list[tuple[int, tuple[Any, ...]]],
    price_day: int,
    prices: tuple[str, str],
) -> None:
    scenario = Scenario(database_template, tmp_path, tz)
    try:
        scenario.price_change(
            date(2026, 3, 1) + timedelta(days=price_day), Decimal(prices[0]), Decimal(prices[1])
        )
        for minutes, action in script:
            scenario.clock.advance(timedelta(minutes=minutes))
            scenario.apply(action)
        last_day = scenario.clock.now().astimezone(ZoneInfo(tz)).date()
        scenario.clock.advance(timedelta(days=2))
        accrue_through(scenario.rt, last_day)
        expected = scenario.oracle.charges(last_day)
        assert scenario.accrued() == expected
    finally:
        scenario.engine.dispose()
