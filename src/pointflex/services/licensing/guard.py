"""Throttling token guessing: activations with unknown tokens, counted per client address.

The same mechanism as failed sign-ins (``services.auth``): each failure is a row in
``auth_failures``, committed on its own so that it counts although the request fails, and
counted over a sliding window across every app process. Licence failures carry the marker
:data:`MARKER` in place of a user name, so they are counted apart from sign-ins with their own
limit (``licence_max_failures_per_address``). Sign-in throttling counts every failure of an
address, these included: an address guessing tokens is also slowed down at the sign-in.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select

from pointflex.bootstrap import Runtime
from pointflex.errors import Throttled
from pointflex.services.context import read, write
from pointflex.store.tables import auth_failures

F = auth_failures
MARKER = "#LICENCE-ACTIVATION"  # no API user name can look like this (they are generated ids)


def check(rt: Runtime, address: str, now: datetime) -> None:
    """Raise :class:`Throttled` when ``address`` has failed too often within the window."""
    window = timedelta(seconds=rt.settings.licence_failure_window_seconds)
    with read(rt) as conn:
        count, oldest = conn.execute(
            select(func.count(), func.min(F.c.at)).where(
                F.c.client_address == address, F.c.username == MARKER, F.c.at > now - window
            )
        ).one()
    if count >= rt.settings.licence_max_failures_per_address:
        wait = oldest + window - now
        raise Throttled(
            "too many activations with unknown tokens from this address; try again later",
            retry_after=max(1, int(wait.total_seconds()) + 1),
        )


def record_failure(rt: Runtime, address: str, now: datetime) -> None:
    window = timedelta(seconds=rt.settings.licence_failure_window_seconds)
    with write(rt) as conn:
        conn.execute(insert(F).values(username=MARKER, client_address=address, at=now))
        # Keep the table small: failures older than the window no longer matter.
        conn.execute(delete(F).where(F.c.username == MARKER, F.c.at < now - 2 * window))
