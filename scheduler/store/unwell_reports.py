"""Unwell reports: a volunteer said "I'm unwell" on their own page (:mod:`scheduler.services.unwell`).

One row per report: the health record it added, the re-solve job it queued (None while the site holds
re-solves for the coordinator), the published version it was made against, and the volunteer's shifts
that were still to come in that version (``shifts_before``, post / shift / local date / start / end), so
their page can say which were released once a newer version is published. The row holds no health detail
beyond the link to the record (which only coordinators read).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from scheduler.domain.errors import NotFoundError
from scheduler.store.db import Base, UTCDateTime


class UnwellReportRow(Base):
    __tablename__ = "unwell_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), index=True)
    health_record_id: Mapped[int | None] = mapped_column(
        ForeignKey("health_records.id", ondelete="SET NULL")
    )
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    base_version: Mapped[int | None]
    shifts_before: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


def add_report(
    session: Session,
    *,
    site_id: int,
    volunteer_id: int,
    health_record_id: int | None,
    job_id: int | None,
    base_version: int | None,
    shifts_before: list[dict],
    now: dt.datetime,
) -> UnwellReportRow:
    row = UnwellReportRow(
        site_id=site_id,
        volunteer_id=volunteer_id,
        health_record_id=health_record_id,
        job_id=job_id,
        base_version=base_version,
        shifts_before=shifts_before,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def reports_of(session: Session, volunteer_id: int, limit: int = 5) -> list[UnwellReportRow]:
    """The volunteer's reports, newest first."""
    query = select(UnwellReportRow).where(UnwellReportRow.volunteer_id == volunteer_id)
    return list(session.scalars(query.order_by(UnwellReportRow.id.desc()).limit(limit)))


def site_reports(
    session: Session, site_id: int, since: dt.datetime, limit: int = 50
) -> list[UnwellReportRow]:
    """The site's reports made since ``since``, newest first."""
    query = select(UnwellReportRow).where(
        UnwellReportRow.site_id == site_id, UnwellReportRow.created_at >= since
    )
    return list(session.scalars(query.order_by(UnwellReportRow.id.desc()).limit(limit)))


def get_report(session: Session, site_id: int, report_id: int) -> UnwellReportRow:
    row = session.get(UnwellReportRow, report_id)
    if row is None or row.site_id != site_id:
        raise NotFoundError(f"unwell report {report_id}")
    return row
