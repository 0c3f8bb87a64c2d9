"""groups/list and groups/nexttoken (spec §4.19, §4.21; C11, C21; Q2, Q20; R36)."""

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
    required_int,
    string_list,
)
from pointflex.bootstrap import Runtime
from pointflex.services.context import Actor
from pointflex.services.entitlements import groups

router = APIRouter(tags=["groups"])

_ID = "integer, or a numeric string (Ansible declares it a string)"


class GroupsListRequest(BaseModel):
    model_config = ConfigDict(
        title="groups/list request", json_schema_extra={"example": {"accountId": 12345}}
    )

    accountId: int | str = Field(description="the account whose asset folders to list; " + _ID)


class NextTokenRequest(BaseModel):
    model_config = ConfigDict(
        title="groups/nexttoken request",
        json_schema_extra={
            "example": {
                "accountId": 12345,
                "folderPath": "My Assets/Department A/FortiFlex Group 1",
                "configId": 12,
                "status": ["ACTIVE", "PENDING"],
            }
        },
    )

    configId: int | str | None = Field(
        None, description="configuration id; configId and/or folderPath is required. " + _ID
    )
    folderPath: str | None = Field(
        None, description="exact asset folder, e.g. 'My Assets/Department A'"
    )
    accountId: int | str | None = Field(
        None, description="only this account (0 or absent: every account in scope). " + _ID
    )
    status: list[str] | str | None = Field(
        None,
        description="entitlement statuses that qualify, e.g. ['ACTIVE', 'PENDING']; "
        "a single string is accepted",
    )


@router.post(
    "/groups/list",
    summary="List FortiFlex groups (asset folders) of an account with token counts",
    openapi_extra=documented_body(GroupsListRequest),
)
def list_groups(
    actor: Actor = Depends(current_actor),
    rt: Runtime = Depends(runtime),
    body: dict[str, Any] = Depends(json_body),
) -> JSONResponse:
    found = [wire.group(g) for g in groups.list_groups(rt, actor, required_int(body, "accountId"))]
    # Q2: the OAS, Terraform, Ansible and SOAR read "groups"; pyfortiflex reads the other key.
    return ok({"groups": found, "fortiCareAssetGroups": found})


@router.post(
    "/groups/nexttoken",
    summary="Get the next available (unused) token of a folder and/or configuration",
    openapi_extra=documented_body(NextTokenRequest),
)
def next_token(
    actor: Actor = Depends(current_actor),
    rt: Runtime = Depends(runtime),
    body: dict[str, Any] = Depends(json_body),
) -> JSONResponse:
    return next_token_reply(rt, actor, body)


def next_token_reply(rt: Runtime, actor: Actor, body: dict[str, Any]) -> JSONResponse:
    """Shared with the legacy v1 path: a 1-item ``entitlements`` list (§4.21)."""
    found = groups.next_token(
        rt,
        actor,
        config_id=optional_int(body, "configId") or None,  # Terraform sends 0 for "not set"
        folder_path=optional_str(body, "folderPath"),
        account_id=optional_int(body, "accountId") or None,
        statuses=string_list(body, "status", required=False),
    )
    return ok({"entitlements": [wire.entitlement(found)]})
