"""One error hierarchy for every layer.

Each entry point translates these in one place: the API into the FortiFlex envelope
(``status: -1`` with ``error.errorCode``), the portal into a message on the page, the CLI into
a red line and a non-zero exit code. ``code`` values are stable: clients may depend on them.
"""

from __future__ import annotations

from typing import ClassVar


class PointflexError(Exception):
    """Base of every error pointflex raises on purpose."""

    code: ClassVar[int] = 1000
    http_status: ClassVar[int] = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(PointflexError):
    """A request is malformed or a value is out of its allowed range."""

    code = 1001


class InvalidParameter(InvalidInput):
    """A configuration parameter is unknown, missing or out of range ("Parameter id N ...")."""

    code = 1002


class InvalidDate(InvalidInput):
    """A date cannot be parsed or is outside its allowed window."""

    code = 1003


class LimitExceeded(InvalidInput):
    """Too many items in one request (serials, count)."""

    code = 1004


class MixedProductTypes(InvalidInput):
    """A bulk action names serials of more than one product type (R60)."""

    code = 1005


class Unauthenticated(PointflexError):
    code = 1101
    http_status = 401


class AuthenticationFailed(Unauthenticated):
    """Wrong credentials, an unknown client or a disabled user at the token endpoint."""

    code = 1103


class Throttled(PointflexError):
    """Too many failed sign-ins or requests; try again after ``retry_after`` seconds."""

    code = 1104
    http_status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Forbidden(PointflexError):
    """The caller's role or scope does not allow this."""

    code = 1102
    http_status = 403


class NotFound(PointflexError):
    code = 1201
    http_status = 404


class InvalidState(PointflexError):
    """The object is in a state that does not allow the action (e.g. reactivate an ACTIVE one)."""

    code = 1301
    http_status = 409


class AlreadyInState(InvalidState):
    """The action asks for the state the object is already in (P2); nothing changed."""

    code = 1302


class WrongProductType(InvalidState):
    """A configuration of another product type or form factor was given (R29, R51, P12)."""

    code = 1303


class ConfigDisabled(InvalidState):
    """New entitlements cannot be created on a DISABLED configuration (P12)."""

    code = 1304


class ProgramConflict(InvalidState):
    """Program rules: one prepaid and one postpaid per account (R2), balance only prepaid (R4)."""

    code = 1305


class AccountSuspended(InvalidState):
    """The account has been in negative-balance grace for 90 days or more (P7)."""

    code = 1306


class Duplicate(InvalidState):
    """An object with this natural key already exists (hardware serial, cloud product)."""

    code = 1307


class NoTokenAvailable(NotFound):
    """``groups/nexttoken`` found no entitlement with an unused token (Q20)."""

    code = 1202


class AccrualNotDue(InvalidState):
    """A day cannot be accrued before it has ended in the program's time zone."""

    code = 1401


class BackupRefused(InvalidInput):
    """A backup file that cannot be restored here (corrupt, other backend, newer schema...)."""

    code = 1006


class CsrfRefused(Forbidden):
    """A portal form without the right token (forged, or from an ended session)."""

    code = 1105

    def __init__(self) -> None:
        super().__init__(
            "This form is out of date or did not come from this site. "
            "Go back, reload the page and try again."
        )


class StatementDoesNotReconcile(InvalidState):
    """The month's figures disagree with each other; the statement is not produced."""

    code = 1402


class IdempotencyKeyReused(InvalidState):
    """The ``Idempotency-Key`` was already used by this API user for a different request."""

    code = 1501


class IdempotencyKeyInProgress(InvalidState):
    """Another request with this ``Idempotency-Key`` is still running; retry shortly."""

    code = 1502


ALL_ERRORS: tuple[type[PointflexError], ...] = (
    PointflexError,
    InvalidInput,
    InvalidParameter,
    InvalidDate,
    LimitExceeded,
    MixedProductTypes,
    Unauthenticated,
    AuthenticationFailed,
    Throttled,
    Forbidden,
    NotFound,
    NoTokenAvailable,
    InvalidState,
    AlreadyInState,
    WrongProductType,
    ConfigDisabled,
    ProgramConflict,
    AccountSuspended,
    Duplicate,
    AccrualNotDue,
    BackupRefused,
    CsrfRefused,
    StatementDoesNotReconcile,
    IdempotencyKeyReused,
    IdempotencyKeyInProgress,
)
