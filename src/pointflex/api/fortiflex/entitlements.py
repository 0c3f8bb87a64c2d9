"""FortiFlex v2 entitlements endpoints (spec §4)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["entitlements"])
