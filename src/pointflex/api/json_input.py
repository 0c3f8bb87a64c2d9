"""Decoding a JSON request body, refusing what no field of ours can hold (one place for all).

Refused with ``InvalidInput`` (a 400 envelope), before any handler or database sees it:

* bodies that are not JSON or not UTF-8;
* nesting deeper than :data:`MAX_DEPTH` — the decoder would otherwise recurse until Python's
  stack limit and raise ``RecursionError`` (a 500); no FortiFlex request nests past 4 levels;
* U+0000 anywhere (PostgreSQL text cannot store it and refuses the whole query);
* lone surrogates (``"\\ud800"``): valid JSON escapes but not characters, so neither UTF-8
  nor the database drivers can encode them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pointflex.errors import InvalidInput

MAX_DEPTH = 32
NUL_MESSAGE = "the request must not contain NUL characters"
SURROGATE_MESSAGE = "the request must not contain unpaired UTF-16 surrogates (\\ud800-\\udfff)"
DEPTH_MESSAGE = f"the request body nests deeper than {MAX_DEPTH} levels"
_SURROGATE = re.compile("[\ud800-\udfff]")


def request_object(raw: bytes) -> dict[str, Any]:
    """A request body as a JSON object: empty, ``[]`` and ``null`` mean ``{}`` (spec §3.1, C4)."""
    if not raw.strip():
        return {}
    data = decode(raw)
    if data == [] or data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidInput("the request body must be a JSON object")
    return data


def decode(raw: bytes | str) -> Any:
    """The decoded value, checked by :func:`check`."""
    try:
        value = json.loads(raw)
    except RecursionError as exc:
        raise InvalidInput(DEPTH_MESSAGE) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("the request body is not valid JSON") from exc
    check(value)
    return value


def check(value: Any) -> None:
    """Refuse a decoded value holding NUL, a lone surrogate or nesting past MAX_DEPTH."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            check_text(item)
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise InvalidInput(DEPTH_MESSAGE)
        if isinstance(item, dict):
            for key, sub in item.items():
                check_text(key)
                pending.append((sub, depth + 1))
        else:
            pending.extend((sub, depth + 1) for sub in item)


def check_text(text: str) -> None:
    if "\x00" in text:
        raise InvalidInput(NUL_MESSAGE)
    if _SURROGATE.search(text):
        raise InvalidInput(SURROGATE_MESSAGE)
