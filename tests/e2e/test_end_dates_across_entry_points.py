"""The same ``endDate`` means the same instant from the API, the portal and the CLI.

One account holds a program billed in Los Angeles and one billed in Paris. Every entry
point writes end dates the way its users do (the API and the CLI: a day, or a day and a time;
the portal: a day); each must store the instant of that wall time in the entitlement's own
program zone, and Follow Program must stay Follow Program. The servers and the CLI are real
processes on the test's database, on the real clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from pointflex.bootstrap import Runtime
from pointflex.config import Settings
from pointflex.domain.dates import PACIFIC, format_wire, local_day, parse_wire_datetime
from pointflex.domain.entitlements import TerminationMode
from pointflex.domain.programs import ProgramKind
from pointflex.services.access import accounts
from pointflex.services.access.api_users import Permission, create_api_user
from pointflex.services.access.portal_users import create_portal_user
from pointflex.services.context import read
from pointflex.services.entitlements.views import EntitlementFilter, iter_entitlements
from pointflex.services.points import programs
from tests.api.servers import ServeProcess
from tests.builders import FGT_ENT_2, FGT_HW, OPERATOR, config
from tests.e2e.conftest import Flex, Org, Servers, run_cli
from tests.portal_http import PortalForms

PARIS = "Europe/Paris"
FOLLOW, USER = TerminationMode.FOLLOW_PROGRAM, TerminationMode.USER_DEFINED


@dataclass(frozen=True)
class Zone:
    tz: str
    account_id: int
    program: str
    config_id: int


@dataclass(frozen=True)
class Two:
    org: Org
    zones: tuple[Zone, Zone]
    portal_user: str
    portal_password: str


@pytest.fixture
def two(live: Runtime) -> Two:
    today = local_day(datetime.now(UTC), PACIFIC)
    root = accounts.create_organization(live, OPERATOR, "Acme", "Acme HQ")
    zones = []
    # One root account may hold one program of each kind (R2): prepaid billed in Los Angeles,
    # postpaid in Paris.
    for kind, tz in ((ProgramKind.PREPAID, PACIFIC), (ProgramKind.POSTPAID, PARIS)):
        program = programs.register_program(
            live,
            OPERATOR,
            account_id=root.id,
            kind=kind,
            start_date=today - timedelta(days=2),
            end_date=today + timedelta(days=400),
            timezone=tz,
        )
        if kind is ProgramKind.PREPAID:
            programs.add_pack(live, OPERATOR, program.serial, 10_000)
        cfg = config(live, program.serial, FGT_ENT_2, account_id=root.id)
        zones.append(Zone(tz, root.id, program.serial, cfg.id))
    api_user, api_password = create_api_user(
        live, OPERATOR, permission=Permission.ADMIN, organization_id=root.organization_id
    )
    portal_user, portal_password = create_portal_user(
        live,
        OPERATOR,
        "admin@acme.example",
        permission=Permission.ADMIN,
        organization_id=root.organization_id,
    )
    org = Org(root.organization_id, root.id, zones[0].program, api_user.username, api_password)
    return Two(org, (zones[0], zones[1]), portal_user.username, portal_password)


@pytest.fixture
def portal(server: ServeProcess, two: Two) -> Iterator[PortalForms]:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        yield PortalForms(http, two.portal_user, two.portal_password)


def stored(live: Runtime, description: str) -> tuple[datetime, TerminationMode]:
    """The end instant and termination mode of the entitlement described so."""
    with read(live) as conn:
        (record,) = iter_entitlements(
            live, conn, OPERATOR, EntitlementFilter(description=description)
        )
    return record.end_at, record.termination_mode


def serial_of(live: Runtime, description: str) -> str:
    with read(live) as conn:
        (record,) = iter_entitlements(
            live, conn, OPERATOR, EntitlementFilter(description=description)
        )
    return record.serial


def listed(flex: Flex, zone: Zone, serial: str) -> dict[str, Any]:
    """The entitlement as the API lists it."""
    body = {
        "accountId": zone.account_id,
        "programSerialNumber": zone.program,
        "serialNumber": serial,
    }
    (item,) = flex.call("entitlements/list", body)["entitlements"]
    return dict(item)


def in_a_month(hour: str = "") -> str:
    day = local_day(datetime.now(UTC), PACIFIC) + timedelta(days=30)
    return f"{day.isoformat()} {hour}".strip()


@dataclass(frozen=True)
class EntryPoints:
    """The API, the portal and the CLI of one server, on the test's database."""

    live: Runtime
    settings: Settings
    flex: Flex
    portal: PortalForms
    two: Two

    def create_three_ways(
        self, zone: Zone, written: str, tag: str
    ) -> dict[str, tuple[datetime, TerminationMode]]:
        """One VM per entry point with ``written`` as its end date ("" is Follow Program)."""
        self.flex.call(
            "entitlements/vm/create",
            {
                "configId": zone.config_id,
                "count": 1,
                "description": f"api {tag}",
                "endDate": written,
            },
        )
        args = ["entitlements", "create-vm", "--config-id", str(zone.config_id)]
        end = ["--end-date", written] if written else []
        run_cli(self.settings, *args, "--description", f"cli {tag}", *end)
        self.portal.post(
            "/create/vm",
            {
                "config_id": str(zone.config_id),
                "count": "1",
                "description": f"portal {tag}",
                "end_date": written,
            },
        )
        return {e: stored(self.live, f"{e} {tag}") for e in ("api", "cli", "portal")}


@pytest.fixture
def entry(
    live: Runtime, settings: Settings, server: ServeProcess, two: Two, portal: PortalForms
) -> EntryPoints:
    return EntryPoints(live, settings, Flex(server.base_url, two.org), portal, two)


@pytest.mark.parametrize("written", [in_a_month(), in_a_month("10:30:00"), ""])
def test_a_created_end_is_the_same_instant_from_every_entry_point_in_each_zone(
    entry: EntryPoints, written: str
) -> None:
    live, two = entry.live, entry.two
    for zone in two.zones:
        ends = entry.create_three_ways(zone, written, zone.tz)
        assert ends["api"] == ends["cli"] == ends["portal"], (zone.tz, ends)
        end_at, mode = ends["api"]
        if written:
            assert mode is USER
            assert end_at == parse_wire_datetime(written, zone.tz)
            wall = written if " " in written else f"{written} 00:00:00"
            assert format_wire(end_at, zone.tz) == wall  # that wall time in the program's zone
        else:
            assert mode is FOLLOW
    if written:
        la, paris = (stored(live, f"api {zone.tz}")[0] for zone in two.zones)
        assert la > paris  # the same wall time comes hours later in Los Angeles


def test_a_changed_end_is_the_same_instant_from_every_entry_point(entry: EntryPoints) -> None:
    live, settings, flex, portal = entry.live, entry.settings, entry.flex, entry.portal
    day = in_a_month()
    for zone in entry.two.zones:
        entry.create_three_ways(zone, "", zone.tz)
        api, cli, web = (
            serial_of(live, f"{entry} {zone.tz}") for entry in ("api", "cli", "portal")
        )
        flex.call("entitlements/update", {"serialNumber": api, "endDate": day})
        run_cli(settings, "entitlements", "update", cli, "--end-date", day)
        portal.post(f"/assets/{web}/modify", {"termination_mode": USER.value, "end_date": day})
        ends = {stored(live, f"{entry} {zone.tz}") for entry in ("api", "cli", "portal")}
        assert ends == {(parse_wire_datetime(day, zone.tz), USER)}, zone.tz
        # The shown end sent back is no change from any of them; Follow Program is one.
        shown = listed(flex, zone, api)["endDate"]
        flex.call("entitlements/update", {"serialNumber": api, "endDate": shown})
        run_cli(settings, "entitlements", "update", cli, "--follow-program")
        portal.post(f"/assets/{web}/modify", {"termination_mode": FOLLOW.value})
        assert stored(live, f"api {zone.tz}") == (parse_wire_datetime(day, zone.tz), USER)
        assert stored(live, f"cli {zone.tz}")[1] is FOLLOW
        assert stored(live, f"portal {zone.tz}")[1] is FOLLOW


def test_a_bulk_reactivation_spanning_two_zones_ends_each_in_its_own_zone(
    entry: EntryPoints,
) -> None:
    live, settings, flex, portal = entry.live, entry.settings, entry.flex, entry.portal
    day = in_a_month()
    by_portal, by_cli = [], []
    for zone in entry.two.zones:
        for way, serials in (("portal", by_portal), ("cli", by_cli)):
            (item,) = flex.call(
                "entitlements/vm/create",
                {
                    "configId": zone.config_id,
                    "count": 1,
                    "skipPending": True,
                    "description": f"{way} bulk {zone.tz}",
                },
            )["entitlements"]
            flex.call("entitlements/stop", {"serialNumber": item["serialNumber"]})
            serials.append(item["serialNumber"])
    reply = portal.post(
        "/assets/apply",
        {"action": "reactivate", "serial": by_portal, "mode": "user", "end_date": day},
    )
    assert "data-refusal" not in reply.text, reply.text
    run_cli(settings, "entitlements", "reactivate", *by_cli, "--end-date", day)
    for zone in entry.two.zones:
        wanted = (parse_wire_datetime(day, zone.tz), USER)
        assert stored(live, f"portal bulk {zone.tz}") == wanted
        assert stored(live, f"cli bulk {zone.tz}") == wanted


def test_raising_the_serial_limit_moves_the_api_the_portal_and_the_rules_together(
    live: Runtime, servers: Servers, two: Two
) -> None:
    server = servers.start(env={"POINTFLEX_MAX_SERIALS_PER_REQUEST": "150"})
    flex = Flex(server.base_url, two.org)
    zone = two.zones[0]
    hw = config(live, zone.program, FGT_HW, product=101, name="hw", account_id=zone.account_id)
    api_serials = [f"FGT60FTK{n:08d}" for n in range(150)]
    created = flex.call(
        "entitlements/hardware/create", {"configId": hw.id, "serialNumbers": api_serials}
    )
    assert len(created["entitlements"]) == 150
    too_many = flex.post(
        "entitlements/hardware/create",
        {"configId": hw.id, "serialNumbers": [f"FGT60FTX{n:08d}" for n in range(151)]},
    )
    assert too_many.json()["error"] is not None
    assert "150" in too_many.json()["message"]
    with httpx.Client(base_url=server.base_url, timeout=60) as http:
        portal = PortalForms(http, two.portal_user, two.portal_password)
        pasted = "\n".join(f"FGT60FTP{n:08d}" for n in range(150))
        page = portal.post("/create/hardware", {"config_id": str(hw.id), "serials": pasted})
        assert "can be created at once" not in page.text
        assert "Nothing was created" not in page.text
        for serial in api_serials:
            flex.call("entitlements/stop", {"serialNumber": serial})
        # Removal (R41) follows the same setting in the rules, not a constant of 100.
        flex.call("entitlements/hardware/remove", {"serialNumbers": api_serials})
        with read(live) as conn:
            left = list(iter_entitlements(live, conn, OPERATOR, EntitlementFilter(config_id=hw.id)))
        assert len(left) == 150  # the portal's 150 are there, the API's 150 removed
