"""Sending one alert: a signed webhook POST (httpx) or an e-mail (smtplib). No database here:
the delivery runner calls these outside any transaction and records what they return."""

from __future__ import annotations

import json
import smtplib
import time
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import httpx

from pointflex.config import Settings
from pointflex.domain.alerts import EVENT_HEADER, SIGNATURE_HEADER, signature_header

EXCERPT = 200  # characters of a response body kept in the attempt log


@dataclass(frozen=True)
class Outcome:
    ok: bool
    duration_ms: int
    status_code: int | None = None
    excerpt: str = ""
    error: str = ""


def payload(alert: dict[str, Any]) -> bytes:
    """The JSON body: compact, keys sorted, so that a retry sends the very same bytes."""
    return json.dumps(alert, sort_keys=True, separators=(",", ":")).encode()


def post_webhook(
    url: str, secret: str, body: bytes, event_id: str, at: datetime, timeout: float
) -> Outcome:
    """POST the body, signed; success is a 2xx. Redirects are never followed (a 3xx is a
    failure): the endpoint registered is the only place alerts are sent to."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "pointflex-webhooks/1",
        SIGNATURE_HEADER: signature_header(secret, at, body),
        EVENT_HEADER: event_id,
    }
    started = time.monotonic()
    try:
        # trust_env=False: no proxy or .netrc from the environment sees the alerts.
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            response = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return Outcome(False, _ms(started), error=_short(f"{type(exc).__name__}: {exc}"))
    return Outcome(
        response.is_success,  # a 2xx
        _ms(started),
        status_code=response.status_code,
        excerpt=_short(response.text),
    )


def email_message(settings: Settings, to: str, alert: dict[str, Any]) -> EmailMessage:
    """A plain-text e-mail about one alert."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = f"[pointflex] {alert['kind']} on program {alert['programSerial']}"
    message["Message-ID"] = f"<{alert['eventId']}@pointflex>"
    figures = "\n".join(f"  {k}: {v}" for k, v in sorted(alert["figures"].items()))
    message.set_content(
        f"{alert['message']}\n\n"
        f"Program: {alert['programSerial']} (account {alert['accountId']})\n"
        f"Kind: {alert['kind']}\n"
        f"Raised at: {alert['raisedAt']}\n"
        f"Event id: {alert['eventId']}\n\n"
        f"Figures:\n{figures}\n"
    )
    return message


def send_email(settings: Settings, to: str, alert: dict[str, Any]) -> Outcome:
    started = time.monotonic()
    if not settings.smtp_host:
        return Outcome(False, 0, error="e-mail is disabled (POINTFLEX_SMTP_HOST is empty)")
    timeout = settings.webhook_timeout_seconds
    try:
        smtp: smtplib.SMTP
        if settings.smtp_ssl:
            smtp = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=timeout)
        else:
            smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
        with smtp:
            if settings.smtp_starttls and not settings.smtp_ssl:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(email_message(settings, to, alert))
    except (OSError, smtplib.SMTPException) as exc:
        return Outcome(False, _ms(started), error=_short(f"{type(exc).__name__}: {exc}"))
    return Outcome(True, _ms(started), excerpt="accepted")


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"
