"""The HTTP API's models for health records: request bodies and responses."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query, Response  # noqa: F401
from pydantic import BaseModel, Field

from api.schemas.schedules import JobOut
from scheduler.domain import scenario as sc
from scheduler.store import health_audit, health_records

__all__ = [
    "HealthAuditEntry",
    "HealthRecordCreated",
    "HealthRecordOut",
    "audit_out",
    "record_out",
]


class HealthRecordOut(sc.HealthRecord):
    id: int
    recorded_at: dt.datetime = Field(description="When the update was recorded (UTC)")


class HealthRecordCreated(HealthRecordOut):
    job: JobOut | None = Field(
        default=None,
        description="The re-solve job this update queued (with `?resolve=true` or the site's auto_resolve); "
        "poll `job.links.self` for its change set",
    )


def record_out(row: health_records.HealthRecordRow) -> HealthRecordOut:
    return HealthRecordOut(
        id=row.id, recorded_at=row.recorded_at, **health_records.to_model(row).model_dump(by_alias=True)
    )


class HealthAuditEntry(BaseModel):
    """Who read or changed health data, when, whose. It holds no health data itself."""

    id: int
    at: dt.datetime = Field(description="When (UTC)")
    actor: str = Field(description="'token' (the API), 'console' (a console session), 'system' (CLI, worker)")
    actor_id: int | None = Field(description="The coordinator token's or console session's id")
    action: health_audit.AuditAction
    volunteer: str | None = Field(description="Whose health data; none for a list of everyone")
    record_id: int | None = None
    what: str = Field(description="What was shown or done, e.g. 'API: health history'")


def audit_out(row: health_audit.HealthAuditRow) -> HealthAuditEntry:
    return HealthAuditEntry(
        id=row.id, at=row.at, actor=row.actor, actor_id=row.actor_id, action=row.action,
        volunteer=row.volunteer, record_id=row.record_id, what=row.what,
    )
