"""Licence rules without I/O: request field checks and the validation verdict (R33, R73, P4).

The verdicts and their order are those of docs/licence-protocol.md: UNKNOWN, DUPLICATE,
SUPERSEDED, EXPIRED (a removed hardware serial too, reason REMOVED), STOPPED, VALID.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from pointflex.domain.entitlements import Status
from pointflex.errors import InvalidInput

NONCE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
MAX_INSTANCE_ID = 128  # the licences.instance_id column
MAX_PRODUCT_VERSION = 40  # the licences.product_version column
MAX_TOKEN = 64  # far above the 20 hex characters of a token; longer input is not a token
REMOVED = "REMOVED"


class Verdict(StrEnum):
    UNKNOWN = "UNKNOWN"
    DUPLICATE = "DUPLICATE"
    SUPERSEDED = "SUPERSEDED"
    EXPIRED = "EXPIRED"
    STOPPED = "STOPPED"
    VALID = "VALID"


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    reason: str | None = None


UNKNOWN = Judgement(Verdict.UNKNOWN)


def check_nonce(nonce: str) -> str:
    if not isinstance(nonce, str) or not NONCE.match(nonce):
        raise InvalidInput("nonce must be 16 to 128 characters of A-Z, a-z, 0-9, '_' and '-'")
    return nonce


def check_instance_id(instance_id: str) -> str:
    if not isinstance(instance_id, str) or not instance_id.strip():
        raise InvalidInput("instanceId must not be empty")
    if len(instance_id) > MAX_INSTANCE_ID or not instance_id.isprintable():
        raise InvalidInput(f"instanceId must be at most {MAX_INSTANCE_ID} printable characters")
    return instance_id


def check_product_version(version: str | None) -> str:
    version = version or ""
    if len(version) > MAX_PRODUCT_VERSION or not version.isprintable():
        raise InvalidInput(
            f"productVersion must be at most {MAX_PRODUCT_VERSION} printable characters"
        )
    return version


def check_token(token: str) -> str:
    if not isinstance(token, str) or not token.strip():
        raise InvalidInput("token must not be empty")
    if len(token) > MAX_TOKEN:
        raise InvalidInput(f"token must be at most {MAX_TOKEN} characters")
    return token


def entitlement_verdict(status: Status, removed: bool) -> Judgement:
    """The verdict an entitlement's shown status gives, once the licence itself checks out."""
    if removed:
        return Judgement(Verdict.EXPIRED, REMOVED)
    if status is Status.EXPIRED:
        return Judgement(Verdict.EXPIRED)
    if status is Status.STOPPED:
        return Judgement(Verdict.STOPPED)
    if status in (Status.ACTIVE, Status.GRACE_PERIOD):
        return Judgement(Verdict.VALID)
    # PENDING: the entitlement was never activated, so whatever the instance holds is not a
    # licence of it; a licence row always comes with an ACTIVE entitlement (R26).
    return UNKNOWN


def licence_verdict(
    *,
    holder_instance: str,
    asking_instance: str,
    superseded: bool,
    status: Status,
    removed: bool,
) -> Judgement:
    """The verdict for a licence that exists for the serial asked about."""
    if holder_instance != asking_instance:
        return Judgement(Verdict.DUPLICATE)  # a copied instance (R73)
    if superseded:
        return Judgement(Verdict.SUPERSEDED)  # the token was regenerated and redeemed (R33)
    return entitlement_verdict(status, removed)
