"""Webhook pieces without HTTP routes: signatures, URL checks, one delivery attempt against an httpx
MockTransport, atomic claims (one worker per attempt), and the full-schedule payload's diff."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import socket

import httpx
import pytest

from scheduler.domain import publication
from scheduler.domain.errors import InputError
from scheduler.domain.schedule import Assignment, Schedule, SolverReport
from scheduler.services import webhook_delivery
from scheduler.store import webhooks
from scheduler.store.db import utcnow
from scheduler.store.sites import import_scenario
from tests.scheduler.store.test_jobs import small

SECRET = "whsec_test-secret-0123456789"


def test_signature_is_the_hmac_of_the_timestamp_and_the_raw_body():
    body = publication.body_bytes({"id": "x", "name": "Trần Minh", "n": 1})
    assert body == '{"id":"x","name":"Trần Minh","n":1}'.encode()
    ts = "1796000000"
    expected = hmac.new(SECRET.encode(), b"1796000000." + body, hashlib.sha256).hexdigest()
    assert publication.signature(SECRET, ts, body) == f"sha256={expected}"
    assert publication.verify(SECRET, ts, body, f"sha256={expected}")
    assert not publication.verify(SECRET, ts, body + b" ", f"sha256={expected}")
    assert not publication.verify(SECRET, "1796000001", body, f"sha256={expected}")  # the time is signed
    assert not publication.verify("another-secret-entirely", ts, body, f"sha256={expected}")
    # a receiver refuses an old delivery replayed later, and accepts it in time
    assert not publication.verify(SECRET, ts, body, f"sha256={expected}", now=1796000000 + 3600)
    assert publication.verify(SECRET, ts, body, f"sha256={expected}", now=1796000000 + 10)
    assert not publication.verify(SECRET, "not-a-time", body, f"sha256={expected}")


def test_the_payload_of_a_re_solve_says_nothing_about_health():
    changes = {
        "site": "S", "timezone": "Europe/Berlin", "cutoff": "2026-12-09T06:40:00+01:00",
        "disruptions": ["v017 sick from 2026-12-09"],
        "volunteers": [{
            "volunteer": "v017", "name": "Ana", "phone": "+49 1", "email": None, "subject": "sick",
            "first_change": "2026-12-09T14:00:00+01:00",
            "removed": [{"post": "gate", "shift": "late", "date": "2026-12-09", "start": "a", "end": "b",
                         "reason": "sick"}],
            "added": [],
        }],
        "uncovered": [{"post": "gate", "shift": "night", "date": "2026-12-09", "start": "c", "end": "d",
                       "missing": 1, "missing_skills": {}, "reason": "no one available", "new": True}],
        "contacts": [{"volunteer": "v018", "of": "v017"}],
    }
    out = publication.redacted(changes)
    text = json.dumps(out)
    assert "sick" not in text and "contacts" not in out and "disruptions" not in out
    assert out["volunteers"][0]["phone"] == "+49 1"
    assert out["volunteers"][0]["removed"] == [
        {"post": "gate", "shift": "late", "date": "2026-12-09", "start": "a", "end": "b"}
    ]
    assert out["uncovered"][0]["missing"] == 1


@pytest.mark.parametrize(
    "url",
    ["https://gateway.example.org/rota", "http://203.0.113.9:8080/x?token=abc", "https://[2001:db8::1]/"],
)
def test_public_urls_are_accepted(url):
    # 203.0.113.0/24 and 2001:db8::/32 are documentation ranges: not global, so only with allow_private
    if "203.0.113" in url or "2001:db8" in url:
        with pytest.raises(InputError):
            webhook_delivery.check_url(url, allow_private=False)
        assert webhook_delivery.check_url(url, allow_private=True) == url
    else:
        assert webhook_delivery.check_url(url, allow_private=False) == url


@pytest.mark.parametrize(
    "url",
    [
        "ftp://gateway.example.org/",
        "javascript:alert(1)",
        "https:///nohost",
        "https://gateway.example.org/a b",
        "https://gateway.example.org:0/",
        "http://127.0.0.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://printer.local/",
        "http://192.168.1.10/",
    ],
)
def test_other_urls_are_refused(url):
    with pytest.raises(InputError) as info:
        webhook_delivery.check_url(url, allow_private=False)
    assert [p.field for p in info.value.problems] == ["url"]


def test_names_are_checked_again_after_resolution(monkeypatch):
    """A public-looking name passes the literal checks; what it resolves to decides."""
    answers = {"gateway.example.org": ["93.184.216.34"], "rebound.example.org": ["93.184.216.34", "10.0.0.1"]}
    asked = []

    def getaddrinfo(host, port, *args, **kwargs):
        asked.append(host)
        if host not in answers:
            raise socket.gaierror(-2, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in answers[host]]

    monkeypatch.setattr(webhook_delivery.socket, "getaddrinfo", getaddrinfo)
    assert webhook_delivery.resolves_public("gateway.example.org", 443) is None
    assert "non-public address" in webhook_delivery.resolves_public("rebound.example.org", 443)
    assert webhook_delivery.resolves_public("no-such-host.example.org", 443).startswith("could not resolve")
    assert asked == ["gateway.example.org", "rebound.example.org", "no-such-host.example.org"]
    # literals and local names are refused before any lookup
    assert "local name" in webhook_delivery.resolves_public("localhost", 80)
    assert "not a public address" in webhook_delivery.resolves_public("127.0.0.1", 80)
    assert len(asked) == 3


def test_a_name_that_resolves_to_a_private_address_is_not_called(monkeypatch):
    monkeypatch.setattr(
        webhook_delivery.socket,
        "getaddrinfo",
        lambda host, port, *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", port))],
    )
    sent = []
    transport = httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(204))
    with httpx.Client(transport=transport) as client:
        status, error = webhook_delivery.attempt(
            client, _claimed(), dt.datetime(2027, 1, 13, tzinfo=dt.UTC), timeout=5, allow_private=False
        )
    assert status is None and "non-public address" in error and sent == []


def _claimed(url: str | None = "https://gateway.example.org/rota", attempts: int = 0) -> webhooks.Claimed:
    return webhooks.Claimed(
        id=1,
        delivery_id="d-1",
        event=publication.EVENT_PUBLISHED,
        attempts=attempts,
        payload={"id": "d-1", "kind": "resolve", "changes": {"volunteers": []}},
        url=url,
        secret=SECRET if url else None,
    )


def test_one_attempt_sends_the_signed_body():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    now = dt.datetime(2027, 1, 13, 5, 41, tzinfo=dt.UTC)
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        status, error = webhook_delivery.attempt(client, _claimed(), now, timeout=5, allow_private=True)
    assert (status, error) == (204, None)
    [request] = seen
    assert request.method == "POST" and str(request.url) == "https://gateway.example.org/rota"
    assert request.headers["x-rota-delivery"] == "d-1"
    assert request.headers["x-rota-timestamp"] == str(int(now.timestamp()))
    assert publication.verify(
        SECRET, request.headers["x-rota-timestamp"], request.content, request.headers["x-rota-signature"]
    )
    assert json.loads(request.content)["kind"] == "resolve"


@pytest.mark.parametrize(
    ("raise_or_answer", "status", "error"),
    [
        (httpx.ReadTimeout("slow"), None, "no answer within 5 s (ReadTimeout)"),
        (httpx.ConnectError("refused"), None, "could not connect (refused)"),
        (httpx.Response(302, headers={"Location": "http://127.0.0.1/"}), 302, "HTTP 302 Found"),
        (httpx.Response(503, text="secret internals"), 503, "HTTP 503 Service Unavailable"),
    ],
)
def test_failed_attempts_say_why_without_the_body(raise_or_answer, status, error):
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(raise_or_answer, Exception):
            raise raise_or_answer
        return raise_or_answer

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        got = webhook_delivery.attempt(client, _claimed(), utcnow(), timeout=5, allow_private=True)
    assert got == (status, error)
    assert webhook_delivery.attempt(client, _claimed(url=None), utcnow(), timeout=5, allow_private=True) == (
        None,
        "the webhook was removed",
    )


def test_a_delivery_is_claimed_by_one_worker_at_a_time(sessions):
    now = utcnow()
    with sessions() as session:
        site = import_scenario(session, small(), now)
        webhook_delivery.register(
            session,
            site.id,
            webhooks.WebhookRequest(url="https://gateway.example.org/r"),
            now,
            allow_private=False,
        )
        session.add(
            webhooks.DeliveryRow(
                site_id=site.id,
                delivery_id="d-1",
                event=publication.EVENT_PUBLISHED,
                payload={"id": "d-1"},
                state="pending",
                attempts=0,
                created_at=now,
                next_attempt_at=now,
            )
        )
        session.commit()
    with sessions() as first, sessions() as second:
        mine = webhooks.claim_delivery(first, now)
        first.commit()
        theirs = webhooks.claim_delivery(second, now)
        second.commit()
    assert (
        mine is not None and mine.url == "https://gateway.example.org/r" and mine.secret.startswith("whsec_")
    )
    assert theirs is None
    with sessions() as session:  # the lease ends: another worker may try again
        assert webhooks.claim_delivery(session, now + webhooks.LEASE) is not None


def _schedule(*assignments: tuple[str, str, int]) -> Schedule:
    zone = dt.timezone(dt.timedelta(hours=1))
    out = []
    for volunteer, shift, day in assignments:
        start = dt.datetime(2027, 1, day, 6 if shift == "early" else 14, tzinfo=zone)
        out.append(
            Assignment(
                volunteer=volunteer,
                post="gate",
                shift=shift,
                date=start.date(),
                start=start,
                end=start + dt.timedelta(hours=8),
                hours=8,
            )
        )
    return Schedule(
        site="x",
        timezone="Europe/Berlin",
        start=dt.date(2027, 1, 11),
        days=7,
        status="feasible",
        solver=SolverReport(status="feasible", wall_time=0),
        assignments=out,
    )


def test_full_schedule_payload_lists_changes_per_volunteer():
    volunteers = {v.id: v for v in small().volunteers}
    previous = _schedule(("v002", "early", 11), ("v002", "early", 13), ("v004", "late", 13))
    new = _schedule(("v002", "early", 11), ("v004", "early", 13), ("v004", "late", 13), ("v008", "late", 14))
    since = dt.datetime(2027, 1, 12, tzinfo=dt.UTC)
    diff = publication.schedule_diff(previous, new, volunteers.values(), since)
    # soonest change first (then by name)
    assert [
        (c["volunteer"], [r["date"] for r in c["removed"]], [r["date"] for r in c["added"]]) for c in diff
    ] == [
        ("v004", [], ["2027-01-13"]),
        ("v002", ["2027-01-13"], []),
        ("v008", [], ["2027-01-14"]),
    ]
    assert diff[1]["name"] == "Shirin Demir"
    first = publication.schedule_diff(None, new, volunteers.values(), since)  # a first publication: all added
    assert sum(len(c["added"]) for c in first) == 3  # the shift on the 11th is over
