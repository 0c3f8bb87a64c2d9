"""A short per-process memory of authenticated bearer tokens.

Every API call names its caller by a bearer token; reading the token and its user costs a
database round trip (with its transaction) on each call, a third of a single-row mutation's
work. Remembering the answer for a few seconds removes it. The price is stated in
docs/decisions.md: a token revoked or a user disabled through *another* process stays usable
here for at most ``auth_cache_seconds``; changes made through this process (revocation,
refresh, password reset, disabling) forget every remembered caller at once, and a token is
never remembered past its own expiry.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from pointflex.bootstrap import PerRuntime, Runtime
from pointflex.services.context import Actor

MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class _Entry:
    actor: Actor
    until: datetime


class CallerCache:
    def __init__(self, seconds: float) -> None:
        self._ttl = timedelta(seconds=seconds)
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._ttl > timedelta(0)

    def get(self, token_hash: str, now: datetime) -> Actor | None:
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        if now >= entry.until:
            self._entries.pop(token_hash, None)
            return None
        return entry.actor

    def put(self, token_hash: str, actor: Actor, now: datetime, expires_at: datetime) -> None:
        if not self.enabled:
            return
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                # Oldest first (dicts keep insertion order): a flood of tokens cannot grow it.
                del self._entries[next(iter(self._entries))]
            self._entries[token_hash] = _Entry(actor, min(now + self._ttl, expires_at))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# The cache of a runtime (one per process).
caller_cache: PerRuntime[CallerCache] = PerRuntime(
    lambda rt: CallerCache(rt.settings.auth_cache_seconds)
)


def forget_callers(rt: Runtime) -> None:
    """Called after any change to tokens or API users made through this process."""
    caller_cache(rt).clear()
