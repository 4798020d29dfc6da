"""Webhooks: every publication of a site's schedule is pushed, as signed JSON, to one URL per site.

Calendar clients refresh their subscriptions slowly (hours, in some apps), so a site can register a
webhook (an SMS or chat gateway) that hears of every publication at once and alerts the people it
concerns.

* **Registration** (:func:`register`): one URL per site, ``http``/``https`` only. The shared secret is
  generated (or given) at creation, shown once, stored as it is (it must sign), never shown again and
  never logged. Unless ``ROTA_WEBHOOK_ALLOW_PRIVATE`` is set, a URL on a loopback, private or
  link-local address is refused, at registration and again at delivery (after name resolution): the
  service makes no requests into its own network on a coordinator's behalf.
* **Enqueueing** (:func:`enqueue_publication`) is part of the publication's transaction: an event row
  exists exactly when the publication committed. Its payload is the change set of a re-solve, or for a
  full schedule a summary with, per volunteer, the shifts added and removed against the previous
  version (shifts not yet over at the publication), each volunteer with their contact.
* **Delivery** (:func:`deliver_due`) happens in the worker processes, never in the request that
  published: a due delivery is claimed atomically (a lease: a worker that dies mid-attempt only
  delays it), POSTed with ``X-Rota-Signature: sha256=<hex HMAC-SHA256 of "<X-Rota-Timestamp>.<body>">``
  and retried after ``ROTA_WEBHOOK_RETRY_DELAYS`` (10 s, 30 s, 2 min, 10 min, 1 h); after the last retry it is
  *failed*, keeping the last error. Delivery is at least once: receivers dedupe on ``X-Rota-Delivery``.
  A failure records only the status code or the kind of network error, never the response body.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import Field
from sqlalchemy import JSON, ForeignKey, Index, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from scheduler.domain import scenario as sc
from scheduler.domain.errors import FieldProblem, InputError, NotFoundError
from scheduler.domain.schedule import Assignment, Schedule
from scheduler.store.db import Base, UTCDateTime, unit_of_work, utcnow

log = logging.getLogger("rota.webhook")

EVENT_PUBLISHED = "schedule.published"
SECRET_PREFIX = "whsec_"
USER_AGENT = "rota-webhook/0.1"
#: A claimed delivery is left alone by other workers this long (well over one attempt's timeout).
LEASE = dt.timedelta(seconds=120)
MAX_URL = 2000


class DeliveryState(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


class WebhookRow(Base):
    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), unique=True)
    url: Mapped[str] = mapped_column(String(MAX_URL))
    secret: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class DeliveryRow(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    delivery_id: Mapped[str] = mapped_column(String(36), unique=True)
    event: Mapped[str] = mapped_column(String(40))
    version: Mapped[int | None]
    job_id: Mapped[int | None]
    payload: Mapped[dict] = mapped_column(JSON, deferred=True)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)


# ------------------------------------------------------------------------------------ registration


class WebhookRequest(sc.Model):
    url: str = Field(
        min_length=1,
        max_length=MAX_URL,
        description="http:// or https:// URL that receives each published change set (POST, JSON)",
        examples=["https://sms-gateway.example.org/rota"],
    )
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Shared secret for the signature (16-200 printable ASCII characters, no spaces). "
        "Default: a new one is generated when the webhook is created; a replaced webhook keeps its secret "
        "unless a new one is given. Shown only in the answer that sets it.",
    )


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


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


def get_webhook(session: Session, site_id: int) -> WebhookRow:
    row = session.scalar(select(WebhookRow).where(WebhookRow.site_id == site_id))
    if row is None:
        raise NotFoundError("webhook (none is registered)")
    return row


def find_webhook(session: Session, site_id: int) -> WebhookRow | None:
    return session.scalar(select(WebhookRow).where(WebhookRow.site_id == site_id))


def register(
    session: Session, site_id: int, request: WebhookRequest, now: dt.datetime, *, allow_private: bool
) -> tuple[WebhookRow, bool, str | None]:
    """Create or replace the site's webhook: (row, created, the secret if it was set now)."""
    url = check_url(request.url, allow_private=allow_private)
    row = find_webhook(session, site_id)
    created = row is None
    secret = request.secret if request.secret is not None else (new_secret() if created else None)
    if row is None:
        assert secret is not None
        row = WebhookRow(site_id=site_id, url=url, secret=secret, created_at=now, updated_at=now)
        session.add(row)
    else:
        row.url = url
        row.updated_at = now
        if secret is not None:
            row.secret = secret
    session.flush()
    return row, created, secret


def unregister(session: Session, site_id: int) -> None:
    """Remove the site's webhook; its pending deliveries fail (there is nowhere to send them)."""
    row = get_webhook(session, site_id)
    session.delete(row)
    session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.site_id == site_id, DeliveryRow.state == DeliveryState.pending.value)
        .values(state=DeliveryState.failed.value, next_attempt_at=None, last_error="the webhook was removed")
        .execution_options(synchronize_session=False)
    )
    session.flush()


def list_deliveries(
    session: Session, site_id: int, *, state: DeliveryState | None = None, limit: int = 50
) -> list[DeliveryRow]:
    query = select(DeliveryRow).where(DeliveryRow.site_id == site_id)
    if state is not None:
        query = query.where(DeliveryRow.state == state.value)
    return list(session.scalars(query.order_by(DeliveryRow.id.desc()).limit(limit)))


# -------------------------------------------------------------------------------------- payloads


def _key(a: Assignment) -> tuple[str, str, str, dt.date]:
    return (a.volunteer, a.post, a.shift, a.date)


def schedule_diff(
    previous: Schedule | None, schedule: Schedule, volunteers: Iterable[sc.Volunteer], since: dt.datetime
) -> list[dict[str, Any]]:
    """Per volunteer, the shifts ending after ``since`` that ``schedule`` adds and removes against
    ``previous`` (everything is added on a first publication), with their contact; soonest change
    first. The same shape as a re-solve change set's ``volunteers``."""
    from scheduler.domain.changes import ShiftRef, VolunteerChange

    def live(s: Schedule | None) -> dict[tuple, Assignment]:
        if s is None:
            return {}
        return {_key(a): a for a in s.assignments if a.end > since}

    old, new = live(previous), live(schedule)
    people = {v.id: v for v in volunteers}
    removed: dict[str, list[ShiftRef]] = {}
    added: dict[str, list[ShiftRef]] = {}
    for out, keys, source in ((removed, old.keys() - new.keys(), old), (added, new.keys() - old.keys(), new)):
        for key in keys:
            a = source[key]
            ref = ShiftRef(post=a.post, shift=a.shift, date=a.date, start=a.start, end=a.end)
            out.setdefault(a.volunteer, []).append(ref)
    changes = []
    for vid in sorted(set(removed) | set(added)):
        person = people.get(vid)
        rem = sorted(removed.get(vid, []), key=lambda r: r.start)
        add = sorted(added.get(vid, []), key=lambda r: r.start)
        changes.append(
            VolunteerChange(
                volunteer=vid,
                name=person.name if person is not None else vid,
                phone=person.contact.phone if person is not None else None,
                email=person.contact.email if person is not None else None,
                removed=rem,
                added=add,
                first_change=min(r.start for r in rem + add),
            )
        )
    changes.sort(key=lambda c: (c.first_change, c.name, c.volunteer))
    return [c.model_dump(mode="json") for c in changes]


@dataclass(frozen=True)
class Publication:
    """What a webhook hears of one publication."""

    site_id: int
    site_name: str
    version: int
    previous_version: int | None
    job_id: int | None
    kind: str  # "schedule" or "resolve"
    published_at: dt.datetime
    schedule: Schedule
    previous: Schedule | None
    volunteers: list[sc.Volunteer]
    changes: dict[str, Any] | None  # a re-solve's change set (JSON)


_SHIFT_FIELDS = ("post", "shift", "date", "start", "end")


def redacted(changes: dict[str, Any]) -> dict[str, Any]:
    """The change set as a gateway needs it to alert people: who, their contact, which shifts came and
    went, and what stays short — and nothing about anyone's health (no status, no removal reasons, no
    disruption descriptions, no contact-tracing list), which stays with the site's coordinators."""

    def shift(ref: dict[str, Any]) -> dict[str, Any]:
        return {k: ref[k] for k in _SHIFT_FIELDS if k in ref}

    return {
        "site": changes.get("site"),
        "timezone": changes.get("timezone"),
        "cutoff": changes.get("cutoff"),
        "volunteers": [
            {
                "volunteer": v.get("volunteer"),
                "name": v.get("name"),
                "phone": v.get("phone"),
                "email": v.get("email"),
                "first_change": v.get("first_change"),
                "removed": [shift(r) for r in v.get("removed", [])],
                "added": [shift(a) for a in v.get("added", [])],
            }
            for v in changes.get("volunteers", [])
        ],
        "uncovered": [
            {**shift(u), "missing": u.get("missing"), "missing_skills": u.get("missing_skills", {})}
            for u in changes.get("uncovered", [])
        ],
    }


def payload_of(publication: Publication, delivery_id: str) -> dict[str, Any]:
    p = publication
    base = f"/sites/{p.site_id}"
    body: dict[str, Any] = {
        "id": delivery_id,
        "event": EVENT_PUBLISHED,
        "kind": p.kind,
        "site": {"id": p.site_id, "name": p.site_name},
        "version": p.version,
        "previous_version": p.previous_version,
        "job": p.job_id,
        "published_at": p.published_at.isoformat(),
        "links": {
            "version": f"{base}/schedule/versions/{p.version}",
            **({"job": f"{base}/schedules/{p.job_id}"} if p.job_id is not None else {}),
        },
    }
    if p.kind == "resolve" and p.changes is not None:
        body["changes"] = redacted(p.changes)
    else:
        s = p.schedule
        body["summary"] = {
            "start": s.start.isoformat(),
            "days": s.days,
            "assignments": len(s.assignments),
            "uncovered_slots": len(s.uncovered),
            "people_missing": sum(u.missing for u in s.uncovered),
            "volunteers": schedule_diff(p.previous, s, p.volunteers, p.published_at),
        }
    return body


def enqueue_publication(session: Session, publication: Publication, now: dt.datetime) -> DeliveryRow | None:
    """Queue the publication for the site's webhook (nothing when none is registered). Part of the
    publication's transaction; sending is the workers' job (:func:`deliver_due`). A payload that cannot
    be built (a bug) is logged and skipped: the webhook never fails a publication."""
    if find_webhook(session, publication.site_id) is None:
        return None
    delivery_id = str(uuid.uuid4())
    try:
        payload = json.loads(body_bytes(payload_of(publication, delivery_id)))
    except Exception:
        log.exception("site %d version %d: no webhook payload", publication.site_id, publication.version)
        return None
    row = DeliveryRow(
        site_id=publication.site_id,
        delivery_id=delivery_id,
        event=EVENT_PUBLISHED,
        version=publication.version,
        job_id=publication.job_id,
        payload=payload,
        state=DeliveryState.pending.value,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(row)
    session.flush()
    return row


# -------------------------------------------------------------------------------------- delivery


def body_bytes(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed with secret>``, the ``X-Rota-Signature``
    header. Signing the ``X-Rota-Timestamp`` with the body lets a receiver refuse replays."""
    message = timestamp.encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, header: str, *, now: float | None = None,
           tolerance: float = 300.0) -> bool:
    """What a receiver does: recompute the signature of the timestamp and raw body, compare in constant
    time, and refuse a timestamp more than ``tolerance`` seconds away from ``now`` (a replay)."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if now is not None and abs(now - sent) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)


@dataclass(frozen=True)
class _Claimed:
    id: int
    delivery_id: str
    event: str
    attempts: int
    payload: dict[str, Any]
    url: str | None
    secret: str | None


def _claim(session: Session, now: dt.datetime) -> _Claimed | None:
    """Take the most overdue pending delivery: push its next attempt a lease ahead, so no other worker
    takes it meanwhile (one conditional UPDATE is the atomic step, as for jobs)."""
    lost: list[int] = []
    while True:
        query = select(DeliveryRow.id).where(
            DeliveryRow.state == DeliveryState.pending.value, DeliveryRow.next_attempt_at <= now
        )
        if lost:
            query = query.where(DeliveryRow.id.not_in(lost))
        candidate = session.scalar(
            query.order_by(DeliveryRow.next_attempt_at, DeliveryRow.id).limit(1).with_for_update(
                skip_locked=True
            )
        )
        if candidate is None:
            return None
        won = session.execute(
            update(DeliveryRow)
            .where(
                DeliveryRow.id == candidate,
                DeliveryRow.state == DeliveryState.pending.value,
                DeliveryRow.next_attempt_at <= now,
            )
            .values(next_attempt_at=now + LEASE)
            .execution_options(synchronize_session=False)
        )
        if won.rowcount == 1:
            break
        lost.append(candidate)
    row = session.get(DeliveryRow, candidate, populate_existing=True)
    assert row is not None
    hook = find_webhook(session, row.site_id)
    return _Claimed(
        id=row.id,
        delivery_id=row.delivery_id,
        event=row.event,
        attempts=row.attempts,
        payload=row.payload,
        url=hook.url if hook is not None else None,
        secret=hook.secret if hook is not None else None,
    )


def _error_text(exc: Exception, timeout: float) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {timeout:g} s ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError):
        return f"could not connect ({exc})"[:300]
    return f"{type(exc).__name__}: {exc}"[:300]


def attempt(
    client: httpx.Client, claimed: _Claimed, now: dt.datetime, *, timeout: float, allow_private: bool
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


def _record(
    session: Session,
    claimed: _Claimed,
    status: int | None,
    error: str | None,
    now: dt.datetime,
    delays: list[float],
) -> str:
    attempts = claimed.attempts + 1
    values: dict[str, Any] = {"attempts": attempts, "last_attempt_at": now, "last_status": status}
    if error is None:
        state = DeliveryState.delivered
        values.update(delivered_at=now, next_attempt_at=None, last_error=None)
    elif attempts > len(delays) or claimed.url is None:
        state = DeliveryState.failed
        values.update(next_attempt_at=None, last_error=error)
    else:
        state = DeliveryState.pending
        values.update(next_attempt_at=now + dt.timedelta(seconds=delays[attempts - 1]), last_error=error)
    session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id == claimed.id, DeliveryRow.state == DeliveryState.pending.value)
        .values(state=state.value, **values)
        .execution_options(synchronize_session=False)
    )
    return state.value


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
            claimed = _claim(session, now())
        if claimed is None:
            break
        at = now()
        status, error = attempt(client, claimed, at, timeout=timeout, allow_private=allow_private)
        with unit_of_work(sessions) as session:
            state = _record(session, claimed, status, error, now(), delays)
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
