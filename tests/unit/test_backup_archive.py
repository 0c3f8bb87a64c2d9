"""The backup file's pure parts: the manifest, canonical rows and the libpq target."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from pointflex.adapters.backup_archive import (
    BackupRefused,
    Manifest,
    TableSummary,
    canonical_row,
    differences,
)
from pointflex.adapters.backup_postgres import libpq_target

MANIFEST = Manifest(
    backend="sqlite",
    revision="0007",
    pointflex_version="0.1.0",
    created_at="2026-03-02T18:00:00+00:00",
    payload="database.sqlite3",
    payload_sha256="a" * 64,
    payload_bytes=3,
    secret_fingerprint="f" * 16,
    secret_included=False,
    tables=(TableSummary("programs", 2, "c" * 64),),
)


def test_the_manifest_survives_a_round_trip_through_json() -> None:
    assert Manifest.from_json(MANIFEST.to_json()) == MANIFEST


@pytest.mark.parametrize("raw", [b"{not json", b"[]", b'{"backend": "sqlite"}', b"null"])
def test_a_manifest_that_is_not_one_is_refused_with_a_clear_message(raw: bytes) -> None:
    with pytest.raises(BackupRefused, match="manifest is unreadable"):
        Manifest.from_json(raw)


def test_a_canonical_row_is_the_same_for_equal_values_and_differs_for_others() -> None:
    at = datetime(2026, 3, 2, 18, tzinfo=UTC)
    row = (1, Decimal("2.50"), at, b"\x00\xff", {"b": 1, "a": [2]}, None, True)
    same = (1, Decimal("2.50"), at, b"\x00\xff", {"a": [2], "b": 1}, None, True)
    assert canonical_row(row) == canonical_row(same)
    assert canonical_row(row) != canonical_row((1, Decimal("2.51"), *row[2:]))


def test_differences_name_the_tables_whose_rows_changed() -> None:
    expected = [TableSummary("a", 1, "x"), TableSummary("b", 2, "y"), TableSummary("c", 0, "z")]
    found = [TableSummary("a", 1, "x"), TableSummary("b", 3, "w")]
    assert differences(expected, found) == ["b (expected 2 rows, found 3)", "c (missing)"]


def test_the_password_goes_to_the_environment_never_into_the_libpq_url() -> None:
    url, env = libpq_target(
        "postgresql+psycopg://app:s3cr%40t@db.example:5433/flex?sslmode=require"
    )
    assert url == "postgresql://app@db.example:5433/flex?sslmode=require"
    assert env == {"PGPASSWORD": "s3cr@t"}
    assert libpq_target("postgresql+psycopg://app@db/flex") == ("postgresql://app@db/flex", {})
