"""Alerts delivered for real: a webhook receiver on 127.0.0.1 that checks the signature, and
an SMTP server (aiosmtpd); retries with backoff on the injected clock, give-up, redelivery."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import func, select

from pointflex.bootstrap import Runtime
from pointflex.clock import ManualClock
from pointflex.domain.alerts import AlertKind, verify
from pointflex.errors import InvalidInput
from pointflex.services.alerts.deliveries import deliver_due, list_deliveries, redeliver
from pointflex.services.alerts.notifications import EMAIL, WEBHOOK, add_target
from pointflex.services.alerts.occurrences import raise_due_alerts
from pointflex.services.context import read
from pointflex.services.points import programs
from pointflex.store.tables import accounts, deliveries
from tests.builders import OPERATOR, World, world


class Receiver:
    """An HTTP endpoint answering the statuses queued in ``answers`` (then 200)."""

    def __init__(self, secret: str = "") -> None:
        self.secret = secret
        self.answers: list[int] = []
        self.received: list[tuple[dict[str, str], bytes, bool]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                signature = self.headers.get("X-Pointflex-Signature", "")
                good = verify(receiver.secret, signature, body)
                receiver.received.append((dict(self.headers), body, good))
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status if good else 401)
                self.end_headers()
                self.wfile.write(b"thanks" if status < 300 else b"boom")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content
        assert isinstance(content, bytes)
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(content)))
        return "250 OK"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def mailbox(rt: Runtime) -> Iterator[Mailbox]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    rt.settings.smtp_host = "127.0.0.1"
    rt.settings.smtp_port = port
    rt.settings.smtp_from = "alerts@pointflex.test"
    yield box
    controller.stop()


def organization(rt: Runtime, w: World) -> int:
    with read(rt) as conn:
        return int(
            conn.execute(
                select(accounts.c.organization_id).where(accounts.c.id == w.root)
            ).scalar_one()
        )


def negative_world(rt: Runtime) -> World:
    """A prepaid program with a negative balance: raising alerts makes exactly one."""
    w = world(rt)
    programs.adjust(rt, OPERATOR, w.prepaid, Decimal("-5"), "below zero")
    return w


def webhook(rt: Runtime, w: World, receiver: Receiver, *kinds: AlertKind) -> int:
    target, secret = add_target(
        rt, OPERATOR, channel=WEBHOOK, address=receiver.url, account_id=w.root, kinds=kinds
    )
    assert secret is not None
    assert secret.startswith("whsec_")
    receiver.secret = secret
    return target.id


def test_a_webhook_is_retried_with_backoff_after_a_500_then_delivered(
    rt: Runtime, clock: ManualClock, receiver: Receiver
) -> None:
    w = negative_world(rt)
    webhook(rt, w, receiver)
    assert raise_due_alerts(rt) == 1
    receiver.answers = [500]
    assert deliver_due(rt) == 1
    (first,) = list_deliveries(rt, OPERATOR)
    assert first.state == "PENDING"
    assert first.attempts == 1
    assert first.next_attempt_at == rt.now() + timedelta(minutes=1)
    assert deliver_due(rt) == 0  # not due yet
    clock.advance(timedelta(seconds=59))
    assert deliver_due(rt) == 0
    clock.advance(timedelta(seconds=1))
    assert deliver_due(rt) == 1
    (done,) = list_deliveries(rt, OPERATOR)
    assert done.state == "DELIVERED"
    assert done.attempts == 2
    assert [(a.ok, a.status_code, a.response_excerpt) for a in done.log] == [
        (False, 500, "boom"),
        (True, 200, "thanks"),
    ]
    assert len(receiver.received) == 2
    assert all(good for _, _, good in receiver.received)
    headers, body, _ = receiver.received[1]
    event = json.loads(body)
    assert event["kind"] == "NEGATIVE"
    assert event["programSerial"] == w.prepaid
    assert event["accountId"] == w.root
    assert event["figures"]["balance"] == "-5.00"
    assert headers["X-Pointflex-Event-Id"] == event["eventId"] == done.alert.event_id
    assert receiver.received[0][1] == body  # a retry sends the very same event


def test_a_delivery_is_given_up_after_the_last_attempt_and_can_be_redelivered(
    rt: Runtime, clock: ManualClock, receiver: Receiver
) -> None:
    rt.settings.delivery_max_attempts = 3
    w = negative_world(rt)
    webhook(rt, w, receiver)
    raise_due_alerts(rt)
    receiver.answers = [503, 503, 503]
    for wait in (0, 60, 300):
        clock.advance(timedelta(seconds=wait))
        assert deliver_due(rt) == 1
    clock.advance(timedelta(days=1))
    assert deliver_due(rt) == 0
    (failed,) = list_deliveries(rt, OPERATOR)
    assert failed.state == "FAILED"
    assert [a.status_code for a in failed.log] == [503] * 3
    redeliver(rt, OPERATOR, failed.id)
    assert deliver_due(rt) == 1
    (again,) = list_deliveries(rt, OPERATOR)
    assert again.state == "DELIVERED"
    assert again.attempts == 4
    assert len(receiver.received) == 4


def test_only_matching_kinds_and_organisations_get_a_delivery(
    rt: Runtime, receiver: Receiver
) -> None:
    w = negative_world(rt)
    webhook(rt, w, receiver, AlertKind.ENDING)
    other = world(rt)
    add_target(rt, OPERATOR, channel=WEBHOOK, address=receiver.url, account_id=other.root)
    assert raise_due_alerts(rt) == 1
    with read(rt) as conn:
        assert conn.execute(select(func.count()).select_from(deliveries)).scalar_one() == 0


def test_a_claimed_delivery_is_not_sent_by_a_second_runner(
    rt: Runtime, clock: ManualClock, receiver: Receiver
) -> None:
    from pointflex.services.alerts.deliveries import _claim

    w = negative_world(rt)
    webhook(rt, w, receiver)
    raise_due_alerts(rt)
    assert len(_claim(rt)) == 1  # a runner that took it and has not answered yet
    assert deliver_due(rt) == 0
    clock.advance(timedelta(seconds=rt.settings.delivery_claim_seconds + 1))
    assert deliver_due(rt) == 1  # its claim ran out: another runner sends it
    assert len(receiver.received) == 1


def test_an_unreachable_endpoint_logs_the_error(rt: Runtime, clock: ManualClock) -> None:
    with Receiver() as gone:
        url = gone.url
    w = negative_world(rt)
    add_target(rt, OPERATOR, channel=WEBHOOK, address=url, account_id=w.root)
    raise_due_alerts(rt)
    assert deliver_due(rt) == 1
    (pending,) = list_deliveries(rt, OPERATOR)
    assert pending.state == "PENDING"
    assert pending.log[0].status_code is None
    assert "ConnectError" in pending.log[0].error


def test_only_http_urls_are_registered(rt: Runtime) -> None:
    w = world(rt)
    for url in ("ftp://example.test/x", "file:///etc/passwd", "example.test/hook", "http://"):
        with pytest.raises(InvalidInput):
            add_target(rt, OPERATOR, channel=WEBHOOK, address=url, account_id=w.root)


def test_an_alert_is_e_mailed_to_each_recipient(rt: Runtime, mailbox: Mailbox) -> None:
    w = negative_world(rt)
    for address in ("ops@example.test", "finance@example.test"):
        add_target(
            rt, OPERATOR, channel=EMAIL, address=address, organization_id=organization(rt, w)
        )
    assert raise_due_alerts(rt) == 1
    assert deliver_due(rt) == 2
    assert sorted(to for to, _ in mailbox.messages) == [
        ["finance@example.test"],
        ["ops@example.test"],
    ]
    _, message = mailbox.messages[0]
    assert message["Subject"] == f"[pointflex] NEGATIVE on program {w.prepaid}"
    assert message["From"] == "alerts@pointflex.test"
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    assert b"Negative balance: -5.00 points" in body
    assert w.prepaid.encode() in body
    assert {d.state for d in list_deliveries(rt, OPERATOR)} == {"DELIVERED"}


def test_no_e_mail_delivery_is_queued_while_smtp_is_not_configured(rt: Runtime) -> None:
    w = negative_world(rt)
    add_target(rt, OPERATOR, channel=EMAIL, address="ops@example.test", account_id=w.root)
    assert raise_due_alerts(rt) == 1
    assert list_deliveries(rt, OPERATOR) == []


def test_two_runners_at_once_send_each_delivery_once(rt: Runtime, receiver: Receiver) -> None:
    made = [negative_world(rt) for _ in range(4)]
    for w in made:
        webhook(rt, w, receiver)  # the last secret is the receiver's: only one verifies
    assert raise_due_alerts(rt) == 4
    start = threading.Barrier(2)
    counts: list[int] = []

    def runner() -> None:
        start.wait(timeout=10)
        counts.append(deliver_due(rt))

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(counts) == 4
    events = [json.loads(body)["eventId"] for _, body, _ in receiver.received]
    assert len(events) == 4
    assert len(set(events)) == 4
    with read(rt) as conn:
        attempts = conn.execute(select(func.sum(deliveries.c.attempts))).scalar_one()
    assert attempts == 4
