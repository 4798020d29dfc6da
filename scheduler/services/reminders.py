"""Reminders before shifts: the site's offsets (``SiteRow.reminder_hours``, e.g. 12 h and 1 h) become a
VALARM in each event of the volunteers' own feeds (:func:`scheduler.store.calendars.volunteer_feed`) and
a ``shift.reminder`` webhook event for an SMS or chat gateway (calendar apps often ignore alarms in
subscribed calendars), queued by the workers (:func:`queue_due`, every webhook poll).

Each reminder of a shift goes out once (:mod:`scheduler.store.reminders`: keyed by the event's UID, its
start and the offset), so a re-solve that keeps a shift does not send it again, and two workers do not
both send it. When several offsets are due at once (a shift published an hour before it starts), only
the nearest one is sent; the others are marked sent so they never follow late.

No reminder goes to someone off sick: a shift whose volunteer is sick or isolating at its start (a health
record covering it, even before the re-solve has moved the shift) is skipped, and nothing is marked sent,
so a record deleted in time lets the reminder go out after all.
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.domain import calendar as cal
from scheduler.domain import publication
from scheduler.domain.health import status_at
from scheduler.store import posts, reminders, volunteers, webhooks
from scheduler.store.calendars import CalendarEventRow
from scheduler.store.sites import SiteRow, reminders_of

log = logging.getLogger("rota.reminders")

#: Sent-reminder rows of shifts that started this long ago are forgotten.
KEEP = dt.timedelta(days=7)


def queue_due(session: Session, now: dt.datetime) -> int:
    """Queue the ``shift.reminder`` events that are due now, for every site with reminders and a webhook;
    how many were queued."""
    queued = 0
    for hook in list(session.scalars(select(webhooks.WebhookRow).order_by(webhooks.WebhookRow.site_id))):
        site = session.get(SiteRow, hook.site_id)
        hours = reminders_of(site) if site is not None else []
        if site is None or not hours:
            continue
        rows = list(session.scalars(
            select(CalendarEventRow)
            .where(
                CalendarEventRow.site_id == site.id,
                CalendarEventRow.status == cal.CONFIRMED,
                CalendarEventRow.start > now,
                CalendarEventRow.start <= now + dt.timedelta(hours=max(hours)),
            )
            .order_by(CalendarEventRow.start, CalendarEventRow.uid)
        ))
        if not rows:
            continue
        people = {v.id: v for v in volunteers.models(session, site.id)}
        post_names = {p.key: p.name for p in posts.list_posts(session, site.id)}
        zone = ZoneInfo(site.timezone)
        for row in rows:
            due = [h for h in hours if row.start - dt.timedelta(hours=h) <= now]
            if not due:
                continue
            person = people.get(row.volunteer)
            if person is not None and status_at(person.health, row.start, zone).off_duty:
                continue  # off sick: no reminder (the re-solve will move the shift)
            nearest = min(due)
            fresh = [
                h for h in due if reminders.claim(session, site.id, row.uid, row.start, round(h * 60), now)
            ]
            if nearest not in fresh:
                continue
            payload = publication.reminder_payload(
                webhooks.new_delivery_id(),
                site_id=site.id,
                site_name=site.name,
                volunteer=people.get(row.volunteer),
                volunteer_id=row.volunteer,
                uid=row.uid,
                post=row.post,
                post_name=post_names.get(row.post, row.post),
                shift=row.shift,
                date=row.date,
                start=row.start,
                end=row.end,
                location=row.location,
                hours_before=nearest,
                sent_at=now,
            )
            webhooks.enqueue_event(session, site.id, publication.EVENT_REMINDER, payload, now)
            queued += 1
    if queued:  # (a poll that sends nothing writes nothing)
        reminders.forget_before(session, now - KEEP)
        session.flush()
        log.info("queued %d shift reminder(s)", queued)
    return queued
