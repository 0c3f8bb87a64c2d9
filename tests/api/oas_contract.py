"""The published FortiFlex v2 OpenAPI documents as JSON Schema, for contract tests.

The five documents (programs, configurations, entitlements, groups, tools) live outside this
repository (tests/reference_documents: ``POINTFLEX_FORTIFLEX_OAS_DIR``, by default
``<repo>/../shared/reference/fortiflex-api-v2/``). They are read unchanged. Tests that read them
carry the ``fortiflex_reference`` marker and are deselected, with the reason printed, when the
documents are absent (CI makes that a failure); an unmarked test that reads them FAILS.

The documents are OpenAPI 3.0 with their schemas under a top-level ``definitions`` key and refs
written ``#/definitions/...``. Each document becomes ``referencing`` resources (one per
"flavour", below) in one registry, so those refs resolve inside the document they appear in.
Schemas are validated with a Draft 2020-12 validator that keeps Draft 4's type checker: OAS 3.0
schemas are a Draft 4 dialect, where ``integer`` means a JSON integer (``22.0`` is not one).

OAS 3.0 → JSON Schema: the translation is exactly this, nothing else is loosened
-----------------------------------------------------------------------------------
T1 ``nullable: true`` (OAS 3.0 only) → ``null`` is one more allowed type (metadata min/max/step).
T2 ``"properties": []`` (a PHP empty array in programs/list and tools/metadata request bodies;
   spec §3.1) is an empty ``properties`` object; as an array it is not a valid JSON Schema.
T3 ``format: date-time`` is NOT checked as RFC 3339: FortiFlex dates are ``YYYY-MM-DD HH:MM:SS``
   (spec §5.1, §5.6, §7 and every OAS example). No format checker is installed; in responses
   each ``date-time`` string must instead match ``WIRE_DATE`` exactly. Request dates stay
   unconstrained: §7 accepts many input forms and the OAS request examples use ``YYYY-MM-DD``.
T4 ``commonResponseFields`` types ``error`` as a string, yet every success example in the same
   documents sends ``"error": null`` and spec §3.3 (Q6) sends an object on failure. In response
   schemas it becomes what the spec says, not "anything": ``status``, ``message`` and ``error``
   are present (§3.2: ``status`` is in every body); with ``status`` 0, ``error`` is ``null``
   (§3.2); otherwise it is ``{"errorCode": int, "message": str}`` and nothing else (§3.3).
   The one failure whose ``error`` is null, the invalid-token reply of §2.5, is compared byte
   for byte by tests/api/test_programs_api.py, not through this schema.
T5 A 200 reply is a success: its ``status`` is 0 (§3.2).

Where ``../shared/spec/fortiflex-api.md`` (the authority) overrides a document, the override is
listed in ``SPEC_OVERRIDES`` or ``ALLOWED_EXTRA_KEYS`` below, each with its reason, and only
replies are checked against the overridden ("contract") schema; the documents' own examples are
checked against the translated documents alone (``contract=False``).
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from jsonschema.protocols import Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from tests import reference_documents
from tests.api import wire_record

if TYPE_CHECKING:
    from referencing._core import Resolver  # the type of Registry.resolver(); hints only

REPO_ROOT = Path(__file__).resolve().parents[2]

# Every path of every document; test_contract_schemas_api checks the documents list exactly these.
PATHS: dict[str, tuple[str, ...]] = {
    "programs": ("/programs/list", "/programs/points"),
    "configurations": (
        "/configs/list",
        "/configs/create",
        "/configs/update",
        "/configs/disable",
        "/configs/enable",
    ),
    "entitlements": (
        "/entitlements/list",
        "/entitlements/vm/create",
        "/entitlements/vm/token",
        "/entitlements/hardware/create",
        "/entitlements/hardware/remove",
        "/entitlements/cloud/create",
        "/entitlements/update",
        "/entitlements/stop",
        "/entitlements/reactivate",
        "/entitlements/points",
        "/entitlements/transfer",
    ),
    "groups": ("/groups/list", "/groups/nexttoken"),
    "tools": ("/tools/calc", "/tools/metadata"),
}

WIRE_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"
WIRE_DATE = re.compile(WIRE_DATE_PATTERN)

# §3.3 / Q6: the ``error`` object of a failure, exactly these two keys.
ERROR_OBJECT: dict[str, Any] = {
    "type": "object",
    "required": ["errorCode", "message"],
    "properties": {"errorCode": {"type": "integer"}, "message": {"type": "string"}},
    "additionalProperties": False,
}

# OAS 3.0 is a Draft 4 dialect: keep Draft 4's types (no 22.0 for an integer, no bool for one)
# under a 2020-12 validator (for if/then/else, const and unevaluatedProperties in T4/T5).
OasValidator = wire_record.StrictValidator


# --------------------------------------------------------------------------- spec overrides


@dataclass(frozen=True)
class Override:
    """One place where the spec md overrides a document's 200 schema (written as OAS 3.0).

    ``pointer`` is relative to the path's 200 schema; ``was`` is what the document says there
    (checked, so an edited document cannot slip past the override unnoticed).
    """

    document: str
    path: str
    pointer: str
    was: Any
    becomes: Any
    reason: str


_CONFIG_OBJECT = {"type": "object", "properties": {"configs": {"$ref": "#/definitions/configItem"}}}
_CONFIG_OBJECT_REASON = (
    "spec §3.2 (data-key table), §4.4–§4.6, Q1, C10: configs/create|update|enable|disable "
    "answer with ONE Config object under `configs`; the OAS examples show a 1-item list, "
    "which the Ansible collection and the Python client cannot read"
)

SPEC_OVERRIDES: tuple[Override, ...] = (
    *(
        Override(
            "configurations",
            path,
            "/allOf/1",
            {"$ref": "#/definitions/configsArray"},
            _CONFIG_OBJECT,
            _CONFIG_OBJECT_REASON,
        )
        for path in ("/configs/create", "/configs/update", "/configs/enable", "/configs/disable")
    ),
    Override(
        "entitlements",
        "/entitlements/transfer",
        "/allOf/1",
        {"$ref": "#/definitions/entitlementPointsArray"},
        {"$ref": "#/definitions/entitlementsArray"},
        "spec §4.18: transfer answers with the moved Entitlements (new accountId/configId); the "
        "OAS example shows Entitlement items, its schema names the PointsRecord array",
    ),
    Override(
        "tools",
        "/tools/calc",
        "/allOf/1/properties/points/properties/latest",
        {"type": "number"},
        {"type": "number", "nullable": True},
        "spec §4.22 CalcResult: `latest` is number|null (null: no later price list)",
    ),
    Override(
        "tools",
        "/tools/calc",
        "/allOf/1/properties/points/properties/latestEffectiveDate",
        {"type": "string", "format": "date-time"},
        {"type": "string", "format": "date-time", "nullable": True},
        "spec §4.22 CalcResult: `latestEffectiveDate` is string|null",
    ),
)

# Keys pointflex sends that the document's 200 schema does not name, as JSON paths. Each one
# is a key the spec md adds; its value must equal its twin's (TWIN_KEYS). Any other key fails.
ALLOWED_EXTRA_KEYS: dict[str, frozenset[str]] = {
    # §3.2, §4.19, Q2, C11: pyfortiflex reads `fortiCareAssetGroups`, everyone else `groups`.
    "/groups/list": frozenset({"$.fortiCareAssetGroups"}),
    # §3.2, §4.22, Q3, C14: the OAS names the CalcResult `points`, the Ansible sample `configs`.
    "/tools/calc": frozenset({"$.configs"}),
}
TWIN_KEYS: dict[str, tuple[str, str]] = {
    "/groups/list": ("fortiCareAssetGroups", "groups"),
    "/tools/calc": ("configs", "points"),
}


# --------------------------------------------------------------------------- documents


@dataclass(frozen=True)
class Document:
    """One OpenAPI document and its registry: one resource per flavour (see ``flavour_uri``)."""

    name: str
    contents: dict[str, Any]
    registry: Registry[Any]

    def uri(self, flavour: str) -> str:
        return flavour_uri(self.name, flavour)

    def operation(self, path: str) -> dict[str, Any]:
        path = normal_path(path)
        try:
            operation: dict[str, Any] = self.contents["paths"][path]["post"]
        except KeyError:
            raise AssertionError(f"{self.name}.openapi.json has no POST {path}") from None
        return operation

    def resolver(self, flavour: str) -> Resolver[Any]:
        return self.registry.resolver(self.uri(flavour))


def flavour_uri(name: str, flavour: str) -> str:
    """``request``: T1, T2. ``oas``: T1–T5 (replies). ``contract``: ``oas`` + SPEC_OVERRIDES."""
    return f"urn:fortiflex-oas:{name}:{flavour}"


def normal_path(path: str) -> str:
    return "/" + path.strip("/")


def document_of(path: str) -> str:
    """The document that describes ``path``."""
    path = normal_path(path)
    for name, paths in PATHS.items():
        if path in paths:
            return name
    raise KeyError(path)


def require_reference_folder() -> Path:
    """The documents' folder, or a test FAILURE that says where it was looked for."""
    reason = reference_documents.why_unavailable()
    if reason is not None:
        pytest.fail(
            f"The FortiFlex OpenAPI documents are missing: {reason}. Set "
            f"{reference_documents.DIR_VARIABLE}, or lay `shared/` beside the repository; "
            f"a test that reads them must carry the {reference_documents.MARKER} marker.",
            pytrace=False,
        )
    return reference_documents.folder()


@functools.cache
def _load(name: str) -> Document:
    file = require_reference_folder() / f"{name}.openapi.json"
    if not file.is_file():
        pytest.fail(f"{file} is missing from the FortiFlex OpenAPI reference folder")
    contents = json.loads(file.read_text(encoding="utf-8"))
    request = _translate(contents, response=False)
    oas = _translate(contents, response=True)
    contract = _translate(_apply_overrides(name, contents), response=True)
    registry: Registry[Any] = Registry().with_resources(
        (flavour_uri(name, flavour), DRAFT202012.create_resource(body))
        for flavour, body in (("request", request), ("oas", oas), ("contract", contract))
    )
    return Document(name, contents, registry.crawl())


def load(name: str) -> Document:
    """A document by name (``programs``, ``configurations``, ``entitlements``, ...)."""
    if name not in PATHS:
        raise KeyError(name)
    return _load(name)


def load_for(path: str) -> Document:
    return load(document_of(path))


def _pointer(*parts: str) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _schema_pointer(path: str, where: str) -> str:
    """JSON pointer (in the document) of ``path``'s request schema or 200/other schema."""
    path = normal_path(path)
    if where == "request":
        return _pointer("paths", path, "post", "requestBody", "content", "application/json")
    return _pointer("paths", path, "post", "responses", where, "content", "application/json")


def _translate(  # noqa: C901 — T1–T4 side by side, in the order the contract notes list them
    contents: dict[str, Any], *, response: bool
) -> dict[str, Any]:
    """T1–T4 on a copy of the whole document (T3's pattern and T4 only for responses)."""

    def schema(node: Any) -> Any:
        if isinstance(node, list):  # allOf members
            return [schema(item) for item in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "example":  # data, not a schema: copied untouched
                out[key] = copy.deepcopy(value)
            elif key == "properties":
                # T2: a PHP empty array is an empty mapping; names are not schemas themselves.
                out[key] = {name: schema(sub) for name, sub in value.items()} if value else {}
            else:
                out[key] = schema(value)
        if out.pop("nullable", False) is True:  # T1
            if isinstance(out.get("type"), str):
                out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        if response and out.get("format") == "date-time":  # T3
            out["pattern"] = WIRE_DATE_PATTERN
        return out

    # Only `definitions` and the operations' schemas are schemas in use; the `components`
    # section some documents also carry is an unreferenced leftover and stays as it is.
    translated = copy.deepcopy(contents)
    translated["definitions"] = {
        name: schema(sub) for name, sub in contents.get("definitions", {}).items()
    }
    for item in translated["paths"].values():
        operation = item["post"]
        for media in _media(operation):
            media["schema"] = schema(media["schema"])
    if response:  # T4
        common = translated["definitions"]["commonResponseFields"]
        assert common["properties"]["error"] == {"type": "string"}, common
        common["required"] = ["status", "message", "error"]
        common["if"] = {"properties": {"status": {"const": 0}}}  # no status: `required` says so
        common["then"] = {"properties": {"error": {"type": "null"}}}
        common["else"] = {"properties": {"error": ERROR_OBJECT}}
        common["properties"]["error"] = {"type": ["null", "object"]}
    return translated


def _media(operation: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The ``application/json`` media objects (request and every response) of an operation."""
    bodies = [operation.get("requestBody", {}), *operation.get("responses", {}).values()]
    for body in bodies:
        media = body.get("content", {}).get("application/json")
        if media is not None and "schema" in media:
            yield media


def _apply_overrides(name: str, contents: dict[str, Any]) -> dict[str, Any]:
    patched = copy.deepcopy(contents)
    for override in SPEC_OVERRIDES:
        if override.document != name:
            continue
        schema = patched["paths"][override.path]["post"]["responses"]["200"]["content"]
        schema = schema["application/json"]["schema"]
        *parents, last = [p for p in override.pointer.split("/") if p]
        node: Any = schema
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        key: Any = int(last) if isinstance(node, list) else last
        assert node[key] == override.was, (override, node[key])
        node[key] = copy.deepcopy(override.becomes)
    return patched


# --------------------------------------------------------------------------- schemas


def response_schema(
    doc: Document, path: str, status: str = "200", *, contract: bool = True
) -> dict[str, Any]:
    """The schema of ``path``'s reply with HTTP ``status``, as a ``$ref`` into the registry.

    ``contract=True``: the document as translated (T1–T5) with the spec md's overrides;
    ``contract=False``: the translated document alone (for the document's own examples).
    """
    doc.operation(path)  # a clear error for an unknown path
    flavour = "contract" if contract else "oas"
    ref = f"{doc.uri(flavour)}#{_schema_pointer(path, status)}/schema"
    if status == "200":  # T5
        return {"$ref": ref, "properties": {"status": {"const": 0}}}
    return {"$ref": ref}


def request_schema(doc: Document, path: str) -> dict[str, Any]:
    """The schema of ``path``'s request body (T1, T2 only; request dates are unconstrained)."""
    doc.operation(path)
    return {"$ref": f"{doc.uri('request')}#{_schema_pointer(path, 'request')}/schema"}


def error_schema(doc: Document) -> dict[str, Any]:
    """The failure envelope of spec §3.3 on the document's ``commonResponseFields`` (T4):
    ``{"status": -1, "message": str, "error": {"errorCode": int, "message": str}}``, no data key.
    """
    return {
        "$ref": f"{doc.uri('oas')}#/definitions/commonResponseFields",
        "properties": {"status": {"const": -1}, "error": {"type": "object"}},
        "unevaluatedProperties": False,
    }


def response_example(doc: Document, path: str, status: str = "200") -> Any:
    media = doc.operation(path)["responses"][status]["content"]["application/json"]
    return media["schema"]["example"]


def request_example(doc: Document, path: str) -> Any:
    return doc.operation(path)["requestBody"]["content"]["application/json"]["schema"]["example"]


def validator(doc: Document, schema: dict[str, Any]) -> Validator:
    return OasValidator(schema, registry=doc.registry)  # no format_checker: see T3


def errors(doc: Document, schema: dict[str, Any], body: Any) -> list[tuple[str, str]]:
    """Every violation as ``(JSON path, message)``, deepest causes of ``allOf``/``if`` included."""
    return wire_record.violations_of(validator(doc, schema), body)


def _report(title: str, violations: list[tuple[str, str]], body: Any) -> str:
    lines = [f"{title}: {len(violations)} violation(s)"]
    lines += [f"  {where}: {message}" for where, message in violations]
    lines.append("body: " + json.dumps(body, ensure_ascii=False)[:4000])
    return "\n".join(lines)


def assert_matches(
    doc: Document, path: str, body: Any, status: str = "200", *, contract: bool = True
) -> None:
    """``body`` is valid against ``path``'s reply schema; else every violation, by JSON path."""
    violations = errors(doc, response_schema(doc, path, status, contract=contract), body)
    if violations:
        raise AssertionError(_report(f"{doc.name} {normal_path(path)} {status}", violations, body))


def assert_error_envelope(doc: Document, body: Any) -> None:
    violations = errors(doc, error_schema(doc), body)
    if violations:
        raise AssertionError(_report(f"{doc.name} error envelope (§3.3)", violations, body))


# --------------------------------------------------------------------------- key strictness


def key_differences(
    doc: Document, path: str, body: Any, status: str = "200"
) -> tuple[set[str], set[str]]:
    """``(extra, missing)``: keys of ``body`` the contract schema does not name, and keys it
    names that ``body`` lacks, as JSON paths (list items as ``[*]``)."""
    extra: set[str] = set()
    missing: set[str] = set()
    schema = response_schema(doc, path, status)
    _walk(doc.resolver("contract"), schema, body, "$", extra, missing)
    return extra, missing


def _parts(resolver: Resolver[Any], schema: Any) -> Iterator[tuple[Resolver[Any], dict[str, Any]]]:
    """The schema and its ``allOf`` members, ``$ref``s followed."""
    if not isinstance(schema, dict):
        return
    if "$ref" in schema:
        resolved = resolver.lookup(schema["$ref"])
        yield from _parts(resolved.resolver, resolved.contents)
    yield resolver, schema
    for member in schema.get("allOf", []):
        yield from _parts(resolver, member)


def _walk(  # noqa: C901 — one recursive walk over objects and arrays
    resolver: Resolver[Any],
    schema: Any,
    instance: Any,
    where: str,
    extra: set[str],
    missing: set[str],
) -> None:
    parts = list(_parts(resolver, schema))
    if isinstance(instance, dict):
        named: dict[str, list[tuple[Resolver[Any], Any]]] = {}
        for part_resolver, part in parts:
            for key, sub in part.get("properties", {}).items():
                named.setdefault(key, []).append((part_resolver, sub))
        if not named:
            return  # not an object schema: the validator reports the type
        for key, value in instance.items():
            if key not in named:
                extra.add(f"{where}.{key}")
            for sub_resolver, sub in named.get(key, []):
                _walk(sub_resolver, sub, value, f"{where}.{key}", extra, missing)
        missing.update(f"{where}.{key}" for key in named if key not in instance)
    elif isinstance(instance, list):
        for part_resolver, part in parts:
            if "items" in part:
                for item in instance:
                    _walk(part_resolver, part["items"], item, f"{where}[*]", extra, missing)


# --------------------------------------------------------------------------- shapes


def contract_reply_root(doc: Document, path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(translated contract document, path's 200 schema in it)``: refs resolve in the first."""
    contents: dict[str, Any] = doc.registry[doc.uri("contract")].contents
    media = contents["paths"][normal_path(path)]["post"]["responses"]["200"]["content"]
    return contents, media["application/json"]["schema"]
