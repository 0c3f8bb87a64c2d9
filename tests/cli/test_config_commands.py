"""``pointflex configs``."""

from __future__ import annotations

from pointflex.bootstrap import Runtime
from pointflex.services.configs.configurations import get_config
from tests.builders import OPERATOR, World
from tests.cli.conftest import Cli, assert_one_red_line


def test_configuration_is_created_listed_updated_and_disabled(
    cli: Cli, acme: World, live: Runtime
) -> None:
    created = cli.ok(
        f"configs create --program {acme.prepaid} --name 'edge 2' --product-type 1 "
        "--param 1=2 --param 2=ent"
    )
    assert "Created configuration 1 (edge 2)" in created.stdout
    assert "CPU=2, SERVICEPACK=ENT" in created.stdout
    cli.ok("configs update 1 --name 'edge 4' --param 1=4 --param 2=ENT")
    cli.ok("configs disable 1")
    listed = cli.ok(f"configs list --program {acme.prepaid}").stdout
    assert "edge 4" in listed
    assert "DISABLED" in listed
    assert "CPU=4" in listed
    config = get_config(live, OPERATOR, 1)
    assert (config.name, config.status, config.values[1]) == ("edge 4", "DISABLED", "4")
    assert "is ACTIVE" in cli.ok("configs enable 1").stdout


def test_a_list_parameter_repeats_its_id(cli: Cli, acme: World, live: Runtime) -> None:
    cli.ok(
        f"configs create --program {acme.prepaid} --name utm --product-type 1 "
        "--param 1=2 --param 2=ATP --param 43=FGTAVDB --param 43=FGTFAIS"
    )
    assert get_config(live, OPERATOR, 1).values[43] == ("FGTAVDB", "FGTFAIS")


def test_member_account_owns_the_configuration_it_is_given(
    cli: Cli, acme: World, live: Runtime
) -> None:
    cli.ok(
        f"configs create --program {acme.postpaid} --name mssp --product-type 1 "
        f"--param 1=2 --param 2=FC --account-id {acme.member}"
    )
    assert get_config(live, OPERATOR, 1).account_id == acme.member
    listed = cli.ok(f"configs list --program {acme.postpaid} --account-id {acme.member}")
    assert "mssp" in listed.stdout


def test_a_parameter_out_of_range_is_one_red_line(cli: Cli, acme: World) -> None:
    result = cli(
        f"configs create --program {acme.prepaid} --name big --product-type 1 "
        "--param 1=200 --param 2=ENT"
    )
    assert_one_red_line(result, "Parameter id 1", "200")


def test_a_parameter_without_a_value_is_one_red_line(cli: Cli, acme: World) -> None:
    result = cli(f"configs create --program {acme.prepaid} --name x --product-type 1 --param 1")
    assert_one_red_line(result, "ID=VALUE")


def test_an_unknown_configuration_is_one_red_line(cli: Cli) -> None:
    assert_one_red_line(cli("configs disable 404"), "configuration 404 not found")
