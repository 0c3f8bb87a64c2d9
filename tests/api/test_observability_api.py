"""/metrics, /healthz and /readyz over real HTTP, and the request log line, on a real database."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert, text

from pointflex.bootstrap import build_runtime
from pointflex.config import Settings
from pointflex.services.access import portal_users, sessions
from pointflex.services.access.api_users import Permission
from pointflex.services.entitlements import creation
from pointflex.store.tables import accrual_runs, job_runs, licences
from pointflex.web.session import COOKIE
from tests.api.conftest import V2, Api
from tests.builders import OPERATOR, config, world
from tests.conftest import SECRET
from tests.live import LiveServer

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
STOP = f"{V2}/entitlements/stop"


def scrape(api: Api, **headers: str) -> Samples:
    reply = api.http.get("/metrics", headers=headers)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(reply.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_requests_are_counted_by_route_template_never_by_raw_path(api: Api) -> None:
    before = scrape(api)

    for _ in range(2):
        assert api.http.post(STOP, json={"serialNumber": "FGVMELTM00000042"}).status_code == 401
    assert api.http.get("/assets/FGVMELTM00000042").status_code == 303  # to the sign-in page
    assert api.http.get("/no/such/page/FGVMELTM00000042").status_code == 404

    after = scrape(api)
    count = "pointflex_http_requests_total"
    assert value(after, count, method="POST", route=STOP, status="401") - value(
        before, count, method="POST", route=STOP, status="401"
    ) == pytest.approx(2)
    assert value(after, count, method="GET", route="/assets/{serial}", status="303") > 0
    assert value(after, count, method="GET", route="unmatched", status="404") > value(
        before, count, method="GET", route="unmatched", status="404"
    )
    latency = "pointflex_http_request_duration_seconds_count"
    assert value(after, latency, method="POST", route=STOP) - value(
        before, latency, method="POST", route=STOP
    ) == pytest.approx(2)
    routes = {dict(labels).get("route", "") for _, labels in after}
    assert not any("FGVMELTM00000042" in route for route in routes)


def test_probes_and_scrapes_are_not_counted_as_requests(api: Api) -> None:
    api.http.get("/healthz")
    api.http.get("/readyz")
    samples = scrape(api)
    routes = {dict(labels).get("route") for name, labels in samples if "http" in name}
    assert not routes & {"/healthz", "/readyz", "/metrics"}


def test_job_metrics_reflect_the_runs_recorded_in_the_database(api: Api) -> None:
    at = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    rows = [
        # accrual: a success, then a failure that took 2.5 s (the latest run)
        ("accrual", at, 1200, True),
        ("accrual", at + timedelta(hours=1), 2500, False),
        ("expiry", at, 40, True),
    ]
    with api.rt.engine.begin() as conn:
        for job, started, ms, ok in rows:
            finished = started + timedelta(milliseconds=ms)
            conn.execute(
                insert(job_runs).values(
                    job=job,
                    holder="node-1",
                    started_at=started,
                    finished_at=finished,
                    duration_ms=ms,
                    ok=ok,
                    detail="",
                )
            )

    samples = scrape(api)

    assert value(samples, "pointflex_database_up") == 1
    assert value(samples, "pointflex_job_runs_total", job="accrual", ok="true") == 1
    assert value(samples, "pointflex_job_runs_total", job="accrual", ok="false") == 1
    assert value(samples, "pointflex_job_runs_total", job="expiry", ok="true") == 1
    assert value(samples, "pointflex_job_last_duration_seconds", job="accrual") == 2.5
    assert value(samples, "pointflex_job_last_run_ok", job="accrual") == 0
    assert value(samples, "pointflex_job_last_run_ok", job="expiry") == 1
    success = at + timedelta(milliseconds=1200)
    assert value(
        samples, "pointflex_job_last_success_timestamp_seconds", job="accrual"
    ) == pytest.approx(success.timestamp())
    last = at + timedelta(hours=1, milliseconds=2500)
    assert value(
        samples, "pointflex_job_last_run_timestamp_seconds", job="accrual"
    ) == pytest.approx(last.timestamp())


def test_business_metrics_reflect_accrual_runs_licences_and_entitlements(api: Api) -> None:
    w = world(api.rt)
    (active,) = creation.create_vm(
        api.rt, OPERATOR, config_id=config(api.rt, w.prepaid).id, skip_pending=True
    )
    creation.create_vm(api.rt, OPERATOR, config_id=config(api.rt, w.postpaid).id)
    now = api.rt.now()
    with api.rt.engine.begin() as conn:
        for program, day, points in (
            (w.prepaid, date(2026, 3, 1), Decimal("10.50")),
            (w.prepaid, date(2026, 3, 2), Decimal("11.25")),
            (w.postpaid, date(2026, 3, 1), Decimal("3.00")),
        ):
            conn.execute(
                insert(accrual_runs).values(
                    program_serial=program, day=day, points=points, entitlements=1, completed_at=now
                )
            )
        conn.execute(
            insert(licences).values(
                licence_id="LIC-1",
                serial=active.serial,
                account_id=w.root,
                instance_id="vm-1",
                token_hash="h" * 64,
                issued_at=now,
            )
        )

    samples = scrape(api)

    accrued = "pointflex_points_accrued_total"
    assert value(samples, accrued, program_kind="PREPAID") == pytest.approx(21.75)
    assert value(samples, accrued, program_kind="POSTPAID") == pytest.approx(3.0)
    assert value(samples, "pointflex_licence_activations_total") == 1
    assert value(samples, "pointflex_entitlements", status="ACTIVE") == 1
    assert value(samples, "pointflex_entitlements", status="PENDING") == 1


@pytest.fixture
def unreachable(api: Api, live_server: LiveServer, tmp_path: Path) -> Iterator[Api]:
    """The app on a database that cannot be opened (a file in a missing folder)."""
    broken = Settings(
        database_url=f"sqlite:///{tmp_path / 'missing' / 'x.db'}",
        data_dir=tmp_path,
        secret_key=SECRET,
    )
    rt = build_runtime(broken)
    live_server.app.state.runtime = rt
    try:
        yield Api(rt, api.http)
    finally:
        live_server.app.state.runtime = api.rt
        rt.engine.dispose()


def test_a_database_that_is_down_does_not_fail_the_scrape(unreachable: Api) -> None:
    samples = scrape(unreachable)
    assert value(samples, "pointflex_database_up") == 0
    assert not any(name.startswith("pointflex_job") for name, _ in samples)


def test_healthz_answers_without_the_database(unreachable: Api) -> None:
    reply = unreachable.http.get("/healthz")
    assert reply.status_code == 200
    assert reply.json() == {"status": "ok"}


def test_readyz_is_503_when_the_database_is_unreachable(unreachable: Api) -> None:
    reply = unreachable.http.get("/readyz")
    assert reply.status_code == 503
    assert reply.json()["status"] == "unavailable"
    assert "database unreachable" in reply.json()["reason"]


def test_readyz_is_200_at_the_latest_revision(api: Api) -> None:
    reply = api.http.get("/readyz")
    assert reply.status_code == 200, reply.text
    with api.rt.engine.connect() as conn:
        current = conn.scalar(text("SELECT version_num FROM alembic_version"))
    assert reply.json() == {"status": "ok", "revision": current}


@pytest.fixture
def schema_behind(api: Api) -> Iterator[Api]:
    """The database says it is at revision 0006 (restored afterwards: PostgreSQL tests share
    one database, whose revision table no test truncates)."""
    table = text("SELECT version_num FROM alembic_version")
    with api.rt.engine.connect() as conn:
        head = conn.scalar(table)
    with api.rt.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0006'"))
    try:
        yield api
    finally:
        with api.rt.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})


def test_readyz_is_503_when_the_schema_is_behind_the_code(schema_behind: Api) -> None:
    reply = schema_behind.http.get("/readyz")
    assert reply.status_code == 503
    body = reply.json()
    assert body["status"] == "unavailable"
    assert "revision 0006" in body["reason"]
    assert "pointflex db upgrade" in body["reason"]


def test_the_metrics_token_is_required_when_set(api: Api) -> None:
    api.rt.settings.metrics_token = "scrape-secret"

    missing = api.http.get("/metrics")
    wrong = api.http.get("/metrics", headers={"Authorization": "Bearer nope"})

    for refused in (missing, wrong):
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert "pointflex_" not in refused.text
    assert value(scrape(api, Authorization="Bearer scrape-secret"), "pointflex_database_up") == 1


def test_the_ops_paths_answer_json_errors_not_portal_pages(api: Api) -> None:
    refused = api.http.post("/healthz")
    assert refused.status_code == 405
    assert refused.headers["content-type"].startswith("application/json")
    assert "content-security-policy" not in refused.headers


def test_each_request_is_logged_once_with_its_request_id_and_route(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="pointflex.access"):
        reply = api.http.post(
            STOP, json={"serialNumber": "FGVMELTM00000042"}, headers={"X-Request-ID": "req-77"}
        )
    assert reply.headers["X-Request-ID"] == "req-77"
    lines = [r for r in caplog.records if r.name == "pointflex.access"]
    (line,) = [r for r in lines if getattr(r, "request_id", None) == "req-77"]
    assert line.__dict__["route"] == STOP
    assert line.__dict__["status"] == 401
    assert line.__dict__["method"] == "POST"
    assert line.__dict__["client"] == "127.0.0.1"
    assert line.__dict__["duration_ms"] >= 0


def test_the_request_line_names_the_signed_in_portal_user_and_the_api_user(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    w = world(api.rt)
    user, _ = portal_users.create_portal_user(
        api.rt, OPERATOR, "watcher", permission=Permission.READONLY, account_id=w.root
    )
    token, _ = sessions.start_session(api.rt, user)
    bearer = api.user(account_id=w.root)
    with caplog.at_level(logging.INFO, logger="pointflex.access"):
        page = api.http.get(
            f"/programs/{w.prepaid}",
            headers={"X-Request-ID": "portal-1", "Cookie": f"{COOKIE}={token}"},
        )
        listed = api.call("programs/list", {}, bearer)
    assert page.status_code == 200
    assert listed.status_code == 200
    lines = {getattr(r, "request_id", None): r.__dict__ for r in caplog.records}
    assert lines["portal-1"]["portal_user"].endswith("watcher")
    assert lines["portal-1"]["route"] == "/programs/{serial}"
    assert lines[listed.headers["X-Request-ID"]]["api_user"].startswith("api:")
    assert token not in caplog.text
    assert bearer not in caplog.text
