"""Signing in and out of the console, one-time sign-in links, and CSRF refusal on every form."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from scheduler.domain.calendar import hash_token
from scheduler.store import console_sessions
from scheduler.store.db import unit_of_work, utcnow
from tests.api.conftest import publish, solve
from tests.api.console.conftest import csrf_of, sign_in

PAGES = ["/console/today", "/console/rota", "/console/people", "/console/people/v002", "/console/solve"]


def sessions_count(app) -> int:
    with app.state.sessions() as session:
        return session.scalar(select(func.count()).select_from(console_sessions.ConsoleSessionRow))


def test_pages_want_a_signed_in_coordinator(console):
    for path in PAGES:
        response = console.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/console/sign-in?next=%2Fconsole%2F")
        assert "Sora Ito" not in response.text  # nothing of the site before sign-in


def test_sign_in_sets_a_strict_http_only_cookie_of_a_hashed_server_side_session(console, app, site):
    page = console.get("/console/sign-in")
    response = console.post(
        "/console/sign-in", data={"csrf": csrf_of(page.text), "token": site.token, "next": "/console/people"}
    )
    assert response.status_code == 200
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("rota_console="))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "path", "samesite"} <= attributes and "secure" not in attributes  # plain http here
    assert "samesite=strict" in cookie.lower() and "path=/console" in cookie.lower()
    secret = console.cookies["rota_console"]
    with app.state.sessions() as session:
        row = session.scalar(select(console_sessions.ConsoleSessionRow))
        assert row.site_id == site.id and row.session_hash == hash_token(secret)
        assert secret != row.session_hash
        assert row.expires_at > utcnow()
    assert 'href="/console/people"' in response.text  # goes on to the page asked for
    for path in PAGES:
        assert console.get(path).status_code == 200, path


def test_the_cookie_is_secure_over_https(app, site):
    with TestClient(app, base_url="https://testserver") as secure:
        page = secure.get("/console/sign-in")
        response = secure.post("/console/sign-in", data={"csrf": csrf_of(page.text), "token": site.token})
        cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("rota_console="))
        assert "secure" in cookie.lower()


def test_a_bad_token_is_shown_beside_the_field(console, site):
    page = console.get("/console/sign-in")
    cases = [
        ("rota_" + "x" * 40, "this token is not valid"),
        ("", "enter the coordinator token"),
        ("a\x00b", "must not contain a NUL character"),
    ]
    for token, message in cases:
        response = console.post("/console/sign-in", data={"csrf": csrf_of(page.text), "token": token})
        assert response.status_code == 422
        assert f'<p class="field-error" id="token-error" role="alert">{message}</p>' in response.text
        assert 'aria-invalid="true"' in response.text
        assert "rota_console" not in console.cookies


def test_sign_out_ends_the_session(console, app, site):
    csrf = sign_in(console, site)
    assert sessions_count(app) == 1
    response = console.post("/console/sign-out", data={"csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/console/sign-in"
    assert sessions_count(app) == 0
    assert console.get("/console/today", follow_redirects=False).status_code == 303


def test_an_expired_session_is_signed_out(console, app, site):
    sign_in(console, site)
    with unit_of_work(app.state.sessions) as session:
        row = session.scalar(select(console_sessions.ConsoleSessionRow))
        row.expires_at = utcnow()
    assert console.get("/console/today", follow_redirects=False).status_code == 303


def test_a_one_time_link_signs_in_once(console, app, site):
    with unit_of_work(app.state.sessions) as session:
        token = console_sessions.create_login_token(session, site.id, utcnow())
    page = console.get(f"/console/link/{token}")
    assert page.status_code == 200 and "rota_console" not in console.cookies  # a GET uses nothing up
    assert console.post(f"/console/link/{token}", data={}).status_code == 403  # no CSRF token
    response = console.post(f"/console/link/{token}", data={"csrf": csrf_of(page.text)})
    assert response.status_code == 200 and "rota_console" in console.cookies
    assert console.get("/console/people").status_code == 200
    console.cookies.clear()
    page = console.get(f"/console/link/{token}")
    again = console.post(f"/console/link/{token}", data={"csrf": csrf_of(page.text)})
    assert again.status_code == 410 and "rota_console" not in console.cookies


def test_a_sign_in_link_that_expired_opens_nothing(console, app, site):
    import datetime as dt

    with unit_of_work(app.state.sessions) as session:
        token = console_sessions.create_login_token(session, site.id, utcnow() - dt.timedelta(days=8))
    page = console.get(f"/console/link/{token}")
    assert console.post(f"/console/link/{token}", data={"csrf": csrf_of(page.text)}).status_code == 410


def test_the_sign_in_form_wants_its_csrf_token(console, site):
    console.get("/console/sign-in")
    response = console.post("/console/sign-in", data={"token": site.token})
    assert response.status_code == 403 and "rota_console" not in console.cookies
    response = console.post("/console/sign-in", data={"token": site.token, "csrf": "forged" * 8})
    assert response.status_code == 403


@pytest.mark.parametrize("forged", [None, "", "wrong-token-wrong-token-wrong-token-00"])
def test_every_form_without_the_sessions_csrf_token_is_refused(console, client, app, site, worker, forged):
    job = solve(client, worker, site, time_limit=1.5)
    publish(client, site, job["id"])
    done = solve(client, worker, site, time_limit=1.5)  # done, not published
    queued = client.post(f"{site.url}/schedules", json={}, headers=site.headers).json()
    sign_in(console, site)
    data = {} if forged is None else {"csrf": forged}
    posts = [
        ("/console/solve", {"start": "2027-01-11", "days": "7", "time_limit": "1"}),
        ("/console/people/v002/health", {"status": "sick", "from": "2027-01-12"}),
        (f"/console/jobs/{done['id']}/publish", {}),
        (f"/console/jobs/{queued['id']}/cancel", {}),
        ("/console/sign-out", {}),
    ]
    for path, form in posts:
        response = console.post(path, data={**form, **data}, follow_redirects=False)
        assert response.status_code == 403, (path, response.status_code)
        assert "Refused" in response.text
    # nothing happened: no job queued, no record, nothing published or cancelled, still signed in
    jobs = client.get(f"{site.url}/schedules", headers=site.headers).json()
    assert len(jobs) == 3 and {j["state"] for j in jobs} == {"done", "queued"}
    assert client.get(f"{site.url}/volunteers/v002/health", headers=site.headers).json() == []
    assert client.get(f"{site.url}/schedule", headers=site.headers).json()["number"] == 1
    assert console.get("/console/today").status_code == 200


def test_posts_without_a_session_are_refused(console, site):
    response = console.post("/console/solve", data={"csrf": "x", "days": "7"})
    assert response.status_code == 403


def test_the_language_switch_only_goes_back_into_the_console(console):
    response = console.get("/console/lang/zh_CN?next=https://evil.example/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/console/today"
    response = console.get("/console/lang/zh_CN?next=//evil.example/x", follow_redirects=False)
    assert response.headers["location"] == "/console/today"
    page = console.get("/console/sign-in")
    assert 'lang="zh-CN"' in page.text and "协调员令牌" in page.text
