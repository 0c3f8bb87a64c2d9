"""The API benchmark's baseline: a bare FastAPI app, one POST, one primary-key SELECT.

    python -m bench.bare_app --port 8100 --workers 2     # BENCH_DATABASE_URL=...

Same framework, server and engine settings as ``pointflex serve`` (FastAPI on uvicorn, a sync
endpoint run in the thread pool, ``pointflex.store.db.make_engine``, TCP_NODELAY on the shared
socket when there are several workers, uvicorn's default logging), with nothing else: no
authentication, no scope, no rate limiter, no envelope. ``POST /entitlement`` with
``{"serialNumber": ...}`` answers the entitlement row as JSON.
"""

from __future__ import annotations

import argparse
import os
import socket
from typing import Any

from fastapi import Body, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import select

from pointflex.store.db import make_engine
from pointflex.store.tables import entitlements

FACTORY = "bench.bare_app:create_app"


def create_app() -> FastAPI:
    engine = make_engine(os.environ["BENCH_DATABASE_URL"])
    app = FastAPI()
    query = select(entitlements)

    @app.post("/entitlement")
    def entitlement(body: dict[str, Any] = Body(...)) -> JSONResponse:
        with engine.connect() as conn:
            row = conn.execute(
                query.where(entitlements.c.serial == str(body["serialNumber"]))
            ).first()
        if row is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return JSONResponse({k: _plain(v) for k, v in row._mapping.items()})

    return app


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    if args.workers == 1:
        uvicorn.run(create_app(), host=args.host, port=args.port)
        return
    # As pointflex serve does (src/pointflex/cli/serve.py): the shared socket with TCP_NODELAY.
    config = uvicorn.Config(
        FACTORY,
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
    )
    sock = config.bind_socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    Multiprocess(config, sockets=[sock]).run()


if __name__ == "__main__":
    main()
