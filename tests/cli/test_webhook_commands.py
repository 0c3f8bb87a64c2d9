"""``pointflex webhooks``: add (secret shown once), add-email, list, disable, deliveries,
redeliver — checked in the database."""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import Engine, select

from pointflex.bootstrap import Runtime
from pointflex.services.alerts.occurrences import raise_due_alerts
from pointflex.services.points import programs
from pointflex.store.tables import alert_thresholds, audit_log, deliveries, notification_targets
from tests.builders import OPERATOR, World
from tests.cli.conftest import Cli, assert_one_red_line


def _targets(engine: Engine) -> list[tuple[str, str, bool, str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(notification_targets).order_by(notification_targets.c.id))
        return [(r.channel, r.address, r.enabled, r.kinds) for r in rows]


def test_a_webhook_is_added_with_its_secret_shown_once_and_listed_without_it(
    cli: Cli, acme: World, engine: Engine
) -> None:
    result = cli.ok(
        f"webhooks add https://hooks.example.test/pf --account-id {acme.root} "
        "--kind negative --kind ENDING"
    )
    secrets = re.findall(r"^Secret: (whsec_\S+)$", result.stdout, re.MULTILINE)
    assert len(secrets) == 1
    assert "shown only this once" in " ".join(result.stderr.split())
    assert _targets(engine) == [
        ("WEBHOOK", "https://hooks.example.test/pf", True, "NEGATIVE,ENDING")
    ]
    listed = cli.ok("webhooks list").stdout
    assert "https://hooks.example.test/pf" in listed
    assert "NEGATIVE,ENDING" in listed
    assert secrets[0] not in listed


def test_bad_urls_kinds_and_addresses_are_one_red_line(cli: Cli, acme: World) -> None:
    assert_one_red_line(
        cli(f"webhooks add ftp://x.test/ --account-id {acme.root}"), "http:// or https://"
    )
    assert_one_red_line(
        cli(f"webhooks add http://x.test/ --account-id {acme.root} --kind LATE"), "LATE"
    )
    assert_one_red_line(
        cli(f"webhooks add-email not-an-address --account-id {acme.root}"), "e-mail"
    )
    assert_one_red_line(cli("webhooks add http://x.test/"), "exactly one account")


def test_an_email_recipient_is_added_and_a_target_disabled(
    cli: Cli, acme: World, engine: Engine
) -> None:
    cli.ok(f"webhooks add-email ops@example.test --account-id {acme.root}")
    cli.ok("webhooks disable 1")
    assert _targets(engine) == [("EMAIL", "ops@example.test", False, "")]
    with engine.connect() as conn:
        actions = conn.execute(select(audit_log.c.action).order_by(audit_log.c.id)).scalars()
        assert [a for a in actions if a.startswith("email.")] == ["email.add", "email.disable"]
    assert_one_red_line(cli("webhooks disable 99"), "not found")


def test_deliveries_are_listed_and_redelivered(
    cli: Cli, acme: World, live: Runtime, engine: Engine
) -> None:
    cli.ok(f"webhooks add http://127.0.0.1:9/hook --account-id {acme.root}")
    programs.adjust(live, OPERATOR, acme.prepaid, Decimal("-5"), "below zero")
    assert raise_due_alerts(live) == 1
    listed = cli.ok("webhooks deliveries").stdout
    assert acme.prepaid in listed
    assert "NEGATIVE" in listed
    assert "PENDING" in listed
    with engine.begin() as conn:
        conn.execute(deliveries.update().values(state="FAILED", next_attempt_at=None))
    result = cli.ok("webhooks redeliver 1")
    assert "attempted again" in result.stdout
    with engine.connect() as conn:
        row = conn.execute(select(deliveries)).one()
    assert row.state == "PENDING"
    assert row.next_attempt_at is not None
    assert_one_red_line(cli("webhooks redeliver 42"), "not found")


def test_alerts_are_raised_listed_and_delivered_from_the_cli(
    cli: Cli, acme: World, live: Runtime, engine: Engine
) -> None:
    programs.adjust(live, OPERATOR, acme.prepaid, Decimal("-5"), "below zero")
    cli.ok(f"webhooks add http://127.0.0.1:9/hook --account-id {acme.root}")
    assert cli.ok("alerts raise").stdout.strip() == "1 alert(s) raised."
    assert cli.ok("alerts raise").stdout.strip() == "0 alert(s) raised."
    listed = cli.ok("alerts list --open").stdout
    assert acme.prepaid in listed
    assert "NEGATIVE" in listed
    assert "open" in listed
    assert cli.ok("alerts deliver").stdout.strip() == "1 delivery attempt(s) made."
    with engine.connect() as conn:
        row = conn.execute(select(deliveries)).one()
    assert row.attempts == 1
    assert row.state == "PENDING"


def test_a_program_threshold_is_set_and_reset_from_the_cli(
    cli: Cli, acme: World, engine: Engine
) -> None:
    result = cli.ok(f"alerts threshold {acme.prepaid} 45")
    assert "below 45 days" in result.stdout
    with engine.connect() as conn:
        assert conn.execute(select(alert_thresholds.c.low_balance_days)).scalar_one() == 45
    assert "below 30 days" in cli.ok(f"alerts threshold {acme.prepaid} --default").stdout
    with engine.connect() as conn:
        assert conn.execute(select(alert_thresholds)).all() == []
    assert_one_red_line(cli(f"alerts threshold {acme.prepaid}"), "--default")
    assert_one_red_line(cli(f"alerts threshold {acme.postpaid} 10"), "postpaid")
