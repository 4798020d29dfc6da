"""Webhooks, as stored: every publication of a site's schedule is pushed, as signed JSON, to one URL per site.

Calendar clients refresh their subscriptions slowly (hours, in some apps), so a site can register a
webhook (an SMS or chat gateway) that hears of every publication at once and alerts the people it
concerns.

* **Registration** (:func:`scheduler.services.webhook_delivery.register`): one URL per site,
  ``http``/``https`` only. The shared secret is
  generated (or given) at creation, shown once, stored as it is (it must sign), never shown again and
  never logged. Unless ``ROTA_WEBHOOK_ALLOW_PRIVATE`` is set, a URL on a loopback, private or
  link-local address is refused, at registration and again at delivery (after name resolution): the
  service makes no requests into its own network on a coordinator's behalf.
* **Enqueueing** (:func:`enqueue_publication`) is part of the publication's transaction: an event row
  exists exactly when the publication committed. Its payload is the change set of a re-solve, or for a
  full schedule a summary with, per volunteer, the shifts added and removed against the previous
  version (shifts not yet over at the publication), each volunteer with their contact.
* **Delivery** (:func:`scheduler.services.webhook_delivery.deliver_due`) happens in the worker
  processes, never in the request that published: a due delivery is claimed atomically (a lease:
  a worker that dies mid-attempt only
  delays it), POSTed with ``X-Rota-Signature: sha256=<hex HMAC-SHA256 of "<X-Rota-Timestamp>.<body>">``
  and retried after ``ROTA_WEBHOOK_RETRY_DELAYS`` (10 s, 30 s, 2 min, 10 min, 1 h); after the last retry it is
  *failed*, keeping the last error. Delivery is at least once: receivers dedupe on ``X-Rota-Delivery``.
  A failure records only the status code or the kind of network error, never the response body.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import Field
from sqlalchemy import JSON, ForeignKey, Index, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from scheduler.domain import scenario as sc
from scheduler.domain.errors import NotFoundError
from scheduler.domain.publication import EVENT_PUBLISHED, Publication, body_bytes, payload_of
from scheduler.store.db import Base, UTCDateTime

log = logging.getLogger("rota.webhook")

SECRET_PREFIX = "whsec_"
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


def get_webhook(session: Session, site_id: int) -> WebhookRow:
    row = session.scalar(select(WebhookRow).where(WebhookRow.site_id == site_id))
    if row is None:
        raise NotFoundError("webhook (none is registered)")
    return row


def find_webhook(session: Session, site_id: int) -> WebhookRow | None:
    return session.scalar(select(WebhookRow).where(WebhookRow.site_id == site_id))


def save_webhook(
    session: Session, site_id: int, url: str, request: WebhookRequest, now: dt.datetime
) -> tuple[WebhookRow, bool, str | None]:
    """Create or replace the site's webhook with ``url`` (vetted by the caller): (row, created, the secret
    if it was set now)."""
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
    return _queue(session, publication.site_id, delivery_id, EVENT_PUBLISHED, payload, now,
                  version=publication.version, job_id=publication.job_id)


def enqueue_event(
    session: Session, site_id: int, event: str, payload: dict[str, Any], now: dt.datetime,
    *, job_id: int | None = None,
) -> DeliveryRow | None:
    """Queue another event than a publication (``volunteer.unwell``, ``shift.reminder``,
    ``swap.accepted``...) for the site's webhook; nothing when none is registered. ``payload`` gets an
    ``id`` (:func:`new_delivery_id`) and the ``event`` when it has none; it must carry nothing about
    anyone's health. Part of the caller's transaction, sent by the workers like any delivery."""
    if find_webhook(session, site_id) is None:
        return None
    rest = {k: v for k, v in payload.items() if k not in ("id", "event")}
    body = {"id": payload.get("id") or new_delivery_id(), "event": payload.get("event", event), **rest}
    return _queue(session, site_id, body["id"], event, json.loads(body_bytes(body)), now,
                  version=body.get("version"), job_id=job_id)


def _queue(
    session: Session, site_id: int, delivery_id: str, event: str, payload: dict[str, Any],
    now: dt.datetime, *, version: int | None, job_id: int | None,
) -> DeliveryRow:
    """A pending delivery, due now."""
    row = DeliveryRow(
        site_id=site_id,
        delivery_id=delivery_id,
        event=event,
        version=version,
        job_id=job_id,
        payload=payload,
        state=DeliveryState.pending.value,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(row)
    session.flush()
    return row


def new_delivery_id() -> str:
    return str(uuid.uuid4())


# -------------------------------------------------------------------------------------- delivery


@dataclass(frozen=True)
class Claimed:
    id: int
    delivery_id: str
    event: str
    attempts: int
    payload: dict[str, Any]
    url: str | None
    secret: str | None


def claim_delivery(session: Session, now: dt.datetime) -> Claimed | None:
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
    return Claimed(
        id=row.id,
        delivery_id=row.delivery_id,
        event=row.event,
        attempts=row.attempts,
        payload=row.payload,
        url=hook.url if hook is not None else None,
        secret=hook.secret if hook is not None else None,
    )


def record_attempt(
    session: Session,
    claimed: Claimed,
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


