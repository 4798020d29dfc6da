"""The service itself: anonymous health and docs, start-up, OpenAPI, logs."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from fastapi.testclient import TestClient

from api import errors
from api.app import RedactFeedTokens, create_app
from scheduler.store import jobs
from scheduler.store.db import make_engine, utcnow


def test_health_and_docs_are_open(client):
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "coordinator token" in spec["components"]["securitySchemes"]
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            assert operation.get("summary"), path


def test_start_up_fails_jobs_left_running_by_a_dead_worker(settings, make_site, app, client):
    site = make_site()
    created = client.post(f"{site.url}/schedules", json={}, headers=site.headers).json()
    with app.state.sessions() as session:
        jobs.claim_next(session, "worker on a machine that was switched off", utcnow())
        session.get(jobs.JobRow, created["id"]).heartbeat_at = utcnow() - dt.timedelta(hours=1)
        session.commit()
    restarted = create_app(settings)
    with TestClient(restarted) as fresh:  # start-up runs here
        with restarted.state.sessions() as session:
            row = session.get(jobs.JobRow, created["id"])
            assert row.state == "failed" and "heartbeat" in row.error
        assert fresh.get("/health").status_code == 200
    restarted.state.engine.dispose()


def test_start_up_migrates_an_empty_database(tmp_path):
    from scheduler.settings import Settings
    from scheduler.store.db import current_revision, head_revision

    url = f"sqlite:///{tmp_path / 'new' / 'rota.db'}"
    app = create_app(Settings(database_url=url))
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
    engine = make_engine(url)
    assert current_revision(engine) == head_revision()
    engine.dispose()
    app.state.engine.dispose()


def test_feed_tokens_never_reach_the_access_log():
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/calendar/s3cr3t-t0ken_abcdefghijklmnopqrstuvwxyz.ics?x=1", "1.1", 200),
        None,
    )
    assert RedactFeedTokens().filter(record)
    assert "s3cr3t" not in record.getMessage() and "/calendar/<token>.ics" in record.getMessage()


SECRET = "s3cr3t-T0ken_abcdefghijklmnopqrstuvwxyz"


@pytest.mark.parametrize(
    ("path", "kept"),
    [
        (f"/calendar/{SECRET}.ics", "/calendar/<token>.ics"),
        (f"/calendar/{SECRET}.ICS", "/calendar/<token>.ICS"),
        (f"/calendar/{SECRET}.iCs?x=1", "/calendar/<token>.iCs?x=1"),
        (f"/calendar/{SECRET}%2Eics", "/calendar/<token>%2Eics"),
        (f"%2Fcalendar%2F{SECRET}.ics", "%2Fcalendar%2F<token>.ics"),
        (f"/CALENDAR/{SECRET}.ics", "/CALENDAR/<token>.ics"),
        (f"/calendar/{SECRET}", "/calendar/<token>"),
        (f"/calendar/{SECRET}/", "/calendar/<token>/"),
        (f"/rota/calendar/{SECRET}.ics", "/rota/calendar/<token>.ics"),
        (
            f"webcal://rota.example.org/calendar/{SECRET}.ics",
            "webcal://rota.example.org/calendar/<token>.ics",
        ),
        (f"/console/login/{SECRET}", "/console/login/<token>"),
        (f"/console/login/{SECRET}?next=/console/sites", "/console/login/<token>?next=/console/sites"),
        (f"/console/link/{SECRET}", "/console/link/<token>"),  # the console's one-time sign-in link
        (f"GET /console/LINK/{SECRET} HTTP/1.1", "GET /console/LINK/<token> HTTP/1.1"),
        (f"/Console/Login/{SECRET}", "/Console/Login/<token>"),
        (f"/console/login?token={SECRET}", "/console/login?token=<token>"),
        (f"/console?a=1&token={SECRET}&b=2", "/console?a=1&token=<token>&b=2"),
        (f"/console?TOKEN={SECRET}", "/console?TOKEN=<token>"),
        (f"/console%3Ftoken%3D{SECRET}", "/console%3Ftoken%3D<token>"),
        (f"/hook?access_token={SECRET}", "/hook?access_token=<token>"),
        (f"/me/{SECRET}", "/me/<token>"),  # a volunteer's own page, and its forms
        (f"POST /me/{SECRET}/unwell HTTP/1.1", "POST /me/<token>/unwell HTTP/1.1"),
        (f"/ME/{SECRET}/lang/zh_CN", "/ME/<token>/lang/zh_CN"),
    ],
)
def test_every_token_url_form_is_redacted(path, kept):
    """On the old code only a literal lower-case ``/calendar/<token>.ics`` was redacted: every form but
    the first failed."""
    assert errors.redact(path) == kept
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", path, "1.1", 200),
        None,
    )
    assert RedactFeedTokens().filter(record)
    assert SECRET not in record.getMessage() and kept in record.getMessage()


@pytest.mark.parametrize(
    "path",
    [
        "/sites/1/calendar/token",
        "/sites/1/calendar.ics",
        "/sites/1/volunteers/v002/calendar/token",
        "/console/sites?tokens=2",
        "/docs",
        "/home/me",
    ],
)
def test_paths_without_secrets_are_left_alone(path):
    assert errors.redact(path) == path


def test_a_message_with_the_url_in_it_is_redacted_too():
    record = logging.LogRecord(
        "httpx",
        logging.INFO,
        __file__,
        1,
        f"HTTP Request: POST https://gw.example/h?token={SECRET} 200",
        None,
        None,
    )
    assert RedactFeedTokens().filter(record) and SECRET not in record.getMessage()


def test_the_server_parses_http_in_c_on_a_libuv_loop():
    """``rota serve`` (uvicorn's ``auto`` choices) runs on httptools and uvloop: with the pure-Python
    parser (h11) and asyncio's own loop the service managed a fifth of its feed reads a second in the
    load test (docs/BENCHMARKS.md, issue 14). Both are dependencies in pyproject.toml."""
    import sys

    from uvicorn.protocols.http.auto import AutoHTTPProtocol
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    assert AutoHTTPProtocol is HttpToolsProtocol
    if sys.platform != "win32":
        from uvicorn.loops.auto import auto_loop_factory

        loop = auto_loop_factory()()
        try:
            assert type(loop).__module__.startswith("uvloop"), type(loop)
        finally:
            loop.close()
