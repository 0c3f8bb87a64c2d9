"""programs/list and programs/points (spec §4.1, §4.2)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from pointflex.api.deps import current_actor, json_body, runtime
from pointflex.api.envelope import ok
from pointflex.api.fortiflex import wire
from pointflex.api.fortiflex.inputs import required_str
from pointflex.bootstrap import Runtime
from pointflex.services.context import Actor
from pointflex.services.points import programs

router = APIRouter(tags=["programs"])


@router.post("/programs/list")
def list_programs(
    rt: Runtime = Depends(runtime), actor: Actor = Depends(current_actor)
) -> JSONResponse:
    found = programs.list_programs(rt, actor)
    return ok({"programs": [wire.program(p) for p in found]})


@router.post("/programs/points")
def program_points(
    body: dict[str, Any] = Depends(json_body),
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(current_actor),
) -> JSONResponse:
    serial = required_str(body, "programSerialNumber")
    program, balance = programs.program_balance(rt, actor, serial)
    return ok(
        {
            "programs": [
                {
                    "accountId": program.account_id,
                    "serialNumber": program.serial,
                    "pointBalance": programs.whole_points(balance),
                }
            ]
        }
    )
