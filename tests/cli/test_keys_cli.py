"""``pointflex keys``: list and rotate the signing keys — checked in the database."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from sqlalchemy import Engine, select

from pointflex.bootstrap import Runtime
from pointflex.services.entitlements import creation
from pointflex.services.licensing import licences
from pointflex.signing.keys import keyring
from pointflex.store.tables import signing_keys
from pointflex_verify import KeySet, verify_answer, verify_licence
from tests.builders import OPERATOR, World, config
from tests.cli.conftest import Cli, assert_one_red_line

WIDE = {"COLUMNS": "2000"}  # pytest-xdist exports COLUMNS=80, which would truncate the table
KID = re.compile(r"k-\d{8}-[0-9a-f]{6}")
NONCE = "cli-test-nonce-0123456789"


def _keys(engine: Engine) -> list[tuple[str, bool]]:
    """(kid, active) per stored key."""
    with engine.connect() as conn:
        rows = conn.execute(select(signing_keys.c.kid, signing_keys.c.retired_at)).all()
    return [(row.kid, row.retired_at is None) for row in rows]


def test_list_on_a_new_installation_creates_and_shows_its_first_key(
    cli: Cli, engine: Engine
) -> None:
    result = cli("keys list", env=WIDE)
    assert result.exit_code == 0, result.output
    ((kid, active),) = _keys(engine)
    assert active
    assert KID.fullmatch(kid)
    line = next(line for line in result.stdout.splitlines() if kid in line)
    assert "active" in line
    assert "1 key(s)." in result.stdout


def test_rotate_makes_a_new_active_key_and_lists_the_old_one_as_retired(
    cli: Cli, engine: Engine
) -> None:
    cli.ok("keys list")
    ((old, _),) = _keys(engine)
    result = cli.ok("keys rotate")
    (new,) = KID.findall(result.stdout)
    assert new != old
    assert "stays published" in result.stdout
    assert sorted(_keys(engine)) == sorted([(old, False), (new, True)])
    listed = cli("keys list", env=WIDE).stdout
    assert "retired" in next(line for line in listed.splitlines() if old in line)
    assert "active" in next(line for line in listed.splitlines() if new in line)


def test_licences_signed_before_a_rotation_still_verify_and_new_answers_use_the_new_key(
    cli: Cli, live: Runtime, acme: World
) -> None:
    (record,) = creation.create_vm(live, OPERATOR, config_id=config(live, acme.prepaid).id)
    assert record.token is not None
    document = licences.activate(live, record.token, "vm-1", "7.2.3", 2, NONCE, "")
    new = KID.findall(cli.ok("keys rotate").stdout)[0]
    published = KeySet.from_document({"keys": [k.document() for k in keyring(live).public_keys()]})
    verify_licence(document, published, instance_id="vm-1", nonce=NONCE)
    fresh = dataclasses.replace(live)  # a server process started after the rotation: new state
    answer = licences.validate(
        fresh, document["payload"]["licenceId"], record.serial, "vm-1", NONCE
    )
    assert answer["kid"] == new
    assert verify_answer(answer, published, nonce=NONCE)["verdict"] == "VALID"


def test_an_unmigrated_database_is_one_red_line(cli: Cli, tmp_path: Path) -> None:
    result = cli("keys list", env={"POINTFLEX_DATABASE_URL": f"sqlite:///{tmp_path}/new.db"})
    assert_one_red_line(result, "database error")
