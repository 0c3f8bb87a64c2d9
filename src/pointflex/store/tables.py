"""Table definitions (SQLAlchemy Core). Alembic migrations are generated from this metadata.

One module over 400 lines on purpose: the whole schema, one ``MetaData``, read side by side
with the migrations; split by area it would hide the foreign keys between areas.

Nothing here is ever deleted by the application: configurations are disabled, entitlements are
stopped or (hardware) marked removed, events, ledger entries and audit rows are append-only.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

from pointflex.store.types import Points, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

organizations = Table(
    "organizations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("is_root", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
)

programs = Table(
    "programs",
    metadata,
    Column("serial", String(16), primary_key=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False, index=True),
    Column("kind", String(10), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("has_support_coverage", Boolean, nullable=False, default=True),
    # Set by the daily run when the prepaid balance is below zero (R55); cleared when it is not.
    Column("negative_since", Date, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

point_ledger = Table(
    "point_ledger",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("program_serial", ForeignKey("programs.serial"), nullable=False),
    Column("day", Date, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("points", Points, nullable=False),
    Column("reference", String(100), nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False, default=""),
    Index("ix_point_ledger_program_day", "program_serial", "day"),
)

configurations = Table(
    "configurations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False, index=True),
    Column("program_serial", ForeignKey("programs.serial"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("product_type_id", Integer, nullable=False),
    Column("status", String(10), nullable=False),
    Column("parameters", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Parameter history (R18, R23): one row per version, valid from its instant to the next one's.
config_versions = Table(
    "config_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("config_id", ForeignKey("configurations.id"), nullable=False),
    Column("valid_from", UTCDateTime, nullable=False),
    Column("parameters", JSON, nullable=False),
    Index("ix_config_versions_config_valid", "config_id", "valid_from"),
)

entitlements = Table(
    "entitlements",
    metadata,
    Column("serial", String(40), primary_key=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False),
    Column("config_id", ForeignKey("configurations.id"), nullable=False),
    # Denormalised from the configuration so that lists, bulk checks and the accrual need no
    # join; kept in step by the services whenever the configuration changes.
    Column("program_serial", ForeignKey("programs.serial"), nullable=False),
    Column("product_type_id", Integer, nullable=False),
    Column("form_factor", String(10), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("folder_path", String(500), nullable=False, default="My Assets"),
    Column("status", String(10), nullable=False),
    Column("token_enc", LargeBinary, nullable=True),
    Column("token_hash", String(64), nullable=True, unique=True),
    Column("token_status", String(10), nullable=True),
    Column("start_at", UTCDateTime, nullable=False),
    Column("end_at", UTCDateTime, nullable=False),
    Column("termination_mode", String(20), nullable=False),
    Column("removed_at", UTCDateTime, nullable=True),
    # Instant of the latest status or configuration change: entitlements unchanged since a day
    # began are accrued from their current row; only the others need their event history (the
    # accrual's fast path). Description, folder, end-date and token events leave it alone.
    Column("changed_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_entitlements_config", "config_id", "serial"),
    Index("ix_entitlements_account_program", "account_id", "program_serial", "serial"),
    # Covering (serial included): the accrual's slow path finds its serials from the index alone.
    Index("ix_entitlements_program_changed", "program_serial", "changed_at", "serial"),
    Index("ix_entitlements_folder", "account_id", "folder_path"),
    # The expiry job's look-up of User Defined end dates that have passed: only live rows.
    Index(
        "ix_entitlements_user_defined_end",
        "program_serial",
        "end_at",
        sqlite_where=text("status <> 'EXPIRED' AND termination_mode = 'USER_DEFINED'"),
        postgresql_where=text("status <> 'EXPIRED' AND termination_mode = 'USER_DEFINED'"),
    ),
)

entitlement_events = Table(
    "entitlement_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("serial", ForeignKey("entitlements.serial"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(24), nullable=False),
    # The entitlement's state after the event: any one row tells the state from its instant.
    Column("status", String(10), nullable=False),
    Column("config_id", Integer, nullable=False),
    Column("program_serial", String(16), nullable=False),
    Column("account_id", Integer, nullable=False),
    Column("end_at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False, default=""),
    Column("request_id", String(64), nullable=False, default=""),
    Column("detail", JSON, nullable=True),
    Index("ix_entitlement_events_serial_at", "serial", "at"),
)

consumption = Table(
    "consumption",
    metadata,
    Column("serial", String(40), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("program_serial", String(16), nullable=False),
    Column("account_id", Integer, nullable=False),
    Column("config_id", Integer, nullable=False),
    Column("points", Points, nullable=False),
    Index("ix_consumption_program_day", "program_serial", "day"),
)

# Per (configuration, day) rate, computed before the set-based accrual of a day.
config_day_rates = Table(
    "config_day_rates",
    metadata,
    Column("config_id", Integer, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("points", Points, nullable=False),
)

# One row per (program, day) accrued: its presence makes a re-run a no-op; its totals make a
# balance a sum over days rather than over every consumption row.
accrual_runs = Table(
    "accrual_runs",
    metadata,
    Column("program_serial", ForeignKey("programs.serial"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("points", Points, nullable=False),
    Column("entitlements", Integer, nullable=False),
    Column("completed_at", UTCDateTime, nullable=False),
)

price_lists = Table(
    "price_lists",
    metadata,
    Column("effective_date", Date, primary_key=True),
    Column("document", JSON, nullable=False),
    Column("source", String(300), nullable=False, default=""),
    Column("imported_at", UTCDateTime, nullable=False),
)

serial_counters = Table(
    "serial_counters",
    metadata,
    Column("key", String(20), primary_key=True),
    Column("next_value", Integer, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(60), nullable=False),
    Column("object_type", String(30), nullable=False),
    Column("object_id", String(60), nullable=False),
    Column("account_id", Integer, nullable=True),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
    Column("request_id", String(64), nullable=False, default=""),
    Index("ix_audit_log_object", "object_type", "object_id"),
    Index("ix_audit_log_at", "at"),
)

# --------------------------------------------------------------------------- API access

api_users = Table(
    "api_users",
    metadata,
    Column("id", Integer, primary_key=True),
    # What clients send as ``username``: an opaque id like FortiCloud's IAM API user ids.
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("permission", String(10), nullable=False),  # ADMIN, READWRITE, READONLY
    # Scope: exactly one of an account or a whole organisation (R63, R65).
    Column("account_id", ForeignKey("accounts.id"), nullable=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=True),
    Column("description", String(500), nullable=False, default=""),
    Column("disabled_at", UTCDateTime, nullable=True),
    Column("password_changed_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Opaque OAuth tokens, stored only as SHA-256 hashes.
oauth_tokens = Table(
    "oauth_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("kind", String(10), nullable=False),  # ACCESS or REFRESH
    Column("api_user_id", ForeignKey("api_users.id"), nullable=False, index=True),
    Column("client_id", String(40), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# Failed sign-ins, for throttling by user and by client address.
auth_failures = Table(
    "auth_failures",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("username", String(200), nullable=False),
    Column("client_address", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_auth_failures_username_at", "username", "at"),
    Index("ix_auth_failures_address_at", "client_address", "at"),
)

# Replays of mutating API calls carrying an Idempotency-Key header.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("api_user_id", ForeignKey("api_users.id"), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response_body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_idempotency_keys_created", "created_at"),
)

# --------------------------------------------------------------------------- portal

# People who sign in to the web portal. Permission and scope work exactly as for API users
# (R63–R65); the username is chosen by the operator (an e-mail address, say), stored lower-case.
portal_users = Table(
    "portal_users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("permission", String(10), nullable=False),  # ADMIN, READWRITE, READONLY
    Column("account_id", ForeignKey("accounts.id"), nullable=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=True),
    Column("disabled_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# Signed-in browsers. The cookie holds a random token; only its SHA-256 is stored, so a
# database dump does not hand out sessions. Each session has its own CSRF token.
portal_sessions = Table(
    "portal_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", ForeignKey("portal_users.id"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),  # the absolute limit
    Column("last_seen_at", UTCDateTime, nullable=False),  # for the idle limit
    Column("revoked_at", UTCDateTime, nullable=True),
    Index("ix_portal_sessions_expires", "expires_at"),
)

# --------------------------------------------------------------------------- licences

# Ed25519 keys that sign licences and validation answers. The private key is stored only
# AES-GCM encrypted under a key derived from the master secret (the key id bound as associated
# data). Retired keys stay here and stay published: licences they signed must keep verifying.
signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(40), primary_key=True),
    Column("algorithm", String(20), nullable=False),
    Column("public_key", LargeBinary, nullable=False),  # raw 32 bytes
    Column("private_key_enc", LargeBinary, nullable=False),  # nonce + sealed raw 32 bytes
    Column("created_at", UTCDateTime, nullable=False),
    Column("retired_at", UTCDateTime, nullable=True),
    # At most one active key per algorithm: two processes generating the first key at once,
    # or two rotations at once, cannot both win; the loser re-reads the winner's key.
    Index(
        "uq_signing_keys_active",
        "algorithm",
        unique=True,
        sqlite_where=text("retired_at IS NULL"),
        postgresql_where=text("retired_at IS NULL"),
    ),
)

# One row per redeemed token (P3): the licence an instance holds. A retry of the same token by
# the same instance finds its row again; the unique token hash makes a second licence for one
# token impossible even if two redemptions raced past every other check.
licences = Table(
    "licences",
    metadata,
    Column("licence_id", String(40), primary_key=True),
    Column("serial", ForeignKey("entitlements.serial"), nullable=False),
    Column("account_id", Integer, nullable=False),
    Column("instance_id", String(128), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("product_version", String(40), nullable=False, default=""),
    Column("hardware_vcpus", Integer, nullable=True),
    Column("issued_at", UTCDateTime, nullable=False),
    # Set when a newer licence of the serial is issued (R33): the old one answers SUPERSEDED.
    Column("superseded_at", UTCDateTime, nullable=True),
    Column("superseded_by", String(40), nullable=True),
    Index("ix_licences_serial_issued", "serial", "issued_at"),
)

# --------------------------------------------------------------------------- scheduled jobs

# One row per job name. A runner claims a job by moving ``lease_until`` forward in a single
# UPDATE guarded by "the lease has run out": of several nodes running ``pointflex jobs run``,
# exactly one wins each turn, on SQLite and PostgreSQL alike, and a crashed runner's lease
# simply runs out.
job_leases = Table(
    "job_leases",
    metadata,
    Column("job", String(40), primary_key=True),
    Column("holder", String(120), nullable=False, default=""),
    Column("lease_until", UTCDateTime, nullable=True),
)

# Every run of a job: when, by whom, how long, what it did. Read by ``pointflex jobs status``
# and the job-duration metrics.
job_runs = Table(
    "job_runs",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("job", String(40), nullable=False),
    Column("holder", String(120), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Index("ix_job_runs_job_started", "job", "started_at"),
)

# Hardware serials to be created at 03:00 program time on their start date (R39, R59).
scheduled_activations = Table(
    "scheduled_activations",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("program_serial", ForeignKey("programs.serial"), nullable=False),
    Column("config_id", ForeignKey("configurations.id"), nullable=False),
    Column("serial", String(40), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=True),
    Column("description", Text, nullable=False, default=""),
    Column("folder_path", String(500), nullable=False, default="My Assets"),
    Column("state", String(10), nullable=False),  # SCHEDULED, DONE, FAILED, CANCELLED
    Column("detail", Text, nullable=False, default=""),
    Column("created_by", String(120), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("processed_at", UTCDateTime, nullable=True),
    Index("ix_scheduled_activations_due", "state", "start_date"),
)

# --------------------------------------------------------------------------- alerts (P8)

# One row per occurrence of an alert: a program's (kind, occurrence) is unique, so evaluating
# twice, or on two nodes at once, raises it once. ``occurrence`` is the day an episode began
# (LOW_BALANCE, NEGATIVE), the day negative grace began, or the end date and the threshold
# ("2026-12-31/7") of an ENDING alert. An episode is closed (``cleared_at``) when its condition
# no longer holds; a later fall is a new occurrence.
alerts = Table(
    "alerts",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("program_serial", ForeignKey("programs.serial"), nullable=False),
    Column("organization_id", Integer, nullable=False, index=True),
    Column("account_id", Integer, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("occurrence", String(40), nullable=False),
    Column("message", Text, nullable=False),
    Column("figures", JSON, nullable=False),
    Column("raised_at", UTCDateTime, nullable=False),
    Column("cleared_at", UTCDateTime, nullable=True),
    Column("acknowledged_at", UTCDateTime, nullable=True),
    Column("acknowledged_by", String(120), nullable=True),
    Index("uq_alerts_occurrence", "program_serial", "kind", "occurrence", unique=True),
    Index("ix_alerts_raised", "raised_at"),
)

# Where alerts go: a webhook URL (with its signing secret, encrypted) or an e-mail address,
# for one organisation (every program of it) or one account (the programs it sees).
notification_targets = Table(
    "notification_targets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String(10), nullable=False),  # WEBHOOK, EMAIL
    Column("organization_id", Integer, nullable=False, index=True),
    Column("account_id", Integer, nullable=True),  # None: the whole organisation
    Column("address", String(2000), nullable=False),
    Column("secret", LargeBinary, nullable=True),  # webhooks only, encrypted at rest
    Column("kinds", String(200), nullable=False, default=""),  # comma-separated; "": all
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_by", String(120), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# One row per (alert, target). A runner claims due rows with one guarded UPDATE (state
# PENDING, due, claim run out), sends outside any transaction, then records the attempt.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("alert_id", ForeignKey("alerts.id"), nullable=False),
    Column("target_id", ForeignKey("notification_targets.id"), nullable=False, index=True),
    Column("state", String(10), nullable=False),  # PENDING, DELIVERED, FAILED
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("claimed_until", UTCDateTime, nullable=True),
    Column("claim", String(32), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Index("uq_deliveries_alert_target", "alert_id", "target_id", unique=True),
    Index("ix_deliveries_due", "state", "next_attempt_at"),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("delivery_id", ForeignKey("deliveries.id"), nullable=False, index=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("response_excerpt", String(500), nullable=False, default=""),
    Column("error", String(500), nullable=False, default=""),
)

# A program's own LOW_BALANCE threshold, overriding ``alert_low_balance_days``.
alert_thresholds = Table(
    "alert_thresholds",
    metadata,
    Column("program_serial", ForeignKey("programs.serial"), primary_key=True),
    Column("low_balance_days", Integer, nullable=False),
    Column("set_by", String(120), nullable=False),
    Column("set_at", UTCDateTime, nullable=False),
)
