"""The licence protocol over HTTP (``docs/licence-protocol.md``): keys, activate, validate.

This module only moves JSON; it trusts nothing it receives. Signed documents are returned as
they came and checked by :mod:`pointflex_vm.trust`.
"""

from __future__ import annotations

import secrets
from http import HTTPStatus
from typing import Any

import httpx

from pointflex_verify import VerificationError

KEYS_PATH = "/.well-known/pointflex/keys.json"
ACTIVATE_PATH = "/api/license/v1/activate"
VALIDATE_PATH = "/api/license/v1/validate"
TIMEOUT_SECONDS = 10.0
# 24 random bytes → 32 characters of [A-Za-z0-9_-], inside the protocol's 16–128 range.
NONCE_BYTES = 24


class ProtocolError(Exception):
    """No usable reply: see the subclasses."""


class Unreachable(ProtocolError):
    """Connection failure, timeout, server error (5xx) or a reply that is not the protocol's."""


class Refused(ProtocolError):
    """The server refused the request (4xx) with its error envelope; nothing is signed."""

    def __init__(self, message: str, *, http_status: int, code: int | None) -> None:
        detail = f"error {code}, HTTP {http_status}" if code is not None else f"HTTP {http_status}"
        super().__init__(f"{message} ({detail})")
        self.http_status = http_status
        self.code = code


def new_nonce() -> str:
    """A fresh request nonce; the signed reply must repeat it, so old replies cannot be replayed."""
    return secrets.token_urlsafe(NONCE_BYTES)


class LicenceClient:
    def __init__(self, server: str, http: httpx.Client) -> None:
        self.server = server.rstrip("/")
        self.http = http

    def fetch_keys(self) -> dict[str, Any]:
        return self._call("GET", KEYS_PATH, None)

    def activate(
        self,
        *,
        token: str,
        instance_id: str,
        product_version: str,
        hardware_vcpus: int,
        nonce: str,
    ) -> dict[str, Any]:
        """The signed licence document from a successful redemption (not yet verified)."""
        body = {
            "token": token,
            "instanceId": instance_id,
            "productVersion": product_version,
            "hardwareVcpus": hardware_vcpus,
            "nonce": nonce,
        }
        return _signed(self._call("POST", ACTIVATE_PATH, body), "licence")

    def validate(
        self,
        *,
        licence_id: str,
        serial_number: str,
        instance_id: str,
        product_version: str,
        nonce: str,
    ) -> dict[str, Any]:
        """The signed answer document (not yet verified)."""
        body = {
            "licenceId": licence_id,
            "serialNumber": serial_number,
            "instanceId": instance_id,
            "nonce": nonce,
            "productVersion": product_version,
        }
        return _signed(self._call("POST", VALIDATE_PATH, body), "answer")

    def _call(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        url = self.server + path
        try:
            reply = self.http.request(method, url, json=body, timeout=TIMEOUT_SECONDS)
        except httpx.HTTPError as exc:
            raise Unreachable(
                f"cannot reach {self.server}: {str(exc) or type(exc).__name__}"
            ) from exc
        data = _json_object(reply)
        if reply.is_client_error and data is not None:  # a 4xx
            raise _refusal(reply, data)
        if reply.status_code != HTTPStatus.OK or data is None:
            raise Unreachable(f"unexpected reply from {url}: HTTP {reply.status_code}")
        return data


def _json_object(reply: httpx.Response) -> dict[str, Any] | None:
    try:
        data = reply.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _refusal(reply: httpx.Response, envelope: dict[str, Any]) -> Refused:
    error = envelope.get("error")
    error = error if isinstance(error, dict) else {}
    message = error.get("message") or envelope.get("message") or reply.reason_phrase
    code = error.get("errorCode")
    retry = reply.headers.get("Retry-After")
    if retry:
        message = f"{message}; retry after {retry} s"
    return Refused(
        str(message),
        http_status=reply.status_code,
        code=code if isinstance(code, int) else None,
    )


def _signed(envelope: dict[str, Any], field: str) -> dict[str, Any]:
    document = envelope.get(field)
    if not isinstance(document, dict):
        raise VerificationError(f"the reply carries no signed {field}")
    return document
