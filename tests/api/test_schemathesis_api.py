"""Schemathesis-generated requests against the live server, on a seeded real database.

Two sources of requests, every operation of each, positive and negative data:

* pointflex's own OpenAPI document (``/api/pointflex/openapi.json``): every answer must be
  documented there — status code, content type and body schema (schemathesis's own checks);
* the FortiFlex v2 reference documents (read by tests/api/oas_contract; these tests carry the
  ``fortiflex_reference`` marker and are deselected, with the reason printed, when the documents
  are absent, a failure in CI): a 200 must match the document's reply
  schema as the spec md amends it (oas_contract's translation T1–T5, ``SPEC_OVERRIDES`` and
  ``ALLOWED_EXTRA_KEYS``), and a refusal must be one of spec §3.3's statuses with the §3.3
  error envelope — the documents list only 200, the spec adds the 4xx envelope.

In both, no answer is ever a 5xx. Two of schemathesis's checks are left out on purpose, by
name, rather than the checks being turned off wholesale:

* ``negative_data_rejection``: pointflex accepts what the documents call wrong types on
  purpose (spec §3.4: ids as strings, numbers as strings, ``null`` for absent, ``[]`` for
  ``{}``), so "schema-invalid but accepted" is the contract, not a bug;
* ``positive_data_acceptance``: a schema-valid body may still name an unknown configuration or
  break a business rule, which is a 4xx by design (spec §3.3).

Every request carries an Admin API user's real bearer token (made through the token endpoint);
the own document declares the bearer scheme, so schemathesis's negative cases also drop it
now and then, and the documented 401 (§2.5) must come back. The seeded world, the realistic
ids and the example count (``POINTFLEX_SCHEMATHESIS_EXAMPLES``) are in tests/api/fuzzing.py.
Bugs found this way have plain regression tests in tests/api/test_input_bounds_api.py.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

import pytest
import schemathesis
from schemathesis import Case, Response
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pointflex.asgi import FORTIFLEX_V2, create_app
from pointflex.config import Settings
from tests.api import oas_contract as oas
from tests.api.conftest import Api
from tests.api.fuzzing import Check, Seeded, fuzz, request_document, seed
from tests.live import LiveServer

OWN_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Spec §3.3 (and Q7): the HTTP statuses of a refusal. 401 is absent: every request here carries
# a valid bearer token. 429 is absent too: the rate limit is off for these tests (below).
SPEC_ERROR_STATUSES = frozenset({400, 403, 404, 409})


@functools.cache
def own_schema() -> BaseSchema:
    document = create_app(None).openapi()  # type: ignore[arg-type]  # no runtime needed
    return schemathesis.openapi.from_dict(document)


def own_operations() -> list[tuple[str, str]]:
    found = []
    for result in own_schema().get_all_operations():
        operation = result.ok()
        found.append((operation.method.upper(), operation.path))
    return found


@functools.cache
def reference_schema(name: str) -> BaseSchema:
    """A reference document as schemathesis reads it: the documents' requests translated as
    oas_contract does (T1, T2: ``"properties": []`` is not a JSON Schema), no ``servers``."""
    document = request_document(oas.load(name))
    return schemathesis.openapi.from_dict(document)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The usual test settings with the per-user rate limit off: hundreds of calls from one
    API user in seconds would otherwise meet 429s instead of the code paths under test."""
    return settings.model_copy(update={"rate_limit_per_second": 0})


@pytest.fixture
def seeded(api: Api) -> Seeded:
    return seed(api)


@pytest.mark.parametrize(("method", "path"), own_operations(), ids=str)
def test_own_document_operations_answer_as_documented(
    method: str,
    path: str,
    seeded: Seeded,
    live_server: LiveServer,
) -> None:
    operation = own_schema()[path][method]

    def check(case: Case, reply: Response) -> None:
        case.validate_response(reply, checks=OWN_CHECKS)

    fuzz(operation, seeded, live_server.base_url, check)


REFERENCE_OPERATIONS = [(name, path) for name, paths in oas.PATHS.items() for path in paths]


@pytest.mark.fortiflex_reference
@pytest.mark.parametrize(("name", "path"), REFERENCE_OPERATIONS, ids=str)
def test_reference_document_operations_answer_per_contract(
    name: str,
    path: str,
    seeded: Seeded,
    live_server: LiveServer,
) -> None:
    operation = reference_schema(name)[path]["POST"]
    check = reference_check(path)
    fuzz(operation, seeded, live_server.base_url + FORTIFLEX_V2, check)


def reference_check(path: str) -> Check:
    doc = oas.load_for(path)
    allowed_extra = oas.ALLOWED_EXTRA_KEYS.get(path, frozenset())

    def check(case: Case, reply: Response) -> None:
        sent = json.dumps(case.body, default=str)[:2000]
        assert reply.status_code < 500, f"{reply.status_code} for {sent}: {reply.content!r}"
        body: Any = json.loads(reply.content)
        if reply.status_code == 200:
            oas.assert_matches(doc, path, body)
            extra, missing = oas.key_differences(doc, path, body)
            assert extra == allowed_extra, (extra, sent, body)
            assert missing == set(), (missing, sent, body)
            if path in oas.TWIN_KEYS:
                twin, original = oas.TWIN_KEYS[path]
                assert body[twin] == body[original]
            return
        assert reply.status_code in SPEC_ERROR_STATUSES, (reply.status_code, sent, body)
        oas.assert_error_envelope(doc, body)

    return check


@pytest.mark.fortiflex_reference
def test_reference_requests_never_leave_for_fortinet() -> None:
    """The translated documents keep no ``servers`` entry (Fortinet's production host)."""
    for name in oas.PATHS:
        assert "servers" in oas.load(name).contents  # the original names it...
        assert "servers" not in reference_schema(name).raw_schema  # ...the fuzzed one not


@pytest.mark.fortiflex_reference
def test_request_translation_leaves_the_loaded_document_unchanged() -> None:
    doc = oas.load("programs")
    before = copy.deepcopy(doc.contents)
    request_document(doc)
    assert doc.contents == before


def test_own_document_names_every_refusal_and_no_server_error() -> None:
    """The document states the error envelope and statuses (api/openapi_doc.py), so the
    schemathesis checks above hold answers to something; a 5xx is never documented."""
    document = create_app(None).openapi()  # type: ignore[arg-type]
    failure = {"$ref": "#/components/schemas/Failure"}
    for path, item in document["paths"].items():
        for operation in item.values():
            statuses = set(operation["responses"])
            assert not any(s.startswith("5") for s in statuses), (path, statuses)
            assert "422" not in statuses, path  # validation errors are answered with 400
            if path.startswith("/ES/api/"):
                assert operation["security"] == [{"bearer": []}], path
                assert {"400", "401", "403", "404", "409", "429"} <= statuses, path
                refusal = operation["responses"]["401"]["content"]["application/json"]
                assert refusal["schema"] == failure, path
