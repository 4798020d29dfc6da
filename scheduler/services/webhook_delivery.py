"""Webhook delivery: the URL policy (no private networks unless the site allows them), one signed POST per
attempt, and :func:`deliver_due`, the worker's loop that claims, sends and records each due delivery in
transactions of its own (the request itself runs outside any transaction).

Delivery is at least once: receivers dedupe on ``X-Rota-Delivery``. A failure records only the status code
or the kind of network error, never the response body."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
from sqlalchemy.orm import Session, sessionmaker

from scheduler.domain.errors import FieldProblem, InputError
from scheduler.domain.publication import body_bytes, signature
from scheduler.store.db import unit_of_work, utcnow
from scheduler.store.webhooks import (
    Claimed,
    WebhookRequest,
    WebhookRow,
    claim_delivery,
    record_attempt,
    save_webhook,
)

log = logging.getLogger("rota.webhook")


USER_AGENT = "rota-webhook/0.1"


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_global


def check_url(url: str, *, allow_private: bool) -> str:
    """The URL, if it is an absolute http(s) URL (on a public address unless ``allow_private``);
    InputError naming ``url`` otherwise."""

    def bad(message: str) -> InputError:
        return InputError("webhook", [FieldProblem("url", message)])

    if any(c.isspace() or ord(c) < 0x20 for c in url):
        raise bad("must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise bad(f"is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise bad("must be an http:// or https:// URL")
    host = parts.hostname
    if not host:
        raise bad("must name a host, e.g. https://gateway.example.org/rota")
    if port == 0:
        raise bad("port 0 is not valid")
    if not allow_private:
        problem = _private_host(host)
        if problem:
            raise bad(problem)
    return url


def _private_host(host: str) -> str | None:
    """Why ``host`` (a name or an address literal, no resolution) is not acceptable, or None."""
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith((".localhost", ".local", ".internal")):
        return f"{host} is a local name: give a public address (the server refuses private networks)"
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return None
    if not _public(address):
        return f"{host} is not a public address (the server refuses loopback, private and link-local ones)"
    return None


def resolves_public(host: str, port: int | None) -> str | None:
    """Why ``host`` may not be called (it resolves to a non-public address or does not resolve); None
    when every address it resolves to is public."""
    problem = _private_host(host)
    if problem:
        return problem
    try:
        infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        return f"could not resolve {host}: {exc.strerror or exc}"
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not _public(address):
            return f"{host} resolves to a non-public address: refused"
    return None


def _error_text(exc: Exception, timeout: float) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {timeout:g} s ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError):
        return f"could not connect ({exc})"[:300]
    return f"{type(exc).__name__}: {exc}"[:300]


def attempt(
    client: httpx.Client, claimed: Claimed, now: dt.datetime, *, timeout: float, allow_private: bool
) -> tuple[int | None, str | None]:
    """One POST: (status code or None, error or None when delivered)."""
    if claimed.url is None or claimed.secret is None:
        return None, "the webhook was removed"
    if not allow_private:
        parts = urlsplit(claimed.url)
        problem = resolves_public(parts.hostname or "", parts.port)
        if problem:
            return None, problem
    body = body_bytes(claimed.payload)
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Rota-Event": claimed.event,
        "X-Rota-Delivery": claimed.delivery_id,
        "X-Rota-Timestamp": timestamp,
        "X-Rota-Signature": signature(claimed.secret, timestamp, body),
    }
    try:
        response = client.post(claimed.url, content=body, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        return None, _error_text(exc, timeout)
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code} {response.reason_phrase}".strip()


def deliver_due(
    sessions: sessionmaker[Session],
    client: httpx.Client,
    *,
    timeout: float,
    delays: list[float],
    allow_private: bool,
    now: Callable[[], dt.datetime] = utcnow,
    limit: int = 50,
) -> int:
    """Attempt every delivery that is due (at most ``limit``); how many were attempted. Each is claimed
    and recorded in transactions of their own; the request itself runs outside any transaction."""
    done = 0
    while done < limit:
        with unit_of_work(sessions) as session:
            claimed = claim_delivery(session, now())
        if claimed is None:
            break
        at = now()
        status, error = attempt(client, claimed, at, timeout=timeout, allow_private=allow_private)
        with unit_of_work(sessions) as session:
            state = record_attempt(session, claimed, status, error, now(), delays)
        done += 1
        if error is None:
            log.info("webhook delivery %s delivered (HTTP %s)", claimed.delivery_id, status)
        else:
            log.warning("webhook delivery %s attempt %d: %s (%s)", claimed.delivery_id,
                        claimed.attempts + 1, error, state)
    return done


def make_client() -> httpx.Client:
    """The HTTP client deliveries use: no redirects followed (a 3xx counts as a failure)."""
    return httpx.Client(follow_redirects=False, headers={"User-Agent": USER_AGENT})


def register(
    session: Session, site_id: int, request: WebhookRequest, now: dt.datetime, *, allow_private: bool
) -> tuple[WebhookRow, bool, str | None]:
    """Create or replace the site's webhook, if its URL is acceptable: (row, created, the secret if it
    was set now)."""
    return save_webhook(session, site_id, check_url(request.url, allow_private=allow_private), request, now)
