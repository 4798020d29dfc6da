"""Worked-shift records (:mod:`scheduler.domain.worked`): what a volunteer actually worked, per site.

One row per published shift that has a record (the volunteer, the post, template and local date of the
shift: unique), or per extra shift (no template, no date). Times are instants in UTC. ``source`` says who
recorded it last (the volunteer's check-in and check-out, or a coordinator), ``recorded_by`` which actor
(``volunteer``, ``console:<session>``, ``token:<id>``) and ``recorded_at`` when; ``confirmed``: a
coordinator has confirmed or recorded it. Deleting a volunteer deletes their records.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, String, UniqueConstraint, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from scheduler.domain.errors import NotFoundError
from scheduler.domain.worked import ShiftKey, WorkedShift, WorkStatus
from scheduler.store.db import Base, UTCDateTime
from scheduler.store.volunteers import VolunteerRow


class WorkedShiftRow(Base):
    __tablename__ = "worked_shifts"
    __table_args__ = (UniqueConstraint("volunteer_id", "post", "shift", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), index=True)
    post: Mapped[str] = mapped_column(String(64))
    #: the published shift's template and local date; None for an extra shift
    shift: Mapped[str | None] = mapped_column(String(64), default=None)
    date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    #: the published times (None for an extra shift)
    planned_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    planned_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: what was worked; no end yet: checked in; neither for a no-show
    start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    status: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(16))
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


def add(session: Session, row: WorkedShiftRow) -> WorkedShiftRow:
    session.add(row)
    session.flush()
    return row


def get(session: Session, site_id: int, record_id: int) -> WorkedShiftRow:
    """The site's record, or NotFoundError (another site's is exactly as unknown)."""
    row = session.get(WorkedShiftRow, record_id)
    if row is None or row.site_id != site_id:
        raise NotFoundError(f"worked record {record_id}")
    return row


def for_shift(
    session: Session, volunteer_id: int, post: str, shift: str, date: dt.date
) -> WorkedShiftRow | None:
    return session.scalar(select(WorkedShiftRow).where(
        WorkedShiftRow.volunteer_id == volunteer_id, WorkedShiftRow.post == post,
        WorkedShiftRow.shift == shift, WorkedShiftRow.date == date,
    ))


def of_site(session: Session, site_id: int, since: dt.datetime | None = None,
            until: dt.datetime | None = None, volunteer_id: int | None = None) -> list[WorkedShiftRow]:
    """The site's records whose planned or actual start lies in ``[since, until)``, in that order."""
    query = select(WorkedShiftRow).where(WorkedShiftRow.site_id == site_id)
    if volunteer_id is not None:
        query = query.where(WorkedShiftRow.volunteer_id == volunteer_id)
    if since is not None:
        query = query.where(or_(WorkedShiftRow.planned_start >= since, WorkedShiftRow.start >= since))
    if until is not None:
        query = query.where(or_(WorkedShiftRow.planned_start < until, WorkedShiftRow.start < until))
    query = query.order_by(WorkedShiftRow.planned_start, WorkedShiftRow.start, WorkedShiftRow.id)
    return list(session.scalars(query))


def keys_of(session: Session, site_id: int) -> dict[int, str]:
    """Volunteer row id -> volunteer id (key) for the site."""
    rows = session.execute(select(VolunteerRow.id, VolunteerRow.key).where(VolunteerRow.site_id == site_id))
    return {row_id: key for row_id, key in rows}


def to_domain(row: WorkedShiftRow, volunteer: str) -> WorkedShift:
    key = ShiftKey(volunteer, row.post, row.shift, row.date) if row.shift and row.date else None
    return WorkedShift(volunteer=volunteer, status=WorkStatus(row.status), start=row.start, end=row.end,
                       key=key, post=row.post)
