"""The alert rules (P8) without a database: thresholds, occurrence keys, 30/7/1 days before
the end, the retry schedule and the webhook signature."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from pointflex.domain.alerts import (
    AlertKind,
    ProgramFigures,
    backoff,
    ending_threshold,
    evaluate,
    sign,
    signature_header,
    verify,
)
from pointflex.domain.programs import ProgramKind

TODAY = date(2026, 3, 2)
SCHEDULE = [60, 300, 1800, 7200, 21600]


def figures(
    balance: str | None = "1000",
    burn: str = "10",
    *,
    end: date = date(2027, 1, 1),
    negative_since: date | None = None,
    in_expiry_grace: bool = False,
) -> ProgramFigures:
    amount = None if balance is None else Decimal(balance)
    rate = Decimal(burn)
    left = None if amount is None or rate == 0 else max(amount, Decimal(0)) / rate
    return ProgramFigures(
        serial="ELAVMR0000000001",
        kind=ProgramKind.PREPAID if balance is not None else ProgramKind.POSTPAID,
        today=TODAY,
        end_date=end,
        in_expiry_grace=in_expiry_grace,
        balance=amount,
        burn_per_day=rate,
        days_left=left,
        negative_since=negative_since,
    )


def raised(f: ProgramFigures, open_kinds: set[AlertKind] | None = None) -> list[tuple[str, str]]:
    return [(a.kind.value, a.occurrence) for a in evaluate(f, open_kinds or set(), 30).raise_]


def test_low_balance_is_raised_below_the_threshold_of_days_only() -> None:
    assert raised(figures("300", "10")) == []  # exactly 30 days: not below
    assert raised(figures("299", "10")) == [("LOW_BALANCE", "2026-03-02")]
    assert raised(figures("1000", "0")) == []  # no burn: the points last forever


def test_an_open_alert_is_not_raised_again_and_closes_when_its_condition_clears() -> None:
    low = {AlertKind.LOW_BALANCE}
    assert raised(figures("10", "10"), low) == []
    assert evaluate(figures("10", "10"), low, 30).close == []
    assert evaluate(figures("-10", "10"), low, 30).close == []  # negative is still low
    assert evaluate(figures("400", "10"), low, 30).close == [AlertKind.LOW_BALANCE]


def test_a_negative_balance_and_its_grace_have_their_own_occurrences() -> None:
    since = date(2026, 2, 27)
    assert raised(figures("-1", "10", negative_since=since)) == [
        ("NEGATIVE", "2026-03-02"),
        ("NEGATIVE_GRACE", "2026-02-27"),
    ]
    cleared = evaluate(figures("5000", "10"), {AlertKind.NEGATIVE, AlertKind.NEGATIVE_GRACE}, 30)
    assert sorted(cleared.close) == [AlertKind.NEGATIVE, AlertKind.NEGATIVE_GRACE]


@pytest.mark.parametrize(
    ("days", "expected"),
    [(45, None), (31, None), (30, 30), (8, 30), (7, 7), (2, 7), (1, 1), (0, None), (-3, None)],
)
def test_the_end_is_announced_at_the_nearest_of_30_7_and_1_days(
    days: int, expected: int | None
) -> None:
    assert ending_threshold(TODAY, TODAY + timedelta(days=days)) == expected


def test_an_ending_occurrence_names_the_end_date_and_the_threshold() -> None:
    end = TODAY + timedelta(days=7)
    assert raised(figures(None, end=end)) == [("ENDING", "2026-03-09/7")]


def test_expiry_grace_is_keyed_by_the_end_date() -> None:
    f = figures(None, end=date(2026, 3, 1), in_expiry_grace=True)
    assert raised(f) == [("EXPIRY_GRACE", "2026-03-01")]


def test_the_backoff_follows_the_schedule_and_repeats_its_last_step() -> None:
    waits = [backoff(n, SCHEDULE).total_seconds() for n in range(1, 8)]
    assert waits == [60, 300, 1800, 7200, 21600, 21600, 21600]
    with pytest.raises(ValueError, match="needs a failed attempt"):
        backoff(0, SCHEDULE)


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = b'{"kind":"NEGATIVE"}'
    expected = hmac.new(b"whsec_x", b"1772474400." + body, hashlib.sha256).hexdigest()
    assert sign("whsec_x", 1772474400, body) == expected
    at = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
    header = signature_header("whsec_x", at, body)
    assert header == f"t={int(at.timestamp())},v1={sign('whsec_x', int(at.timestamp()), body)}"
    assert verify("whsec_x", header, body)
    assert not verify("whsec_y", header, body)
    assert not verify("whsec_x", header, body + b" ")
    assert not verify("whsec_x", "v1=abc", body)


def test_suspension_is_its_own_occurrence_keyed_by_its_day() -> None:
    since = date(2025, 12, 1)
    f = replace(
        figures("-1", "10", negative_since=since), suspended_since=since + timedelta(days=90)
    )
    assert ("SUSPENDED", "2026-03-01") in raised(f)
    open_kinds = {AlertKind.NEGATIVE, AlertKind.NEGATIVE_GRACE, AlertKind.SUSPENDED}
    assert raised(f, open_kinds) == []
    assert AlertKind.SUSPENDED in evaluate(figures("10", "1"), open_kinds, 30).close
