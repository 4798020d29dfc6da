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
        "site": "S",
        "timezone": "Europe/Berlin",
        "cutoff": "2026-12-09T06:40:00+01:00",
        "disruptions": ["v017 sick from 2026-12-09"],
        "volunteers": [
            {
                "volunteer": "v017",
                "name": "Ana",
                "phone": "+49 1",
                "email": None,
                "subject": "sick",
                "first_change": "2026-12-09T14:00:00+01:00",
                "removed": [
                    {
                        "post": "gate",
                        "shift": "late",
                        "date": "2026-12-09",
                        "start": "a",
                        "end": "b",
                        "reason": "sick",
                    }
                ],
                "added": [],
            }
        ],
        "uncovered": [
            {
                "post": "gate",
                "shift": "night",
                "date": "2026-12-09",
                "start": "c",
                "end": "d",
                "missing": 1,
                "missing_skills": {},
                "reason": "no one available",
                "new": True,
            }
        ],
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
    assert status is None and error == webhook_delivery.NETWORK_FAILURE and sent == []


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
        (httpx.ReadTimeout("slow"), None, webhook_delivery.NETWORK_FAILURE),
        (httpx.ConnectError("refused"), None, webhook_delivery.NETWORK_FAILURE),
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


# ------------------------------------------------------------------------------------------- SSRF
# Each of these failed on the code before the vetting transport: check_url and resolves_public passed
# the embedded forms (``is_global`` is True for them in Python 3.11), httpx looked the name up a second
# time to connect and honoured HTTP(S)_PROXY, and the coordinator saw "could not connect (...)" or
# "no answer within ..." depending on what the network did.

EMBEDDED_PRIVATE = [
    "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254 (cloud metadata)
    "64:ff9b:1::a00:1",  # local-use NAT64
    "::ffff:10.0.0.1",  # IPv4-mapped
    "::ffff:169.254.169.254",
    "::127.0.0.1",  # IPv4-compatible
    "::a00:1",
    "::ffff:0:a00:1",  # SIIT translated
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "fec0::1",  # site-local
    "ff0e::1",  # multicast
    "fe80::1%eth0",
]


@pytest.mark.parametrize("address", EMBEDDED_PRIVATE + ["224.0.0.1", "192.0.0.8", "100.64.0.1", "0.0.0.0"])
def test_every_non_global_form_is_refused(address):
    import ipaddress

    literal = f"[{address}]" if ":" in address else address
    with pytest.raises(InputError):
        webhook_delivery.check_url(f"http://{literal}/hook", allow_private=False)
    assert not webhook_delivery.public_address(ipaddress.ip_address(address.split("%")[0]))


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "2606:4700::1111", "2002:5db8:d822::1", "64:ff9b::5db8:d822"]
)
def test_public_addresses_pass(address):
    import ipaddress

    assert webhook_delivery.public_address(ipaddress.ip_address(address))


def _resolver(monkeypatch, answers):
    """getaddrinfo answering from ``answers[name]``: a list of addresses, or a callable giving one per
    call (a rebinding name). Returns the names asked, in order."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host == "127.0.0.1":  # the socket's own connect() to an address
            return real(host, port, *args, **kwargs)
        asked.append(host)
        answer = answers.get(host)
        if answer is None:
            raise socket.gaierror(-2, "Name or service not known")
        ips = answer() if callable(answer) else answer
        return [
            (socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))
            for ip in ips
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.fixture
def receiver():
    from tests.api.test_webhooks import Receiver

    r = Receiver()
    yield r
    r.close()


def test_a_rebinding_name_is_connected_to_at_the_address_vetted(monkeypatch, receiver):
    """The name answers a public address first and the receiver's (loopback) address after: one lookup,
    and the connection goes to the public address it vetted, never to the loopback receiver."""
    import httpcore

    port = receiver.server.server_address[1]
    answers = iter([["93.184.216.34"]] + [["127.0.0.1"]] * 10)
    asked = _resolver(monkeypatch, {"rebound.example.org": lambda: next(answers)})
    connected: list[str] = []
    real_connect = httpcore.SyncBackend.connect_tcp

    def connect_tcp(self, host, *args, **kwargs):
        connected.append(host)
        if host == "93.184.216.34":  # no Internet in the tests: that public host does not answer
            raise httpcore.ConnectError("unreachable")
        return real_connect(self, host, *args, **kwargs)

    monkeypatch.setattr(httpcore.SyncBackend, "connect_tcp", connect_tcp)
    with webhook_delivery.make_client(allow_private=False) as client:
        claimed = _claimed(url=f"http://rebound.example.org:{port}/hook")
        status, error = webhook_delivery.attempt(client, claimed, utcnow(), timeout=2, allow_private=False)
    assert receiver.requests == []
    assert (status, error) == (None, webhook_delivery.NETWORK_FAILURE)
    assert connected == ["93.184.216.34"] and asked == ["rebound.example.org"]


def test_the_request_keeps_the_name_and_ignores_proxy_variables(monkeypatch, receiver):
    """Connected to the resolved address, with the name in the Host header; HTTP_PROXY and friends (here
    pointing at another local server) are not used."""
    from tests.api.test_webhooks import Receiver

    proxy = Receiver()
    try:
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.server.server_address[1]}")
        _resolver(monkeypatch, {"gateway.example.org": ["127.0.0.1"]})
        port = receiver.server.server_address[1]
        with webhook_delivery.make_client(allow_private=True) as client:
            claimed = _claimed(url=f"http://gateway.example.org:{port}/hook")
            got = webhook_delivery.attempt(client, claimed, utcnow(), timeout=5, allow_private=True)
        assert got == (200, None)
        assert proxy.requests == []
        [(headers, _)] = receiver.requests
        assert headers["host"] == f"gateway.example.org:{port}"
    finally:
        proxy.close()


def test_every_network_failure_reads_the_same_and_the_log_says_why(monkeypatch, receiver, caplog):
    """No port-scan oracle: refused by the policy, no such name, nothing listening, no answer in time."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    receiver.delay = 1.5
    _resolver(monkeypatch, {"inside.example.org": ["10.0.0.1"], "loop.example.org": ["127.0.0.1"]})
    cases = [
        ("http://inside.example.org/hook", False, "10.0.0.1, which is not a public address"),
        ("http://no-such-host.example.org/hook", False, "could not resolve"),
        (f"http://loop.example.org:{closed}/hook", True, "ConnectError"),
        (f"http://loop.example.org:{receiver.server.server_address[1]}/hook", True, "no answer within 0.5 s"),
    ]
    errors = set()
    for url, allow_private, reason in cases:
        caplog.clear()
        with (
            caplog.at_level("WARNING", logger="rota.webhook"),
            webhook_delivery.make_client(allow_private=allow_private) as client,
        ):
            status, error = webhook_delivery.attempt(
                client, _claimed(url=url), utcnow(), timeout=0.5, allow_private=allow_private
            )
        assert status is None
        errors.add(error)
        assert reason in caplog.text, (url, caplog.text)
    assert errors == {webhook_delivery.NETWORK_FAILURE}
