"""Benchmark: licence activations and validations under concurrent instances, next to a bare
FastAPI baseline in the same run.

    python -m bench.licence --backend postgres --duration 10
    python -m bench.licence --backend sqlite --workers 1

Seeds, through the services, an organisation, a prepaid program, one FortiGate-VM
configuration and --tokens PENDING VM entitlements per worker count (each token can be
redeemed once). For each worker count it starts the baseline (bench/bare_app.py: one POST,
one primary-key SELECT) and ``pointflex serve --workers N`` as subprocesses on loopback and
drives, with --clients concurrent instances (asyncio + httpx, kept-alive connections):

  baseline     POST /entitlement {serialNumber} on the bare app
  activate     POST /api/license/v1/activate, every request a new token and instance
               (redemption: the entitlement row locked, PENDING -> ACTIVE, a licence row,
               an audit row, an Ed25519 signature)
  validate     POST /api/license/v1/validate, each client its own licence, a fresh nonce
               every time (one read, an audit row, a signature)

Every reply is checked (status 0; the verdict VALID for validations), and a sample of the
licences and answers is verified with pointflex_verify against the published keys. Target:
validations' requests/s >= 60 % of the baseline's. Results go to
bench/results/licence-<backend>-<workers>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.api import OPERATOR, Measurements, Workload, bench_env, load_options
from bench.common import RESULTS, fresh_database, runtime
from pointflex.domain.programs import ProgramKind
from pointflex.services.access import accounts
from pointflex.services.configs import configurations as configs
from pointflex.services.entitlements import creation
from pointflex.services.points import programs
from pointflex_verify import KeySet, verify_answer, verify_licence

LICENCE = "/api/license/v1"
TARGET = 0.6


@dataclass(frozen=True)
class Seeded:
    serials: list[str]
    tokens: list[list[str]]  # one pool per worker count


def seed(url: str, folder: Path, pools: int, per_pool: int) -> Seeded:
    now = datetime.now(UTC)
    rt, _clock, engine = runtime(url, folder, now)
    today = now.date()
    org = accounts.create_organization(rt, OPERATOR, "Bench", "Bench root")
    program = programs.register_program(
        rt,
        OPERATOR,
        account_id=org.id,
        kind=ProgramKind.PREPAID,
        start_date=today - timedelta(days=30),
        end_date=date(today.year + 1, today.month, 1),
    )
    config = configs.create_config(
        rt,
        OPERATOR,
        program_serial=program.serial,
        name="bench-licences",
        product_type_id=1,
        parameters=[{"id": 1, "value": 2}, {"id": 2, "value": "ENT"}],
    )
    serials: list[str] = []
    tokens: list[list[str]] = []
    for _ in range(pools):
        pool: list[str] = []
        while len(pool) < per_pool:
            count = min(1000, per_pool - len(pool))
            made = creation.create_vm(rt, OPERATOR, config_id=config.id, count=count)
            pool.extend(str(e.token) for e in made)
            serials.extend(e.serial for e in made)
        tokens.append(pool)
    engine.dispose()
    return Seeded(serials, tokens)


def nonce() -> str:
    return secrets.token_urlsafe(16)


class Activations(Workload):
    """Every request redeems a token nobody has used, for a new instance."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = iter(tokens)
        self.licences: list[dict[str, Any]] = []

    def next(self, client: int) -> tuple[str, dict[str, Any]]:
        token = next(self.tokens)  # StopIteration: seed more with --tokens
        body = {
            "token": token,
            "instanceId": f"bench-{token}",
            "productVersion": "7.2.4",
            "hardwareVcpus": 4,
            "nonce": nonce(),
        }
        return f"{LICENCE}/activate", body

    def ok(self, response: httpx.Response) -> bool:
        if response.status_code != httpx.codes.OK or response.json().get("status") != 0:
            return False
        self.licences.append(response.json()["licence"])
        return True


class Validations(Workload):
    """Each client validates its own licence again and again, each time with a new nonce."""

    def __init__(self, licences: list[dict[str, Any]], clients: int) -> None:
        self.owned = [licences[c % len(licences)]["payload"] for c in range(clients)]
        self.sent: dict[int, str] = {}

    def next(self, client: int) -> tuple[str, dict[str, Any]]:
        licence = self.owned[client]
        body = {
            "licenceId": licence["licenceId"],
            "serialNumber": licence["serialNumber"],
            "instanceId": licence["instanceId"],
            "nonce": nonce(),
            "productVersion": "7.2.4",
        }
        return f"{LICENCE}/validate", body

    def ok(self, response: httpx.Response) -> bool:
        if response.status_code != httpx.codes.OK:
            return False
        answer = response.json()["answer"]["payload"]
        return bool(answer["verdict"] == "VALID")


def check_signatures(base_url: str, licences: list[dict[str, Any]]) -> int:
    """Verify a sample offline, as an instance would; the count verified."""
    keys = KeySet.from_document(httpx.get(base_url + "/.well-known/pointflex/keys.json").json())
    sample = licences[:: max(1, len(licences) // 50)]
    for document in sample:
        payload = verify_licence(document, keys)
        body = {
            "licenceId": payload["licenceId"],
            "serialNumber": payload["serialNumber"],
            "instanceId": payload["instanceId"],
            "nonce": nonce(),
        }
        reply = httpx.post(base_url + f"{LICENCE}/validate", json=body).json()
        verify_answer(reply["answer"], keys, nonce=body["nonce"], licence_id=body["licenceId"])
    return len(sample)


def run_workers(
    args: argparse.Namespace, url: str, folder: Path, seeded: Seeded, pool: int, workers: int
) -> dict[str, Any]:
    run = Measurements(args, folder, bench_env(url, folder))
    run.baseline(workers, seeded.serials)
    served = run.pointflex(workers)
    try:
        served.wait_until_up(f"{LICENCE}/keys")
        activations = Activations(seeded.tokens[pool])
        run.measure("activate", served.base_url, activations)
        if not activations.licences:
            raise SystemExit(f"no activation succeeded: {run.errors}")
        run.measure("validate", served.base_url, Validations(activations.licences, args.clients))
        verified = check_signatures(served.base_url, activations.licences)
    finally:
        served.stop()
    return {"scenarios": run.results, "errors": run.errors, "verified": verified}


def report(args: argparse.Namespace, workers: int, measured: dict[str, Any]) -> Path:
    s = measured["scenarios"]
    base = s["baseline"]["rps"]
    ratios = {
        "validate_rps_vs_baseline": round(s["validate"]["rps"] / base, 2),
        "activate_rps_vs_baseline": round(s["activate"]["rps"] / base, 2),
    }
    payload = {
        "benchmark": "licence",
        "backend": args.backend,
        "workers": workers,
        "clients": args.clients,
        "duration_s": args.duration,
        "recorded": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores, Python {sys.version.split()[0]}",
        "scenarios": s,
        "ratios": ratios,
        "targets": {"validate_rps_vs_baseline": {"at_least": TARGET}},
        "met": {"validate_rps_vs_baseline": ratios["validate_rps_vs_baseline"] >= TARGET},
        "signatures_verified": measured["verified"],
        "errors": measured["errors"],
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"licence-{args.backend}-{workers}.json"
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nlicence on {args.backend}, {workers} worker(s), {args.clients} clients")
    heads = ("requests", "errors", "req/s", "p50 ms", "p99 ms")
    print(f"  {'scenario':<10} " + " ".join(f"{h:>9}" for h in heads))
    for name, f in s.items():
        print(
            f"  {name:<10} {f['requests']:>9} {f['errors']:>7} {f['rps']:>9} "
            f"{f['p50_ms']:>8} {f['p99_ms']:>8}"
        )
    for key, value in ratios.items():
        print(f"  ratio {key:<26} {value:>6}")
    verdict = "ok" if payload["met"]["validate_rps_vs_baseline"] else "MISSED"
    print(f"  target validations >= {TARGET:.0%} of baseline: {verdict}")
    print(f"  signatures verified offline: {measured['verified']}")
    for error in measured["errors"]:
        print(f"  error: {error}")
    return path


def main() -> None:
    parser = load_options(__doc__)
    parser.add_argument("--tokens", type=int, default=6000, help="tokens per worker count")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pointflex-bench-licence-"))
    url = fresh_database(args.backend, "pointflex_bench_licence", folder)
    start = time.perf_counter()
    seeded = seed(url, folder, len(args.workers), args.tokens)
    print(f"seeded {len(seeded.serials)} PENDING VMs in {time.perf_counter() - start:.1f}s")
    for pool, workers in enumerate(args.workers):
        measured = run_workers(args, url, folder, seeded, pool, workers)
        print(f"saved {report(args, workers, measured)}")


if __name__ == "__main__":
    main()
