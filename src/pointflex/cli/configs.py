"""``pointflex configs``: configurations (a product type plus its parameter values)."""

from __future__ import annotations

from typing import Annotated

import typer

from pointflex.cli.common import cli_actor, console, parse_params, product_name, runtime, table
from pointflex.domain.catalog import Catalog
from pointflex.domain.configs import ACTIVE, DISABLED, Config
from pointflex.services.configs import configurations as configs

app = typer.Typer(help="Configurations: product type and sizing.", no_args_is_help=True)

ConfigIdArg = Annotated[int, typer.Argument(help="Configuration id.")]
ParamsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        help="Parameter as ID=VALUE; repeat it, and repeat an id for each value of a list.",
    ),
]
AccountOpt = Annotated[int | None, typer.Option("--account-id", help="Owning account.")]


@app.command("list")
def list_configs(
    program: Annotated[str, typer.Option("--program", help="Program serial number.")],
    account_id: AccountOpt = None,
) -> None:
    """The configurations of a program."""
    with runtime() as rt:
        found = configs.list_configs(rt, cli_actor(), program, account_id)
        catalog = rt.catalog
    grid = table("Id", "Name", "Account", "Product type", "Status", "Parameters")
    for config in found:
        grid.add_row(
            str(config.id),
            config.name,
            str(config.account_id),
            product_name(catalog, config.product_type_id),
            config.status,
            describe_values(catalog, config),
        )
    console().print(grid)


@app.command()
def create(
    program: Annotated[str, typer.Option("--program", help="Program serial number.")],
    name: Annotated[str, typer.Option("--name", help="Configuration name.")],
    product_type: Annotated[int, typer.Option("--product-type", help="Product type id.")],
    params: ParamsOpt = None,
    account_id: AccountOpt = None,
) -> None:
    """Create a configuration."""
    parameters = parse_params(params) or []
    with runtime() as rt:
        config = configs.create_config(
            rt,
            cli_actor(),
            program_serial=program,
            name=name,
            product_type_id=product_type,
            parameters=parameters,
            account_id=account_id,
        )
        _print_config("Created", rt.catalog, config)


@app.command()
def update(
    config_id: ConfigIdArg,
    name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    params: ParamsOpt = None,
) -> None:
    """Rename a configuration and/or replace its parameters (applies to its entitlements)."""
    parameters = parse_params(params)
    with runtime() as rt:
        config = configs.update_config(rt, cli_actor(), config_id, name=name, parameters=parameters)
        _print_config("Updated", rt.catalog, config)


@app.command()
def enable(config_id: ConfigIdArg) -> None:
    """Allow new entitlements on a configuration again."""
    _set_status(config_id, ACTIVE)


@app.command()
def disable(config_id: ConfigIdArg) -> None:
    """Refuse new entitlements on a configuration; existing ones keep running."""
    _set_status(config_id, DISABLED)


def _set_status(config_id: int, status: str) -> None:
    with runtime() as rt:
        config = configs.set_config_status(rt, cli_actor(), config_id, status)
    console().print(f"Configuration {config.id} ({config.name}) is {config.status}.")


def _print_config(verb: str, catalog: Catalog, config: Config) -> None:
    console().print(
        f"{verb} configuration {config.id} ({config.name}): "
        f"{product_name(catalog, config.product_type_id)}, {describe_values(catalog, config)}, "
        f"{config.status}."
    )


def describe_values(catalog: Catalog, config: Config) -> str:
    """Parameters as ``NAME=VALUE`` in catalogue order; a list shows its values joined by +."""
    shown: dict[str, list[str]] = {}
    for entry in catalog.to_wire(config.product_type_id, config.values):
        shown.setdefault(entry["name"], []).append(str(entry["value"]))
    return ", ".join(f"{name}={'+'.join(values)}" for name, values in shown.items())
