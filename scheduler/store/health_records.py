"""Volunteers' health records: a history of status updates, never overwritten.

Kept minimal on purpose: a status (fit / limited / sick / isolating / recovering), the dates it holds,
whether it is infectious and an optional reason from a fixed list (no free text: there is nowhere to
write a diagnosis). Records are added
(and a mistaken one can be deleted); where they overlap, the one that starts later wins (see
:class:`~scheduler.domain.scenario.HealthRecord`), and for equal starts the later one recorded.

Health data is for the site's coordinators only: nothing in the calendar feeds reads this module.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Select, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from scheduler.domain.errors import NotFoundError
from scheduler.domain.scenario import HealthRecord
from scheduler.store.db import Base, UTCDateTime


class HealthRecordRow(Base):
    __tablename__ = "health_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    # ``from``/``until`` keep the scenario's form: a date (a whole local day) or a date-time, as ISO text
    starts: Mapped[str | None] = mapped_column(String(40))
    until: Mapped[str | None] = mapped_column(String(40))
    infectious: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(String(32))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


def to_model(row: HealthRecordRow) -> HealthRecord:
    return HealthRecord.model_validate(
        {
            "status": row.status,
            "from": row.starts,
            "until": row.until,
            "infectious": row.infectious,
            "reason": row.reason,
        }
    )


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def add_record(
    session: Session, volunteer_id: int, record: HealthRecord, now: dt.datetime
) -> HealthRecordRow:
    """Add a health update to a volunteer. A valid site stays valid without being checked again: the
    record is checked on its own (:class:`HealthRecord`: status, reason, ``from`` before ``until``), and
    none of the scenario's checks across the site (ids, pins, preferences, residents, the horizon) reads
    a volunteer's health, so building and validating the whole scenario again
    (:func:`scheduler.store.sites.validate_site`: every volunteer with every record, about 90 ms of CPU
    for 200 volunteers and growing with the history) is not needed. The stored row (ISO text) reads back
    as the same record (:func:`to_model`)."""
    row = HealthRecordRow(
        volunteer_id=volunteer_id,
        status=record.status.value,
        starts=_iso(record.start),
        until=_iso(record.until),
        infectious=record.infectious,
        reason=None if record.reason is None else record.reason.value,
        recorded_at=now,
    )
    session.add(row)
    session.flush()
    return row


def records_of(session: Session, volunteer_id: int) -> list[HealthRecordRow]:
    """The volunteer's records in the order they were recorded (the scenario's order)."""
    query = select(HealthRecordRow).where(HealthRecordRow.volunteer_id == volunteer_id)
    return list(session.scalars(query.order_by(HealthRecordRow.id)))


def records_by_volunteer(session: Session, volunteer_ids: Select) -> dict[int, list[HealthRecordRow]]:
    """Records of the volunteers ``volunteer_ids`` selects, by volunteer row id, in recorded order."""
    out: dict[int, list[HealthRecordRow]] = {}
    query = select(HealthRecordRow).where(HealthRecordRow.volunteer_id.in_(volunteer_ids))
    for row in session.scalars(query.order_by(HealthRecordRow.id)):
        out.setdefault(row.volunteer_id, []).append(row)
    return out


def get_record(session: Session, volunteer_id: int, record_id: int) -> HealthRecordRow:
    row = session.get(HealthRecordRow, record_id)
    if row is None or row.volunteer_id != volunteer_id:
        raise NotFoundError(f"health record {record_id}")
    return row


def delete_record(session: Session, row: HealthRecordRow) -> None:
    session.delete(row)
    session.flush()
