"""``pointflex points``: the accrual, reports, statements and balances."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pointflex.bootstrap import Runtime
from pointflex.domain.dates import local_day
from pointflex.services.entitlements import creation
from pointflex.services.points import programs
from pointflex.store.tables import consumption
from tests.builders import OPERATOR, World, config
from tests.cli.conftest import Cli, assert_one_red_line, today

RATE = Decimal("6.39")  # FortiGate-VM ENT 2 vCPU, points per day


@dataclass(frozen=True)
class History:
    world: World
    first_charged: date  # the day the two VMs were created
    yesterday: date

    @property
    def expected(self) -> Decimal:
        """Two VMs charged every day from their creation through yesterday."""
        return 2 * RATE * ((self.yesterday - self.first_charged).days + 1)


@pytest.fixture
def history(acme: World, past: Runtime, live: Runtime) -> History:
    """Two running VMs created three days ago on the prepaid program, with 10,000 points."""
    made = creation.create_vm(
        past, OPERATOR, config_id=config(past, acme.prepaid).id, count=2, skip_pending=True
    )
    programs.add_pack(live, OPERATOR, acme.prepaid, 10_000)
    first = local_day(made[0].start_at, made[0].timezone)
    return History(acme, first, today() - timedelta(days=1))


def consumed(rt: Runtime) -> Decimal:
    with rt.engine.connect() as conn:
        return Decimal(conn.execute(select(func.sum(consumption.c.points))).scalar_one())


def test_accrue_charges_every_ended_day_once(cli: Cli, live: Runtime, history: History) -> None:
    first = cli.ok(f"points accrue --through {history.yesterday}")
    # Both programs run from ten days ago: ten program days each.
    assert "Accrued 20 program day(s)" in first.stdout
    assert consumed(live) == history.expected
    again = cli.ok(f"points accrue --through {history.yesterday}")
    assert "Nothing to accrue" in again.stdout
    assert consumed(live) == history.expected


def test_balance_is_the_packs_less_what_was_charged(cli: Cli, history: History) -> None:
    cli.ok(f"points accrue --through {history.yesterday} --program {history.world.prepaid}")
    shown = cli.ok(f"points balance {history.world.prepaid}").stdout
    assert f"{Decimal(10_000) - history.expected:,.2f} points" in shown


def test_report_by_day_is_printed_and_written_as_csv(
    cli: Cli, history: History, tmp_path: Path
) -> None:
    cli.ok(f"points accrue --through {history.yesterday}")
    target = tmp_path / "days.csv"
    result = cli.ok(
        f"points report --program {history.world.prepaid} --by day "
        f"--start {history.first_charged} --end {history.yesterday} --csv {target}"
    )
    assert f"{history.expected:,.2f}" in result.stdout
    with target.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["day"] for row in rows} == {
        (history.first_charged + timedelta(days=n)).isoformat()
        for n in range((history.yesterday - history.first_charged).days + 1)
    }
    assert {row["points"] for row in rows} == {f"{2 * RATE:.2f}"}


@pytest.mark.parametrize("by", ["entitlement", "configuration"])
def test_report_totals_the_same_whatever_the_grouping(cli: Cli, history: History, by: str) -> None:
    cli.ok(f"points accrue --through {history.yesterday}")
    result = cli.ok(
        f"points report --program {history.world.prepaid} --by {by} "
        f"--start {history.first_charged} --end {history.yesterday}"
    )
    total = next(line for line in result.stdout.splitlines() if "Total" in line)
    assert f"{history.expected:,.2f}" in total


def test_statement_shows_a_prepaid_balance_and_postpaid_consumption(
    cli: Cli, history: History
) -> None:
    cli.ok(f"points accrue --through {history.yesterday}")
    month = history.yesterday.strftime("%Y-%m")
    prepaid = cli.ok(f"points statement --program {history.world.prepaid} --month {month}")
    assert "(PREPAID)" in prepaid.stdout
    assert "Closing balance" in prepaid.stdout
    postpaid = cli.ok(f"points statement --program {history.world.postpaid} --month {month}")
    assert "Consumed" in postpaid.stdout
    assert "Closing balance" not in postpaid.stdout


def test_a_day_not_yet_ended_is_one_red_line(cli: Cli, history: History) -> None:
    assert_one_red_line(cli(f"points accrue --through {today()}"), "has not ended yet")


def test_a_bad_month_is_one_red_line(cli: Cli, history: History) -> None:
    result = cli(f"points statement --program {history.world.prepaid} --month 2026-5")
    assert_one_red_line(result, "YYYY-MM")


def test_a_bad_report_date_is_one_red_line(cli: Cli, history: History) -> None:
    result = cli(
        f"points report --program {history.world.prepaid} --by day --start 31/12/2026 "
        "--end 2027-01-01"
    )
    assert_one_red_line(result, "31/12/2026")


def test_forecast_prints_the_projected_burn_and_balance(cli: Cli, history: History) -> None:
    cli.ok(f"points accrue --through {history.yesterday}")
    result = cli.ok(f"points forecast --program {history.world.prepaid}")
    row = next(line for line in result.stdout.splitlines() if history.world.prepaid in line)
    assert f"{Decimal(10_000) - history.expected:,.2f}" in row
    assert f"{2 * RATE:,.2f}" in row  # two VMs running today
    every = cli.ok("points forecast").stdout
    assert history.world.prepaid in every
    assert history.world.postpaid in every


def test_forecast_of_an_unknown_program_is_one_red_line(cli: Cli, history: History) -> None:
    assert_one_red_line(cli("points forecast --program ELAVMR0000000000"), "not found")


def test_statement_writes_every_charge_as_csv_and_html(
    cli: Cli, history: History, tmp_path: Path
) -> None:
    cli.ok(f"points accrue --through {history.yesterday}")
    month = history.yesterday.strftime("%Y-%m")
    first = max(history.first_charged, history.yesterday.replace(day=1))
    days = (history.yesterday - first).days + 1
    target = tmp_path / "statement.csv"
    cli.ok(
        f"points statement --program {history.world.prepaid} --month {month} "
        f"--format csv --output {target}"
    )
    with target.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 * days
    assert sum((Decimal(r["points"]) for r in rows), Decimal(0)) == 2 * RATE * days
    page = cli.ok(
        f"points statement --program {history.world.prepaid} --month {month} --format html"
    ).stdout
    assert page.startswith("<!doctype html>")
    assert all(r["serial"] in page for r in rows)
    assert "Closing balance" in page


def test_statement_output_without_a_file_format_is_one_red_line(
    cli: Cli, history: History, tmp_path: Path
) -> None:
    month = history.yesterday.strftime("%Y-%m")
    result = cli(
        f"points statement --program {history.world.prepaid} --month {month} "
        f"--output {tmp_path / 'x.txt'}"
    )
    assert_one_red_line(result, "--format csv")
