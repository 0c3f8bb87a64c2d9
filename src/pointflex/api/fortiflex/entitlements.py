"""FortiFlex v2 entitlements: list, the three creates and points (spec §4.7–4.11, §4.16).

The changes to existing entitlements (update, stop, reactivate, token, transfer, removal) are
in ``entitlement_changes``. Bodies are decoded leniently (§3.4) by ``inputs``; the pydantic
models below only document them in the OpenAPI document.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from pointflex.api.deps import current_actor, json_body, runtime
from pointflex.api.envelope import SUCCESS_MESSAGE, ok
from pointflex.api.fortiflex import wire
from pointflex.api.fortiflex.inputs import (
    documented_body,
    optional_bool,
    optional_int,
    optional_str,
    requested_end,
    required_day,
    required_int,
    string_list,
)
from pointflex.bootstrap import Runtime
from pointflex.domain.ends import FOLLOW_PROGRAM
from pointflex.errors import InvalidInput
from pointflex.services.configs.configurations import visible_config
from pointflex.services.context import Actor, read
from pointflex.services.entitlements import creation
from pointflex.services.entitlements.views import (
    Entitlement,
    EntitlementFilter,
    iter_entitlements,
    require_scope,
)
from pointflex.services.points import usage as points
from pointflex.services.points.programs import visible_program

router = APIRouter(tags=["entitlements"])

_NUMERIC = "integer; a numeric string is accepted"
_END = 'any §7 date format; null, absent or "" means the program\'s end date (Follow Program)'


def text_filter(body: dict[str, Any], field: str) -> str | None:
    """An optional string where ``null`` and ``""`` both mean "not given" (§3.1)."""
    value = optional_str(body, field)
    return value.strip() if value is not None and value.strip() else None


def reply(records: list[Entitlement]) -> JSONResponse:
    """The ``entitlements`` envelope; a single result is a 1-item list (§3.2, C22)."""
    return ok({"entitlements": [wire.entitlement(r) for r in records]})


# --------------------------------------------------------------------------- list


class ListRequest(BaseModel):
    model_config = ConfigDict(
        title="EntitlementsListRequest",
        json_schema_extra={
            "description": "Scope: configId, or accountId with programSerialNumber. "
            "The other fields are exact-match filters.",
            "examples": [{"configId": 22, "serialNumber": "FGVMMLTM26000015"}],
        },
    )
    configId: int | None = Field(None, description=_NUMERIC)
    accountId: int | None = Field(None, description=_NUMERIC)
    programSerialNumber: str | None = None
    serialNumber: str | None = Field(None, description="exact match")
    status: str | None = Field(None, description="PENDING, ACTIVE, STOPPED, EXPIRED, GRACE_PERIOD")
    tokenStatus: str | None = Field(None, description="NOTUSED or USED")
    description: str | None = Field(None, description="exact match")


@router.post(
    "/entitlements/list",
    summary="List entitlements of a configuration or of an account's program",
    openapi_extra=documented_body(ListRequest),
)
def list_entitlements(
    body: dict[str, Any] = Depends(json_body),
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(current_actor),
) -> StreamingResponse:
    serial = text_filter(body, "serialNumber")
    flt = EntitlementFilter(
        config_id=optional_int(body, "configId"),
        account_id=optional_int(body, "accountId"),
        program_serial=text_filter(body, "programSerialNumber"),
        serial=serial.upper() if serial else None,
        status=text_filter(body, "status"),
        token_status=text_filter(body, "tokenStatus"),
        description=text_filter(body, "description"),
    )
    require_scope(flt)
    chunks = _list_chunks(rt, actor, flt)
    # The first chunk checks the scope: a refusal still becomes a normal error reply.
    first = next(chunks)
    return StreamingResponse(itertools.chain((first,), chunks), media_type="application/json")


def _list_chunks(
    rt: Runtime, actor: Actor, flt: EntitlementFilter, per_chunk: int = 500
) -> Iterator[bytes]:
    """The envelope, streamed: memory stays flat however many entitlements match (§4.7)."""
    with read(rt) as conn:
        # Out-of-scope configurations, accounts and programs are "not found", never empty.
        if flt.config_id is not None:
            visible_config(conn, actor, flt.config_id)
        if flt.account_id is not None:
            actor.require_account(flt.account_id)
        if flt.program_serial is not None:
            visible_program(conn, actor, flt.program_serial)
        head = {"status": 0, "message": SUCCESS_MESSAGE, "error": None, "entitlements": []}
        parts = [_dumps(head)[:-2]]  # everything up to the list's closing "]}"
        separator = ""
        for item in iter_entitlements(rt, conn, actor, flt):
            parts.append(separator + _dumps(wire.entitlement(item)))
            separator = ","
            if len(parts) >= per_chunk:
                yield "".join(parts).encode()
                parts = []
        parts.append("]}")
        yield "".join(parts).encode()


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


# --------------------------------------------------------------------------- creation


class VmCreateRequest(BaseModel):
    model_config = ConfigDict(
        title="EntitlementsVmCreateRequest",
        json_schema_extra={
            "examples": [
                {
                    "configId": 22,
                    "count": 3,
                    "description": "VMs created for department Z",
                    "endDate": None,
                    "folderPath": "My Assets/subfolder1",
                    "skipPending": False,
                }
            ]
        },
    )
    configId: int = Field(description=_NUMERIC + "; an ACTIVE configuration of a VM product")
    count: int = Field(1, description=_NUMERIC + "; at least 1, at most the configured maximum")
    description: str | None = None
    endDate: str | None = Field(None, description=_END)
    folderPath: str | None = Field(None, description='default "My Assets"; made on first use')
    skipPending: bool = Field(False, description='true: ACTIVE at once; "true"/"false", 0/1 too')


@router.post(
    "/entitlements/vm/create",
    summary="Create VM entitlements on a configuration",
    openapi_extra=documented_body(VmCreateRequest),
)
def create_vm(
    body: dict[str, Any] = Depends(json_body),
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(current_actor),
) -> JSONResponse:
    actor.require_write()
    config_id = required_int(body, "configId")
    count = optional_int(body, "count")
    records = creation.create_vm(
        rt,
        actor,
        config_id=config_id,
        count=1 if count is None else count,
        description=optional_str(body, "description"),
        end=requested_end(body) or FOLLOW_PROGRAM,
        folder_path=optional_str(body, "folderPath"),
        skip_pending=optional_bool(body, "skipPending"),
    )
    return reply(records)


class HardwareCreateRequest(BaseModel):
    model_config = ConfigDict(
        title="EntitlementsHardwareCreateRequest",
        json_schema_extra={
            "examples": [
                {
                    "configId": 22,
                    "serialNumbers": ["FGT60FTK19000010", "FGT60FTK19000013"],
                    "endDate": "2027-10-11 00:00:00",
                }
            ]
        },
    )
    configId: int = Field(description=_NUMERIC + "; an ACTIVE configuration of a hardware product")
    serialNumbers: list[str] = Field(description="the devices' own serials; at most 100")
    endDate: str | None = Field(None, description=_END)
    description: str | None = None
    folderPath: str | None = None


@router.post(
    "/entitlements/hardware/create",
    summary="Create hardware entitlements for device serial numbers",
    openapi_extra=documented_body(HardwareCreateRequest),
)
def create_hardware(
    body: dict[str, Any] = Depends(json_body),
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(current_actor),
) -> JSONResponse:
    actor.require_write()
    config_id = required_int(body, "configId")
    serials = string_list(body, "serialNumbers")
    records = creation.create_hardware(
        rt,
        actor,
        config_id=config_id,
        serials=serials,
        end=requested_end(body) or FOLLOW_PROGRAM,
        description=optional_str(body, "description"),
        folder_path=optional_str(body, "folderPath"),
    )
    return reply(records)


class CloudCreateRequest(BaseModel):
    model_config = ConfigDict(
        title="EntitlementsCloudCreateRequest",
        json_schema_extra={"examples": [{"configId": 22, "endDate": None}]},
    )
    configId: int = Field(description=_NUMERIC + "; an ACTIVE configuration of a cloud product")
    endDate: str | None = Field(None, description=_END)
    count: int = Field(1, description="must be 1")
    description: str | None = None
    folderPath: str | None = None


@router.post(
    "/entitlements/cloud/create",
    summary="Create the cloud-service entitlement of a configuration",
    openapi_extra=documented_body(CloudCreateRequest),
)
def create_cloud(
    body: dict[str, Any] = Depends(json_body),
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(current_actor),
) -> JSONResponse:
    actor.require_write()
    config_id = required_int(body, "configId")
    count = optional_int(body, "count")
    records = creation.create_cloud(
        rt,
        actor,
        config_id=config_id,
        count=1 if count is None else count,
        end=requested_end(body) or FOLLOW_PROGRAM,
        description=optional_str(body, "description"),
        folder_path=optional_str(body, "folderPath"),
    )
    return reply(records)


# --------------------------------------------------------------------------- points


class PointsRequest(BaseModel):
    model_config = ConfigDict(
        title="EntitlementsPointsRequest",
        json_schema_extra={
            "description": "Scope: configId, or programSerialNumber (with accountId for one "
            "account). Days older than 90 days are not returned.",
            "examples": [
                {
                    "configId": 25,
                    "programSerialNumber": "ELAVMR0000000101",
                    "accountId": 12345,
                    "startDate": "2026-03-01",
                    "endDate": "2026-03-25",
                }
            ],
        },
    )
    startDate: str = Field(description="first day, YYYY-MM-DD recommended")
    endDate: str = Field(description="last day, inclusive")
    configId: int | None = Field(None, description=_NUMERIC)
    accountId: int | None = Field(None, description=_NUMERIC)
    programSerialNumber: str | None = None
    serialNumber: str | None = Field(None, description="narrows to one entitlement")


@router.post(
    "/entitlements/points",
    summary="Points consumed per entitlement over a date range",
    openapi_extra=documented_body(PointsRequest),
)
def entitlement_points(
    body: dict[str, Any] = Depends(json_body),
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(current_actor),
) -> JSONResponse:
    start, end = required_day(body, "startDate"), required_day(body, "endDate")
    config_id = optional_int(body, "configId")
    account_id = optional_int(body, "accountId")
    program_serial = text_filter(body, "programSerialNumber")
    serial = text_filter(body, "serialNumber")
    if config_id is None and program_serial is None:
        raise InvalidInput("configId, or accountId with programSerialNumber, is required")
    found = points.entitlement_points(
        rt,
        actor,
        start=start,
        end=end,
        config_id=config_id,
        account_id=account_id,
        program_serial=program_serial,
        serial=serial,
    )
    return ok({"entitlements": [wire.points_record(r) for r in found]})
