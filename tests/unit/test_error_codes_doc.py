"""docs/error-codes.md and the error classes must agree: one row per class, same code and status."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pointflex.errors import ALL_ERRORS, PointflexError

DOC = Path(__file__).resolve().parents[2] / "docs" / "error-codes.md"
ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*`(\w+)`\s*\|\s*(.*?)\s*\|\s*$")
CLASSES: tuple[type[PointflexError], ...] = ALL_ERRORS


def _documented() -> list[tuple[int, int, str, str]]:
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            code, status, name, meaning = match.groups()
            rows.append((int(code), int(status), name, meaning))
    return rows


def test_the_table_lists_every_error_class_once() -> None:
    names = [name for _, _, name, _ in _documented()]
    assert len(names) == len(set(names)), "a class is listed twice"
    assert set(names) == {cls.__name__ for cls in CLASSES}


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_each_class_is_documented_with_its_code_and_http_status(
    cls: type[PointflexError],
) -> None:
    rows = {name: (code, status, meaning) for code, status, name, meaning in _documented()}
    assert cls.__name__ in rows, f"{cls.__name__} is missing from {DOC.name}"
    code, status, meaning = rows[cls.__name__]
    assert (code, status) == (cls.code, cls.http_status)
    assert meaning, f"{cls.__name__} has no meaning in {DOC.name}"


def test_error_codes_are_unique_in_the_code_and_in_the_table() -> None:
    codes = [cls.code for cls in CLASSES]
    clashes = {c for c in codes if codes.count(c) > 1}
    assert not clashes, f"errorCode used by more than one class: {sorted(clashes)}"
    documented = [code for code, _, _, _ in _documented()]
    assert len(documented) == len(set(documented))


def test_every_error_class_is_registered_in_all_errors() -> None:
    """A class defined in pointflex.errors but left out of ALL_ERRORS would escape the check."""
    from pointflex import errors

    defined = {
        obj
        for obj in vars(errors).values()
        if isinstance(obj, type) and issubclass(obj, PointflexError)
    }
    assert defined == set(ALL_ERRORS)
