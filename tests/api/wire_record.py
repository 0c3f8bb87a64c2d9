"""Replies checked against pointflex's own record of the FortiFlex wire shapes.

The record is ``src/pointflex/api/fortiflex/wire_schemas.json``, generated from the models of
``pointflex.api.fortiflex.replies`` and committed. It needs no third-party document, so every
clone checks every reply with it; in CI, tests/api/test_contract_schemas_api compares it with
the FortiFlex reference documents (``shape_of`` on both sides).

Validation uses Draft 2020-12 with Draft 4's type checker, as oas_contract does: ``22.0`` is no
integer and ``true`` no number.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from jsonschema import Draft4Validator, Draft202012Validator
from jsonschema.protocols import Validator
from jsonschema.validators import extend

from pointflex.api.fortiflex import replies

StrictValidator = extend(Draft202012Validator, type_checker=Draft4Validator.TYPE_CHECKER)

# A schema's shape: JSON path (list items as ``[*]``) -> the JSON types allowed there, and the
# set of paths that are required (present in every valid body).
Shape = tuple[dict[str, frozenset[str]], frozenset[str]]


@functools.cache
def record() -> dict[str, Any]:
    return replies.committed()


def schema(path: str) -> dict[str, Any]:
    return replies.reply_schema(record(), "/" + path.strip("/"))


def violations(path: str, body: Any) -> list[tuple[str, str]]:
    return violations_of(StrictValidator(schema(path)), body)


def violations_of(validator: Validator, body: Any) -> list[tuple[str, str]]:
    """Every violation as ``(JSON path, message)``, deepest causes of ``anyOf``, ``allOf`` and
    ``if`` included (shared with oas_contract)."""
    found: list[tuple[str, str]] = []

    def collect(error: Any) -> None:
        if error.context:
            for cause in error.context:
                collect(cause)
        else:
            found.append((error.json_path, error.message))

    for error in validator.iter_errors(body):
        collect(error)
    return sorted(set(found))


def assert_matches(path: str, body: Any) -> None:
    found = violations(path, body)
    if found:
        lines = [f"{path}: {len(found)} violation(s) of pointflex's wire record"]
        lines += [f"  {where}: {message}" for where, message in found]
        lines.append("body: " + json.dumps(body, ensure_ascii=False)[:4000])
        raise AssertionError("\n".join(lines))


def own_shape(path: str) -> Shape:
    """The shape of ``path``'s reply in the record."""
    document = schema(path)

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = document["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        return node

    return collect_shape(document, resolve)


def collect_shape(
    root: dict[str, Any], resolve: Callable[[dict[str, Any]], dict[str, Any]]
) -> Shape:
    """Walk a schema of objects, arrays, ``anyOf`` alternatives and ``allOf`` parts."""
    types: dict[str, set[str]] = {}
    required: set[str] = set()

    def parts(node: dict[str, Any]) -> list[dict[str, Any]]:
        node = resolve(node)
        found = [node]
        for member in node.get("allOf", []):
            found += parts(member)
        return found

    def walk(node: dict[str, Any], where: str) -> None:
        alternatives = [resolve(n) for n in resolve(node).get("anyOf", [])] or [node]
        for alternative in alternatives:
            for part in parts(alternative):
                kinds = part.get("type")
                if kinds is not None:
                    names = [kinds] if isinstance(kinds, str) else list(kinds)
                    types.setdefault(where, set()).update(names)
                for key, sub in part.get("properties", {}).items():
                    if key in part.get("required", ()):
                        required.add(f"{where}.{key}")
                    walk(sub, f"{where}.{key}")
                if "items" in part:
                    walk(part["items"], f"{where}[*]")

    walk(root, "$")
    return {k: frozenset(v) for k, v in types.items()}, frozenset(required)
