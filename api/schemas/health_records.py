"""The HTTP API's models for health records: request bodies and responses."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query, Response  # noqa: F401
from pydantic import Field

from api.schemas.schedules import JobOut
from scheduler.domain import scenario as sc
from scheduler.store import health_records

__all__ = [
    "HealthRecordCreated",
    "HealthRecordOut",
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
