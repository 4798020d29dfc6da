"""Health status updates of a volunteer: a history that is added to, never overwritten.

Only the site's coordinators see these (every route needs the site's coordinator token); calendar
feeds never show any of it. A record holds a status, its dates, whether it is infectious and an
optional short note (no diagnosis).
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Response
from pydantic import Field

from api.deps import DB, Site, check_id
from api.volunteers import Volunteer
from scheduler import health
from scheduler import scenario as sc
from scheduler import site as sites
from scheduler.db import utcnow

router = APIRouter(tags=["health"])


class HealthRecordOut(sc.HealthRecord):
    id: int
    recorded_at: dt.datetime = Field(description="When the update was recorded (UTC)")


def record_out(row: health.HealthRecordRow) -> HealthRecordOut:
    return HealthRecordOut(
        id=row.id, recorded_at=row.recorded_at, **health.to_model(row).model_dump(by_alias=True)
    )


@router.get(
    "/sites/{site_id}/volunteers/{volunteer_id}/health",
    summary="A volunteer's health history, oldest first",
)
def list_health(volunteer: Volunteer, session: DB) -> list[HealthRecordOut]:
    return [record_out(r) for r in health.records_of(session, volunteer.id)]


@router.post(
    "/sites/{site_id}/volunteers/{volunteer_id}/health",
    status_code=201,
    summary="Record a health status update",
    description='E.g. `{"status": "sick", "from": "2026-12-09", "until": "2026-12-12"}`. Where '
    "records overlap, the one that starts later wins (and for equal starts, the later recorded), so "
    '`{"status": "fit", "from": "2026-12-13"}` ends an open-ended sick record. The next schedule '
    "job takes it into account.",
)
def add_health(
    body: sc.HealthRecord, volunteer: Volunteer, site: Site, session: DB, response: Response
) -> HealthRecordOut:
    row = health.add_record(session, volunteer.id, body, utcnow())
    sites.validate_site(session, site)
    session.commit()
    response.headers["Location"] = f"/sites/{site.id}/volunteers/{volunteer.key}/health/{row.id}"
    return record_out(row)


@router.get("/sites/{site_id}/volunteers/{volunteer_id}/health/{record_id}", summary="One health record")
def get_health(record_id: int, volunteer: Volunteer, session: DB) -> HealthRecordOut:
    return record_out(health.get_record(session, volunteer.id, check_id(record_id, "health record")))


@router.delete(
    "/sites/{site_id}/volunteers/{volunteer_id}/health/{record_id}",
    status_code=204,
    summary="Delete a mistaken health record",
)
def delete_health(record_id: int, volunteer: Volunteer, session: DB) -> Response:
    row = health.get_record(session, volunteer.id, check_id(record_id, "health record"))
    health.delete_record(session, row)
    session.commit()
    return Response(status_code=204)
