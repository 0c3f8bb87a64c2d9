"""What an entitlement's free-text fields may hold: its folder and its description."""

from __future__ import annotations

from pointflex.errors import InvalidInput

ROOT_FOLDER = "My Assets"
MAX_FOLDER_CHARS = 500
MAX_DESCRIPTION_CHARS = 1000


def normalise_folder(path: str | None) -> str:
    """Folders live under ``My Assets`` and are made on first use (R30, Q14)."""
    if path is None or not path.strip():
        return ROOT_FOLDER
    parts = [p.strip() for p in path.strip().split("/") if p.strip()]
    if parts and parts[0].lower() == ROOT_FOLDER.lower():
        parts = parts[1:]
    folder = "/".join([ROOT_FOLDER, *parts])
    if len(folder) > MAX_FOLDER_CHARS:
        raise InvalidInput(f"folderPath must be at most {MAX_FOLDER_CHARS} characters")
    return folder


def check_description(description: str | None) -> str:
    text = (description or "").strip()
    if len(text) > MAX_DESCRIPTION_CHARS:
        raise InvalidInput(f"description must be at most {MAX_DESCRIPTION_CHARS} characters")
    return text
