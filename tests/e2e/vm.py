"""Driving real ``pointflex-vm`` processes: one subprocess per command, each VM its own state.

The output lines grepped here are the stable formats of ``docs/pointflex-vm.md``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

VM_TIMEOUT = 60  # seconds per command; the VM's own HTTP timeout is 10 s


def vm_command() -> list[str]:
    script = Path(sys.executable).with_name("pointflex-vm")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pointflex_vm.cli"]


def run(state_dir: Path, *words: str, expect: int | None = 0) -> subprocess.CompletedProcess[str]:
    """``pointflex-vm --state DIR <words…>``; checks the exit code unless ``expect`` is None."""
    done = subprocess.run(
        [*vm_command(), "--state", str(state_dir), *words],
        capture_output=True,
        text=True,
        timeout=VM_TIMEOUT,
        check=False,
    )
    if expect is not None:
        assert done.returncode == expect, describe(done)
    return done


def describe(done: subprocess.CompletedProcess[str]) -> str:
    words = " ".join(done.args[1:]) if isinstance(done.args, list) else str(done.args)
    return f"{words}\nexit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"


def init(state_dir: Path, server: str, *, fortios: str = "7.2.3", cpus: int = 4) -> Path:
    run(state_dir, "init", "--server", server, "--fortios", fortios, "--cpus", str(cpus))
    return state_dir


def status(state_dir: Path) -> dict[str, str]:
    """``get system status`` as a dict of its ``Key: value`` lines."""
    return parse_lines(run(state_dir, "get", "system", "status").stdout)


def parse_lines(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(": ")
        if sep:
            found[key.strip()] = value.strip()
    return found


def license_vm(state_dir: Path, token: str) -> subprocess.CompletedProcess[str]:
    """``execute vm-license <token>``, which must succeed."""
    done = run(state_dir, "execute", "vm-license", token)
    assert "VM license install succeeded. Rebooting firewall." in done.stdout, describe(done)
    return done


def validate(state_dir: Path, *, expect: int | None = 0) -> tuple[str, str]:
    """``diagnose validate``: the verdict (with its reason) and the licence status it printed."""
    done = run(state_dir, "diagnose", "validate", expect=expect)
    verdict = ""
    for line in (done.stdout + done.stderr).splitlines():
        if line.startswith("Validation at "):
            verdict = line.split(": ", 1)[1]
    return verdict, parse_lines(done.stdout)["License Status"]


def in_use(state_dir: Path) -> int:
    return int(status(state_dir)["vCPUs In Use"])


def state_file(state_dir: Path) -> Path:
    return state_dir / "state.json"


def load_state(state_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(state_file(state_dir).read_text(encoding="utf-8"))
    return data


def save_state(state_dir: Path, data: dict[str, Any]) -> None:
    state_file(state_dir).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def edit_state(state_dir: Path, **changes: Any) -> None:
    """Change fields of state.json by hand, as someone with access to the VM's disk could."""
    save_state(state_dir, {**load_state(state_dir), **changes})
