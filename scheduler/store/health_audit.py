"""Who read or changed health data, when, and whose: the health audit log (issue 14).

Every route and console page that shows a volunteer's health records, records one or deletes one adds a
row here: the actor (a coordinator token's id, or a console session's id: never the secret itself), the
action, the volunteer's id (a site-wide list names none) and, for one record, its id. The log holds no
health data itself (no status, no dates), so it stays when a record or a volunteer is erased: the
erasure is logged too. Coordinators of the site read it (``GET /sites/{id}/health-audit``); the
retention purge (:mod:`scheduler.services.retention`) removes entries older than the retention period.

Nothing here commits: the request's unit of work does, so a read that fails is not logged as made and a
change is logged in the same transaction as the change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from scheduler.store.db import Base, UTCDateTime


class AuditAction(StrEnum):
    read = "read"  # health records shown (API read, a console page listing health)
    create = "create"  # a health record added (also through a sick call / disruption)
    delete = "delete"  # one health record deleted
    erase = "erase"  # a volunteer deleted with all their health data, copies scrubbed
    purge = "purge"  # records removed by the retention purge


@dataclass(frozen=True)
class Actor:
    """Who acts: ``kind`` is ``token`` (API, the coordinator token's row id), ``console`` (a console
    session's row id) or ``system`` (the CLI or the worker: no id)."""

    kind: str
    id: int | None = None

    @property
    def label(self) -> str:
        return self.kind if self.id is None else f"{self.kind}:{self.id}"


SYSTEM = Actor("system")


class HealthAuditRow(Base):
    __tablename__ = "health_audit"
    __table_args__ = (Index("ix_health_audit_site_at", "site_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(default=None)
    action: Mapped[str] = mapped_column(String(16))
    # the volunteer's id (key), not a foreign key: the entry outlives the volunteer's erasure
    volunteer: Mapped[str | None] = mapped_column(String(64), default=None)
    record_id: Mapped[int | None] = mapped_column(default=None)
    what: Mapped[str] = mapped_column(String(200))


def log(
    session: Session,
    site_id: int,
    actor: Actor,
    action: AuditAction,
    what: str,
    now: dt.datetime,
    *,
    volunteer: str | None = None,
    record_id: int | None = None,
) -> HealthAuditRow:
    row = HealthAuditRow(
        site_id=site_id,
        at=now,
        actor=actor.kind,
        actor_id=actor.id,
        action=action.value,
        volunteer=volunteer,
        record_id=record_id,
        what=what[:200],
    )
    session.add(row)  # written with the unit of work's next flush (a query's, or its commit's)
    return row


def entries(
    session: Session,
    site_id: int,
    *,
    volunteer: str | None = None,
    since: dt.datetime | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[HealthAuditRow]:
    """The site's entries, newest first (``before_id`` pages on)."""
    query = select(HealthAuditRow).where(HealthAuditRow.site_id == site_id)
    if volunteer is not None:
        query = query.where(HealthAuditRow.volunteer == volunteer)
    if since is not None:
        query = query.where(HealthAuditRow.at >= since)
    if before_id is not None:
        query = query.where(HealthAuditRow.id < before_id)
    return list(session.scalars(query.order_by(HealthAuditRow.id.desc()).limit(limit)))


def purge_before(session: Session, cutoff: dt.datetime) -> int:
    result = session.execute(delete(HealthAuditRow).where(HealthAuditRow.at < cutoff))
    return result.rowcount or 0
