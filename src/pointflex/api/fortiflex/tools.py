"""FortiFlex v2 tools endpoints (spec §4)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["tools"])
