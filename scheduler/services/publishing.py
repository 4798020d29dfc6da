"""Publishing a schedule: one step that the caller's unit of work commits as one transaction.

:func:`publish`: the finished job's schedule becomes a new version, the site points at it, the calendar
event state is brought up to date (:func:`scheduler.store.calendars.sync_site`), and the site's webhook,
if any, gets a delivery queued (sent later by a worker, never in the publication). A re-solve job is
published the same way, unless another version was published after the one it re-planned. Earlier
versions are kept. :func:`publish_schedule`: the same for a schedule a swap or a claimed open shift
changed. :func:`refresh_calendars`: after an edit that changes what events show."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.domain import publication
from scheduler.domain.errors import ConflictError
from scheduler.domain.schedule import Schedule
from scheduler.store import calendars as calendar_store
from scheduler.store import volunteers, webhooks
from scheduler.store.jobs import USABLE, JobKind, JobRow, JobState, result_of
from scheduler.store.schedules import ScheduleVersionRow, get_version, published
from scheduler.store.sites import SiteRow


def publish(
    session: Session, site: SiteRow, job: JobRow, now: dt.datetime, keep_cancelled: dt.timedelta
) -> ScheduleVersionRow:
    """Make the finished job's schedule the site's published one (a new version) and sync the
    calendars. Lock the site row first (``get_site(..., lock=True)``) so publications queue up."""
    schedule = result_of(job)
    if job.state != JobState.done or schedule is None:
        raise ConflictError(f"only a job that is done can be published; this one is {job.state}")
    if schedule.status not in USABLE:
        raise ConflictError(f"the job found no schedule (solver status {schedule.status})")
    current = None
    if site.published_version is not None:
        current = get_version(session, site.id, site.published_version)
        if current.job_id == job.id:
            raise ConflictError(f"this job is already the published schedule (version {current.number})")
    if job.kind == JobKind.resolve and site.published_version != job.base_version:
        raise ConflictError(
            f"stale re-solve: it re-planned version {job.base_version}, but version {site.published_version} "
            "has been published since, and publishing this one would undo it. Re-solve again from the "
            f'current version (POST /sites/{site.id}/disruptions with {{"replan": true}} re-plans the site '
            "as it is now) and publish that"
        )
    changes = job.changes if job.kind == JobKind.resolve else None
    return _new_version(
        session, site, schedule, job.result, now, keep_cancelled, current, job.id, job.kind, changes
    )


def publish_schedule(
    session: Session,
    site: SiteRow,
    schedule: Schedule,
    kind: str,
    now: dt.datetime,
    keep_cancelled: dt.timedelta,
) -> ScheduleVersionRow:
    """Publish ``schedule``, made from the published one by a change that no job computed (a swap, a
    give-away, a claimed open shift: ``kind``), as a new version, exactly as :func:`publish` does: the
    calendars are synced (events raised in SEQUENCE, CANCELLED for whoever lost a shift) and the
    webhook hears of it. Lock the site row first."""
    current = get_version(session, site.id, site.published_version) if site.published_version else None
    data = schedule.model_dump(mode="json")
    return _new_version(session, site, schedule, data, now, keep_cancelled, current, None, kind, None)


def _new_version(
    session: Session,
    site: SiteRow,
    schedule: Schedule,
    data: dict,
    now: dt.datetime,
    keep_cancelled: dt.timedelta,
    current: ScheduleVersionRow | None,
    job_id: int | None,
    kind: str,
    changes: dict | None,
) -> ScheduleVersionRow:
    last = session.scalar(
        select(func.max(ScheduleVersionRow.number)).where(ScheduleVersionRow.site_id == site.id)
    )
    row = ScheduleVersionRow(
        site_id=site.id,
        number=(last or 0) + 1,
        job_id=job_id,
        published_at=now,
        horizon_start=schedule.start,
        horizon_days=schedule.days,
        schedule=data,
    )
    session.add(row)
    site.published_version = row.number
    session.flush()
    calendar_store.sync_site(session, site, schedule, now, keep_cancelled)
    if webhooks.find_webhook(session, site.id) is not None:
        event = publication.Publication(
            site_id=site.id,
            site_name=site.name,
            version=row.number,
            previous_version=current.number if current is not None else None,
            job_id=job_id,
            kind=kind,
            published_at=now,
            schedule=schedule,
            previous=current.model if current is not None else None,
            volunteers=volunteers.models(session, site.id),
            changes=changes,
        )
        webhooks.enqueue_publication(session, event, now)
    return row


def refresh_calendars(
    session: Session,
    site: SiteRow,
    now: dt.datetime,
    keep_cancelled: dt.timedelta,
    *,
    volunteer: str | None = None,
    post: str | None = None,
) -> None:
    """After an edit that changes what events show (a post's name, place or instructions, a volunteer's
    name): bring the published schedule's events up to date. Nothing to do before a first publication.
    An edit of one volunteer or one post syncs only the events that show it (``volunteer``, ``post``)."""
    if site.published_version is not None:
        calendar_store.sync_site(
            session, site, published(session, site).model, now, keep_cancelled, volunteer=volunteer, post=post
        )
