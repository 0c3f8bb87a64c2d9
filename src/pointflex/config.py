"""Settings: one object, built at start-up from ``POINTFLEX_*`` variables, passed in."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pointflex.domain.entitlements import SelectionLimits


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POINTFLEX_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///pointflex.db",
        description="SQLAlchemy URL; SQLite file by default, postgresql+psycopg:// for production",
    )
    data_dir: Path = Field(default=Path("."), description="where keys and local state live")
    secret_key: str = Field(
        default="",
        description="master secret for token encryption and look-up hashes; "
        "generated into data_dir on first start when empty",
    )
    default_timezone: str = "America/Los_Angeles"
    max_vm_count: int = Field(default=1000, ge=1, description="largest count per vm/create (Q11)")
    max_serials_per_request: int = Field(
        default=100, ge=1, description="serials created, removed or transferred at once (R38, R41)"
    )
    max_scheduled_serials: int = Field(
        default=1000, ge=1, description="hardware serials scheduled at once (R38)"
    )
    max_bulk_serials: int = Field(default=10_000, ge=1, description="stop/reactivate at once")
    max_request_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="largest request body accepted (413 above)"
    )
    program_grace_days: int = Field(default=30, ge=0, description="P7 program-expiry grace")
    negative_grace_days: int = Field(default=90, ge=0, description="R55/R56/P7")
    points_history_days: int = Field(default=90, ge=1, description="R22 entitlements/points window")
    oauth_client_ids: list[str] = Field(default=["flexvm"], description="accepted client_id values")
    access_token_seconds: int = Field(default=3660, ge=60, description="expires_in of tokens")
    refresh_token_seconds: int = Field(default=30 * 86400, ge=60)
    auth_window_seconds: int = Field(default=900, ge=1, description="failed sign-in window")
    # Sign-in throttling (services/auth.check_throttle): per user and address, per address,
    # and a ceiling per user past which only addresses without failures for that user may try.
    auth_max_failures_per_user_address: int = Field(default=5, ge=1)
    auth_max_failures_per_address: int = Field(default=30, ge=1)
    auth_max_failures_per_user: int = Field(default=50, ge=1)
    idempotency_key_seconds: int = Field(
        default=24 * 3600, ge=60, description="how long an Idempotency-Key is remembered"
    )
    idempotency_wait_seconds: float = Field(
        default=5.0,
        ge=0,
        description="how long a request waits for another one holding the same key to finish",
    )
    idempotency_lease_seconds: int = Field(
        default=600,
        ge=1,
        description="a key whose request never finished (a crashed process) is free again after",
    )
    clock_offset_seconds: int = Field(
        default=0,
        description="run as if this many seconds later (rehearsing expiry, accrual and grace "
        "with real processes); never set in production",
    )
    clock_speed: float = Field(
        default=1.0,
        gt=0,
        description="with clock_anchor: time runs this many times faster from the anchor on "
        "(soak tests live through days in minutes); never set in production",
    )
    clock_anchor: float = Field(
        default=0.0, description="Unix time from which clock_speed applies (0: not used)"
    )
    auth_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="how long a process remembers an authenticated bearer token; a token "
        "revoked through another process stays usable here for at most this long; 0 disables",
    )
    rate_limit_per_second: float = Field(
        default=50.0,
        ge=0,
        description="FortiFlex calls per second per API user, per app process; 0 disables",
    )
    rate_limit_burst: int = Field(
        default=200, ge=0, description="calls an API user may make at once; 0 disables"
    )
    licence_validation_interval_seconds: int = Field(
        default=3600,
        ge=60,
        description="how often an instance should validate its licence; sent in every licence "
        "and answer as validationIntervalSeconds",
    )
    licence_max_failures_per_address: int = Field(
        default=20,
        ge=1,
        description="activations with an unknown token from one client address, within "
        "licence_failure_window_seconds, before that address gets 429 (token guessing)",
    )
    licence_failure_window_seconds: int = Field(
        default=900, ge=1, description="window over which failed activations are counted"
    )
    portal_session_idle_seconds: int = Field(
        default=1800,
        ge=60,
        description="a portal session unused for this long ends; the user signs in again",
    )
    portal_session_absolute_seconds: int = Field(
        default=12 * 3600,
        ge=60,
        description="a portal session ends this long after sign-in, however busy",
    )
    portal_cookie_secure: bool = Field(
        default=False,
        description="always mark the portal's session cookie Secure (HTTPS only); set it when "
        "TLS ends at a proxy that forwards plain HTTP. Requests over https get it anyway",
    )
    signing_key_cache_seconds: float = Field(
        default=10.0,
        ge=0,
        description="how long a process signs with the active key it loaded before checking "
        "the database for a newer one; a rotation by another process (the CLI) takes effect "
        "within this time, and what was signed meanwhile stays verifiable. 0: check every time",
    )

    # --- alerts, webhooks and e-mail (P8; docs/alerts.md)
    alert_low_balance_days: int = Field(
        default=30,
        ge=1,
        description="a prepaid program whose points last fewer days than this at the current "
        "burn raises a LOW_BALANCE alert",
    )
    webhook_timeout_seconds: float = Field(
        default=5.0, gt=0, description="how long one webhook or SMTP attempt may take"
    )
    delivery_backoff_seconds: list[int] = Field(
        default=[60, 300, 1800, 7200, 21600],
        description="wait after the 1st, 2nd, ... failed attempt of a delivery; the last value "
        "repeats",
    )
    delivery_max_attempts: int = Field(
        default=6, ge=1, description="a delivery failing this many times is given up (FAILED)"
    )
    delivery_claim_seconds: int = Field(
        default=300,
        ge=10,
        description="a runner holds the deliveries it claimed this long; a crashed runner's "
        "claims run out and another runner retries them",
    )
    smtp_host: str = Field(default="", description="SMTP server; empty: e-mail is disabled")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_from: str = Field(default="pointflex@localhost", description="the From: address")
    smtp_username: str = Field(default="", description="empty: no SMTP authentication")
    smtp_password: str = Field(default="")
    smtp_starttls: bool = Field(default=False, description="upgrade with STARTTLS after EHLO")
    smtp_ssl: bool = Field(default=False, description="connect over TLS (SMTPS, port 465)")

    # --- observability (docs/observability.md)
    metrics_token: str = Field(
        default="",
        description="empty: GET /metrics is open to anyone who can reach the listening "
        "address (the Prometheus norm); set: it requires Authorization: Bearer <this token>",
    )
    log_format: Literal["json", "text"] = Field(
        default="json",
        description="pointflex serve's log lines: json (one object per line, for collectors) "
        "or text (key=value, for a terminal)",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO",
        description="least severe level logged; INFO logs one line per request, DEBUG adds "
        "health probes and metrics scrapes",
    )

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _case_insensitive(cls, value: object, info: ValidationInfo) -> object:
        if not isinstance(value, str):
            return value
        return value.upper() if info.field_name == "log_level" else value.lower()

    @property
    def selection_limits(self) -> SelectionLimits:
        """The serial-list limits every entry point and rule checks (R38, R41)."""
        return SelectionLimits(
            per_request=self.max_serials_per_request,
            scheduled=self.max_scheduled_serials,
            bulk=self.max_bulk_serials,
        )
