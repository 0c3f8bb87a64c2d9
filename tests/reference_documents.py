"""Where the FortiFlex v2 reference documents are, and what happens to tests when they are not.

The five OpenAPI documents are a third party's and carry no licence, so they are never copied
into this repository: they are read from ``POINTFLEX_FORTIFLEX_OAS_DIR``, by default
``<repository>/../shared/reference/fortiflex-api-v2`` (where CI lays them beside the clone).

Tests that read them carry the ``fortiflex_reference`` marker. Without the documents those
tests are *deselected*, with the reason printed after collection and in the summary, so a
fresh clone's ``make test`` passes while saying what it did not check. With
``POINTFLEX_REQUIRE_FORTIFLEX_OAS`` set (``.ci/run`` sets it) a missing document stops the run
before any test, so CI always runs them. Every reply is still checked on a fresh clone against
pointflex's own record of the wire shapes (``pointflex.api.fortiflex.replies``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

MARKER = "fortiflex_reference"
DIR_VARIABLE = "POINTFLEX_FORTIFLEX_OAS_DIR"
REQUIRED_VARIABLE = "POINTFLEX_REQUIRE_FORTIFLEX_OAS"
DOCUMENTS = ("programs", "configurations", "entitlements", "groups", "tools")
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIR = REPO_ROOT.parent / "shared" / "reference" / "fortiflex-api-v2"

_DESELECTED = pytest.StashKey[tuple[int, str]]()


def folder() -> Path:
    """The folder the documents are read from (the variable, else beside the repository)."""
    configured = os.environ.get(DIR_VARIABLE, "").strip()
    return Path(configured).expanduser() if configured else DEFAULT_DIR


def document_file(name: str) -> Path:
    return folder() / f"{name}.openapi.json"


def why_unavailable() -> str | None:
    """None when all five documents are there, else what is missing, in one sentence."""
    where = folder()
    if not where.is_dir():
        return f"the folder {where} does not exist"
    missing = [name for name in DOCUMENTS if not document_file(name).is_file()]
    if missing:
        return f"{where} lacks {', '.join(f'{name}.openapi.json' for name in missing)}"
    return None


def required() -> bool:
    return os.environ.get(REQUIRED_VARIABLE, "").strip().lower() not in ("", "0", "false", "no")


def select(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the marked tests when the documents are absent, or stop if they must run."""
    reason = why_unavailable()
    if reason is None:
        return
    if required():
        raise pytest.UsageError(
            f"{REQUIRED_VARIABLE} is set but the FortiFlex reference documents are missing: "
            f"{reason}. Set {DIR_VARIABLE} to the folder holding the five *.openapi.json files."
        )
    dropped = [item for item in items if item.get_closest_marker(MARKER) is not None]
    if not dropped:
        return
    items[:] = [item for item in items if item.get_closest_marker(MARKER) is None]
    config.hook.pytest_deselected(items=dropped)
    config.stash[_DESELECTED] = (len(dropped), reason)


def deselection_note(config: pytest.Config) -> str | None:
    found = config.stash.get(_DESELECTED, None)
    if found is None:
        return None
    count, reason = found
    return (
        f"{count} FortiFlex reference-document tests deselected: {reason} "
        f"(set {DIR_VARIABLE} to run them; replies were still checked against pointflex's "
        "own wire schemas)"
    )
