"""``pointflex keys``: the Ed25519 keys that sign licences and validation answers."""

from __future__ import annotations

import typer

from pointflex.cli.common import console, key, runtime, table, when
from pointflex.signing.keys import keyring

app = typer.Typer(
    help="Signing keys for licences: list them, rotate the active one.", no_args_is_help=True
)


@app.command("list")
def list_keys() -> None:
    """Every signing key, retired ones included (they stay published: old licences verify)."""
    with runtime() as rt:
        found = keyring(rt).public_keys()
        tz = rt.settings.default_timezone
    grid = table(key("Key id"), "State", key("Public key (base64url)"), "Created", "Retired")
    for item in found:
        document = item.document()
        state = "active" if item.retired_at is None else "retired"
        grid.add_row(
            item.kid,
            state,
            document["publicKey"],
            when(item.created_at, tz),
            when(item.retired_at, tz),
        )
    console().print(grid)
    console().print(f"{len(found)} key(s).")


@app.command()
def rotate() -> None:
    """Make a new active key; the old one is retired but stays published."""
    with runtime() as rt:
        created = keyring(rt).rotate()  # on a fresh installation: its first key
    out = console()
    out.print(f"New active key: {created.kid}")
    out.print(
        "The previous key is retired and stays published, so licences it signed still verify. "
        f"Running servers switch to the new key within {rt.settings.signing_key_cache_seconds:g} s."
    )
