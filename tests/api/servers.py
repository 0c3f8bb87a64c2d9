"""Real ``pointflex serve`` processes for multi-process API tests.

Each server is its own OS process started from the installed ``pointflex`` script with the
test's ``POINTFLEX_*`` settings, so several of them share one database exactly as separate app
instances behind a load balancer would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from pointflex.config import Settings

STARTUP_SECONDS = 30


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pointflex_command() -> list[str]:
    script = Path(sys.executable).with_name("pointflex")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pointflex.cli.main"]


def server_env(settings: Settings, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "POINTFLEX_DATABASE_URL": settings.database_url,
        "POINTFLEX_DATA_DIR": str(settings.data_dir),
        "POINTFLEX_SECRET_KEY": settings.secret_key,
        **extra,
    }


class ServeProcess:
    """One ``pointflex serve`` subprocess on a loopback port (a free one unless ``port``).

    Giving the ``port`` of a stopped server starts its successor at the same address, so
    clients that stored the URL (an instance's licence server) reach the new process.
    """

    def __init__(
        self,
        settings: Settings,
        log: Path,
        *options: str,
        env: dict[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        port = free_port() if port is None else port
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log = log
        self.stopped = False
        # Output goes to a file, not a pipe: uvicorn logs every request, and a pipe nobody
        # drains while the test runs would fill up and block the server.
        with log.open("w") as sink:
            self.process = subprocess.Popen(
                [*pointflex_command(), "serve", "--port", str(port), *options],
                env=server_env(settings, **(env or {})),
                stdout=sink,
                stderr=subprocess.STDOUT,
                text=True,
            )

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"pointflex serve exited early:\n{self.output}")
            try:
                httpx.get(f"{self.base_url}/api/pointflex/openapi.json", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"pointflex serve did not start:\n{self.output}")

    def stop(self) -> str:
        """Stop the server as Ctrl-C would and return what it printed; idempotent."""
        if not self.stopped:
            self.stopped = True
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGINT)
                try:
                    self.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        return self.output
