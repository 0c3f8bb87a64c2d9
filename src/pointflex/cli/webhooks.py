"""``pointflex webhooks``: where alerts go (webhook endpoints and e-mail recipients), and the
delivery log (P8; docs/alerts.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from pointflex.cli.common import (
    cli_actor,
    console,
    error_console,
    key,
    number,
    runtime,
    table,
    when,
)
from pointflex.services.alerts import deliveries, notifications
from pointflex.services.alerts.notifications import EMAIL, WEBHOOK, Target

app = typer.Typer(
    help="Alert webhooks and e-mail recipients, and their delivery log.", no_args_is_help=True
)

AccountOpt = Annotated[
    int | None, typer.Option("--account-id", help="Scope: the programs this account sees.")
]
OrgOpt = Annotated[
    int | None,
    typer.Option("--organization-id", help="Scope: every program of this organisation."),
]
KindOpt = Annotated[
    list[str] | None,
    typer.Option("--kind", help="Only this alert kind (repeatable); default: every kind."),
]


@app.command()
def add(
    url: Annotated[str, typer.Argument(help="The endpoint (http:// or https://).")],
    account_id: AccountOpt = None,
    organization_id: OrgOpt = None,
    kind: KindOpt = None,
) -> None:
    """Register a webhook endpoint; prints its signing secret once."""
    with runtime() as rt:
        target, secret = notifications.add_target(
            rt,
            cli_actor(),
            channel=WEBHOOK,
            address=url,
            account_id=account_id,
            organization_id=organization_id,
            kinds=notifications.parse_kinds(kind or []),
        )
    console().print(f"Webhook {target.id} registered for {target.scope_label}.")
    console().print(f"Secret: {secret}")
    error_console().print(
        "Store this secret now: it is shown only this once. Receivers verify the "
        "X-Pointflex-Signature header with it (docs/alerts.md)."
    )


@app.command("add-email")
def add_email(
    address: Annotated[str, typer.Argument(help="The recipient's e-mail address.")],
    account_id: AccountOpt = None,
    organization_id: OrgOpt = None,
    kind: KindOpt = None,
) -> None:
    """Register an e-mail recipient of alerts (sent when POINTFLEX_SMTP_HOST is set)."""
    with runtime() as rt:
        target, _ = notifications.add_target(
            rt,
            cli_actor(),
            channel=EMAIL,
            address=address,
            account_id=account_id,
            organization_id=organization_id,
            kinds=notifications.parse_kinds(kind or []),
        )
        if not rt.settings.smtp_host:
            error_console().print("Note: POINTFLEX_SMTP_HOST is empty; e-mail is disabled.")
    console().print(f"E-mail recipient {target.id} registered for {target.scope_label}.")


def _kinds(target: Target) -> str:
    return ",".join(k.value for k in target.kinds) or "all"


@app.command("list")
def list_targets() -> None:
    """Every webhook and e-mail recipient (secrets are never shown again)."""
    with runtime() as rt:
        found = notifications.list_targets(rt, cli_actor())
        tz = rt.settings.default_timezone
    grid = table(number("Id"), "Channel", "Address", "Scope", "Kinds", "Enabled", "Created")
    for t in found:
        grid.add_row(
            str(t.id),
            t.channel,
            t.address,
            t.scope_label,
            _kinds(t),
            "yes" if t.enabled else "no",
            when(t.created_at, tz),
        )
    console().print(grid)


@app.command()
def disable(target_id: Annotated[int, typer.Argument(help="The id (as listed).")]) -> None:
    """Stop sending alerts to a webhook or recipient."""
    with runtime() as rt:
        target = notifications.disable_target(rt, cli_actor(), target_id)
    console().print(f"{target.channel.title()} {target.id} disabled.")


@app.command("deliveries")
def list_deliveries(
    target_id: Annotated[
        int | None, typer.Option("--target", help="Only this webhook or recipient.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 50,
) -> None:
    """The delivery log, newest first, with the last attempt of each delivery."""
    with runtime() as rt:
        found = deliveries.list_deliveries(rt, cli_actor(), target_id=target_id, limit=limit)
        tz = rt.settings.default_timezone
    grid = table(
        number("Id"),
        key("Program"),
        "Kind",
        "To",
        "State",
        number("Attempts"),
        "Next attempt",
        "Last result",
    )
    for d in found:
        last = d.log[-1] if d.log else None
        result = "" if last is None else (str(last.status_code or "") + " " + last.error).strip()
        grid.add_row(
            str(d.id),
            d.alert.program_serial,
            d.alert.kind.value,
            d.target.address,
            d.state,
            str(d.attempts),
            when(d.next_attempt_at, tz),
            result,
        )
    console().print(grid)


@app.command()
def redeliver(delivery_id: Annotated[int, typer.Argument(help="The delivery's id.")]) -> None:
    """Send a delivery again at the next run of the job loop."""
    with runtime() as rt:
        deliveries.redeliver(rt, cli_actor(), delivery_id)
    console().print(f"Delivery {delivery_id} will be attempted again at the next run.")
