"""The site's webhook: one URL that receives every published schedule's change set as signed JSON, so
an SMS or chat gateway can alert the people concerned at once (calendar clients refresh slowly).

Deliveries are made by the worker processes after the publication has committed, retried with
back-off, and never hold up or fail a publication; ``GET .../webhook/deliveries`` shows how they went.
The secret is shown only in the answer that sets it. See ``docs/SERVICE.md`` for verifying the
signature.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import DB, Config, Site, site_path
from api.schemas.webhooks import (
    DeliveryOut,
    WebhookOut,
    WebhookRequest,
    WebhookSet,
    delivery_out,
    webhook_out,
)
from scheduler.services import webhook_delivery
from scheduler.store import webhooks
from scheduler.store.db import utcnow

router = APIRouter(tags=["webhook"])


@router.get("/sites/{site_id}/webhook", summary="The site's webhook (never its secret)")
def get_webhook(site: Site, session: DB) -> WebhookOut:
    return webhook_out(webhooks.get_webhook(session, site.id))


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
    body: WebhookRequest, site: Site, session: DB, settings: Config, response: Response
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
    webhooks.unregister(session, site.id)
    return Response(status_code=204)


@router.get(
    "/sites/{site_id}/webhook/deliveries",
    summary="Recent webhook deliveries, newest first, and how they went",
)
def list_deliveries(
    site: Site,
    session: DB,
    state: webhooks.DeliveryState | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[DeliveryOut]:
    return [delivery_out(r) for r in webhooks.list_deliveries(session, site.id, state=state, limit=limit)]
