"""``pointflex entitlements``: create, list, change, stop, reactivate, transfer, export."""

from __future__ import annotations

import re
import sys
import types
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

import pytest

from pointflex.bootstrap import Runtime
from pointflex.domain.entitlements import Status, TerminationMode
from pointflex.errors import InvalidInput
from pointflex.services.context import Actor, read
from pointflex.services.entitlements import creation
from pointflex.services.entitlements.views import Entitlement, EntitlementFilter, load_records
from tests.builders import FGT_HW, OPERATOR, World, config
from tests.cli.conftest import Cli, assert_one_red_line, today

TOKEN = re.compile(r"\b[0-9A-F]{20}\b")


@pytest.fixture
def vm_config(live: Runtime, acme: World) -> int:
    return config(live, acme.prepaid).id


def records(rt: Runtime, *serials: str) -> list[Entitlement]:
    with read(rt) as conn:
        return load_records(rt, conn, OPERATOR, serials)


def running_vms(rt: Runtime, config_id: int, count: int) -> list[str]:
    made = creation.create_vm(rt, OPERATOR, config_id=config_id, count=count, skip_pending=True)
    return [r.serial for r in made]


def test_vms_are_created_pending_with_their_tokens(cli: Cli, live: Runtime, vm_config: int) -> None:
    result = cli.ok(
        f"entitlements create-vm --config-id {vm_config} --count 2 --folder Lab "
        "--description 'web tier'"
    )
    serials = re.findall(r"FGVMMLTM\d{8}", result.stdout)
    assert len(serials) == 2
    assert len(TOKEN.findall(result.stdout)) == 2
    for record in records(live, *serials):
        assert record.status is Status.PENDING
        assert record.folder_path == "My Assets/Lab"
        assert record.description == "web tier"
        assert record.token is not None
        assert record.token in result.stdout


def test_list_filters_by_status_and_shows_tokens(cli: Cli, live: Runtime, vm_config: int) -> None:
    (running,) = running_vms(live, vm_config, 1)
    (pending,) = [e.serial for e in creation.create_vm(live, OPERATOR, config_id=vm_config)]
    shown = cli.ok("entitlements list --status active").stdout
    assert running in shown
    assert pending not in shown
    assert records(live, running)[0].token in shown
    waiting = f"entitlements list --config-id {vm_config} --token-status notused --status pending"
    assert pending in cli.ok(waiting).stdout
    assert "Showing the first 1" in cli.ok("entitlements list --limit 1").stdout


def test_stop_and_reactivate_report_every_serial(cli: Cli, live: Runtime, vm_config: int) -> None:
    first, second = running_vms(live, vm_config, 2)
    assert "Stopped 2 of 2." in cli.ok(f"entitlements stop {first} {second}").stdout
    assert "Reactivated 1 of 1." in cli.ok(f"entitlements reactivate {first}").stdout
    assert [r.status for r in records(live, first, second)] == [Status.ACTIVE, Status.STOPPED]


def test_a_bulk_action_with_a_failed_serial_exits_non_zero(
    cli: Cli, live: Runtime, vm_config: int
) -> None:
    first, second = running_vms(live, vm_config, 2)
    cli.ok(f"entitlements stop {first}")
    result = cli(f"entitlements stop {first} {second}")
    assert result.exit_code == 1
    assert "already STOPPED" in result.stdout
    assert "Stopped 1 of 2." in result.stdout
    assert records(live, second)[0].status is Status.STOPPED


def test_update_sets_and_clears_a_user_defined_end_date(
    cli: Cli, live: Runtime, vm_config: int
) -> None:
    (serial,) = running_vms(live, vm_config, 1)
    end = today() + timedelta(days=30)
    cli.ok(f"entitlements update {serial} --end-date {end} --description db --folder Prod")
    (record,) = records(live, serial)
    assert record.termination_mode is TerminationMode.USER_DEFINED
    assert (record.description, record.folder_path) == ("db", "My Assets/Prod")
    cli.ok(f"entitlements update {serial} --follow-program")
    assert records(live, serial)[0].termination_mode is TerminationMode.FOLLOW_PROGRAM


def test_end_date_and_follow_program_together_are_one_red_line(
    cli: Cli, live: Runtime, vm_config: int
) -> None:
    (serial,) = running_vms(live, vm_config, 1)
    result = cli(f"entitlements update {serial} --end-date 2099-01-01 --follow-program")
    assert_one_red_line(result, "--end-date or --follow-program")


def test_regenerated_token_replaces_the_old_one(cli: Cli, live: Runtime, vm_config: int) -> None:
    (serial,) = running_vms(live, vm_config, 1)
    old = records(live, serial)[0].token
    result = cli.ok(f"entitlements regenerate-token {serial}")
    new = records(live, serial)[0].token
    assert new != old
    assert f"new token {new} (NOTUSED)" in result.stdout


def test_transfer_moves_serials_to_a_member_account(
    cli: Cli, live: Runtime, acme: World, vm_config: int
) -> None:
    serials = running_vms(live, vm_config, 2)
    cli.ok(f"entitlements transfer {' '.join(serials)} --to-account {acme.member}")
    assert {r.account_id for r in records(live, *serials)} == {acme.member}


def test_hardware_is_created_and_removed_once_stopped(cli: Cli, live: Runtime, acme: World) -> None:
    hw = config(live, acme.prepaid, FGT_HW, product=101, name="60F").id
    created = cli.ok(f"entitlements create-hardware --config-id {hw} FGT60FTK0001 fgt60ftk0002")
    assert "FGT60FTK0002" in created.stdout
    assert_one_red_line(cli("entitlements remove FGT60FTK0001"), "only STOPPED or EXPIRED")
    cli.ok("entitlements stop FGT60FTK0001")
    assert "Removed 1" in cli.ok("entitlements remove FGT60FTK0001").stdout
    listed = cli.ok(f"entitlements list --config-id {hw}").stdout
    assert "FGT60FTK0001" not in listed
    assert "FGT60FTK0002" in listed


def test_a_cloud_service_is_created_once_per_account(cli: Cli, live: Runtime, acme: World) -> None:
    users = [{"id": 48, "value": 100}, {"id": 49, "value": "FSASESTD"}]
    sase = config(live, acme.prepaid, users, product=205, name="sase").id
    assert "ACTIVE" in cli.ok(f"entitlements create-cloud --config-id {sase}").stdout
    assert_one_red_line(cli(f"entitlements create-cloud --config-id {sase}"), "at most one")


def test_an_unknown_serial_is_one_red_line(cli: Cli) -> None:
    assert_one_red_line(cli("entitlements stop NOPE0001"), "entitlement not found: NOPE0001")


def test_a_bad_end_date_is_one_red_line(cli: Cli, vm_config: int) -> None:
    result = cli(f"entitlements create-vm --config-id {vm_config} --end-date 2026-02-30")
    assert_one_red_line(result, "2026-02-30")


# --------------------------------------------------------------------------- export


class FakeExports:
    """Stands in for the export writer to see what the command hands it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fail: bool = False) -> None:
        self.calls: list[tuple[EntitlementFilter, str]] = []
        self.fail = fail
        module = types.ModuleType("pointflex.renderers.exports")
        module.ExportFormat = str  # type: ignore[attr-defined]
        module.export_entitlements = self.export  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "pointflex.renderers.exports", module)

    def export(
        self, rt: Runtime, actor: Actor, flt: EntitlementFilter, fmt: str, out: BinaryIO
    ) -> int:
        self.calls.append((flt, fmt))
        out.write(b"half a file")
        if self.fail:
            raise InvalidInput("the export broke")
        return 2


def test_export_hands_the_selection_and_filters_to_the_export_service(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeExports(monkeypatch)
    target = tmp_path / "assets.json"
    result = cli.ok(
        f"entitlements export --format JSON --output {target} --serial fgvm1 --serial FGVM2 "
        "--status pending --folder Lab --program ELAVMR0000000001"
    )
    assert "Wrote 2 entitlement(s)" in result.stdout
    assert target.read_bytes() == b"half a file"
    ((flt, fmt),) = fake.calls
    assert fmt == "json"
    assert flt.serials == ("FGVM1", "FGVM2")
    assert (flt.status, flt.folder_path, flt.program_serial) == (
        "PENDING",
        "My Assets/Lab",
        "ELAVMR0000000001",
    )


def test_a_failed_export_leaves_no_file(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    FakeExports(monkeypatch, fail=True)
    folder = tmp_path / "exports"
    folder.mkdir()
    result = cli(f"entitlements export --format csv --output {folder / 'assets.csv'}")
    assert_one_red_line(result, "the export broke")
    assert list(folder.iterdir()) == []


def test_export_writes_only_the_selected_entitlements(
    cli: Cli, live: Runtime, vm_config: int, tmp_path: Path
) -> None:
    first, second, third = running_vms(live, vm_config, 3)
    target = tmp_path / "selected.csv"
    result = cli.ok(
        f"entitlements export --format csv --output {target} --serial {first} --serial {second}"
    )
    assert "Wrote 2 entitlement(s)" in result.stdout
    text = target.read_text(encoding="utf-8-sig")
    assert first in text
    assert second in text
    assert third not in text
