"""Where the portal may send a browser back to after signing in."""

from __future__ import annotations


def safe_next(target: str | None) -> str:
    """A local path to return to after signing in; anything else (another site) is "/"."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target
