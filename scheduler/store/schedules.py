"""Published schedules: each site has numbered versions and one of them is *the* published schedule
(publishing is :mod:`scheduler.services.publishing`). The reading helpers filter a
:class:`~scheduler.domain.schedule.Schedule` (published or not) by volunteer, post and dates."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, ForeignKey, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from scheduler.domain.errors import NotFoundError
from scheduler.domain.schedule import Assignment, Schedule, Uncovered, VolunteerTotals
from scheduler.store.db import Base, UTCDateTime
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
