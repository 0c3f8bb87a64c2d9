"""``Idempotency-Key`` on mutating FortiFlex calls: a retried request is answered, not redone.

A client that sends ``Idempotency-Key: <key>`` on a mutating call (every ``POST`` under
``/ES/api/`` except the read-only ones in :data:`READ_ONLY`) can retry it safely after a
timeout or a dropped connection:

- the first request with a key runs; its status and body are kept for
  ``idempotency_key_seconds`` (24 h) unless the status is 5xx or 401, which leave the key
  free for a retry;
- the same key with the same request (method, normalised path, JSON body) gets the kept
  answer again, with ``Idempotent-Replayed: true``, and changes nothing;
- the same key with a different request gets 409 (:class:`IdempotencyKeyReused`);
- while the first request still runs, a second one waits up to ``idempotency_wait_seconds``
  for its answer, then gets 409 (:class:`IdempotencyKeyInProgress`).

Keys belong to one API user: two users may use the same key independently. A placeholder row
is inserted (and committed) before the request runs, so two concurrent requests with one key
never both run, whichever process serves them. Requests without a usable bearer token pass
through untouched; the route answers 401.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from http import HTTPStatus

import anyio
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pointflex.api.envelope import failure
from pointflex.api.paths import normalise_path
from pointflex.bootstrap import Runtime
from pointflex.errors import (
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
    InvalidInput,
    PointflexError,
)
from pointflex.http.caller import caller, runtime_of
from pointflex.services.ops.idempotency_keys import Outcome, Stored, claim, release, store

log = logging.getLogger("pointflex.api.idempotency")

HEADER = b"idempotency-key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 200  # the column's width
_POLL_SECONDS = 0.05

_V2 = "/ES/api/fortiflex/v2/"
READ_ONLY = frozenset(
    [
        *(
            _V2 + endpoint
            for endpoint in (
                "programs/list",
                "programs/points",
                "configs/list",
                "entitlements/list",
                "entitlements/points",
                "groups/list",
                "groups/nexttoken",
                "tools/calc",
                "tools/metadata",
            )
        ),
        "/ES/api/flexvm/v1/groups/list",
    ]
)


def is_mutating(method: str, path: str) -> bool:
    path = normalise_path(path)
    return method == "POST" and path.startswith("/ES/api/") and path not in READ_ONLY


def request_hash(method: str, path: str, body: bytes) -> str:
    """SHA-256 of the method, the normalised path and the body (JSON in canonical form)."""
    return hashlib.sha256(
        b"\n".join([method.encode(), normalise_path(path).encode(), _canonical(body)])
    ).hexdigest()


def _canonical(body: bytes) -> bytes:
    # The same leniency as the routes (spec §3.1): empty, [] and null all mean {}.
    if not body.strip():
        return b"{}"
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # the route refuses it (400)
        return body
    if data == [] or data is None:
        data = {}
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


# --------------------------------------------------------------------------- middleware


class IdempotencyMiddleware:
    """Pure ASGI middleware; see the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope) if scope["type"] == "http" else None
        if key is None or not is_mutating(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        actor = await caller(scope)
        if actor is None or actor.api_user_id is None:
            await self.app(scope, receive, send)  # the route answers 401 (spec §2.5)
            return
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
            message = f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters"
            await _refuse(InvalidInput(message), scope, receive, send)
            return
        body = await _read_body(receive)
        rt, user_id = runtime_of(scope), actor.api_user_id
        digest = request_hash(scope["method"], scope["path"], body)
        outcome = await _claim_or_wait(rt, user_id, key, digest)
        if isinstance(outcome, Stored):
            replay = Response(
                outcome.body.encode(),
                status_code=outcome.status_code,
                media_type="application/json",
                headers={REPLAYED_HEADER: "true"},
            )
            await replay(scope, receive, send)
        elif outcome is Outcome.MISMATCH:
            reused = IdempotencyKeyReused(
                "this Idempotency-Key was already used for a different request"
            )
            await _refuse(reused, scope, receive, send)
        elif outcome is Outcome.IN_PROGRESS:
            busy = IdempotencyKeyInProgress("a request with this Idempotency-Key is in progress")
            await _refuse(busy, scope, receive, send, {"Retry-After": "1"})
        else:
            await self._run(scope, _replaying(body, receive), send, rt, (user_id, key, digest))

    async def _run(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        rt: Runtime,
        claimed: tuple[int, str, str],
    ) -> None:
        """Run the request with the answer held back until it is stored."""
        messages: list[Message] = []

        async def hold(message: Message) -> None:
            messages.append(message)

        try:
            await self.app(scope, receive, hold)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(release, rt, *claimed)
            raise
        start = next((m for m in messages if m["type"] == "http.response.start"), None)
        status = int(start["status"]) if start is not None else 500
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        try:
            if _keep(status):
                text = body.decode("utf-8", errors="replace")
                await run_in_threadpool(store, rt, *claimed, status, text)
            else:
                await run_in_threadpool(release, rt, *claimed)
        except SQLAlchemyError:
            # The request itself succeeded: answer it. The key stays pending until its lease
            # ends, so a retry meanwhile is told "in progress" rather than run twice.
            log.exception("could not record the answer for an idempotency key")
        for message in messages:
            await send(message)


def _keep(status: int) -> bool:
    """Whether an answer is kept for replay: not a server fault, not a token refusal.

    A 401 says nothing about the request (the token lapsed while it ran); the client signs in
    again and retries with the same key, which must then run.
    """
    return status < HTTPStatus.INTERNAL_SERVER_ERROR and status != HTTPStatus.UNAUTHORIZED


async def _claim_or_wait(rt: Runtime, user_id: int, key: str, digest: str) -> Stored | Outcome:
    deadline = time.monotonic() + rt.settings.idempotency_wait_seconds
    while True:
        outcome = await run_in_threadpool(claim, rt, user_id, key, digest)
        if outcome is not Outcome.IN_PROGRESS or time.monotonic() >= deadline:
            return outcome
        await anyio.sleep(_POLL_SECONDS)


def _header(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == HEADER:
            return str(value.decode("latin-1").strip())
    return None


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the already-read body to the app, then the real channel."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _refuse(
    problem: PointflexError,
    scope: Scope,
    receive: Receive,
    send: Send,
    headers: dict[str, str] | None = None,
) -> None:
    response = failure(problem.message, problem.code, problem.http_status, headers)
    await response(scope, receive, send)
