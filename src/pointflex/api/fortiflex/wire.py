"""Objects as the wire shows them (spec §5): keys in the OAS order, canonical types."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pointflex.domain.catalog import Catalog
from pointflex.domain.configs import Config
from pointflex.domain.dates import format_wire
from pointflex.domain.programs import Program
from pointflex.services.entitlements.groups import Group
from pointflex.services.entitlements.views import Entitlement
from pointflex.services.points.usage import PointsRecord


def program(item: Program) -> dict[str, Any]:
    return {
        "accountId": item.account_id,
        "serialNumber": item.serial,
        "startDate": f"{item.start_date.isoformat()} 00:00:00",
        "endDate": f"{item.end_date.isoformat()} 00:00:00",
        "hasSupportCoverage": item.has_support_coverage,
    }


def config(item: Config, catalog: Catalog) -> dict[str, Any]:
    product = catalog.product(item.product_type_id)
    return {
        "id": item.id,
        "name": item.name,
        "programSerialNumber": item.program_serial,
        "accountId": item.account_id,
        "status": item.status,
        "productType": {"id": product.id, "name": product.name},
        "parameters": catalog.to_wire(item.product_type_id, item.values),
    }


def entitlement(item: Entitlement) -> dict[str, Any]:
    return {
        "serialNumber": item.serial,
        "description": item.description,
        "configId": item.config_id,
        "accountId": item.account_id,
        "startDate": _when(item.start_at, item.timezone),
        "endDate": _when(item.end_at, item.timezone),
        "status": item.status.value,
        # Q4: hardware and cloud entitlements have no token; "" keeps string-typed clients happy.
        "token": item.token or "",
        "tokenStatus": item.token_status or "",
    }


def points(value: Decimal) -> float | int:
    """Points as a JSON number: integral values as integers, others with their cents."""
    return int(value) if value == value.to_integral_value() else float(value)


def _when(instant: datetime, tz: str) -> str:
    text = format_wire(instant, tz)
    if text is None:
        raise RuntimeError("an instant always formats")
    return text


def group(item: Group) -> dict[str, Any]:
    """A FortiFlex group (asset folder) with its token counts (§5.5)."""
    return {
        "folderPath": item.folder_path,
        "accountId": item.account_id,
        "availableTokens": item.available_tokens,
        "usedTokens": item.used_tokens,
    }


def calc_result(current: Decimal, latest: Decimal | None, effective: date | None) -> dict[str, Any]:
    """tools/calc's CalcResult (§5.6): points as numbers, the next price's date or null."""
    return {
        "current": points(current),
        "latest": None if latest is None else points(latest),
        "latestEffectiveDate": None if effective is None else f"{effective.isoformat()} 00:00:00",
    }


def points_record(item: PointsRecord) -> dict[str, Any]:
    """``entitlements/points`` item (spec §5.4)."""
    return {
        "serialNumber": item.serial,
        "accountId": item.account_id,
        "points": points(item.points),
    }
