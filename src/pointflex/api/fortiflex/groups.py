"""FortiFlex v2 groups endpoints (spec §4)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["groups"])
