"""Forecasts against the database: real programs, configurations and entitlements, days
accrued by the accrual, then the projection checked against a hand computation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import insert

from pointflex.bootstrap import Runtime
from pointflex.clock import ManualClock
from pointflex.domain.dates import PACIFIC, day_start
from pointflex.domain.ends import RequestedEnd
from pointflex.domain.programs import ProgramKind
from pointflex.errors import NotFound
from pointflex.services.context import Actor, write
from pointflex.services.entitlements import creation
from pointflex.services.points import programs
from pointflex.services.points.accrual import accrue_through
from pointflex.services.points.forecasts import forecast, forecast_all
from pointflex.services.points.prices import import_price_list, price_book
from pointflex.store.tables import scheduled_activations
from tests.builders import FGT_HW, OPERATOR, World, config, world

RATE = Decimal("6.39")  # FortiGate-VM ENT 2 vCPU
TODAY = date(2026, 3, 5)
END = date(2027, 1, 1)  # the world's programs end on 1 January 2027
STOP = date(2026, 3, 20)  # the User Defined end date of one VM


def at(day: date, hour: int = 10) -> datetime:
    return day_start(day, PACIFIC) + timedelta(hours=hour)


@dataclass(frozen=True)
class Setup:
    world: World
    vm_config: int


@pytest.fixture
def setup(rt: Runtime, clock: ManualClock) -> Setup:
    """Three VMs since 2 March on the prepaid program (one ending on 20 March), one on the
    postpaid; 2, 3 and 4 March accrued; today is 5 March."""
    w = world(rt)
    programs.add_pack(rt, OPERATOR, w.prepaid, 10_000)
    vm = config(rt, w.prepaid)
    creation.create_vm(rt, OPERATOR, config_id=vm.id, count=2, skip_pending=True)
    creation.create_vm(
        rt,
        OPERATOR,
        config_id=vm.id,
        skip_pending=True,
        end=RequestedEnd.at(day_start(STOP, PACIFIC)),
    )
    post = config(rt, w.postpaid, name="post")
    creation.create_vm(rt, OPERATOR, config_id=post.id, count=2, skip_pending=True)
    clock.set(at(TODAY))
    accrue_through(rt, TODAY - timedelta(days=1))
    return Setup(w, vm.id)


def tenths(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"), ROUND_DOWN)


def test_prepaid_forecast_follows_the_end_date_and_runs_out_on_the_computed_day(
    rt: Runtime, setup: Setup
) -> None:
    serial = setup.world.prepaid
    charged = 3 * RATE * 3  # three VMs, 2 to 4 March
    assert programs.balance(rt, OPERATOR, serial) == 10_000 - charged
    programs.adjust(rt, OPERATOR, serial, Decimal("-9800"), "leave a few days of points")
    balance = 10_000 - 9800 - charged  # 142.49
    f = forecast(rt, OPERATOR, serial)
    assert f.balance == balance
    assert f.today == TODAY
    assert f.charged == 3
    assert f.burn_today == 3 * RATE
    assert f.projection.observed_burn == (charged / 7).quantize(Decimal("0.01"))
    # 19.17 a day until 19 March: 7 whole days (134.19), then 8.30 of the eighth.
    assert f.zero_date == date(2026, 3, 12)
    assert f.days_left == tenths(7 + (balance - 7 * 3 * RATE) / (3 * RATE))
    to_end = 3 * RATE * (STOP - TODAY).days + 2 * RATE * (END - STOP).days
    assert f.projection.to_end == to_end
    assert f.shortfall == to_end - balance


def test_a_balance_that_lasts_has_no_zero_date_and_no_shortfall(rt: Runtime, setup: Setup) -> None:
    f = forecast(rt, OPERATOR, setup.world.prepaid)
    assert f.zero_date is None
    assert f.days_left is None
    assert f.shortfall == Decimal("0.00")
    assert f.projection.walk_end == END
    assert not f.projection.capped


def price_file(folder: Path, effective: date, per_cpu: str) -> Path:
    """The shipped list with FortiGate-VM priced at ``per_cpu`` points per vCPU."""
    shipped = resources.files("pointflex").joinpath("catalog", "prices", "2026-01-01.yaml")
    document: dict[str, Any] = yaml.safe_load(shipped.read_text())
    document["effective"] = effective.isoformat()
    document["products"][1] = [{"per_unit": {"param": 1, "price": per_cpu}}]
    path = folder / f"{effective.isoformat()}.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_a_future_price_list_changes_the_projection_from_its_effective_date(
    rt: Runtime, setup: Setup, tmp_path: Path
) -> None:
    effective = date(2026, 6, 1)
    import_price_list(rt, OPERATOR, price_file(tmp_path, effective, "4.00"))  # 2 vCPU: 8.00
    f = forecast(rt, OPERATOR, setup.world.prepaid)
    assert f.burn_today == 3 * RATE
    expected = (
        3 * RATE * (STOP - TODAY).days
        + 2 * RATE * (effective - STOP).days
        + 2 * Decimal("8.00") * (END - effective).days
    )
    assert f.projection.to_end == expected
    day_rates = {s.first: s.per_day for s in f.projection.segments}
    assert day_rates[effective] == Decimal("16.00")


def test_scheduled_hardware_activations_cost_from_their_start_date(
    rt: Runtime, setup: Setup
) -> None:
    hw = config(rt, setup.world.prepaid, FGT_HW, product=101, name="hw")
    start, stop = date(2026, 4, 1), date(2026, 5, 1)
    with write(rt) as conn:
        conn.execute(
            insert(scheduled_activations),
            [
                {
                    "program_serial": setup.world.prepaid,
                    "config_id": hw.id,
                    "serial": serial,
                    "start_date": start,
                    "end_date": stop,
                    "state": "SCHEDULED",
                    "created_by": "test",
                    "created_at": datetime(2026, 3, 5, tzinfo=UTC),
                }
                for serial in ("FGT60FTK00000001", "FGT60FTK00000002")
            ],
        )
    with rt.engine.connect() as conn:
        hw_rate = price_book(conn).rate(101, hw.values, start)
    f = forecast(rt, OPERATOR, setup.world.prepaid)
    assert f.scheduled == 2
    base = 3 * RATE * (STOP - TODAY).days + 2 * RATE * (END - STOP).days
    assert f.projection.to_end == base + 2 * hw_rate * (stop - start).days
    by_day = {s.first: s.per_day for s in f.projection.segments}
    assert by_day[start] == 2 * RATE + 2 * hw_rate
    assert by_day[stop] == 2 * RATE


def test_postpaid_projects_the_month_and_the_term(rt: Runtime, setup: Setup) -> None:
    f = forecast(rt, OPERATOR, setup.world.postpaid)
    assert f.kind is ProgramKind.POSTPAID
    assert f.balance is None
    assert f.zero_date is None
    assert f.month_to_date == 2 * RATE * 3
    rest = 2 * RATE * (date(2026, 4, 1) - TODAY).days
    assert f.projection.to_month_end == rest
    assert f.month_total == 2 * RATE * 3 + rest
    assert f.projection.to_end == 2 * RATE * (END - TODAY).days


def test_an_end_date_already_passed_is_expired_before_the_job_runs(
    rt: Runtime, clock: ManualClock, setup: Setup
) -> None:
    # Ten minutes after the end instant: the expiry job has not run; the VM shows EXPIRED.
    clock.set(day_start(STOP, PACIFIC) + timedelta(minutes=10))
    f = forecast(rt, OPERATOR, setup.world.prepaid)
    assert f.charged == 2
    assert f.burn_today == 2 * RATE


def test_forecast_all_covers_every_visible_program_and_matches_one_by_one(
    rt: Runtime, setup: Setup
) -> None:
    found = forecast_all(rt, OPERATOR)
    assert [f.program_serial for f in found] == sorted([setup.world.prepaid, setup.world.postpaid])
    for f in found:
        assert f == forecast(rt, OPERATOR, f.program_serial)


def test_another_organisation_sees_neither_forecast(rt: Runtime, setup: Setup) -> None:
    other = world(rt)
    outsider = Actor(name="outsider", account_ids=frozenset({other.root}))
    seen = {f.program_serial for f in forecast_all(rt, outsider)}
    assert seen == {other.prepaid, other.postpaid}
    with pytest.raises(NotFound):
        forecast(rt, outsider, setup.world.prepaid)
