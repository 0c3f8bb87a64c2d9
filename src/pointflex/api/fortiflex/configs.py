"""configs/list, configs/create, configs/update, configs/enable, configs/disable (spec §4.3–§4.6).

Bodies are decoded leniently (§3.4): ids and account ids may be numeric strings, ``null`` means
absent, parameter values may be numbers, list parameters repeat their id and ``"NONE"`` means an
empty list. Replies always carry canonical types: integer ids, string parameter values. The
write calls answer with ONE Config object under ``configs`` (Q1, C10).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from pointflex.api.deps import current_actor, json_body, runtime
from pointflex.api.envelope import ok
from pointflex.api.fortiflex import wire
from pointflex.api.fortiflex.inputs import (
    documented_body,
    optional_int,
    optional_str,
    parameter_list,
    required_int,
    required_str,
)
from pointflex.bootstrap import Runtime
from pointflex.errors import InvalidInput
from pointflex.services.configs import configurations as configs
from pointflex.services.context import Actor

router = APIRouter(tags=["configs"])

# ----------------------------------------------------------------- request documentation

_NUMERIC = "integer, or a numeric string"
_ID = _NUMERIC + " (Terraform sends the resource id as a string)"


class ParameterIn(BaseModel):
    """One parameter value. A list parameter repeats its id once per value, and the single
    value "NONE" means an empty list. Read-only parameter ids are ignored."""

    id: int | str = Field(description="parameter id (tools/metadata); " + _NUMERIC)
    value: str | int | float = Field(description="the value; numbers are accepted as numbers")


class ConfigsListRequest(BaseModel):
    model_config = ConfigDict(
        title="configs/list request",
        json_schema_extra={
            "example": {"programSerialNumber": "ELAVMR0000000101", "accountId": 12345}
        },
    )

    programSerialNumber: str = Field(description="the program; required")
    accountId: int | str | None = Field(
        None,
        description="only this account's configurations; absent: every account of the "
        "program's organisation that the caller may see. " + _NUMERIC,
    )


class ConfigsCreateRequest(BaseModel):
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

    programSerialNumber: str
    name: str
    productTypeId: int | str = Field(description="product type (tools/metadata); " + _NUMERIC)
    parameters: list[ParameterIn]
    accountId: int | str | None = Field(
        None, description="owning account; default: the caller's account. " + _NUMERIC
    )


class ConfigsUpdateRequest(BaseModel):
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

    id: int | str = Field(description="configuration id; " + _ID)
    name: str | None = Field(None, description="new name; null or absent: unchanged")
    parameters: list[ParameterIn] | None = Field(
        None,
        description="the complete new parameter set (it replaces the old one and applies to "
        "every entitlement on the configuration); null or absent: unchanged",
    )


class ConfigIdRequest(BaseModel):
    model_config = ConfigDict(
        title="configs/enable and configs/disable request",
        json_schema_extra={"example": {"id": 22}},
    )

    id: int | str = Field(description="configuration id; " + _ID)


# ----------------------------------------------------------------- routes


@router.post(
    "/configs/list",
    summary="List the configurations of a program",
    openapi_extra=documented_body(ConfigsListRequest),
)
def list_configs(
    actor: Actor = Depends(current_actor),
    rt: Runtime = Depends(runtime),
    body: dict[str, Any] = Depends(json_body),
) -> JSONResponse:
    serial = required_str(body, "programSerialNumber")
    account_id = optional_int(body, "accountId")
    found = configs.list_configs(rt, actor, serial, account_id)
    return ok({"configs": [wire.config(c, rt.catalog) for c in found]})


@router.post(
    "/configs/create",
    summary="Create a configuration under a program",
    openapi_extra=documented_body(ConfigsCreateRequest),
)
def create_config(
    actor: Actor = Depends(current_actor),
    rt: Runtime = Depends(runtime),
    body: dict[str, Any] = Depends(json_body),
) -> JSONResponse:
    actor.require_write()  # R64: a read-only user learns nothing, not even validation errors
    parameters = parameter_list(body)
    if parameters is None:
        raise InvalidInput("parameters is required")
    created = configs.create_config(
        rt,
        actor,
        program_serial=required_str(body, "programSerialNumber"),
        name=required_str(body, "name"),
        product_type_id=required_int(body, "productTypeId"),
        parameters=parameters,
        account_id=optional_int(body, "accountId"),
    )
    return ok({"configs": wire.config(created, rt.catalog)})


@router.post(
    "/configs/update",
    summary="Rename a configuration or replace its parameters",
    openapi_extra=documented_body(ConfigsUpdateRequest),
)
def update_config(
    actor: Actor = Depends(current_actor),
    rt: Runtime = Depends(runtime),
    body: dict[str, Any] = Depends(json_body),
) -> JSONResponse:
    actor.require_write()
    updated = configs.update_config(
        rt,
        actor,
        required_int(body, "id"),
        name=optional_str(body, "name"),
        parameters=parameter_list(body),
    )
    return ok({"configs": wire.config(updated, rt.catalog)})


@router.post(
    "/configs/enable",
    summary="Enable a configuration (idempotent)",
    openapi_extra=documented_body(ConfigIdRequest),
)
def enable_config(
    actor: Actor = Depends(current_actor),
    rt: Runtime = Depends(runtime),
    body: dict[str, Any] = Depends(json_body),
) -> JSONResponse:
    return _set_status(rt, actor, body, configs.ACTIVE)


@router.post(
    "/configs/disable",
    summary="Disable a configuration (idempotent; there is no delete)",
    openapi_extra=documented_body(ConfigIdRequest),
)
def disable_config(
    actor: Actor = Depends(current_actor),
    rt: Runtime = Depends(runtime),
    body: dict[str, Any] = Depends(json_body),
) -> JSONResponse:
    return _set_status(rt, actor, body, configs.DISABLED)


def _set_status(rt: Runtime, actor: Actor, body: dict[str, Any], status: str) -> JSONResponse:
    actor.require_write()
    changed = configs.set_config_status(rt, actor, required_int(body, "id"), status)
    return ok({"configs": wire.config(changed, rt.catalog)})
