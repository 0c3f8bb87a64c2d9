"""``pointflex-vm``: argv, the `init`/`clone` set-up commands, and the interactive console.

pointflex-vm --state DIR init --server URL [--fortios 7.2.3] [--cpus 4] [--uuid U]
pointflex-vm --state DIR clone --from DIR [--uuid U]
pointflex-vm --state DIR <FortiOS-like command…>      one command, then exit
pointflex-vm --state DIR                              console: `FGVM # ` prompt on stdin
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import httpx

from pointflex_vm.commands import Console, HostClock, evaluation_serial, new_vm, system_now
from pointflex_vm.licence import parse_version
from pointflex_vm.state import StateError, StateStore

PROMPT = "FGVM # "
EXIT_WORDS = frozenset({"exit", "quit", "logout"})


def main(
    argv: Sequence[str] | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    host_now: HostClock = system_now,
) -> int:
    """Exit code: 0 success, 1 a command failed, 2 usage error.

    ``transport`` and ``host_now`` exist for tests (a fake server, a fixed host clock).
    """
    parser = argparse.ArgumentParser(
        prog="pointflex-vm",
        description="A FortiGate-VM licensing emulator speaking the pointflex licence protocol.",
        epilog="Commands: init, clone, or a FortiOS-like command (try: help). "
        "Without a command, a console reads commands from stdin.",
    )
    parser.add_argument("--state", required=True, type=Path, metavar="DIR", help="state directory")
    parser.add_argument("words", nargs=argparse.REMAINDER, help="command")
    try:
        args = parser.parse_args(argv)
        store = StateStore(args.state)
        if args.words[:1] == ["init"]:
            return _init(store, args.words[1:])
        if args.words[:1] == ["clone"]:
            return _clone(store, args.words[1:])
    except SystemExit as exc:  # argparse reports usage errors (2) and --help (0) this way
        return exc.code if isinstance(exc.code, int) else 2
    except StateError as exc:
        print(exc, file=sys.stderr)
        return 1
    with httpx.Client(transport=transport) as http:
        console = Console(store, http, sys.stdout, sys.stderr, host_now)
        if args.words:
            return console.run(" ".join(args.words))
        return _interactive(console)


def _interactive(console: Console) -> int:
    while True:
        sys.stdout.write(PROMPT)
        sys.stdout.flush()
        line = sys.stdin.readline()
        if not line:  # EOF ends the session like `exit`
            sys.stdout.write("\n")
            return 0
        if line.strip() in EXIT_WORDS:
            return 0
        console.run(line)


def _init(store: StateStore, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="pointflex-vm --state DIR init")
    parser.add_argument("--server", required=True, help="pointflex base URL")
    parser.add_argument("--fortios", default="7.2.3", help="FortiOS version (default 7.2.3)")
    parser.add_argument("--cpus", type=int, default=4, help="hardware vCPUs (default 4)")
    parser.add_argument("--uuid", default=None, help="VM UUID (default: random)")
    args = parser.parse_args(argv)
    if not args.server.startswith(("http://", "https://")):
        parser.error("--server must be an http:// or https:// URL")
    try:
        parse_version(args.fortios)
    except ValueError as exc:
        parser.error(str(exc))
    if args.cpus < 1:
        parser.error("--cpus must be at least 1")
    if store.exists():
        raise StateError(f"{store.path} already exists; choose another --state directory")
    vm = new_vm(args.server, args.fortios, args.cpus, args.uuid)
    store.save(vm)
    print(f"Initialised {evaluation_serial(vm.uuid)} (VM UUID {vm.uuid}) in {store.directory}")
    return 0


def _clone(store: StateStore, argv: list[str]) -> int:
    """Copy a VM, licence included, under a new UUID — what cloning a VM image does (R73)."""
    parser = argparse.ArgumentParser(prog="pointflex-vm --state DIR clone")
    parser.add_argument("--from", dest="source", required=True, type=Path, metavar="DIR")
    parser.add_argument("--uuid", default=None, help="UUID of the copy (default: random)")
    args = parser.parse_args(argv)
    if store.exists():
        raise StateError(f"{store.path} already exists; choose another --state directory")
    vm = StateStore(args.source).load()
    copy = replace(vm, uuid=args.uuid or str(uuid.uuid4()))
    store.save(copy)
    print(f"Cloned {args.source} into {store.directory} (VM UUID {copy.uuid})")
    return 0
