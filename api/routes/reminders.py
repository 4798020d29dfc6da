"""Shift reminders of a site: ``GET/PUT /sites/{id}/reminders`` (``{"hours_before": [12, 1]}``).

Each volunteer's own feed gets a VALARM per offset in every shift; a worker queues a ``shift.reminder``
webhook event per shift and offset when it is due (:mod:`scheduler.services.reminders`).
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import DB, IfMatch, Site, check_if_match, etag
from api.schemas.reminders import ReminderSettings
from scheduler.store import sites

router = APIRouter(tags=["reminders"])


@router.get("/sites/{site_id}/reminders", summary="The site's reminders before shifts")
def get_reminders(site: Site, response: Response) -> ReminderSettings:
    response.headers["ETag"] = etag(site)
    return ReminderSettings(hours_before=sites.reminders_of(site))


@router.put("/sites/{site_id}/reminders", summary="Change the site's reminders before shifts")
def put_reminders(
    body: ReminderSettings, site: Site, session: DB, response: Response, if_match: IfMatch = None
) -> ReminderSettings:
    check_if_match(if_match, site)
    if sites.reminders_of(site) != body.hours_before:
        sites.set_reminders(site, body.hours_before)
    session.flush()
    response.headers["ETag"] = etag(site)
    return ReminderSettings(hours_before=sites.reminders_of(site))
