"""tools/calc and tools/metadata (spec §4.22, §4.23; C14; Q3; R20, R21)."""

from __future__ import annotations

from fastapi import Body, Depends
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field

from pointflex.api.deps import current_actor, runtime
from pointflex.api.envelope import ok
from pointflex.api.fortiflex import wire
from pointflex.api.fortiflex.inputs import (
    WireCount,
    WireInt,
    WireParameters,
    WireRequest,
    WireRequiredText,
)
from pointflex.api.fortiflex.routing import wire_router
from pointflex.bootstrap import Runtime
from pointflex.services.context import Actor
from pointflex.services.points import prices

router = wire_router("tools")


class CalcRequest(WireRequest):
    model_config = ConfigDict(
        title="tools/calc request",
        json_schema_extra={
            "example": {
                "programSerialNumber": "ELAVMR0000000101",
                "count": 3,
                "productTypeId": 1,
                "parameters": [{"id": 1, "value": "4"}, {"id": 2, "value": "ENT"}],
            }
        },
    )

    programSerialNumber: WireRequiredText = Field(
        description="the program whose prices and day apply"
    )
    productTypeId: WireInt = Field(description="product type (tools/metadata)")
    parameters: WireParameters = Field(description="as for configs/create")
    count: WireCount = Field(1, description="number of units, default 1; 1 for cloud products")


class MetadataRequest(WireRequest):
    model_config = ConfigDict(
        title="tools/metadata request (no fields; {} or [] or no body)",
        json_schema_extra={"example": {}},
    )


@router.post("/tools/calc", summary="Calculate the points per day of a configuration")
def calc(
    body: CalcRequest,
    actor: Actor = Depends(current_actor),
    rt: Runtime = Depends(runtime),
) -> JSONResponse:
    current, latest, effective = prices.estimate(
        rt,
        actor,
        program_serial=body.programSerialNumber,
        product_type_id=body.productTypeId,
        parameters=body.parameters,
        count=body.count,
    )
    result = wire.calc_result(current, latest, effective)
    # Q3: the OAS names the object "points", the Ansible sample "configs": both are sent.
    return ok({"points": result, "configs": dict(result)})


@router.post(
    "/tools/metadata", summary="Product types, form factors, parameters and their valid values"
)
def metadata(
    body: MetadataRequest = Body(default_factory=MetadataRequest),
    actor: Actor = Depends(current_actor),
    rt: Runtime = Depends(runtime),
) -> JSONResponse:
    del body, actor  # no fields; the caller only has to be signed in
    return ok({"productTypes": rt.catalog.metadata()})
