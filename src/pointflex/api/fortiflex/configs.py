"""FortiFlex v2 configs endpoints (spec §4)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["configs"])
