"""Residents: the register of vulnerable residents (one row each: building, address, zone, needs, visits,
kin contact; sensitive personal data, the site's coordinators only) and the history of their pairs.

The resource is the scenario's own :class:`~scheduler.domain.scenario.Resident`, current pair included.
Every change of a resident's primary or backup, by an edit, a match or a re-solve, is kept as a
:class:`PairChangeRow` (who, before and after, why, when).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field
from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from scheduler.domain import scenario as sc
from scheduler.domain.errors import ConflictError, FieldProblem, InputError
from scheduler.store.db import Base, UTCDateTime
from scheduler.store.keyed import SiteKeyed, key_taken, row_of, rows_of

#: Resident fields kept as columns of the same name (JSON columns in the scenario file's JSON form).
JSON_FIELDS = ("needs", "visits", "kin")
COLUMN_FIELDS = ("id", "name", "building", "address", "zone", "close_contact", "primary", "backup")


class ResidentRow(SiteKeyed, Base):
    __tablename__ = "residents"

    building: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(300))
    zone: Mapped[str | None] = mapped_column(String(100))
    needs: Mapped[dict] = mapped_column(JSON)
    visits: Mapped[list] = mapped_column(JSON)
    kin: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    close_contact: Mapped[bool | None] = mapped_column(Boolean)
    primary: Mapped[str | None] = mapped_column(String(64))
    backup: Mapped[str | None] = mapped_column(String(64))


class PairChangeRow(Base):
    """One change of a resident's primary or backup."""

    __tablename__ = "resident_pair_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    resident: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    old_primary: Mapped[str | None] = mapped_column(String(64))
    old_backup: Mapped[str | None] = mapped_column(String(64))
    primary: Mapped[str | None] = mapped_column(String(64))
    backup: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)


class ResidentUpdate(sc.Resident):
    """A resident as in the scenario file; ``id``, if given, must be the one in the path."""

    id: str | None = Field(default=None, max_length=58)  # type: ignore[assignment]


class PairChange(sc.Model):
    resident: str
    at: dt.datetime
    old_primary: str | None
    old_backup: str | None
    primary: str | None
    backup: str | None
    reason: str


def to_model(row: ResidentRow) -> sc.Resident:
    data: dict[str, Any] = {name: getattr(row, name) for name in JSON_FIELDS}
    data.update({name: getattr(row, name) for name in COLUMN_FIELDS if name != "id"}, id=row.key)
    return sc.Resident.model_validate(data)


def _fields(resident: sc.Resident) -> dict[str, Any]:
    data = resident.model_dump(mode="json", by_alias=True)
    return {name: data[name] for name in JSON_FIELDS + COLUMN_FIELDS if name != "id"}


def list_residents(session: Session, site_id: int) -> list[ResidentRow]:
    return rows_of(session, ResidentRow, site_id)


def models(session: Session, site_id: int) -> list[sc.Resident]:
    return [to_model(r) for r in list_residents(session, site_id)]


def get_resident(session: Session, site_id: int, key: str) -> ResidentRow:
    return row_of(session, ResidentRow, site_id, key, "resident")


def _record(session: Session, row: ResidentRow, primary, backup, reason: str, now: dt.datetime) -> None:
    if (primary, backup) == (row.primary, row.backup):
        return
    session.add(PairChangeRow(
        site_id=row.site_id, resident=row.key, at=now, old_primary=row.primary, old_backup=row.backup,
        primary=primary, backup=backup, reason=reason,
    ))


def add_resident(session: Session, site_id: int, resident: sc.Resident, now: dt.datetime) -> ResidentRow:
    if key_taken(session, ResidentRow, site_id, resident.id):
        raise ConflictError(f"resident {resident.id!r} already exists", [FieldProblem("id", "already taken")])
    fields = _fields(resident)
    row = ResidentRow(site_id=site_id, key=resident.id, version=1,
                      **(fields | {"primary": None, "backup": None}))
    session.add(row)
    _record(session, row, resident.primary, resident.backup, "set by a coordinator", now)
    row.primary, row.backup = resident.primary, resident.backup
    session.flush()
    return row


def replace_resident(
    session: Session, row: ResidentRow, update: ResidentUpdate, now: dt.datetime
) -> ResidentRow:
    """Replace everything about the resident but their id; a changed pair is recorded in the history."""
    if update.id is not None and update.id != row.key:
        raise InputError("resident", [FieldProblem("id", f"is {update.id!r} but the path names {row.key!r}")])
    _record(session, row, update.primary, update.backup, "set by a coordinator", now)
    for name, value in _fields(update).items():
        setattr(row, name, value)
    row.version += 1
    session.flush()
    return row


def set_pair(
    session: Session, row: ResidentRow, primary: str | None, backup: str | None, reason: str, now: dt.datetime
) -> None:
    """A new pair (from a match or a re-solve), recorded in the history."""
    if (primary, backup) == (row.primary, row.backup):
        return
    _record(session, row, primary, backup, reason, now)
    row.primary, row.backup = primary, backup
    row.version += 1
    session.flush()


def delete_resident(session: Session, row: ResidentRow) -> None:
    session.delete(row)
    session.flush()


def pair_history(session: Session, site_id: int, key: str | None = None) -> list[PairChange]:
    """The site's (or one resident's) pair changes, oldest first."""
    query = select(PairChangeRow).where(PairChangeRow.site_id == site_id)
    if key is not None:
        query = query.where(PairChangeRow.resident == key)
    return [
        PairChange(resident=r.resident, at=r.at, old_primary=r.old_primary, old_backup=r.old_backup,
                   primary=r.primary, backup=r.backup, reason=r.reason)
        for r in session.scalars(query.order_by(PairChangeRow.id))
    ]
