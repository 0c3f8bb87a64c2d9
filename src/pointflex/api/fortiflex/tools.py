"""tools/calc and tools/metadata (spec §4.22, §4.23; C14; Q3; R20, R21)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from pointflex.api.deps import current_actor, json_body, runtime
from pointflex.api.envelope import ok
from pointflex.api.fortiflex import wire
from pointflex.api.fortiflex.configs import ParameterIn
from pointflex.api.fortiflex.inputs import (
    documented_body,
    optional_int,
    parameter_list,
    required_int,
    required_str,
)
from pointflex.bootstrap import Runtime
from pointflex.errors import InvalidInput
from pointflex.services.context import Actor
from pointflex.services.points import prices

router = APIRouter(tags=["tools"])

_ID = "integer, or a numeric string"


class CalcRequest(BaseModel):
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

    programSerialNumber: str = Field(description="the program whose prices and day apply")
    productTypeId: int | str = Field(description="product type (tools/metadata); " + _ID)
    parameters: list[ParameterIn] = Field(description="as for configs/create")
    count: int | str | None = Field(
        1, description="number of units, default 1; must be 1 for cloud products. " + _ID
    )


class MetadataRequest(BaseModel):
    model_config = ConfigDict(
        title="tools/metadata request (no fields; {} or [] or no body)",
        json_schema_extra={"example": {}},
    )


@router.post(
    "/tools/calc",
    summary="Calculate the points per day of a configuration",
    openapi_extra=documented_body(CalcRequest),
)
def calc(
    actor: Actor = Depends(current_actor),
    rt: Runtime = Depends(runtime),
    body: dict[str, Any] = Depends(json_body),
) -> JSONResponse:
    parameters = parameter_list(body)
    if parameters is None:
        raise InvalidInput("parameters is required")
    count = optional_int(body, "count")
    current, latest, effective = prices.estimate(
        rt,
        actor,
        program_serial=required_str(body, "programSerialNumber"),
        product_type_id=required_int(body, "productTypeId"),
        parameters=parameters,
        count=1 if count is None else count,
    )
    result = wire.calc_result(current, latest, effective)
    # Q3: the OAS names the object "points", the Ansible sample "configs": both are sent.
    return ok({"points": result, "configs": dict(result)})


@router.post(
    "/tools/metadata",
    summary="Product types, form factors, parameters and their valid values",
    openapi_extra=documented_body(MetadataRequest, required=False),
)
def metadata(
    actor: Actor = Depends(current_actor),
    rt: Runtime = Depends(runtime),
    body: dict[str, Any] = Depends(json_body),
) -> JSONResponse:
    del body, actor  # no fields; the caller only has to be signed in
    return ok({"productTypes": rt.catalog.metadata()})
