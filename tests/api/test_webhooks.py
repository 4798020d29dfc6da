"""Webhooks over HTTP: registration, signed deliveries of every publication to a real local receiver (a
tiny HTTP server on 127.0.0.1), retries with back-off until ``failed`` while the publication itself
never waits, and validation."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from scheduler.domain import publication
from scheduler.store.db import utcnow
from tests.api.conftest import make_settings, publish, solve
from tests.api.test_resolve_api import CUTOFF, busiest_in_window, run, with_phones


class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST and answers ``status`` after ``delay`` s."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                time.sleep(receiver.delay)
                try:
                    self.send_response(receiver.status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:  # the client gave up (timeout)
                    pass

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/rota-hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def settings(database_url):
    return make_settings(database_url).model_copy(
        update={"webhook_allow_private": True, "webhook_timeout": 0.5, "webhook_retry_delays": [10, 30, 120]}
    )


@pytest.fixture
def http():
    with httpx.Client(follow_redirects=False) as client:
        yield client


def register(client, site, url: str, **extra) -> dict:
    response = client.put(f"{site.url}/webhook", json={"url": url, **extra}, headers=site.headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


def deliveries(client, site) -> list[dict]:
    return client.get(f"{site.url}/webhook/deliveries", headers=site.headers).json()


def test_registration_shows_the_secret_once(client, site):
    url = f"{site.url}/webhook"
    assert client.get(url, headers=site.headers).status_code == 404
    created = client.put(url, json={"url": "https://gateway.example.org/rota"}, headers=site.headers)
    assert created.status_code == 201 and created.headers["Location"] == url
    secret = created.json()["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    shown = client.get(url, headers=site.headers).json()
    assert shown["url"] == "https://gateway.example.org/rota" and "secret" not in shown
    assert secret not in json.dumps(shown)
    moved = client.put(url, json={"url": "https://gateway.example.org/v2"}, headers=site.headers)
    assert moved.status_code == 200 and moved.json()["secret"] is None  # the secret is kept, not shown
    mine = "a-shared-secret-of-my-own"
    assert (
        client.put(url, json={"url": shown["url"], "secret": mine}, headers=site.headers).json()["secret"]
        == mine
    )
    assert client.delete(url, headers=site.headers).status_code == 204
    assert client.get(url, headers=site.headers).status_code == 404
    assert client.delete(url, headers=site.headers).status_code == 404


def test_every_publication_is_delivered_signed(client, make_site, worker, receiver, http):
    site = make_site(with_phones())
    secret = register(client, site, receiver.url)["secret"]
    job = solve(client, worker, site, time_limit=1)
    publish(client, site, job["id"])
    [pending] = deliveries(client, site)
    assert pending["state"] == "pending" and pending["attempts"] == 0 and pending["version"] == 1
    assert receiver.requests == []  # nothing is sent by the publication itself

    assert worker.deliver_webhooks(http) == 1
    [(headers, body)] = receiver.requests
    assert headers["content-type"] == "application/json"
    assert headers["x-rota-event"] == "schedule.published"
    assert headers["x-rota-delivery"] == pending["delivery_id"]
    assert abs(int(headers["x-rota-timestamp"]) - time.time()) < 60
    signed = headers["x-rota-timestamp"].encode() + b"." + body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-rota-signature"], expected)
    payload = json.loads(body)
    assert payload["id"] == pending["delivery_id"] and payload["kind"] == "schedule"
    assert payload["version"] == 1 and payload["previous_version"] is None and payload["job"] == job["id"]
    people = payload["summary"]["volunteers"]
    assert people and all(p["added"] and not p["removed"] and p["phone"] for p in people)
    assert sum(len(p["added"]) for p in people) == payload["summary"]["assignments"]
    [done] = deliveries(client, site)
    assert done["state"] == "delivered" and done["attempts"] == 1 and done["last_status"] == 200
    assert worker.deliver_webhooks(http) == 0  # nothing left

    # a re-solve's publication carries its change set
    assignments = client.get(f"{site.url}/schedule/assignments", headers=site.headers).json()
    ill = busiest_in_window(assignments)
    created = client.post(
        f"{site.url}/volunteers/{ill}/health",
        params={"resolve": "true", "cutoff": CUTOFF, "time_limit": 3},
        json={"status": "sick", "from": CUTOFF, "until": "2027-01-15"},
        headers=site.headers,
    ).json()
    resolved = run(client, worker, site, created["job"])
    publish(client, site, resolved["id"])
    assert worker.deliver_webhooks(http) == 1
    headers, body = receiver.requests[-1]
    signed = headers["x-rota-timestamp"].encode() + b"." + body
    assert hmac.compare_digest(
        headers["x-rota-signature"], "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    )
    payload = json.loads(body)
    assert payload["kind"] == "resolve" and payload["version"] == 2 and payload["previous_version"] == 1
    # the gateway learns who to alert and what changed, not why: no health data leaves the site
    assert payload["changes"] == publication.redacted(resolved["changes"])
    assert ill in {v["volunteer"] for v in payload["changes"]["volunteers"]}
    assert "sick" not in body.decode()
    assert [d["state"] for d in deliveries(client, site)] == ["delivered", "delivered"]


def test_a_failing_webhook_is_retried_with_back_off_then_failed(client, site, worker, receiver, http):
    receiver.status = 500
    secret = register(client, site, receiver.url)["secret"]
    job = solve(client, worker, site)
    started = time.monotonic()
    publish(client, site, job["id"])
    assert time.monotonic() - started < 5 and receiver.requests == []
    t0 = utcnow()

    def at(seconds: float):
        return lambda: t0 + dt.timedelta(seconds=seconds)

    assert worker.deliver_webhooks(http, now=at(0)) == 1
    [d] = deliveries(client, site)
    assert (d["state"], d["attempts"], d["last_status"]) == ("pending", 1, 500)
    assert d["last_error"] == "HTTP 500 Internal Server Error"
    assert dt.datetime.fromisoformat(d["next_attempt_at"]) == t0 + dt.timedelta(seconds=10)
    assert worker.deliver_webhooks(http, now=at(9)) == 0  # not due yet
    assert worker.deliver_webhooks(http, now=at(10)) == 1
    [d] = deliveries(client, site)
    assert d["attempts"] == 2
    assert dt.datetime.fromisoformat(d["next_attempt_at"]) == t0 + dt.timedelta(seconds=40)
    assert worker.deliver_webhooks(http, now=at(40)) == 1
    assert worker.deliver_webhooks(http, now=at(160)) == 1
    [d] = deliveries(client, site)
    assert (d["state"], d["attempts"], d["next_attempt_at"]) == ("failed", 4, None)
    assert d["last_error"] == "HTTP 500 Internal Server Error"
    assert worker.deliver_webhooks(http, now=at(10_000)) == 0
    # every attempt sent the same event, signed the same way
    assert len(receiver.requests) == 4
    # every attempt sends the same delivery and body, signed with its own time
    assert len({(h["x-rota-delivery"], b) for h, b in receiver.requests}) == 1
    assert all(
        publication.verify(secret, h["x-rota-timestamp"], b, h["x-rota-signature"])
        for h, b in receiver.requests
    )
    failed = client.get(f"{site.url}/webhook/deliveries", params={"state": "failed"}, headers=site.headers)
    assert [x["id"] for x in failed.json()] == [d["id"]]


def test_a_receiver_that_does_not_answer_in_time(client, site, worker, receiver, http):
    receiver.delay = 1.0
    register(client, site, receiver.url)
    publish(client, site, solve(client, worker, site)["id"])
    assert worker.deliver_webhooks(http) == 1
    [d] = deliveries(client, site)
    assert d["state"] == "pending" and d["last_status"] is None
    assert d["last_error"].startswith("no answer within 0.5 s")


def test_unreachable_receiver_and_removed_webhook(client, site, worker, http):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    register(client, site, f"http://127.0.0.1:{port}/gone")
    publish(client, site, solve(client, worker, site)["id"])
    assert worker.deliver_webhooks(http) == 1
    [d] = deliveries(client, site)
    assert d["state"] == "pending" and d["last_error"].startswith("could not connect")
    # removing the webhook ends what is pending
    assert client.delete(f"{site.url}/webhook", headers=site.headers).status_code == 204
    [d] = deliveries(client, site)
    assert d["state"] == "failed" and d["last_error"] == "the webhook was removed"


@pytest.fixture
def strict_app(database_url):
    from api.app import create_app

    app = create_app(make_settings(database_url))  # the server's default: no private addresses
    yield app
    app.state.engine.dispose()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://gateway.example.org/rota"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "gateway.example.org/rota"}, "url"),
        ({"url": "https://"}, "url"),
        ({"url": "https://gateway.example.org:99999/"}, "url"),
        ({"url": "http://127.0.0.1:8000/hook"}, "url"),
        ({"url": "http://localhost/hook"}, "url"),
        ({"url": "http://[::1]/hook"}, "url"),
        ({"url": "http://10.0.0.7/hook"}, "url"),
        ({"url": "http://169.254.169.254/latest/meta-data"}, "url"),
        ({"url": "https://x.example.org/" + "a" * 2000}, "url"),
        ({}, "url"),
        ({"url": "https://gateway.example.org/rota", "secret": "short"}, "secret"),
        ({"url": "https://gateway.example.org/rota", "secret": "has spaces in it, sadly"}, "secret"),
        ({"url": "https://gateway.example.org/rota", "events": ["all"]}, "events"),
    ],
)
def test_bad_webhooks_are_refused_naming_the_field(strict_app, body, field):
    from fastapi.testclient import TestClient

    from tests.api.conftest import seed_site

    site = seed_site(strict_app)
    with TestClient(strict_app) as client:
        response = client.put(f"{site.url}/webhook", json=body, headers=site.headers)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in response.json()["errors"]] == [field]
        assert client.get(f"{site.url}/webhook", headers=site.headers).status_code == 404


def test_other_sites_see_nothing_of_a_webhook(client, site, make_site):
    register(client, site, "https://gateway.example.org/rota")
    other = make_site()
    for method, path in (
        ("GET", f"{site.url}/webhook"),
        ("PUT", f"{site.url}/webhook"),
        ("DELETE", f"{site.url}/webhook"),
        ("GET", f"{site.url}/webhook/deliveries"),
    ):
        kwargs = {"json": {"url": "https://evil.example.org/"}} if method == "PUT" else {}
        response = client.request(method, path, headers=other.headers, **kwargs)
        assert response.status_code == 404, (method, path)
    assert client.get(f"{site.url}/webhook", headers=site.headers).json()["url"] == (
        "https://gateway.example.org/rota"
    )
    assert client.get(f"{other.url}/webhook", headers=other.headers).status_code == 404
