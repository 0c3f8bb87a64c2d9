"""programs/list and programs/points (spec §4.1, §4.2)."""

from __future__ import annotations

from fastapi import Body, Depends
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field

from pointflex.api.deps import current_actor, runtime
from pointflex.api.envelope import ok
from pointflex.api.fortiflex import wire
from pointflex.api.fortiflex.inputs import WireRequest, WireRequiredText
from pointflex.api.fortiflex.routing import wire_router
from pointflex.bootstrap import Runtime
from pointflex.services.context import Actor
from pointflex.services.points import programs

router = wire_router("programs")


class ProgramsListRequest(WireRequest):
    model_config = ConfigDict(
        title="programs/list request (no fields; {} or [] or no body)",
        json_schema_extra={"example": {}},
    )


class ProgramPointsRequest(WireRequest):
    model_config = ConfigDict(
        title="programs/points request",
        json_schema_extra={"example": {"programSerialNumber": "ELAVMR0000000101"}},
    )

    programSerialNumber: WireRequiredText = Field(description="a prepaid program")


@router.post("/programs/list", summary="List the programs the caller can see")
def list_programs(
    body: ProgramsListRequest = Body(default_factory=ProgramsListRequest),
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(current_actor),
) -> JSONResponse:
    del body  # no fields (Terraform sends no body at all, C4)
    return ok({"programs": [wire.program(p) for p in programs.list_programs(rt, actor)]})


@router.post("/programs/points", summary="The point balance of a prepaid program")
def program_points(
    body: ProgramPointsRequest,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(current_actor),
) -> JSONResponse:
    program, balance = programs.program_balance(rt, actor, body.programSerialNumber)
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
