"""``/api/license/v1`` and ``/.well-known/pointflex/keys.json`` (docs/licence-protocol.md).

No authentication: the token is the credential of an activation, the licence id of a
validation, and the keys are public. These paths are outside ``/ES/api/``, so the per-API-user
rate limit and the Idempotency-Key handling (both keyed by API user) leave them alone; token
guessing is throttled per client address by the service instead. Errors use the envelope of
every pointflex reply; licences and answers are signed, errors are not (they grant nothing).
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pointflex.api.deps import json_body, request_id, runtime
from pointflex.api.envelope import ok
from pointflex.bootstrap import Runtime
from pointflex.domain import licensing
from pointflex.errors import InvalidInput
from pointflex.services.licensing import licences
from pointflex.signing.keys import keyring

router = APIRouter(tags=["licences"])

PREFIX = "/api/license/v1"
KEYS_CACHE = "public, max-age=60"  # short: a client meeting an unknown kid fetches again
_NONCE = "16 to 128 characters of A-Z a-z 0-9 _ -, fresh for every request; echoed signed"


class ActivateRequest(BaseModel):
    model_config = ConfigDict(
        title="licence activation",
        json_schema_extra={
            "examples": [
                {
                    "token": "D42B57491175A7B9BAD8",
                    "instanceId": "4c9e2f0a-7d1b-4e8a-9f3c-2b6d5e1a0c47",
                    "productVersion": "7.2.3",
                    "hardwareVcpus": 4,
                    "nonce": "q8Zk3vT1xW9yLmN2pR5s",
                }
            ]
        },
    )

    token: str = Field(min_length=1, max_length=licensing.MAX_TOKEN, description="the VM token")
    instanceId: str = Field(
        min_length=1,
        max_length=licensing.MAX_INSTANCE_ID,
        description="the instance's fingerprint; a retry must send the same one",
    )
    productVersion: str | None = Field(None, max_length=licensing.MAX_PRODUCT_VERSION)
    hardwareVcpus: int | None = Field(None, ge=1, le=licences.MAX_HARDWARE_VCPUS)
    nonce: str = Field(pattern=licensing.NONCE.pattern, description=_NONCE)


class ValidateRequest(BaseModel):
    model_config = ConfigDict(
        title="licence validation",
        json_schema_extra={
            "description": "Hardware devices, which hold no licence, leave licenceId out.",
            "examples": [
                {
                    "licenceId": "lic_0f4e9a8b7c6d5e4f3a2b1c0d9e8f7a6b",
                    "serialNumber": "FGVMMLTM26000001",
                    "instanceId": "4c9e2f0a-7d1b-4e8a-9f3c-2b6d5e1a0c47",
                    "nonce": "Vb7Qm2Xc9Lp4Rt6Wz8Ny",
                    "productVersion": "7.2.3",
                }
            ],
        },
    )

    licenceId: str | None = Field(None, max_length=40)
    serialNumber: str = Field(min_length=1, max_length=40)
    instanceId: str = Field(min_length=1, max_length=licensing.MAX_INSTANCE_ID)
    nonce: str = Field(pattern=licensing.NONCE.pattern, description=_NONCE)
    productVersion: str | None = Field(None, max_length=licensing.MAX_PRODUCT_VERSION)


Model = TypeVar("Model", bound=BaseModel)


def _documented_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` describing a body that ``_decode`` reads (no FastAPI body parameter:
    the licence routes keep pydantic's own wording in their refusals, ``field: message``)."""
    schema = {"application/json": {"schema": model.model_json_schema()}}
    return {"requestBody": {"required": True, "content": schema}}


def _decode(model: type[Model], body: dict[str, Any]) -> Model:
    """The body as ``model``, or a 400 naming the first bad field.

    Bodies are read leniently (``json_body``: JSON whatever the Content-Type, as the FortiFlex
    routes do), so an agent sending ``text/plain`` or no header at all is understood.
    """
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise InvalidInput(f"{where}: {first['msg']}") from None


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


@router.post(
    f"{PREFIX}/activate",
    summary="Redeem a token for an instance; a signed licence",
    openapi_extra=_documented_body(ActivateRequest),
)
def activate(
    request: Request, raw: dict[str, Any] = Depends(json_body), rt: Runtime = Depends(runtime)
) -> JSONResponse:
    body = _decode(ActivateRequest, raw)
    document = licences.activate(
        rt,
        body.token,
        body.instanceId,
        body.productVersion,
        body.hardwareVcpus,
        body.nonce,
        _address(request),
        request_id=request_id(request),
    )
    return ok({"licence": document})


@router.post(
    f"{PREFIX}/validate",
    summary="Check a licence; a signed answer with a verdict",
    openapi_extra=_documented_body(ValidateRequest),
)
def validate(
    request: Request, raw: dict[str, Any] = Depends(json_body), rt: Runtime = Depends(runtime)
) -> JSONResponse:
    body = _decode(ValidateRequest, raw)
    document = licences.validate(
        rt,
        body.licenceId,
        body.serialNumber,
        body.instanceId,
        body.nonce,
        body.productVersion,
        _address(request),
        request_id=request_id(request),
    )
    return ok({"answer": document})


@router.get(f"{PREFIX}/keys", summary="The public keys that sign licences and answers")
def keys(rt: Runtime = Depends(runtime)) -> JSONResponse:
    return _keys(rt)


@router.get("/.well-known/pointflex/keys.json", summary="The public keys (well-known location)")
def well_known_keys(rt: Runtime = Depends(runtime)) -> JSONResponse:
    return _keys(rt)


def _keys(rt: Runtime) -> JSONResponse:
    document = {"keys": [key.document() for key in keyring(rt).public_keys()]}
    return JSONResponse(document, headers={"Cache-Control": KEYS_CACHE})
