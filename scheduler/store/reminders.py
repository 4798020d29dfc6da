"""Shift reminders sent: one row per (site, calendar event UID, shift start, offset), so each reminder
of a shift goes out once (:mod:`scheduler.services.reminders`).

The event UID is stable for a volunteer's shift (post, template, date), so a re-solve that keeps the
shift keeps its UID and start: no second reminder. A shift that moves gets a new start (or UID) and so
its own reminder. The unique key makes two workers that race for the same reminder send it once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from scheduler.store.db import Base, UTCDateTime


class ShiftReminderRow(Base):
    __tablename__ = "shift_reminders"
    __table_args__ = (UniqueConstraint("site_id", "uid", "start", "minutes_before"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    uid: Mapped[str] = mapped_column(String(120))
    start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    minutes_before: Mapped[int] = mapped_column(Integer)
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


def claim(session: Session, site_id: int, uid: str, start: dt.datetime, minutes_before: int,
          now: dt.datetime) -> bool:
    """Mark the reminder sent; False if it was already (by this or another worker)."""
    try:
        with session.begin_nested():
            session.add(ShiftReminderRow(site_id=site_id, uid=uid, start=start, minutes_before=minutes_before,
                                         sent_at=now))
            session.flush()
    except IntegrityError:
        return False
    return True


def forget_before(session: Session, before: dt.datetime) -> int:
    """Drop the rows of shifts that started before ``before`` (they will never be reminded again)."""
    result = session.execute(delete(ShiftReminderRow).where(ShiftReminderRow.start < before))
    return int(result.rowcount or 0)
