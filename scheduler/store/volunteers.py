"""Volunteers: one row each (skills, availability, absences, preferences, contact, rule overrides,
recent history); their health is a separate history (:mod:`scheduler.store.health_records`).

The resource is the scenario's own :class:`~scheduler.domain.scenario.Volunteer`. Its id (``key``) is fixed
once created. Replacing a volunteer never touches the health history: health updates are added as
records of their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from pydantic import Field
from sqlalchemy import JSON, Boolean, Float, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from scheduler.domain import scenario as sc
from scheduler.domain.errors import ConflictError, FieldProblem, InputError
from scheduler.store import health_records
from scheduler.store.db import Base
from scheduler.store.keyed import SiteKeyed, key_taken, row_of, rows_of

#: Volunteer fields kept as JSON columns of the same name (in the scenario file's JSON form).
JSON_FIELDS = ("contact", "skills", "availability", "unavailable", "preferences", "rules", "history")
#: Every field of :class:`~scheduler.domain.scenario.Volunteer` is stored: these as columns, health as rows.
COLUMN_FIELDS = ("id", "name", "max_hours_per_week", "languages", "building", "zone", "risk_group")


class VolunteerRow(SiteKeyed, Base):
    __tablename__ = "volunteers"

    max_hours_per_week: Mapped[float | None] = mapped_column(Float)
    contact: Mapped[dict] = mapped_column(JSON)
    skills: Mapped[list] = mapped_column(JSON)
    availability: Mapped[list | None] = mapped_column(JSON(none_as_null=True))
    unavailable: Mapped[list] = mapped_column(JSON)
    preferences: Mapped[dict] = mapped_column(JSON)
    rules: Mapped[dict] = mapped_column(JSON)
    history: Mapped[dict] = mapped_column(JSON)
    languages: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    building: Mapped[str | None] = mapped_column(String(100))
    zone: Mapped[str | None] = mapped_column(String(100))
    risk_group: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class VolunteerUpdate(sc.Volunteer):
    """A volunteer as in the scenario file. ``id``, if given, must be the one in the path; ``health``, if
    given, must be the stored history unchanged (add health updates with ``POST .../health``)."""

    id: sc.Id | None = None  # type: ignore[assignment]
    health: list[sc.HealthRecord] | None = Field(  # type: ignore[assignment]
        default=None, description="Read-only here: health updates are added with POST .../health"
    )


def to_model(row: VolunteerRow, records: list[health_records.HealthRecordRow]) -> sc.Volunteer:
    data: dict[str, Any] = {name: getattr(row, name) for name in JSON_FIELDS}
    data.update(
        id=row.key,
        name=row.name,
        max_hours_per_week=row.max_hours_per_week,
        languages=row.languages or [],
        building=row.building,
        zone=row.zone,
        risk_group=bool(row.risk_group),
        health=[health_records.to_model(r).model_dump(mode="json", by_alias=True) for r in records],
    )
    return sc.Volunteer.model_validate(data, context=sc.OLD_DATA)


def _fields(volunteer: sc.Volunteer) -> dict[str, Any]:
    data = volunteer.model_dump(mode="json", by_alias=True, include=set(JSON_FIELDS))
    return {name: data[name] for name in JSON_FIELDS} | {
        "name": volunteer.name,
        "max_hours_per_week": volunteer.max_hours_per_week,
        "languages": list(volunteer.languages),
        "building": volunteer.building,
        "zone": volunteer.zone,
        "risk_group": volunteer.risk_group,
    }


def list_volunteers(session: Session, site_id: int) -> list[VolunteerRow]:
    return rows_of(session, VolunteerRow, site_id)


def models(session: Session, site_id: int, keys: Collection[str] | None = None) -> list[sc.Volunteer]:
    """Every volunteer of the site (or those with ``keys``) with their health history, in the order they
    were added."""
    if keys is None:
        rows = list_volunteers(session, site_id)
        ids = select(VolunteerRow.id).where(VolunteerRow.site_id == site_id)
    else:
        wanted = sorted(set(keys))
        chosen = (VolunteerRow.site_id == site_id, VolunteerRow.key.in_(wanted))
        rows = list(session.scalars(select(VolunteerRow).where(*chosen).order_by(VolunteerRow.id)))
        ids = select(VolunteerRow.id).where(*chosen)
    records = health_records.records_by_volunteer(session, ids)
    return [to_model(row, records.get(row.id, [])) for row in rows]


def model(session: Session, row: VolunteerRow) -> sc.Volunteer:
    return to_model(row, health_records.records_of(session, row.id))


def get_volunteer(session: Session, site_id: int, key: str) -> VolunteerRow:
    return row_of(session, VolunteerRow, site_id, key, "volunteer")


def add_volunteer(session: Session, site_id: int, volunteer: sc.Volunteer, now: dt.datetime) -> VolunteerRow:
    """Add a volunteer; the health records given with them start their history."""
    if key_taken(session, VolunteerRow, site_id, volunteer.id):
        raise ConflictError(
            f"volunteer {volunteer.id!r} already exists", [FieldProblem("id", "already taken")]
        )
    row = VolunteerRow(site_id=site_id, key=volunteer.id, version=1, **_fields(volunteer))
    session.add(row)
    session.flush()
    for record in volunteer.health:
        health_records.add_record(session, row.id, record, now)
    return row


def replace_volunteer(session: Session, row: VolunteerRow, update: VolunteerUpdate) -> VolunteerRow:
    """Replace everything about the volunteer but their id and their health history."""
    problems = []
    if update.id is not None and update.id != row.key:
        problems.append(FieldProblem("id", f"is {update.id!r} but the path names {row.key!r}"))
    if update.health is not None:
        current = [health_records.to_model(r) for r in health_records.records_of(session, row.id)]
        if update.health != current:
            problems.append(
                FieldProblem(
                    "health",
                    "health is a history: add an update with POST .../health instead of rewriting it",
                )
            )
    if problems:
        raise InputError("volunteer", problems)
    for name, value in _fields(update).items():
        setattr(row, name, value)
    row.version += 1
    session.flush()
    return row


def delete_volunteer(session: Session, row: VolunteerRow) -> None:
    session.delete(row)
    session.flush()
