"""groups/list and groups/nexttoken (spec §4.19, §4.21; C11, C21; Q2, Q20; R36)."""

from __future__ import annotations

from fastapi import Depends
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field

from pointflex.api.deps import current_actor, runtime
from pointflex.api.envelope import ok
from pointflex.api.fortiflex import wire
from pointflex.api.fortiflex.inputs import (
    WireInt,
    WireOptionalId,
    WireOptionalStringList,
    WireRequest,
    WireText,
)
from pointflex.api.fortiflex.routing import wire_router
from pointflex.bootstrap import Runtime
from pointflex.services.context import Actor
from pointflex.services.entitlements import groups

router = wire_router("groups")

_ANSIBLE = "; Ansible declares it a string"


class GroupsListRequest(WireRequest):
    model_config = ConfigDict(
        title="groups/list request", json_schema_extra={"example": {"accountId": 12345}}
    )

    accountId: WireInt = Field(description="the account whose asset folders to list" + _ANSIBLE)


class NextTokenRequest(WireRequest):
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

    configId: WireOptionalId = Field(
        None,
        description="configuration id; configId and/or folderPath is required "
        '(0 is Terraform\'s "not set")',
    )
    folderPath: WireText = Field(
        None, description="exact asset folder, e.g. 'My Assets/Department A'"
    )
    accountId: WireOptionalId = Field(
        None, description="only this account (0 or absent: every account in scope)" + _ANSIBLE
    )
    status: WireOptionalStringList = Field(
        default_factory=list,
        description="entitlement statuses that qualify, e.g. ['ACTIVE', 'PENDING']; "
        "a single string is accepted",
    )


@router.post(
    "/groups/list",
    summary="List FortiFlex groups (asset folders) of an account with token counts",
)
def list_groups(
    body: GroupsListRequest,
    actor: Actor = Depends(current_actor),
    rt: Runtime = Depends(runtime),
) -> JSONResponse:
    found = [wire.group(g) for g in groups.list_groups(rt, actor, body.accountId)]
    # Q2: the OAS, Terraform, Ansible and SOAR read "groups"; pyfortiflex reads the other key.
    return ok({"groups": found, "fortiCareAssetGroups": found})


@router.post(
    "/groups/nexttoken",
    summary="Get the next available (unused) token of a folder and/or configuration",
)
def next_token(
    body: NextTokenRequest,
    actor: Actor = Depends(current_actor),
    rt: Runtime = Depends(runtime),
) -> JSONResponse:
    return next_token_reply(rt, actor, body)


def next_token_reply(rt: Runtime, actor: Actor, body: NextTokenRequest) -> JSONResponse:
    """Shared with the legacy v1 path: a 1-item ``entitlements`` list (§4.21)."""
    found = groups.next_token(
        rt,
        actor,
        config_id=body.configId,
        folder_path=body.folderPath,
        account_id=body.accountId,
        statuses=body.status,
    )
    return ok({"entitlements": [wire.entitlement(found)]})
