"""What the demo makes: its options, configurations (pools) and their shares, the upgrades."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pointflex.domain.programs import ProgramKind

DEFAULT_ENTITLEMENTS = 3000
DEFAULT_DAYS = 90
MIN_ENTITLEMENTS = 50
MAX_ENTITLEMENTS = 100_000
MAX_DAYS = 365
INITIAL_SHARE = 0.6  # of the fleet exists before the history starts; the rest is created in it
NEVER_REDEEMED = 0.07  # of PENDING VMs whose token is never used: they stay PENDING
COVER_DAYS = 10  # prepaid points are topped up when they cover fewer days than this

ProgressFn = Callable[[int, int], None]  # (days simulated, days in all)


@dataclass(frozen=True)
class Pool:
    """A configuration of the demo and the share of the entitlements created on it."""

    key: str
    name: str
    product_type_id: int
    parameters: tuple[tuple[int, str], ...]
    kind: ProgramKind
    member: bool  # owned by Acme's member account (the managed-services side)
    share: int  # per mille of the VM and hardware entitlements
    folders: tuple[str, ...]
    device_prefix: str = ""  # hardware: how the demo's device serials start

    def wire(self, parameters: tuple[tuple[int, str], ...] | None = None) -> list[dict[str, Any]]:
        return [{"id": pid, "value": value} for pid, value in parameters or self.parameters]


PREPAID, POSTPAID = ProgramKind.PREPAID, ProgramKind.POSTPAID
# The demo's configurations: Acme's (prepaid on its root account, postpaid on its
# managed-services member account), its cloud services, and Globex's one configuration.
# fmt: off
POOLS: tuple[Pool, ...] = (
    Pool("fgt2", "FGT-VM ENT 2 vCPU", 1, ((1, "2"), (2, "ENT")),
         PREPAID, False, 290, ("Production", "Branches/EMEA")),
    Pool("fgt4", "FGT-VM ENT 4 vCPU", 1, ((1, "4"), (2, "ENT"), (10, "5")),
         PREPAID, False, 125, ("Production", "Branches/APAC")),
    Pool("lcs", "FGT-VM LCS 2 vCPU IPS+AV", 4,
         ((6, "2"), (7, "IPS"), (7, "AVDB"), (8, "FC247"), (11, "0")),
         PREPAID, False, 80, ("Production", "Lab")),
    Pool("fmg", "FortiManager-VM 50 devices", 2, ((30, "50"), (9, "5")),
         PREPAID, False, 5, ("Management",)),
    Pool("fgt60f", "FortiGate-60F UTP", 101, ((27, "FGT60F"), (28, "FGHWUTP")),
         PREPAID, False, 70, ("Branches/EMEA", "Branches/APAC"), "FGT60FTK"),
    Pool("fap", "FortiAP-231F", 102, ((55, "FP231F"), (56, "FAPHWFC247")),
         PREPAID, False, 50, ("Branches/EMEA",), "FP231FTF"),
    Pool("mssp2", "Managed FGT-VM ATP 2 vCPU", 1, ((1, "2"), (2, "ATP")),
         POSTPAID, True, 220, ("Customers/Contoso", "Customers/Initech")),
    Pool("mssp4", "Managed FGT-VM ATP 4 vCPU", 1, ((1, "4"), (2, "ATP")),
         POSTPAID, True, 100, ("Customers/Contoso", "Customers/Initech")),
    Pool("mssp60f", "Managed FortiGate-60F", 101, ((27, "FGT60F"), (28, "FGHWFC247")),
         POSTPAID, True, 60, ("Customers/Contoso",), "FGT60FTK"),
)
CLOUD_POOLS: tuple[Pool, ...] = (
    Pool("sase", "FortiSASE 500 users", 205, ((48, "500"), (49, "FSASEADV")),
         PREPAID, False, 0, ("Cloud",)),
    Pool("edr", "Managed FortiEDR", 206, ((46, "FEDRPDR"),),
         POSTPAID, True, 0, ("Cloud",)),
)
GLOBEX_POOL = Pool("globex", "FGT-VM ENT 2 vCPU", 1, ((1, "2"), (2, "ENT")),
                   PREPAID, False, 0, ("Datacenter",))
# VMs moved to a bigger configuration now and then (a resize), within one product type.
RESIZES = {"fgt2": "fgt4", "mssp2": "mssp4"}
ACME_POOLS = frozenset(p.key for p in POOLS)  # where the random actions happen
# Configuration changes made during the history, in this order: the pool, its new name and
# its whole new parameter list.
UPGRADES: tuple[tuple[str, str, tuple[tuple[int, str], ...]], ...] = (
    ("lcs", "FGT-VM LCS 2 vCPU IPS+AV+Sandbox",
     ((6, "2"), (7, "IPS"), (7, "AVDB"), (7, "FAIS"), (8, "FC247"), (11, "0"))),
    ("fmg", "FortiManager-VM 75 devices", ((30, "75"), (9, "5"))),
    ("fgt4", "FGT-VM ENT 4 vCPU", ((1, "4"), (2, "ENT"), (10, "10"))),
    ("mssp2", "Managed FGT-VM ATP 2 vCPU Elite", ((1, "2"), (2, "ATP"), (45, "FGTFCELU"))),
)
# fmt: on


@dataclass(frozen=True)
class DemoOptions:
    entitlements: int = DEFAULT_ENTITLEMENTS
    days: int = DEFAULT_DAYS
    seed: int | None = None  # None: a random seed, reported in the summary
    if_empty: bool = False
