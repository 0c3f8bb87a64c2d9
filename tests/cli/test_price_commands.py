"""``pointflex prices``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from tests.cli.conftest import Cli, assert_one_red_line


def shipped(name: str) -> str:
    return resources.files("pointflex").joinpath("catalog", "prices", name).read_text()


def test_the_shipped_price_lists_are_listed(cli: Cli) -> None:
    listed = cli.ok("prices list").stdout
    assert "2026-01-01.yaml" in listed
    assert "2027-01-01.yaml" in listed


def test_an_imported_list_joins_the_dated_lists(cli: Cli, tmp_path: Path) -> None:
    later = tmp_path / "2031-07-01.yaml"
    later.write_text(
        shipped("2027-01-01.yaml").replace("effective: 2027-01-01", "effective: 2031-07-01")
    )
    assert "effective 2031-07-01" in cli.ok(f"prices import {later}").stdout
    listed = cli.ok("prices list").stdout
    assert "imported 2031-07-01" in listed


def test_a_list_that_prices_nothing_is_one_red_line(cli: Cli, tmp_path: Path) -> None:
    empty = tmp_path / "2031-07-01.yaml"
    empty.write_text("effective: 2031-07-01\nproducts: {}\n")
    assert_one_red_line(cli(f"prices import {empty}"), "no price for product type")
