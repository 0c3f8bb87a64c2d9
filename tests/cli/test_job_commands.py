"""``pointflex jobs`` and ``pointflex scheduled``: run the jobs once, see their state, schedule
and cancel hardware activations — checked in the database."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, func, select

from pointflex.bootstrap import Runtime
from pointflex.services.entitlements import creation
from pointflex.store.tables import consumption, job_runs, scheduled_activations
from tests.builders import FGT_HW, OPERATOR, World, config
from tests.cli.conftest import Cli, assert_one_red_line, today


def test_run_once_forced_runs_every_job_and_records_each_run(
    cli: Cli, past: Runtime, acme: World, engine: Engine
) -> None:
    creation.create_vm(past, OPERATOR, config_id=config(past, acme.prepaid).id, skip_pending=True)
    result = cli.ok("jobs run --once --force --only expiry --only accrual")
    assert "expiry: ok" in result.stdout
    assert "accrual: ok" in result.stdout
    with engine.connect() as conn:
        runs = conn.execute(select(job_runs.c.job, job_runs.c.ok)).all()
        charged_days = conn.execute(select(func.count()).select_from(consumption)).scalar_one()
    assert sorted(runs) == [("accrual", True), ("expiry", True)]
    assert charged_days == 3  # the three days since the VM was created, yesterday included
    status = cli.ok("jobs status")
    accrual_line = next(line for line in status.stdout.splitlines() if "accrual" in line)
    assert " ok " in f" {accrual_line} "
    assert "program-day(s) accrued" in accrual_line


def test_run_once_without_force_reports_nothing_due_after_a_run(cli: Cli) -> None:
    cli.ok("jobs run --once --only expiry")
    assert "Nothing was due" in cli.ok("jobs run --once --only expiry").stdout


def test_an_unknown_job_is_one_red_line(cli: Cli) -> None:
    assert_one_red_line(cli("jobs run --once --only nightly"), "no job named 'nightly'")


def test_scheduled_add_list_and_cancel(
    cli: Cli, live: Runtime, acme: World, engine: Engine
) -> None:
    hw = config(live, acme.prepaid, FGT_HW, product=101, name="branch").id
    start = (today() + timedelta(days=3)).isoformat()
    added = cli.ok(f"scheduled add --config-id {hw} --start-date {start} FGT60F0100 FGT60F0101")
    assert "FGT60F0100" in added.stdout
    assert "2 serial(s)." in added.stdout
    assert "SCHEDULED" in cli.ok("scheduled list").stdout
    assert "1 scheduled serial(s) cancelled." in cli.ok("scheduled cancel FGT60F0100").stdout
    with engine.connect() as conn:
        rows = dict(
            conn.execute(
                select(scheduled_activations.c.serial, scheduled_activations.c.state)
            ).all()
        )
    assert rows == {"FGT60F0100": "CANCELLED", "FGT60F0101": "SCHEDULED"}
    refused = cli(f"scheduled add --config-id {hw} --start-date {today().isoformat()} FGT60F0102")
    assert_one_red_line(refused, "startDate must be later than today")
