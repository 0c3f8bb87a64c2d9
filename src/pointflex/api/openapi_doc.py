"""What pointflex's own OpenAPI document says about replies, beyond what FastAPI infers.

The routes answer with hand-built ``JSONResponse``s (the FortiFlex envelope), so FastAPI knows
neither their bodies nor the error statuses: left alone, the document promised a bare 200 with
any body, and every 400/401/404 the API gives by design was undocumented. This module adds, in
one place, the envelope schemas (spec §3.2, §3.3; the OAuth replies of spec §2), the error
statuses each group of paths can answer, and the bearer scheme of the FortiFlex paths.
A 5xx is never documented: it is a bug. The document is OpenAPI 3.1 (JSON Schema 2020-12).

Request bodies come from the routes' request models (api/fortiflex/inputs), which FastAPI
places under ``components``; each is moved into its operation, so that the fields of a call
are read where the call is, by people and by tools that do not follow references.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from pointflex.api.fortiflex import replies
from pointflex.api.paths import FORTIFLEX_V2

SUCCESS = "Success"
FAILURE = "Failure"
OAUTH_SUCCESS = "OAuthToken"
OAUTH_FAILURE = "OAuthFailure"
BEARER = "bearer"
_COMPONENT = "#/components/schemas/"

_ERROR_OBJECT = {
    "type": "object",
    "required": ["errorCode", "message"],
    "properties": {"errorCode": {"type": "integer"}, "message": {"type": "string"}},
}
SCHEMAS: dict[str, dict[str, Any]] = {
    SUCCESS: {
        "type": "object",
        "description": "Spec §3.2: status 0, error null, then the call's data keys.",
        "required": ["status", "message", "error"],
        "properties": {
            "status": {"type": "integer", "enum": [0]},
            "message": {"type": "string"},
            "error": {"type": "null"},
        },
    },
    FAILURE: {
        "type": "object",
        "description": "Spec §3.3: status -1 and an error object; §2.5: an expired or unknown "
        "bearer token gets error null.",
        "required": ["status", "message", "error"],
        "properties": {
            "status": {"type": "integer", "enum": [-1]},
            "message": {"type": "string"},
            "error": {"anyOf": [_ERROR_OBJECT, {"type": "null"}]},
        },
        "additionalProperties": False,
    },
    OAUTH_SUCCESS: {
        "type": "object",
        "required": ["access_token", "expires_in", "token_type", "refresh_token", "status"],
        "properties": {
            "access_token": {"type": "string"},
            "expires_in": {"type": "integer"},
            "token_type": {"type": "string", "enum": ["Bearer"]},
            "scope": {"type": "string"},
            "refresh_token": {"type": "string"},
            "message": {"type": "string"},
            "status": {"type": "string", "enum": ["success"]},
        },
    },
    OAUTH_FAILURE: {
        "type": "object",
        "required": ["error", "error_description", "status", "message"],
        "properties": {
            "error": {"type": "string"},
            "error_description": {"type": "string"},
            "status": {"type": "string", "enum": ["error"]},
            "message": {"type": "string"},
        },
    },
}

_VERIFY_OK = {
    "type": "object",
    "required": ["status", "message", "expires_in"],
    "properties": {
        "status": {"type": "string", "enum": ["success"]},
        "message": {"type": "string"},
        "expires_in": {"type": "integer"},
    },
}
_KEYS = {
    "type": "object",
    "required": ["keys"],
    "properties": {"keys": {"type": "array", "items": {"type": "object"}}},
}

# Error statuses by path prefix (first match wins): what the error handlers, the rate limit and
# the Idempotency-Key middleware can answer there. 401 behind a bearer is the §2.5 reply.
_FORTIFLEX_ERRORS: tuple[str, ...] = ("400", "401", "403", "404", "409", "429")
# The paths behind a bearer token: the FortiFlex API and pointflex's own (forecasts, ...).
BEARER_PREFIXES = ("/ES/api/", "/api/pointflex/")
_LICENCE_ERRORS: tuple[str, ...] = ("400", "403", "404", "409", "429")
# The FortiFlex v2 replies come from pointflex's wire record (api/fortiflex/replies.py).
V2_PREFIX = "FortiFlex"


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the generated document with the additions above."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = FastAPI.openapi(app)
            describe(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def describe(document: dict[str, Any]) -> None:
    components = document.setdefault("components", {})
    _inline_request_bodies(document, components.setdefault("schemas", {}))
    components["schemas"].update(SCHEMAS)
    v2_components, v2_replies = replies.openapi_components(V2_PREFIX)
    components["schemas"].update(v2_components)
    components.setdefault("securitySchemes", {})[BEARER] = {"type": "http", "scheme": "bearer"}
    for path, item in document.get("paths", {}).items():
        for operation in item.values():
            _describe_operation(path, operation, v2_replies)
    _drop_unreferenced(document)


def _describe_operation(path: str, operation: dict[str, Any], v2_replies: dict[str, str]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    errors: tuple[str, ...]
    if path == "/api/v1/oauth/token":
        success, failure, errors = _ref(OAUTH_SUCCESS), _ref(OAUTH_FAILURE), ("400", "401", "429")
    elif path == "/api/v1/oauth/verify_token":
        success, failure, errors = _VERIFY_OK, _ref(OAUTH_FAILURE), ("401",)
    elif path.endswith("/keys") or path.endswith("/keys.json"):
        success, failure, errors = _KEYS, _ref(FAILURE), ()
    elif path.startswith(BEARER_PREFIXES):
        v2 = path.startswith(FORTIFLEX_V2)
        success = _ref(v2_replies[path.removeprefix(FORTIFLEX_V2)] if v2 else SUCCESS)
        failure, errors = _ref(FAILURE), _FORTIFLEX_ERRORS
        operation["security"] = [{BEARER: []}]
    else:
        success, failure, errors = _ref(SUCCESS), _ref(FAILURE), _LICENCE_ERRORS
    responses["200"] = _reply("Success", success)
    # FastAPI documents 422 for its own validation; api/errors.py answers that with a 400.
    responses.pop("422", None)
    for status in errors:
        responses.setdefault(status, _reply("Refused; see the error envelope", failure))


def _inline_request_bodies(document: dict[str, Any], schemas: dict[str, Any]) -> None:
    for item in document.get("paths", {}).values():
        for operation in item.values():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                if "schema" in media:
                    media["schema"] = _resolved(media["schema"], schemas)


def _resolved(node: Any, schemas: dict[str, Any]) -> Any:
    """``node`` with every component reference replaced by the component (none is recursive:
    request models hold wire types, not other models)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_COMPONENT):
            return _resolved(schemas[ref.removeprefix(_COMPONENT)], schemas)
        return {key: _resolved(value, schemas) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolved(item, schemas) for item in node]
    return node


def _drop_unreferenced(document: dict[str, Any]) -> None:
    """Keep only the components the paths reach. The others (the inlined request models,
    FastAPI's 422 error shapes, whose 422s are gone, and what it derives from the decoded
    types of request fields, such as RequestedEnd) describe nothing a client sends or gets."""
    schemas: dict[str, Any] = document["components"]["schemas"]
    reached: set[str] = set()
    pending = _references(document.get("paths", {}))
    while pending:
        name = pending.pop()
        if name not in reached and name in schemas:
            reached.add(name)
            pending |= _references(schemas[name])
    for name in set(schemas) - reached:
        del schemas[name]


def _references(node: Any) -> set[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        found = {ref.removeprefix(_COMPONENT)} if isinstance(ref, str) else set()
        return found.union(*(_references(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_references(item) for item in node))
    return set()


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"{_COMPONENT}{name}"}


def _reply(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}
