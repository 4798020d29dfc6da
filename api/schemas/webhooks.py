"""The HTTP API's models for webhooks: request bodies and responses."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query, Response  # noqa: F401
from pydantic import BaseModel, Field

from api.deps import site_path
from scheduler.domain import publication
from scheduler.store import webhooks as webhook
from scheduler.store.webhooks import WebhookRequest

__all__ = [
    "DeliveryOut",
    "SIGNATURE",
    "WebhookOut",
    "WebhookRequest",
    "WebhookSet",
    "delivery_out",
    "webhook_out",
]

SIGNATURE = (
    "X-Rota-Signature: sha256=<hex HMAC-SHA256 of the raw request body, keyed with the secret>; also "
    "X-Rota-Event, X-Rota-Delivery (unique per delivery: dedupe retries on it), X-Rota-Timestamp"
)


class WebhookOut(BaseModel):
    url: str
    created_at: dt.datetime
    updated_at: dt.datetime
    events: list[str] = Field(description="What is sent: one event per publication")
    signature: str = Field(description="How each request is signed")
    links: dict[str, str]


class WebhookSet(WebhookOut):
    secret: str | None = Field(
        description="The shared secret, shown only here and only when it was set by this request (a new "
        "webhook, or a new `secret` given): keep it in the receiver"
    )


def webhook_out(row: webhook.WebhookRow, cls=WebhookOut, **extra):
    base = f"{site_path(row.site_id)}/webhook"
    return cls(
        url=row.url,
        created_at=row.created_at,
        updated_at=row.updated_at,
        events=[publication.EVENT_PUBLISHED],
        signature=SIGNATURE,
        links={"self": base, "deliveries": f"{base}/deliveries"},
        **extra,
    )


class DeliveryOut(BaseModel):
    id: int
    delivery_id: str = Field(description="Sent as X-Rota-Delivery and as the payload's `id`")
    event: str
    version: int | None = Field(description="The published version the event is about")
    job_id: int | None
    state: webhook.DeliveryState = Field(description="pending (retries left), delivered or failed")
    attempts: int
    created_at: dt.datetime
    next_attempt_at: dt.datetime | None
    last_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None
    last_status: int | None = Field(description="HTTP status of the last attempt, if one answered")
    last_error: str | None


def delivery_out(row: webhook.DeliveryRow) -> DeliveryOut:
    return DeliveryOut(
        id=row.id,
        delivery_id=row.delivery_id,
        event=row.event,
        version=row.version,
        job_id=row.job_id,
        state=webhook.DeliveryState(row.state),
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        last_attempt_at=row.last_attempt_at,
        delivered_at=row.delivered_at,
        last_status=row.last_status,
        last_error=row.last_error,
    )
