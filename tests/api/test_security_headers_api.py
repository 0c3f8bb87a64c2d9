"""Security headers on API answers (pointflex.http.security_headers), and HSTS over https only.

Plain-http calls go to the live uvicorn test server. It runs with uvicorn's defaults, as
``pointflex serve`` does: ``proxy_headers`` on and only 127.0.0.1 trusted to send
``X-Forwarded-Proto`` — the tests' client is 127.0.0.1, i.e. a proxy on the same host.
Direct https is exercised in-process (httpx's ASGI transport on an ``https://`` base URL).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from pointflex.api.license.routes import KEYS_CACHE
from pointflex.asgi import create_app
from pointflex.bootstrap import Runtime
from tests.api.conftest import V2, Api
from tests.builders import world

HSTS = "strict-transport-security"


def assert_api_headers(reply: httpx.Response) -> None:
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["referrer-policy"] == "no-referrer"


def in_process(app: ASGIApp, base_url: str, method: str, path: str, **kw: object) -> httpx.Response:
    """One request straight into ``app`` (no socket): the URL's scheme is the ASGI scheme."""

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            return await client.request(method, path, **kw)  # type: ignore[arg-type]

    # In a thread of its own: a Playwright test earlier in the same process leaves an event
    # loop running in this thread, where asyncio.run() refuses to start another.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, send()).result()


def test_a_fortiflex_answer_is_not_sniffed_stored_or_referred(api: Api) -> None:
    reply = api.call("programs/list", {}, api.user(account_id=world(api.rt).root))
    assert reply.status_code == 200, reply.text
    assert_api_headers(reply)
    assert reply.headers["cache-control"] == "no-store"
    assert HSTS not in reply.headers  # plain http: no HSTS


def test_refusals_and_unknown_api_paths_carry_the_headers_too(api: Api) -> None:
    refused = api.call("programs/list", {})  # no token: the §2.5 reply
    unknown = api.http.post(f"{V2}/no/such/endpoint")
    token = api.http.post("/api/v1/oauth/token/", json={"username": "x", "password": "y"})
    for reply in (refused, unknown, token):
        assert reply.status_code in (401, 404), reply.text
        assert_api_headers(reply)
        assert reply.headers["cache-control"] == "no-store"


def test_the_public_key_documents_keep_their_deliberate_caching(api: Api) -> None:
    for path in ("/.well-known/pointflex/keys.json", "/api/license/v1/keys"):
        reply = api.http.get(path)
        assert reply.status_code == 200, reply.text
        assert reply.headers["cache-control"] == KEYS_CACHE  # not overwritten by no-store
        assert reply.headers.get_list("cache-control") == [KEYS_CACHE]
        assert_api_headers(reply)


def test_hsts_is_sent_when_a_trusted_proxy_says_the_request_came_over_https(api: Api) -> None:
    forwarded = api.http.get(
        "/.well-known/pointflex/keys.json", headers={"X-Forwarded-Proto": "https"}
    )
    plain = api.http.get("/.well-known/pointflex/keys.json")
    assert forwarded.headers[HSTS] == "max-age=31536000"
    assert HSTS not in plain.headers


def test_hsts_on_direct_https_for_api_and_portal_answers(rt: Runtime) -> None:
    app = create_app(rt)
    api_reply = in_process(app, "https://pointflex.test", "POST", f"{V2}/programs/list", json={})
    page = in_process(app, "https://pointflex.test", "GET", "/login")
    assert api_reply.status_code == 401
    assert page.status_code == 200
    assert api_reply.headers[HSTS] == "max-age=31536000"
    assert page.headers[HSTS] == "max-age=31536000"
    assert "content-security-policy" in page.headers  # the portal keeps its own set
    assert page.headers["referrer-policy"] == "same-origin"
    assert api_reply.headers["referrer-policy"] == "no-referrer"


def test_the_portal_over_plain_http_gets_no_hsts(api: Api) -> None:
    page = api.http.get("/login")
    assert page.status_code == 200
    assert HSTS not in page.headers
    assert page.headers["cache-control"] == "no-store"


def test_an_untrusted_client_cannot_switch_hsts_on_with_a_forwarded_header(rt: Runtime) -> None:
    """Behind uvicorn's proxy-header handling trusting only another address (the proxy), a
    client's own X-Forwarded-Proto is ignored: the request stays http and gets no HSTS."""
    app = ProxyHeadersMiddleware(create_app(rt), trusted_hosts="10.0.0.1")
    path = "/.well-known/pointflex/keys.json"
    forwarded = {"X-Forwarded-Proto": "https"}
    reply = in_process(app, "http://pointflex.test", "GET", path, headers=forwarded)
    assert reply.status_code == 200
    assert HSTS not in reply.headers
    assert reply.headers["x-content-type-options"] == "nosniff"
