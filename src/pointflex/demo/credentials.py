"""The demo's sign-ins: an API user and a portal user of Acme, made once, shown to the operator."""

from __future__ import annotations

from pointflex.bootstrap import Runtime
from pointflex.services.context import Actor

DEMO_API_USER = "pointflex demo: Acme Corporation, Admin"


def demo_credentials(rt: Runtime, actor: Actor) -> tuple[str, str] | None:
    """An Admin API user for the demo's first organisation, with a fresh password.

    The password is shown once and stored only as a hash, so each call resets it (R67);
    None when the database holds no organisation.
    """
    from sqlalchemy import select

    from pointflex.services.access import api_users
    from pointflex.store.tables import organizations

    with rt.engine.connect() as conn:
        org = conn.execute(select(organizations.c.id).order_by(organizations.c.id)).scalar()
    if org is None:
        return None
    existing = next(
        (
            u
            for u in api_users.list_api_users(rt, actor)
            if u.description == DEMO_API_USER and u.disabled_at is None
        ),
        None,
    )
    if existing is not None:
        return existing.username, api_users.reset_password(rt, actor, existing.username)
    user, password = api_users.create_api_user(
        rt,
        actor,
        permission=api_users.Permission.ADMIN,
        organization_id=org,
        description=DEMO_API_USER,
    )
    return user.username, password


DEMO_PORTAL_USER = "admin@acme.example"


def demo_portal_credentials(rt: Runtime, actor: Actor) -> tuple[str, str] | None:
    """An Admin portal user for the demo's first organisation, with a fresh password (each
    call resets it: it is stored only as a hash); None when there is no organisation."""
    from sqlalchemy import select

    from pointflex.errors import NotFound
    from pointflex.services.access import portal_users
    from pointflex.services.access.api_users import Permission
    from pointflex.store.tables import organizations

    with rt.engine.connect() as conn:
        org = conn.execute(select(organizations.c.id).order_by(organizations.c.id)).scalar()
    if org is None:
        return None
    try:
        return DEMO_PORTAL_USER, portal_users.reset_portal_password(rt, actor, DEMO_PORTAL_USER)
    except NotFound:
        _, password = portal_users.create_portal_user(
            rt,
            actor,
            DEMO_PORTAL_USER,
            permission=Permission.ADMIN,
            organization_id=org,
        )
        return DEMO_PORTAL_USER, password
