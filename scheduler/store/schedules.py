"""Published schedules: each site has numbered versions and one of them is *the* published schedule.

:func:`publish` is one step (the caller commits it as one transaction): the finished job's schedule
becomes a new version, the site points at it, and the calendar event state is brought up to date
(:func:`scheduler.store.calendars.sync_site`), and the site's webhook, if any, gets a delivery queued
(:mod:`scheduler.store.webhooks`; it is sent later by a worker, never in the publication). A re-solve job is
published the same way, unless another version was published after the one it re-planned.
Earlier versions are kept. The reading helpers filter a
:class:`~scheduler.domain.schedule.Schedule` (published or not) by volunteer, post and dates.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, ForeignKey, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from scheduler.domain.errors import ConflictError, NotFoundError
from scheduler.domain.schedule import Assignment, Schedule, Uncovered, VolunteerTotals
from scheduler.store import calendars as calendar_store
from scheduler.store import volunteers
from scheduler.store import webhooks as webhook
from scheduler.store.db import Base, UTCDateTime
from scheduler.store.jobs import USABLE, JobKind, JobRow, JobState, result_of
from scheduler.store.sites import SiteRow


class ScheduleVersionRow(Base):
    __tablename__ = "schedule_versions"
    __table_args__ = (UniqueConstraint("site_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    horizon_start: Mapped[dt.date] = mapped_column(Date)
    horizon_days: Mapped[int]
    schedule: Mapped[dict] = mapped_column(JSON)

    @property
    def model(self) -> Schedule:
        return Schedule.model_validate(self.schedule)


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
            f"current version (POST /sites/{site.id}/disruptions with no disruptions re-plans the site as it "
            "is now) and publish that"
        )
    last = session.scalar(
        select(func.max(ScheduleVersionRow.number)).where(ScheduleVersionRow.site_id == site.id)
    )
    row = ScheduleVersionRow(
        site_id=site.id,
        number=(last or 0) + 1,
        job_id=job.id,
        published_at=now,
        horizon_start=schedule.start,
        horizon_days=schedule.days,
        schedule=job.result,
    )
    session.add(row)
    site.published_version = row.number
    session.flush()
    calendar_store.sync_site(session, site, schedule, now, keep_cancelled)
    if webhook.find_webhook(session, site.id) is not None:
        publication = webhook.Publication(
            site_id=site.id,
            site_name=site.name,
            version=row.number,
            previous_version=current.number if current is not None else None,
            job_id=job.id,
            kind=job.kind,
            published_at=now,
            schedule=schedule,
            previous=current.model if current is not None else None,
            volunteers=volunteers.models(session, site.id),
            changes=job.changes if job.kind == JobKind.resolve else None,
        )
        webhook.enqueue_publication(session, publication, now)
    return row


def refresh_calendars(
    session: Session, site: SiteRow, now: dt.datetime, keep_cancelled: dt.timedelta
) -> None:
    """After an edit that changes what events show (a post's name, place or instructions, a volunteer's
    name): bring the published schedule's events up to date. Nothing to do before a first publication."""
    if site.published_version is not None:
        calendar_store.sync_site(session, site, published(session, site).model, now, keep_cancelled)


def get_version(session: Session, site_id: int, number: int) -> ScheduleVersionRow:
    row = session.scalar(
        select(ScheduleVersionRow).where(
            ScheduleVersionRow.site_id == site_id, ScheduleVersionRow.number == number
        )
    )
    if row is None:
        raise NotFoundError(f"schedule version {number}")
    return row


def published(session: Session, site: SiteRow) -> ScheduleVersionRow:
    if site.published_version is None:
        raise NotFoundError("published schedule (none has been published yet)")
    return get_version(session, site.id, site.published_version)


def list_versions(session: Session, site_id: int) -> list[ScheduleVersionRow]:
    query = select(ScheduleVersionRow).where(ScheduleVersionRow.site_id == site_id)
    return list(session.scalars(query.order_by(ScheduleVersionRow.number.desc())))


def _in_range(day: dt.date, first: dt.date | None, last: dt.date | None) -> bool:
    return (first is None or day >= first) and (last is None or day <= last)


def select_assignments(
    schedule: Schedule,
    *,
    volunteer: str | None = None,
    post: str | None = None,
    first: dt.date | None = None,
    last: dt.date | None = None,
) -> list[Assignment]:
    """Assignments by volunteer, post and the local date the shift starts (``first``..``last``
    inclusive)."""
    return [
        a
        for a in schedule.assignments
        if (volunteer is None or a.volunteer == volunteer)
        and (post is None or a.post == post)
        and _in_range(a.date, first, last)
    ]


def select_uncovered(
    schedule: Schedule, *, post: str | None = None, first: dt.date | None = None, last: dt.date | None = None
) -> list[Uncovered]:
    return [
        u for u in schedule.uncovered if (post is None or u.post == post) and _in_range(u.date, first, last)
    ]


def load_summary(schedule: Schedule, *, volunteer: str | None = None) -> list[VolunteerTotals]:
    return [t for t in schedule.volunteers if volunteer is None or t.volunteer == volunteer]
