"""FortiFlex v2 changes to existing entitlements (spec §4.10, §4.12–4.15, §4.18).

update, stop, reactivate, vm/token, transfer and hardware/remove. Every mutation checks the
write permission first, so a ReadOnly caller gets 403 whatever it names (R64).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, RootModel

from pointflex.api.deps import current_actor, json_body, runtime
from pointflex.api.envelope import ok
from pointflex.api.fortiflex.entitlements import reply
from pointflex.api.fortiflex.inputs import (
    documented_body,
    optional_int,
    optional_str,
    requested_end,
    required_int,
    required_str,
    serial_numbers,
)
from pointflex.bootstrap import Runtime
from pointflex.domain.entitlements import Selection
from pointflex.errors import InvalidInput
from pointflex.services.context import Actor
from pointflex.services.entitlements import changes, transfers
from pointflex.services.entitlements.changes import Outcome

router = APIRouter(tags=["entitlements"])

_NUMERIC = "integer; a numeric string is accepted"


class SerialRequest(BaseModel):
    model_config = ConfigDict(
        title="EntitlementSerialRequest",
        json_schema_extra={"examples": [{"serialNumber": "FGVMMLTM26000020"}]},
    )
    serialNumber: str


# --------------------------------------------------------------------------- update


class UpdateRequest(BaseModel):
    model_config = ConfigDict(
        title="EntitlementsUpdateRequest",
        json_schema_extra={
            "description": "configId, description and endDate may be the current values "
            "(a no-op) or new ones; null or absent leaves a value unchanged.",
            "examples": [
                {
                    "serialNumber": "FGVMMLTM26000020",
                    "configId": 25,
                    "description": "New description for 020",
                    "endDate": "2026-10-25",
                }
            ],
        },
    )
    serialNumber: str
    configId: int | None = Field(
        None, description=_NUMERIC + "; another configuration of the same product type"
    )
    description: str | None = Field(None, description='"" clears the description')
    endDate: str | None = Field(
        None, description='any §7 date format; ≥ now and ≤ the program end; "" = unchanged'
    )


@router.post(
    "/entitlements/update",
    summary="Change an entitlement's configuration, description or end date",
    openapi_extra=documented_body(UpdateRequest),
)
def update(
    body: dict[str, Any] = Depends(json_body),
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(current_actor),
) -> JSONResponse:
    actor.require_write()
    serial = required_str(body, "serialNumber")
    config_id = optional_int(body, "configId")
    description = optional_str(body, "description")
    record = changes.update_entitlement(
        rt,
        actor,
        serial,
        config_id=config_id,
        description=description,
        end=requested_end(body),
    )
    return reply([record])


# --------------------------------------------------------------------------- status


def _single(outcomes: list[Outcome]) -> JSONResponse:
    """A refused change is the error envelope with its ``errorCode`` (C16, §6.2)."""
    (outcome,) = outcomes
    if outcome.error is not None:
        raise outcome.error
    assert outcome.entitlement is not None
    return reply([outcome.entitlement])


@router.post(
    "/entitlements/stop",
    summary="Stop an entitlement (ACTIVE, GRACE_PERIOD or PENDING)",
    openapi_extra=documented_body(SerialRequest),
)
def stop(
    body: dict[str, Any] = Depends(json_body),
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(current_actor),
) -> JSONResponse:
    actor.require_write()
    return _single(changes.stop(rt, actor, [required_str(body, "serialNumber")]))


@router.post(
    "/entitlements/reactivate",
    summary="Reactivate a STOPPED entitlement",
    openapi_extra=documented_body(SerialRequest),
)
def reactivate(
    body: dict[str, Any] = Depends(json_body),
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(current_actor),
) -> JSONResponse:
    actor.require_write()
    return _single(changes.reactivate(rt, actor, [required_str(body, "serialNumber")]))


@router.post(
    "/entitlements/vm/token",
    summary="Regenerate the token of a VM entitlement",
    openapi_extra=documented_body(SerialRequest),
)
def regenerate_token(
    body: dict[str, Any] = Depends(json_body),
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(current_actor),
) -> JSONResponse:
    actor.require_write()
    record = changes.regenerate_token(rt, actor, required_str(body, "serialNumber"))
    return reply([record])


# --------------------------------------------------------------------------- transfer


class VendorTransfer(BaseModel):
    model_config = ConfigDict(
        title="TransferVendorShape",
        json_schema_extra={
            "examples": [
                {
                    "sourceAccountId": 12345,
                    "sourceConfigId": 25,
                    "targetAccountId": 112233,
                    "targetConfigId": None,
                    "serialNumbers": ["FGVMMLTM26000029", "FGVMMLTM26000030"],
                }
            ]
        },
    )
    sourceAccountId: int | None = Field(None, description="checked when given")
    sourceConfigId: int | None = Field(None, description="checked when given")
    targetAccountId: int = Field(description="an account of the same organisation")
    targetConfigId: int | None = Field(
        None,
        description="same product type in the target account; null: an identical "
        "configuration there is reused, or made",
    )
    serialNumbers: list[str] = Field(description="at most 100")


class CommunityTransfer(BaseModel):
    model_config = ConfigDict(
        title="TransferCommunityClientShape",
        json_schema_extra={
            "examples": [
                {
                    "serialNumbers": ["FGVMMLTM26000029"],
                    "accountId": 112233,
                    "programSerialNumber": "ELAVMR0000000101",
                }
            ]
        },
    )
    serialNumbers: list[str] = Field(description="at most 100, all of the program")
    accountId: int = Field(description="the target account")
    programSerialNumber: str


class TransferRequest(RootModel[VendorTransfer | CommunityTransfer]):
    model_config = ConfigDict(title="EntitlementsTransferRequest")


_VENDOR_FIELDS = ("sourceAccountId", "sourceConfigId", "targetAccountId", "targetConfigId")


@router.post(
    "/entitlements/transfer",
    summary="Move entitlements to another account of the same organisation",
    openapi_extra=documented_body(TransferRequest),
)
def transfer(
    body: dict[str, Any] = Depends(json_body),
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(current_actor),
) -> JSONResponse:
    """Both request shapes (C13): the vendor's and the community Python client's."""
    actor.require_write()
    serials = serial_numbers(body, rt.settings.selection_limits.of(Selection.TRANSFER))
    vendor = any(body.get(field) is not None for field in _VENDOR_FIELDS)
    target = "targetAccountId" if vendor else "accountId"
    if body.get(target) is None:
        raise InvalidInput(
            "targetAccountId is required"
            if vendor
            else "targetAccountId (or accountId, the target account) is required"
        )
    moved = transfers.transfer(
        rt,
        actor,
        serials=serials,
        target_account_id=required_int(body, target),
        source_account_id=optional_int(body, "sourceAccountId"),
        source_config_id=optional_int(body, "sourceConfigId"),
        target_config_id=optional_int(body, "targetConfigId"),
        # The community client's shape names the program the serials must come from.
        source_program_serial=None if vendor else required_str(body, "programSerialNumber"),
    )
    return reply(moved)


# --------------------------------------------------------------------------- removal


class RemoveRequest(BaseModel):
    model_config = ConfigDict(
        title="EntitlementsHardwareRemoveRequest",
        json_schema_extra={"examples": [{"serialNumbers": ["FGT60FTK19000010"]}]},
    )
    serialNumbers: list[str] = Field(
        description="at most 100, each a STOPPED or EXPIRED hardware entitlement; "
        "otherwise nothing is removed"
    )


@router.post(
    "/entitlements/hardware/remove",
    summary="Remove STOPPED or EXPIRED hardware serials from management",
    openapi_extra=documented_body(RemoveRequest),
)
def remove_hardware(
    body: dict[str, Any] = Depends(json_body),
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(current_actor),
) -> JSONResponse:
    """All or nothing (R41); the reply is the envelope with no data key (§4.10)."""
    actor.require_write()
    serials = serial_numbers(body, rt.settings.selection_limits.of(Selection.REMOVE))
    changes.remove_hardware(rt, actor, serials)
    return ok()
