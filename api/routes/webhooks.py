"""The site's webhook: one URL that receives every published schedule's change set as signed JSON, so
an SMS or chat gateway can alert the people concerned at once (calendar clients refresh slowly).

Deliveries are made by the worker processes after the publication has committed, retried with
back-off, and never hold up or fail a publication; ``GET .../webhook/deliveries`` shows how they went.
The secret is shown only in the answer that sets it. See ``docs/SERVICE.md`` for verifying the
signature.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from api.deps import DB, Config, Site, site_path
from scheduler.domain import publication
from scheduler.services import webhook_delivery
from scheduler.store import webhooks as webhook
from scheduler.store.db import utcnow

router = APIRouter(tags=["webhook"])


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


SIGNATURE = (
    "X-Rota-Signature: sha256=<hex HMAC-SHA256 of the raw request body, keyed with the secret>; also "
    "X-Rota-Event, X-Rota-Delivery (unique per delivery: dedupe retries on it), X-Rota-Timestamp"
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


@router.get("/sites/{site_id}/webhook", summary="The site's webhook (never its secret)")
def get_webhook(site: Site, session: DB) -> WebhookOut:
    return webhook_out(webhook.get_webhook(session, site.id))


@router.put(
    "/sites/{site_id}/webhook",
    summary="Register or replace the site's webhook",
    description="`url`: http:// or https:// (on a public address unless the server allows private ones). "
    "`secret`: generated when the webhook is created unless given; a replaced webhook keeps its secret "
    "unless a new one is given. The secret is in this answer only when it was set now. Every later "
    "publication (full schedule or re-solve) is POSTed to the URL as JSON: the change set of a re-solve, "
    "or a summary with the shifts added and removed per volunteer for a full schedule. 201 when created, "
    "200 when replaced.",
    responses={201: {"description": "Created", "model": WebhookSet}},
)
def put_webhook(
    body: webhook.WebhookRequest, site: Site, session: DB, settings: Config, response: Response
) -> WebhookSet:
    row, created, secret = webhook_delivery.register(
        session, site.id, body, utcnow(), allow_private=settings.webhook_allow_private
    )
    session.flush()
    if created:
        response.status_code = 201
        response.headers["Location"] = f"{site_path(site.id)}/webhook"
    return webhook_out(row, WebhookSet, secret=secret)


@router.delete(
    "/sites/{site_id}/webhook",
    status_code=204,
    summary="Remove the site's webhook",
    description="Deliveries still pending end `failed`.",
)
def delete_webhook(site: Site, session: DB) -> Response:
    webhook.unregister(session, site.id)
    return Response(status_code=204)


@router.get(
    "/sites/{site_id}/webhook/deliveries",
    summary="Recent webhook deliveries, newest first, and how they went",
)
def list_deliveries(
    site: Site,
    session: DB,
    state: webhook.DeliveryState | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[DeliveryOut]:
    return [delivery_out(r) for r in webhook.list_deliveries(session, site.id, state=state, limit=limit)]
