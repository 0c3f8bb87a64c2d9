"""FortiFlex v2 entitlements: list, the three creates and points (spec §4.7–4.11, §4.16).

The changes to existing entitlements (update, stop, reactivate, token, transfer, removal) are
in ``entitlement_changes``. Each body is the route's request model, of the lenient wire types
of ``inputs`` (§3.4): it validates the request and documents it in the OpenAPI document.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any, Self

from fastapi import Depends
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from pointflex.api.deps import current_actor, current_writer, runtime
from pointflex.api.envelope import SUCCESS_MESSAGE, ok
from pointflex.api.fortiflex import wire
from pointflex.api.fortiflex.inputs import (
    INVALID,
    WireCount,
    WireDay,
    WireEnd,
    WireFilter,
    WireFlag,
    WireInt,
    WireOptionalInt,
    WireRequest,
    WireStringList,
    WireText,
    program_end,
)
from pointflex.api.fortiflex.routing import wire_router
from pointflex.bootstrap import Runtime
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

router = wire_router("entitlements")


def reply(records: list[Entitlement]) -> JSONResponse:
    """The ``entitlements`` envelope; a single result is a 1-item list (§3.2, C22)."""
    return ok({"entitlements": [wire.entitlement(r) for r in records]})


# --------------------------------------------------------------------------- list


class ListRequest(WireRequest):
    model_config = ConfigDict(
        title="EntitlementsListRequest",
        json_schema_extra={
            "description": "Scope: configId, or accountId with programSerialNumber. "
            "The other fields are exact-match filters.",
            "examples": [{"configId": 22, "serialNumber": "FGVMMLTM26000015"}],
        },
    )
    configId: WireOptionalInt = None
    accountId: WireOptionalInt = None
    programSerialNumber: WireFilter = None
    serialNumber: WireFilter = Field(None, description="exact match, whatever the case")
    status: WireFilter = Field(None, description="PENDING, ACTIVE, STOPPED, EXPIRED, GRACE_PERIOD")
    tokenStatus: WireFilter = Field(None, description="NOTUSED or USED")
    description: WireFilter = Field(None, description="exact match")

    def filter(self) -> EntitlementFilter:
        return EntitlementFilter(
            config_id=self.configId,
            account_id=self.accountId,
            program_serial=self.programSerialNumber,
            serial=self.serialNumber.upper() if self.serialNumber else None,
            status=self.status,
            token_status=self.tokenStatus,
            description=self.description,
        )


@router.post(
    "/entitlements/list",
    summary="List entitlements of a configuration or of an account's program",
)
def list_entitlements(
    body: ListRequest,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(current_actor),
) -> StreamingResponse:
    flt = body.filter()
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


class VmCreateRequest(WireRequest):
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
    configId: WireInt = Field(description="an ACTIVE configuration of a VM product")
    count: WireCount = Field(1, description="at least 1, at most the configured maximum")
    description: WireText = None
    endDate: WireEnd = program_end()
    folderPath: WireText = Field(None, description='default "My Assets"; made on first use')
    skipPending: WireFlag = Field(False, description="true: ACTIVE at once")


@router.post("/entitlements/vm/create", summary="Create VM entitlements on a configuration")
def create_vm(
    body: VmCreateRequest,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(current_writer),
) -> JSONResponse:
    records = creation.create_vm(
        rt,
        actor,
        config_id=body.configId,
        count=body.count,
        description=body.description,
        end=body.endDate,
        folder_path=body.folderPath,
        skip_pending=body.skipPending,
    )
    return reply(records)


class HardwareCreateRequest(WireRequest):
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
    configId: WireInt = Field(description="an ACTIVE configuration of a hardware product")
    serialNumbers: WireStringList = Field(description="the devices' own serials; at most 100")
    endDate: WireEnd = program_end()
    description: WireText = None
    folderPath: WireText = None


@router.post(
    "/entitlements/hardware/create",
    summary="Create hardware entitlements for device serial numbers",
)
def create_hardware(
    body: HardwareCreateRequest,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(current_writer),
) -> JSONResponse:
    records = creation.create_hardware(
        rt,
        actor,
        config_id=body.configId,
        serials=body.serialNumbers,
        end=body.endDate,
        description=body.description,
        folder_path=body.folderPath,
    )
    return reply(records)


class CloudCreateRequest(WireRequest):
    model_config = ConfigDict(
        title="EntitlementsCloudCreateRequest",
        json_schema_extra={"examples": [{"configId": 22, "endDate": None}]},
    )
    configId: WireInt = Field(description="an ACTIVE configuration of a cloud product")
    endDate: WireEnd = program_end()
    count: WireCount = Field(1, description="must be 1")
    description: WireText = None
    folderPath: WireText = None


@router.post(
    "/entitlements/cloud/create",
    summary="Create the cloud-service entitlement of a configuration",
)
def create_cloud(
    body: CloudCreateRequest,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(current_writer),
) -> JSONResponse:
    records = creation.create_cloud(
        rt,
        actor,
        config_id=body.configId,
        count=body.count,
        end=body.endDate,
        description=body.description,
        folder_path=body.folderPath,
    )
    return reply(records)


# --------------------------------------------------------------------------- points


class PointsRequest(WireRequest):
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
    startDate: WireDay = Field(description="first day, YYYY-MM-DD recommended")
    endDate: WireDay = Field(description="last day, inclusive")
    configId: WireOptionalInt = None
    accountId: WireOptionalInt = None
    programSerialNumber: WireFilter = None
    serialNumber: WireFilter = Field(None, description="narrows to one entitlement")

    @model_validator(mode="after")
    def _scoped(self) -> Self:
        if self.configId is None and self.programSerialNumber is None:
            raise PydanticCustomError(
                INVALID, "configId, or accountId with programSerialNumber, is required"
            )
        return self


@router.post(
    "/entitlements/points",
    summary="Points consumed per entitlement over a date range",
)
def entitlement_points(
    body: PointsRequest,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(current_actor),
) -> JSONResponse:
    found = points.entitlement_points(
        rt,
        actor,
        start=body.startDate,
        end=body.endDate,
        config_id=body.configId,
        account_id=body.accountId,
        program_serial=body.programSerialNumber,
        serial=body.serialNumber,
    )
    return ok({"entitlements": [wire.points_record(r) for r in found]})
