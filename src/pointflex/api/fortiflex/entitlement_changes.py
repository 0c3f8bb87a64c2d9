"""FortiFlex v2 changes to existing entitlements (spec §4.10, §4.12–4.15, §4.18).

update, stop, reactivate, vm/token, transfer and hardware/remove. Every route asks for
``current_writer``, so a ReadOnly caller gets 403 whatever its body holds (R64).
"""

from __future__ import annotations

from typing import Self

from fastapi import Depends
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from pointflex.api.deps import current_writer, runtime
from pointflex.api.envelope import ok
from pointflex.api.fortiflex.entitlements import reply
from pointflex.api.fortiflex.inputs import (
    INVALID,
    WireEndChange,
    WireOptionalInt,
    WireRequest,
    WireRequiredText,
    WireStringList,
    WireText,
    selected_serials,
)
from pointflex.api.fortiflex.routing import wire_router
from pointflex.bootstrap import Runtime
from pointflex.domain.entitlements import Selection
from pointflex.services.context import Actor
from pointflex.services.entitlements import changes, transfers
from pointflex.services.entitlements.changes import Outcome

router = wire_router("entitlements")


class SerialRequest(WireRequest):
    model_config = ConfigDict(
        title="EntitlementSerialRequest",
        json_schema_extra={"examples": [{"serialNumber": "FGVMMLTM26000020"}]},
    )
    serialNumber: WireRequiredText


# --------------------------------------------------------------------------- update


class UpdateRequest(WireRequest):
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
    serialNumber: WireRequiredText
    configId: WireOptionalInt = Field(
        None, description="another configuration of the same product type"
    )
    description: WireText = Field(None, description='"" clears the description')
    endDate: WireEndChange = Field(None, description="at or after now, at most the program end")


@router.post(
    "/entitlements/update",
    summary="Change an entitlement's configuration, description or end date",
)
def update(
    body: UpdateRequest,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(current_writer),
) -> JSONResponse:
    record = changes.update_entitlement(
        rt,
        actor,
        body.serialNumber,
        config_id=body.configId,
        description=body.description,
        end=body.endDate,
    )
    return reply([record])


# --------------------------------------------------------------------------- status


def _single(outcomes: list[Outcome]) -> JSONResponse:
    """A refused change is the error envelope with its ``errorCode`` (C16, §6.2)."""
    (outcome,) = outcomes
    if outcome.error is not None:
        raise outcome.error
    if outcome.entitlement is None:
        raise RuntimeError("a change that was not refused carries its entitlement")
    return reply([outcome.entitlement])


@router.post(
    "/entitlements/stop",
    summary="Stop an entitlement (ACTIVE, GRACE_PERIOD or PENDING)",
)
def stop(
    body: SerialRequest,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(current_writer),
) -> JSONResponse:
    return _single(changes.stop(rt, actor, [body.serialNumber]))


@router.post("/entitlements/reactivate", summary="Reactivate a STOPPED entitlement")
def reactivate(
    body: SerialRequest,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(current_writer),
) -> JSONResponse:
    return _single(changes.reactivate(rt, actor, [body.serialNumber]))


@router.post("/entitlements/vm/token", summary="Regenerate the token of a VM entitlement")
def regenerate_token(
    body: SerialRequest,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(current_writer),
) -> JSONResponse:
    return reply([changes.regenerate_token(rt, actor, body.serialNumber)])


# --------------------------------------------------------------------------- transfer


class TransferRequest(WireRequest):
    """Both request shapes (C13). The vendor's names the source and target by account and
    configuration; pyfortiflex's names the target ``accountId`` and the program the serials
    come from. Any vendor field makes it the vendor's shape."""

    model_config = ConfigDict(
        title="EntitlementsTransferRequest",
        json_schema_extra={
            "examples": [
                {
                    "sourceAccountId": 12345,
                    "sourceConfigId": 25,
                    "targetAccountId": 112233,
                    "targetConfigId": None,
                    "serialNumbers": ["FGVMMLTM26000029", "FGVMMLTM26000030"],
                },
                {
                    "serialNumbers": ["FGVMMLTM26000029"],
                    "accountId": 112233,
                    "programSerialNumber": "ELAVMR0000000101",
                },
            ]
        },
    )
    serialNumbers: WireStringList = Field(description="at most 100")
    sourceAccountId: WireOptionalInt = Field(None, description="vendor shape; checked when given")
    sourceConfigId: WireOptionalInt = Field(None, description="vendor shape; checked when given")
    targetAccountId: WireOptionalInt = Field(
        None, description="vendor shape, required there: an account of the same organisation"
    )
    targetConfigId: WireOptionalInt = Field(
        None,
        description="vendor shape: same product type in the target account; null: an "
        "identical configuration there is reused, or made",
    )
    accountId: WireOptionalInt = Field(
        None, description="pyfortiflex's shape, required there: the target account"
    )
    programSerialNumber: WireText = Field(
        None, description="pyfortiflex's shape, required there: the serials' program"
    )

    @property
    def vendor(self) -> bool:
        sources = (self.sourceAccountId, self.sourceConfigId)
        return any(v is not None for v in (*sources, self.targetAccountId, self.targetConfigId))

    @model_validator(mode="after")
    def _one_shape_complete(self) -> Self:
        if self.vendor and self.targetAccountId is None:
            raise PydanticCustomError(INVALID, "targetAccountId is required")
        if not self.vendor and self.accountId is None:
            raise PydanticCustomError(
                INVALID, "targetAccountId (or accountId, the target account) is required"
            )
        if not self.vendor and not (self.programSerialNumber or "").strip():
            raise PydanticCustomError(INVALID, "programSerialNumber is required")
        return self

    @property
    def target_account_id(self) -> int:
        target = self.targetAccountId if self.vendor else self.accountId
        if target is None:
            raise RuntimeError("_one_shape_complete requires the target account")
        return target

    @property
    def source_program_serial(self) -> str | None:
        """The program pyfortiflex's shape names, which the serials must come from."""
        return None if self.vendor else (self.programSerialNumber or "").strip()


@router.post(
    "/entitlements/transfer",
    summary="Move entitlements to another account of the same organisation",
)
def transfer(
    body: TransferRequest,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(current_writer),
) -> JSONResponse:
    limit = rt.settings.selection_limits.of(Selection.TRANSFER)
    moved = transfers.transfer(
        rt,
        actor,
        serials=selected_serials(body.serialNumbers, limit),
        target_account_id=body.target_account_id,
        source_account_id=body.sourceAccountId,
        source_config_id=body.sourceConfigId,
        target_config_id=body.targetConfigId,
        source_program_serial=body.source_program_serial,
    )
    return reply(moved)


# --------------------------------------------------------------------------- removal


class RemoveRequest(WireRequest):
    model_config = ConfigDict(
        title="EntitlementsHardwareRemoveRequest",
        json_schema_extra={"examples": [{"serialNumbers": ["FGT60FTK19000010"]}]},
    )
    serialNumbers: WireStringList = Field(
        description="at most 100, each a STOPPED or EXPIRED hardware entitlement; "
        "otherwise nothing is removed"
    )


@router.post(
    "/entitlements/hardware/remove",
    summary="Remove STOPPED or EXPIRED hardware serials from management",
)
def remove_hardware(
    body: RemoveRequest,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(current_writer),
) -> JSONResponse:
    """All or nothing (R41); the reply is the envelope with no data key (§4.10)."""
    limit = rt.settings.selection_limits.of(Selection.REMOVE)
    changes.remove_hardware(rt, actor, selected_serials(body.serialNumbers, limit))
    return ok()
