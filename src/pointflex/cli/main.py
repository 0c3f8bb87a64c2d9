"""The ``pointflex`` command: the root group and its command groups."""

from __future__ import annotations

import typer

from pointflex.cli import (
    accounts,
    alerts,
    api_users,
    backup,
    configs,
    db,
    demo,
    entitlements,
    jobs,
    keys,
    points,
    prices,
    programs,
    scheduled,
    serve,
    users,
    webhooks,
)
from pointflex.cli.common import PointflexGroup

app = typer.Typer(
    cls=PointflexGroup,
    name="pointflex",
    help="pointflex: self-hosted usage-based licensing (FortiFlex v2 compatible).",
    no_args_is_help=True,
    add_completion=False,
    # Locals would print settings, including the secret key, in a traceback.
    pretty_exceptions_show_locals=False,
)
app.add_typer(db.app, name="db")
app.add_typer(accounts.app, name="accounts")
app.add_typer(programs.app, name="programs")
app.add_typer(configs.app, name="configs")
app.add_typer(entitlements.app, name="entitlements")
app.add_typer(points.app, name="points")
app.add_typer(prices.app, name="prices")
app.add_typer(api_users.app, name="api-users")
app.add_typer(keys.app, name="keys")
app.add_typer(users.app, name="users")
app.add_typer(webhooks.app, name="webhooks")
app.add_typer(alerts.app, name="alerts")
app.add_typer(jobs.app, name="jobs")
app.add_typer(scheduled.app, name="scheduled")
app.command(name="demo")(demo.demo)
app.command(name="serve")(serve.serve)
app.command(name="backup")(backup.backup)
app.command(name="restore")(backup.restore)

if __name__ == "__main__":  # pragma: no cover
    app()
