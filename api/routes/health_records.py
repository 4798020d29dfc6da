"""Health status updates of a volunteer: a history that is added to, never overwritten.

Only the site's coordinators see these (every route needs the site's coordinator token); calendar
feeds never show any of it. A record holds a status, its dates, whether it is infectious and an
optional reason from a fixed list (no free text, no diagnosis).

Recording an update can also re-solve the published schedule (``?resolve=true``, or always with the
site's ``auto_resolve``): the record and the re-solve job are created in one transaction, and the
answer carries the job.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.deps import DB, Site, Unit, Who, check_id
from api.routes.volunteers import Volunteer, site_volunteer
from api.schemas.health_records import (
    HealthAuditEntry,
    HealthRecordCreated,
    HealthRecordOut,
    audit_out,
    record_out,
)
from api.schemas.replans import ResolveRequest
from api.schemas.schedules import job_out
from scheduler.domain import scenario as sc
from scheduler.domain.errors import FieldProblem, InputError
from scheduler.services import health_data, replan_jobs
from scheduler.store import health_audit, health_records, sites
from scheduler.store.db import utcnow
from scheduler.store.health_audit import AuditAction

router = APIRouter(tags=["health records"])


Resolve = Annotated[
    bool | None,
    Query(
        description="Re-solve the published schedule with this update (409 if none is published). "
        "Default: the site's auto_resolve (then nothing happens while no schedule is published)"
    ),
]
Cutoff = Annotated[
    dt.datetime | None,
    Query(
        description="Re-solve: nothing starting before this changes (ISO 8601; without an offset, site-local "
        "time). Default: now. A record without `from` starts here"
    ),
]
TimeLimit = Annotated[
    float | None, Query(gt=0, le=3600, description="Re-solve: seconds to search at most (default 10)")
]
IsolateContacts = Annotated[
    bool,
    Query(
        description="Re-solve: with an infectious sick/isolating update, mark isolating in the same re-solve "
        "the people who shared a shift at the same post with them in the site's contact_tracing_days"
    ),
]
IsolateUntil = Annotated[
    sc.When | None,
    Query(description="Re-solve: until when contacts isolate (a date is inclusive); default: the `until`"),
]


@router.get(
    "/sites/{site_id}/volunteers/{volunteer_id}/health",
    summary="A volunteer's health history, oldest first",
)
def list_health(volunteer: Volunteer, site: Site, session: DB, who: Who) -> list[HealthRecordOut]:
    health_data.audit(session, site.id, who, AuditAction.read, "API: health history", utcnow(),
                      volunteer=volunteer.key)
    return [record_out(r) for r in health_records.records_of(session, volunteer.id)]


@router.post(
    "/sites/{site_id}/volunteers/{volunteer_id}/health",
    status_code=201,
    summary="Record a health status update (and re-solve the published schedule)",
    description='E.g. `{"status": "sick", "from": "2026-12-09", "until": "2026-12-12"}`. Where '
    "records overlap, the one that starts later wins (and for equal starts, the later recorded), so "
    '`{"status": "fit", "from": "2026-12-13"}` ends an open-ended sick record. The next schedule '
    "job takes it into account.\n\n"
    "With `resolve=true` (or the site's `auto_resolve` on), the same transaction also queues a re-solve "
    "of the published schedule from `cutoff` (default now): the answer (still 201) carries the job in "
    "`job`, its URL in a `Link: <...>; rel=\"related\"` header. `infectious: true` lists the contacts in "
    "the change set; `isolate_contacts=true` marks them isolating in the same re-solve. With a "
    "re-solve, a record without `from` starts at the cut-off.",
    responses={409: {"description": "resolve=true but no schedule is published"}},
)
async def add_health(
    volunteer_id: str,
    body: sc.HealthRecord,
    unit: Unit,
    request: Request,
    response: Response,
    resolve: Resolve = None,
    cutoff: Cutoff = None,
    time_limit: TimeLimit = None,
    isolate_contacts: IsolateContacts = False,
    isolate_until: IsolateUntil = None,
) -> HealthRecordCreated:
    # the service's hot write (every volunteer's daily health check in an outbreak): two hand-overs to
    # the thread pool (api.deps.coordinator_unit), not seven
    settings = request.app.state.settings

    def work(session, site, who) -> HealthRecordCreated:
        volunteer = site_volunteer(volunteer_id, site, session)
        return _add_health(session, site, volunteer, who, settings, response, body, resolve, cutoff,
                           time_limit, isolate_contacts, isolate_until)

    return await unit.run(work)


def _add_health(session, site, volunteer, who, settings, response, body, resolve, cutoff, time_limit,
                isolate_contacts, isolate_until) -> HealthRecordCreated:
    now = utcnow()
    options = {
        "cutoff": cutoff,
        "time_limit": time_limit,
        "isolate_contacts": isolate_contacts or None,
        "isolate_until": isolate_until,
    }
    wanted = resolve if resolve is not None else site.auto_resolve and site.published_version is not None
    if not wanted:
        given = [name for name, value in options.items() if value is not None]
        if given:
            raise InputError(
                "request", [FieldProblem(name, "only with a re-solve (resolve=true)") for name in given]
            )
        row = health_records.add_record(session, volunteer.id, body, now)
        health_data.audit(session, site.id, who, AuditAction.create, "API: health record added", now,
                          volunteer=volunteer.key, record_id=row.id)
        response.headers["Location"] = f"/sites/{site.id}/volunteers/{volunteer.key}/health/{row.id}"
        return HealthRecordCreated(**record_out(row).model_dump(by_alias=True))

    locked = sites.get_site(session, site.id, lock=True)
    cut = replan_jobs.cutoff_at(locked, cutoff, now)
    wanted_resolve = ResolveRequest(
        disruptions=[replan_jobs.sick_call(volunteer.key, body, cut)],
        cutoff=cut,
        time_limit=time_limit,
        isolate_contacts=isolate_contacts,
        isolate_until=isolate_until,
    )
    job, added = replan_jobs.queue_resolve(session, locked, wanted_resolve, settings, now)
    row = added[volunteer.key][0]
    health_data.audit(session, site.id, who, AuditAction.create, "API: health record added, re-solve queued",
                      now, volunteer=volunteer.key, record_id=row.id)
    location = f"/sites/{site.id}/schedules/{job.id}"
    response.headers["Location"] = f"/sites/{site.id}/volunteers/{volunteer.key}/health/{row.id}"
    response.headers["Link"] = f'<{location}>; rel="related"; title="re-solve job"'
    return HealthRecordCreated(**record_out(row).model_dump(by_alias=True), job=job_out(job))


@router.get("/sites/{site_id}/volunteers/{volunteer_id}/health/{record_id}", summary="One health record")
def get_health(record_id: int, volunteer: Volunteer, site: Site, session: DB, who: Who) -> HealthRecordOut:
    row = health_records.get_record(session, volunteer.id, check_id(record_id, "health record"))
    health_data.audit(session, site.id, who, AuditAction.read, "API: health record", utcnow(),
                      volunteer=volunteer.key, record_id=row.id)
    return record_out(row)


@router.delete(
    "/sites/{site_id}/volunteers/{volunteer_id}/health/{record_id}",
    status_code=204,
    summary="Delete a mistaken health record (and every stored copy of it)",
    description="The record is also removed from the site's job snapshots and from the re-solves it "
    "queued (their sick call and its traces in the change set). The deletion is audited.",
)
def delete_health(record_id: int, volunteer: Volunteer, site: Site, session: DB, who: Who) -> Response:
    health_data.delete_record(session, site, volunteer, check_id(record_id, "health record"), who, utcnow())
    return Response(status_code=204)


AuditVolunteer = Annotated[str | None, Query(max_length=64, description="Only this volunteer's entries")]
AuditSince = Annotated[dt.datetime | None, Query(description="Only entries at or after this instant")]
AuditBefore = Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Only entries older than this id")]


@router.get(
    "/sites/{site_id}/health-audit",
    summary="Who read or changed health data: the audit log, newest first",
    description="Every read of health records (API and console pages), every record added or deleted and "
    "every volunteer erased, with the actor (a coordinator token's id or a console session's id), the time "
    "and the volunteer. Page with `before` (the last `id` you got). Reading the log is not itself logged; "
    "it holds no health data.",
)
def read_health_audit(
    site: Site,
    session: DB,
    volunteer: AuditVolunteer = None,
    since: AuditSince = None,
    before: AuditBefore = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[HealthAuditEntry]:
    if since is not None and since.tzinfo is None:
        raise InputError("request", [FieldProblem("since", "needs a UTC offset, e.g. 2027-01-01T00:00Z")])
    rows = health_audit.entries(
        session, site.id, volunteer=volunteer, since=since, limit=limit, before_id=before
    )
    return [audit_out(r) for r in rows]
