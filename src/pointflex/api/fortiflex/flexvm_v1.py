"""The legacy v1 paths still called by Terraform and Ansible (spec §1, §4.20; C12).

Terraform and Ansible call ``/ES/api/flexvm/v1/groups/list`` when no account id is configured
(Terraform may still send ``accountId: 0``, which means "not set"). Older releases of both also
call ``/ES/api/flexvm/v1/groups/nexttoken`` without an account id; it is served with the v2
behaviour and request model, under the v2 data key ``entitlements`` (both clients read it).
"""

from __future__ import annotations

from fastapi import Body, Depends
from fastapi.responses import JSONResponse
from pydantic import ConfigDict

from pointflex.api.deps import current_actor, runtime
from pointflex.api.envelope import ok
from pointflex.api.fortiflex import wire
from pointflex.api.fortiflex.groups import NextTokenRequest, next_token_reply
from pointflex.api.fortiflex.inputs import WireRequest
from pointflex.api.fortiflex.routing import wire_router
from pointflex.bootstrap import Runtime
from pointflex.services.context import Actor
from pointflex.services.entitlements import groups

router = wire_router("groups")


class V1GroupsListRequest(WireRequest):
    """Any field (such as Terraform's ``accountId: 0``) is ignored."""

    model_config = ConfigDict(
        title="flexvm/v1 groups/list request (no fields)", json_schema_extra={"example": {}}
    )


@router.post(
    "/groups/list",
    summary="List FortiFlex groups (asset folders) of every account in scope (legacy v1)",
)
def list_groups(
    body: V1GroupsListRequest = Body(default_factory=V1GroupsListRequest),
    actor: Actor = Depends(current_actor),
    rt: Runtime = Depends(runtime),
) -> JSONResponse:
    del body  # read for its validity only
    return ok({"groups": [wire.group(g) for g in groups.list_groups(rt, actor)]})


@router.post(
    "/groups/nexttoken",
    summary="Get the next available (unused) token (legacy v1; same as v2)",
)
def next_token(
    body: NextTokenRequest,
    actor: Actor = Depends(current_actor),
    rt: Runtime = Depends(runtime),
) -> JSONResponse:
    return next_token_reply(rt, actor, body)
