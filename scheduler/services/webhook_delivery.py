"""Webhook delivery: the URL policy (no private networks unless the site allows them), one signed POST per
attempt, and :func:`deliver_due`, the worker's loop that claims, sends and records each due delivery in
transactions of its own (the request itself runs outside any transaction).

Delivery is at least once: receivers dedupe on ``X-Rota-Delivery``. A failure records only the status code
or the kind of network error, never the response body.

Server-side request forgery: the coordinator chooses the URL, so a delivery must never reach the
service's own network. :func:`make_client` gives an HTTP client whose connections go through
:class:`VettingBackend`: it resolves the name *once*, refuses the connection unless every address is
public (:func:`public_address`: no loopback, private, link-local, multicast, reserved or documentation
address, nor one of those embedded in IPv6: IPv4-mapped and -compatible, 6to4 ``2002::/16``, NAT64
``64:ff9b::/96`` and ``64:ff9b:1::/48``, Teredo), and connects to exactly the address it vetted, so a
second lookup cannot be answered differently (DNS rebinding). The request keeps the name: the ``Host``
header, TLS SNI and certificate check are for the name, not the address. Proxy variables
(``HTTP(S)_PROXY``, ``ALL_PROXY``, ``NO_PROXY``) are ignored (``trust_env=False``). Whatever goes wrong on
the network (refused by this policy, no such name, connection refused, reset, timed out) the coordinator
sees one and the same message (:data:`NETWORK_FAILURE`), so deliveries cannot be used to map a network;
the reason goes to the server log only."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

import httpcore
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


#: What the coordinator is told about any network failure (the reason goes to the server log only).
NETWORK_FAILURE = "could not deliver: no connection to the receiver or no answer in time"

_V4_REFUSED = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    )
]
_V6_REFUSED = [
    ipaddress.ip_network(n)
    for n in (
        "::/96",  # unspecified, loopback and the deprecated IPv4-compatible ::a.b.c.d
        "::ffff:0:0:0/96",  # SIIT IPv4-translated
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard
        "2001::/32",  # Teredo (the client address is inside)
        "2001:db8::/32",  # documentation
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # deprecated site-local
        "ff00::/8",  # multicast
    )
]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether a webhook may connect to ``address``: a global unicast address, and for the IPv6 forms
    that embed an IPv4 address (mapped, 6to4, NAT64) a global embedded address too. Stricter than
    ``is_global`` (which, in Python 3.11, passes ``::127.0.0.1``, ``2002:c0a8:101::``,
    ``64:ff9b::a00:1``, multicast and ``192.0.0.0/24``)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return public_address(address.ipv4_mapped)
        if address.sixtofour is not None:
            return public_address(address.sixtofour)
        if address in _NAT64:
            return public_address(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address.scope_id or any(address in n for n in _V6_REFUSED):
            return False
        return address.is_global and not address.is_multicast
    if any(address in n for n in _V4_REFUSED):
        return False
    return address.is_global and not address.is_multicast


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
    if not public_address(address):
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
        if not public_address(address):
            return f"{host} resolves to a non-public address: refused"
    return None


class Refused(httpcore.ConnectError):
    """The connection was not attempted: the name does not resolve or resolves to a refused address."""


class VettingBackend(httpcore.SyncBackend):
    """httpcore's network backend with the SSRF policy at the only place it can hold: the connect.
    The name is resolved once; with ``allow_private`` off, every address must be public; the socket
    connects to a vetted address (the request above it keeps the name for Host, SNI and the
    certificate)."""

    def __init__(self, *, allow_private: bool):
        self.allow_private = allow_private

    def vetted(self, host: str, port: int) -> list[str]:
        """The addresses of ``host`` to connect to, in the resolver's order; Refused saying why."""
        if not self.allow_private:
            problem = _private_host(host)
            if problem:
                raise Refused(problem)
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as exc:
            raise Refused(f"could not resolve {host}: {getattr(exc, 'strerror', None) or exc}") from None
        addresses: list[str] = []
        for info in infos:
            text = str(info[4][0])
            address = ipaddress.ip_address(text.split("%", 1)[0])
            if not self.allow_private and not public_address(address):
                raise Refused(f"{host} resolves to {address}, which is not a public address")
            if text not in addresses:
                addresses.append(text)
        if not addresses:
            raise Refused(f"could not resolve {host}: no address")
        return addresses

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        error: Exception | None = None
        for address in self.vetted(host, port):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    def connect_unix_socket(self, *args, **kwargs):  # pragma: no cover - never configured
        raise Refused("unix sockets are not used for webhooks")


class VettingClient(httpx.Client):
    """An httpx client whose every connection goes through :class:`VettingBackend`."""

    def __init__(self, *, allow_private: bool):
        transport = httpx.HTTPTransport(trust_env=False, retries=0)
        pool = transport._pool  # httpx keeps its httpcore pool here (checked by the tests)
        if not hasattr(pool, "_network_backend"):  # pragma: no cover - a changed httpx/httpcore
            raise RuntimeError("httpx/httpcore changed: webhook deliveries cannot vet their connections")
        pool._network_backend = VettingBackend(allow_private=allow_private)
        super().__init__(
            transport=transport,
            trust_env=False,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        )
        self.allow_private = allow_private


def _reason(exc: BaseException, timeout: float) -> str:
    """The full reason of a network failure, for the server log."""
    cause = exc.__cause__ or exc.__context__
    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(cause, Refused):
        detail = f"refused: {cause}"
    elif isinstance(exc, httpx.TimeoutException):
        detail = f"no answer within {timeout:g} s ({type(exc).__name__})"
    return detail[:500]


def attempt(
    client: httpx.Client, claimed: Claimed, now: dt.datetime, *, timeout: float, allow_private: bool
) -> tuple[int | None, str | None]:
    """One POST: (status code or None, error or None when delivered). The error is what the coordinator
    may see; any network failure is :data:`NETWORK_FAILURE` (the reason is logged). A client that does
    not vet its connections itself (not a :class:`VettingClient`, e.g. a test's mock transport) gets
    the same policy checked before the request."""
    if claimed.url is None or claimed.secret is None:
        return None, "the webhook was removed"
    if not allow_private and not isinstance(client, VettingClient):
        parts = urlsplit(claimed.url)
        problem = resolves_public(parts.hostname or "", parts.port)
        if problem:
            log.warning("webhook delivery %s not sent: %s", claimed.delivery_id, problem)
            return None, NETWORK_FAILURE
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
        log.warning("webhook delivery %s attempt failed: %s", claimed.delivery_id, _reason(exc, timeout))
        return None, NETWORK_FAILURE
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


def make_client(*, allow_private: bool = False) -> VettingClient:
    """The HTTP client deliveries use: connections only to vetted addresses (unless ``allow_private``,
    the server's ROTA_WEBHOOK_ALLOW_PRIVATE), no proxy from the environment, no redirects followed (a
    3xx counts as a failure)."""
    return VettingClient(allow_private=allow_private)


def register(
    session: Session, site_id: int, request: WebhookRequest, now: dt.datetime, *, allow_private: bool
) -> tuple[WebhookRow, bool, str | None]:
    """Create or replace the site's webhook, if its URL is acceptable: (row, created, the secret if it
    was set now)."""
    return save_webhook(session, site_id, check_url(request.url, allow_private=allow_private), request, now)
