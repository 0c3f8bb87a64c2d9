"""``pointflex accounts`` and ``pointflex programs``."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import Engine, select

from pointflex.store.tables import audit_log, point_ledger
from tests.builders import World
from tests.cli.conftest import USER, Cli, assert_one_red_line, today

SERIAL = "ELAVMR0000000042"


def test_organisation_and_member_account_are_created_and_listed(cli: Cli) -> None:
    created = cli.ok("accounts create-org Initech --root-name 'Initech HQ'")
    assert "root account 100001 (Initech HQ)" in created.stdout
    cli.ok("accounts create --org 1 'Initech Labs' --account-id 200000")
    listed = cli.ok("accounts list").stdout
    assert "100001" in listed
    assert "200000" in listed
    assert "Initech Labs" in listed


def test_member_account_of_an_unknown_organisation_is_one_red_line(cli: Cli) -> None:
    assert_one_red_line(cli("accounts create --org 99 X"), "organization 99")


def test_prepaid_program_takes_packs_and_adjustments(cli: Cli) -> None:
    cli.ok("accounts create-org Initech --root-name 'Initech HQ'")
    start, end = today() - timedelta(days=1), today() + timedelta(days=365)
    registered = cli.ok(
        f"programs register --account-id 100001 --kind prepaid --start {start} --end {end} "
        f"--serial {SERIAL}"
    )
    assert f"{SERIAL} (PREPAID)" in registered.stdout
    assert SERIAL in cli.ok("programs list").stdout
    cli.ok(f"programs add-pack {SERIAL} --points 50000 --reference PO-1")
    adjusted = cli.ok(f"programs adjust {SERIAL} --points -1250.50 --note 'refund'")
    assert "balance 48,749.50" in adjusted.stdout
    assert "48,749.50 points" in cli.ok(f"programs balance {SERIAL}").stdout


def test_cli_acts_as_the_operator_named_after_the_user(
    cli: Cli, acme: World, engine: Engine
) -> None:
    cli.ok(f"programs add-pack {acme.prepaid} --points 10000")
    with engine.connect() as conn:
        actors = set(conn.execute(select(audit_log.c.actor)).scalars())
        pack = conn.execute(select(point_ledger.c.points, point_ledger.c.created_by)).one()
    assert f"cli:{USER}" in actors
    assert tuple(pack) == (Decimal("10000.00"), f"cli:{USER}")


def test_a_pack_of_123_points_is_one_red_line(cli: Cli, acme: World) -> None:
    result = cli(f"programs add-pack {acme.prepaid} --points 123")
    assert_one_red_line(result, "10,000 or 50,000", "123")


def test_a_postpaid_program_has_no_balance(cli: Cli, acme: World) -> None:
    assert_one_red_line(cli(f"programs balance {acme.postpaid}"), "postpaid")


def test_a_bad_start_date_is_one_red_line(cli: Cli, acme: World) -> None:
    result = cli(
        f"programs register --account-id {acme.root} --kind postpaid "
        "--start 2026-02-30 --end 2027-01-01"
    )
    assert_one_red_line(result, "2026-02-30")


def test_an_adjustment_that_is_not_a_number_is_one_red_line(cli: Cli, acme: World) -> None:
    result = cli(f"programs adjust {acme.prepaid} --points lots --note x")
    assert_one_red_line(result, "'lots' is not a number")
