"""``pointflex serve``: the HTTP server (FortiFlex v2 API, token service, OpenAPI docs)."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from pointflex.bootstrap import build_runtime
from pointflex.cli.common import console, fail, load_settings, runtime
from pointflex.cli.db import revisions
from pointflex.config import Settings
from pointflex.observability import logs

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI

FACTORY = "pointflex.cli.serve:app_factory"
FORTIFLEX_V2 = "/ES/api/fortiflex/v2"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # as pointflex.observability.metrics reads it


def app_factory() -> FastAPI:
    """The application built from ``POINTFLEX_*`` settings; what each worker process runs."""
    from pointflex.asgi import create_app  # the web stack loads only when serving

    settings = load_settings()
    setup_logging(settings)  # in each worker process: logging is per process
    return create_app(build_runtime(settings))


def setup_logging(settings: Settings) -> None:
    """Our log lines (docs/observability.md) in place of uvicorn's; its access log is off."""
    logs.configure(settings.log_format, settings.log_level)


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Worker processes. Rate limits are counted per process.",
        ),
    ] = 1,
) -> None:
    """Serve the web portal, the FortiFlex v2 API, the token service and pointflex's own API."""
    with runtime() as rt:
        # Also creates the secret key on first start, before any worker could race for it.
        current, head = revisions(rt.engine)
    if current != head:
        fail(
            f"the database is at revision {current or '(none)'}, the latest is {head}: "
            "run 'pointflex db upgrade' first"
        )
    base = f"http://{_url_host(host)}:{port}"
    out = console()
    out.print(f"Portal:            {base}/", soft_wrap=True)
    out.print(f"FortiFlex v2 API:  {base}{FORTIFLEX_V2}", soft_wrap=True)
    out.print(f"Token URL:         {base}/api/v1/oauth/token/", soft_wrap=True)
    out.print(f"OpenAPI docs:      {base}/api/pointflex/docs", soft_wrap=True)
    out.print(f"Workers:           {workers}", soft_wrap=True)
    sys.stdout.flush()
    import uvicorn

    setup_logging(load_settings())
    if workers == 1:
        # uvicorn's logging set-up is skipped (our handler is on the root logger) and its access
        # log switched off: the request middleware writes one line per request instead.
        uvicorn.run(app_factory(), host=host, port=port, log_config=None, access_log=False)
    else:
        _run_workers(host, port, workers)


def _run_workers(host: str, port: int, workers: int) -> None:
    """``uvicorn.run(FACTORY, factory=True, workers=N)``, with TCP_NODELAY on the socket.

    uvicorn binds the socket its workers share without naming the protocol, so asyncio does not
    switch Nagle's algorithm off on the connections it accepts, and every small answer waits
    for the client's delayed ACK (about 40 ms). Accepted connections inherit the option from
    the listening socket.
    """
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(
        FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,  # as in serve(): our log lines, not uvicorn's
        access_log=False,
    )
    with metrics_directory():
        Multiprocess(config, sockets=[shared_socket(config)]).run()


@contextmanager
def metrics_directory() -> Iterator[None]:
    """One fresh directory where every worker writes its HTTP metrics (prometheus-client's
    multiprocess mode), so a scrape answered by any worker reports the sum of all of them.

    The workers are started afterwards (spawned), so they see the variable when they first
    import prometheus-client. A directory the operator set already is used as it is.
    """
    if os.environ.get(MULTIPROC_ENV):
        yield
        return
    folder = tempfile.mkdtemp(prefix="pointflex-metrics-")
    os.environ[MULTIPROC_ENV] = folder
    try:
        yield
    finally:
        del os.environ[MULTIPROC_ENV]
        shutil.rmtree(folder, ignore_errors=True)


def shared_socket(config: uvicorn.Config) -> socket.socket:
    """The listening socket the workers share, with Nagle's algorithm off (see above)."""
    sock = config.bind_socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
