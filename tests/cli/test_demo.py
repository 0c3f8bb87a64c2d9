"""``pointflex demo``: the seeded data, checked in the database, not only on screen."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, select, text

from pointflex.bootstrap import Runtime
from pointflex.domain.entitlements import Status
from pointflex.services.access import auth, portal_users
from pointflex.services.access.api_users import Permission
from pointflex.services.context import read
from pointflex.services.entitlements.views import EntitlementFilter, iter_entitlements
from pointflex.store.tables import (
    accrual_runs,
    configurations,
    consumption,
    entitlements,
    metadata,
    organizations,
    point_ledger,
    programs,
)
from tests.builders import OPERATOR, World
from tests.cli.conftest import Cli, assert_one_red_line, today

SMALL = "demo --entitlements 200 --days 10 --seed 3"


def count(engine: Engine, column: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count(column))).scalar_one())


def assert_working_login(stdout: str, rt: Runtime) -> None:
    """The demo ends with an API user whose printed password signs in."""
    lines = dict(
        line.split(None, 2)[1:] if line.startswith("API user") else line.split(None, 1)
        for line in stdout.splitlines()
        if line.startswith(("API user", "Password"))
    )
    username, password = lines["user"], lines["Password"].split()[0]
    pair = auth.password_grant(rt, username, password, "flexvm", "127.0.0.1")
    assert len(pair.access_token) == 30
    assert_working_portal_login(stdout, rt)


def assert_working_portal_login(stdout: str, rt: Runtime) -> None:
    """... and an Admin portal user of the demo's first organisation, with its URL."""
    lines = [line for line in stdout.splitlines() if line.startswith("Portal")]
    assert lines[0].split()[1] == "http://127.0.0.1:8000/", lines
    shown = {line.split()[1]: line.split()[2] for line in lines[1:]}
    user = portal_users.sign_in(rt, shown["user"], shown["password"], "127.0.0.1")
    assert user.permission is Permission.ADMIN
    assert user.organization_id is not None


def shown_statuses(rt: Runtime) -> Counter[Status]:
    with read(rt) as conn:
        return Counter(e.status for e in iter_entitlements(rt, conn, OPERATOR, EntitlementFilter()))


def test_small_demo_seeds_every_status_and_charges_points(
    cli: Cli, engine: Engine, live: Runtime
) -> None:
    result = cli.ok(SMALL)
    assert "Seeded 200 entitlements and 10 days of history" in result.stdout
    assert_working_login(result.stdout, live)
    with engine.connect() as conn:
        kinds = Counter(conn.execute(select(programs.c.kind)).scalars())
        products = set(conn.execute(select(configurations.c.product_type_id)).scalars())
        stored = set(conn.execute(select(entitlements.c.status)).scalars())
        accrued = conn.execute(select(func.sum(accrual_runs.c.points))).scalar_one()
        charged = conn.execute(select(func.sum(consumption.c.points))).scalar_one()
        last_day = conn.execute(select(func.max(accrual_runs.c.day))).scalar_one()
        packs = conn.execute(select(func.count()).where(point_ledger.c.kind == "PACK")).scalar()
    assert count(engine, organizations.c.id) == 2
    assert kinds == {"PREPAID": 2, "POSTPAID": 1}
    assert {1, 2, 4, 101, 102, 205, 206} <= products
    assert count(engine, entitlements.c.serial) == 200
    assert stored == {"PENDING", "ACTIVE", "STOPPED", "EXPIRED"}
    assert set(shown_statuses(live)) == set(Status)  # GRACE_PERIOD: Globex's lapsed contract
    assert Decimal(accrued) > 0
    assert Decimal(accrued) == Decimal(charged)
    assert last_day == today() - timedelta(days=1)
    assert packs
    assert packs >= 3


def test_the_same_seed_makes_the_same_data(cli: Cli, engine: Engine) -> None:
    cli.ok(SMALL)
    first = snapshot(engine)
    empty(engine)
    cli.ok(SMALL)
    assert snapshot(engine) == first


def snapshot(engine: Engine) -> tuple[object, ...]:
    """Everything but the tokens, which are always drawn from a cryptographic source."""
    e = entitlements
    with engine.connect() as conn:
        rows = conn.execute(
            select(e.c.serial, e.c.status, e.c.config_id, e.c.account_id, e.c.folder_path).order_by(
                e.c.serial
            )
        ).all()
        serials = conn.execute(select(programs.c.serial).order_by(programs.c.serial)).all()
        charged = conn.execute(select(func.sum(consumption.c.points))).scalar_one()
    return [tuple(r) for r in rows], [tuple(s) for s in serials], charged


def empty(engine: Engine) -> None:
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            return
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


def test_if_empty_leaves_a_used_database_alone(
    cli: Cli, acme: World, engine: Engine, live: Runtime
) -> None:
    result = cli.ok("demo --if-empty --entitlements 200 --days 10")
    assert "nothing seeded" in result.stdout
    assert acme.prepaid in result.stdout
    assert_working_login(result.stdout, live)
    assert count(engine, programs.c.serial) == 2
    assert count(engine, entitlements.c.serial) == 0


def test_the_demo_refuses_a_used_database(cli: Cli, acme: World) -> None:
    assert_one_red_line(cli("demo --days 10"), "already has programs")


def test_too_few_entitlements_is_one_red_line(cli: Cli) -> None:
    assert_one_red_line(cli("demo --entitlements 10"), "entitlements must be between")


def test_the_urls_say_when_they_work(cli: Cli) -> None:
    """Alone, the demo says the URLs answer after 'pointflex serve'; from make run, which
    serves next (--serving), it does not."""
    alone = cli.ok(SMALL).stdout
    url_lines = [line for line in alone.splitlines() if "http://127.0.0.1:8000/" in line][:2]
    assert url_lines
    assert all("(after 'pointflex serve')" in line for line in url_lines)
    served = cli.ok("demo --if-empty --serving").stdout
    assert "after 'pointflex serve'" not in served
    assert "Portal          http://127.0.0.1:8000/" in served
    assert "FortiFlex API   http://127.0.0.1:8000/ES/api/fortiflex/v2" in served
