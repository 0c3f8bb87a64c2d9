"""Rate limits per API user on FortiFlex calls: a token bucket held in process memory.

Each API user has a bucket of ``rate_limit_burst`` calls that refills at
``rate_limit_per_second``; a call when the bucket is empty gets HTTP 429 with the FortiFlex
envelope (``errorCode`` of :class:`~pointflex.errors.Throttled`) and ``Retry-After``. Either
setting at 0 switches the limit off.

The buckets live in the memory of one app process, so **each worker process has its own
bucket**: with N processes (``pointflex serve --workers N``, or N nodes behind a load
balancer) an API user may make up to N times the configured rate. That is the price of a check
that costs no database round trip; set the limit per process accordingly.

The caller is resolved once per request by :func:`pointflex.http.caller.caller`.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from pointflex.api.envelope import failure
from pointflex.api.paths import normalise_path
from pointflex.bootstrap import PerRuntime
from pointflex.errors import Throttled
from pointflex.http.caller import caller, runtime_of

LIMITED_PREFIX = "/ES/api/"
MAX_BUCKETS = 10_000  # past this many users, full (idle) buckets are forgotten


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """Token buckets keyed by API user id; thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, user_id: int, rate: float, burst: int) -> float:
        """Spend one call: 0.0 if allowed, else the seconds until one is available."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(user_id)
            if bucket is None:
                if len(self._buckets) >= MAX_BUCKETS:
                    self._forget_idle(now, rate, burst)
                bucket = self._buckets[user_id] = _Bucket(float(burst), now)
            bucket.tokens = min(float(burst), bucket.tokens + (now - bucket.at) * rate)
            bucket.at = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / rate

    def _forget_idle(self, now: float, rate: float, burst: int) -> None:
        idle = [
            user_id
            for user_id, b in self._buckets.items()
            if b.tokens + (now - b.at) * rate >= burst
        ]
        for user_id in idle:
            del self._buckets[user_id]


# The limiter of a runtime (one per process; tests get one per test runtime).
limiter_for: PerRuntime[RateLimiter] = PerRuntime(lambda rt: RateLimiter(rt.ticks))


class RateLimitMiddleware:
    """Pure ASGI middleware: 429 with the envelope when an API user exceeds its rate."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not normalise_path(scope["path"]).startswith(LIMITED_PREFIX):
            await self.app(scope, receive, send)
            return
        rt = runtime_of(scope)
        rate, burst = rt.settings.rate_limit_per_second, rt.settings.rate_limit_burst
        actor = await caller(scope) if rate > 0 and burst > 0 else None
        if actor is None or actor.api_user_id is None:
            await self.app(scope, receive, send)
            return
        wait = limiter_for(rt).take(actor.api_user_id, rate, burst)
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        retry_after = max(1, math.ceil(wait))
        response = failure(
            f"rate limit exceeded ({rate:g} calls per second, bursts of {burst}); "
            f"try again in {retry_after} s",
            Throttled.code,
            Throttled.http_status,
            {"Retry-After": str(retry_after)},
        )
        await response(scope, receive, send)
