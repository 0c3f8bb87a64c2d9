"""configs/list, configs/create, configs/update, configs/enable, configs/disable (spec §4.3–§4.6).

Each body is the route's request model, of lenient wire types (§3.4; api/fortiflex/inputs): ids
and account ids may be numeric strings, ``null`` means absent. Parameter entries are decoded by
the catalogue: values may be numbers, list parameters repeat their id and ``"NONE"`` means an
empty list. Replies always carry canonical types: integer ids, string parameter values. The
write calls answer with ONE Config object under ``configs`` (Q1, C10).
"""

from __future__ import annotations

from fastapi import Depends
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field

from pointflex.api.deps import current_actor, current_writer, runtime
from pointflex.api.envelope import ok
from pointflex.api.fortiflex import wire
from pointflex.api.fortiflex.inputs import (
    WireInt,
    WireOptionalInt,
    WireOptionalParameters,
    WireParameters,
    WireRequest,
    WireRequiredText,
    WireText,
)
from pointflex.api.fortiflex.routing import wire_router
from pointflex.bootstrap import Runtime
from pointflex.services.configs import configurations as configs
from pointflex.services.context import Actor

router = wire_router("configs")

_ID = "configuration id; a numeric string is accepted (Terraform sends the resource id so)"


class ConfigsListRequest(WireRequest):
    model_config = ConfigDict(
        title="configs/list request",
        json_schema_extra={
            "example": {"programSerialNumber": "ELAVMR0000000101", "accountId": 12345}
        },
    )

    programSerialNumber: WireRequiredText = Field(description="the program; required")
    accountId: WireOptionalInt = Field(
        None,
        description="only this account's configurations; absent: every account of the "
        "program's organisation that the caller may see",
    )


class ConfigsCreateRequest(WireRequest):
    model_config = ConfigDict(
        title="configs/create request",
        json_schema_extra={
            "example": {
                "programSerialNumber": "ELAVMR0000000101",
                "accountId": 12345,
                "name": "Test Configuration",
                "productTypeId": 1,
                "parameters": [{"id": 1, "value": "4"}, {"id": 2, "value": "ENT"}],
            }
        },
    )

    programSerialNumber: WireRequiredText
    name: WireRequiredText
    productTypeId: WireInt = Field(description="product type (tools/metadata)")
    parameters: WireParameters
    accountId: WireOptionalInt = Field(
        None, description="owning account; default: the caller's account"
    )


class ConfigsUpdateRequest(WireRequest):
    model_config = ConfigDict(
        title="configs/update request",
        json_schema_extra={
            "example": {
                "id": 22,
                "name": "New Configuration name",
                "parameters": [{"id": 1, "value": "8"}, {"id": 2, "value": "ENT"}],
            }
        },
    )

    id: WireInt = Field(description=_ID)
    name: WireText = Field(None, description="new name; null or absent: unchanged")
    parameters: WireOptionalParameters = Field(
        None,
        description="the complete new parameter set (it replaces the old one and applies to "
        "every entitlement on the configuration); null or absent: unchanged",
    )


class ConfigIdRequest(WireRequest):
    model_config = ConfigDict(
        title="configs/enable and configs/disable request",
        json_schema_extra={"example": {"id": 22}},
    )

    id: WireInt = Field(description=_ID)


@router.post("/configs/list", summary="List the configurations of a program")
def list_configs(
    body: ConfigsListRequest,
    actor: Actor = Depends(current_actor),
    rt: Runtime = Depends(runtime),
) -> JSONResponse:
    found = configs.list_configs(rt, actor, body.programSerialNumber, body.accountId)
    return ok({"configs": [wire.config(c, rt.catalog) for c in found]})


@router.post("/configs/create", summary="Create a configuration under a program")
def create_config(
    body: ConfigsCreateRequest,
    actor: Actor = Depends(current_writer),
    rt: Runtime = Depends(runtime),
) -> JSONResponse:
    created = configs.create_config(
        rt,
        actor,
        program_serial=body.programSerialNumber,
        name=body.name,
        product_type_id=body.productTypeId,
        parameters=body.parameters,
        account_id=body.accountId,
    )
    return ok({"configs": wire.config(created, rt.catalog)})


@router.post("/configs/update", summary="Rename a configuration or replace its parameters")
def update_config(
    body: ConfigsUpdateRequest,
    actor: Actor = Depends(current_writer),
    rt: Runtime = Depends(runtime),
) -> JSONResponse:
    updated = configs.update_config(rt, actor, body.id, name=body.name, parameters=body.parameters)
    return ok({"configs": wire.config(updated, rt.catalog)})


@router.post("/configs/enable", summary="Enable a configuration (idempotent)")
def enable_config(
    body: ConfigIdRequest,
    actor: Actor = Depends(current_writer),
    rt: Runtime = Depends(runtime),
) -> JSONResponse:
    return _set_status(rt, actor, body, configs.ACTIVE)


@router.post("/configs/disable", summary="Disable a configuration (idempotent; there is no delete)")
def disable_config(
    body: ConfigIdRequest,
    actor: Actor = Depends(current_writer),
    rt: Runtime = Depends(runtime),
) -> JSONResponse:
    return _set_status(rt, actor, body, configs.DISABLED)


def _set_status(rt: Runtime, actor: Actor, body: ConfigIdRequest, status: str) -> JSONResponse:
    changed = configs.set_config_status(rt, actor, body.id, status)
    return ok({"configs": wire.config(changed, rt.catalog)})
