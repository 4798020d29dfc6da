"""Schedules: solve jobs (create, watch, cancel, read the result), publishing a finished job, and
reading the published schedule (assignments, load per volunteer, uncovered slots) and its versions.

A job runs in a worker process (``rota worker``), never in the web process: ``POST`` only queues it.
Re-solve jobs (``kind: resolve``, queued by ``POST .../disruptions`` or a health update, see
:mod:`api.routes.replans`) are read, cancelled and published through the same routes; theirs show the
change set.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import DB, Config, Site, check_id, keep_cancelled, site_path
from api.schemas.schedules import (
    JobOut,
    JobRequest,
    PublishedOut,
    VersionOut,
    job_out,
    version_out,
)
from scheduler.domain.advice import StaffingAdvice, advise
from scheduler.domain.errors import ConflictError
from scheduler.domain.schedule import Assignment, Schedule, Uncovered, VolunteerTotals
from scheduler.services import publishing, schedule_jobs
from scheduler.store import jobs, sites
from scheduler.store import schedules as schedule_store
from scheduler.store.db import utcnow

router = APIRouter(tags=["schedules"])


def _retry_after(row: jobs.JobRow) -> str:
    return str(max(1, min(5, math.ceil(row.time_limit / 10))))


# ------------------------------------------------------------------------------------------- jobs


@router.post(
    "/sites/{site_id}/schedules",
    status_code=202,
    summary="Ask for a schedule: queue a solve job",
    description="The site as it is now is solved over `horizon` (default: the site's) within `time_limit` "
    "seconds by a worker process. Answers 202 with the job's URL in `Location`; poll it (`Retry-After`) "
    "for its state and live progress. A scenario that cannot be planned is refused at once (422). "
    "Demand that cannot be covered is not an error: the finished job lists the uncovered slots. A horizon "
    "after the published schedule's start is a new period: the published shifts before it (the last 28 "
    "days) become the volunteers' exact history in the job's scenario snapshot, in place of the summary. "
    "429 with `Retry-After` when the site already has its share of the job queue (queued + running jobs, "
    "or their seconds of search).",
    responses={429: {"description": "The site has its share of the job queue: retry later"}},
)
def create_job(
    site: Site, session: DB, settings: Config, response: Response, body: JobRequest | None = None
) -> JobOut:
    request = body or JobRequest()
    row = schedule_jobs.queue_site_schedule(session, site.id, request, settings, utcnow())
    session.flush()
    response.headers["Location"] = f"{site_path(site.id)}/schedules/{row.id}"
    response.headers["Retry-After"] = _retry_after(row)
    return job_out(row)


@router.get("/sites/{site_id}/schedules", summary="The site's recent schedule jobs, newest first")
def list_jobs(site: Site, session: DB, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[JobOut]:
    return [job_out(row) for row in jobs.list_jobs(session, site.id, limit)]


def _job(session, site: sites.SiteRow, job_id: int, settings) -> jobs.JobRow:
    job_id = check_id(job_id, "schedule job")
    return jobs.current_job(session, site.id, job_id, utcnow(), settings.job_stale_after)


@router.get(
    "/sites/{site_id}/schedules/{job_id}",
    summary="A schedule or re-solve job: state, live progress, and a re-solve's change set",
    description="`state` is queued, running, done, failed or cancelled. While running, `progress` shows the "
    "seconds elapsed, the best objective so far and the proven bound (updated about once a second). A "
    "finished re-solve (`kind: resolve`) shows its change set in `changes`: whom to call (each affected "
    "volunteer's shifts removed and added, with their phone and e-mail), what stays uncovered and why, "
    "and for an infectious illness the contacts. A failed re-solve says why in `error`.",
)
def get_job(job_id: int, site: Site, session: DB, settings: Config, response: Response) -> JobOut:
    row = _job(session, site, job_id, settings)
    if row.state in (jobs.JobState.queued, jobs.JobState.running):
        response.headers["Retry-After"] = _retry_after(row)
    return job_out(row, changes=True)


@router.delete(
    "/sites/{site_id}/schedules/{job_id}",
    status_code=202,
    summary="Cancel a schedule job",
    description="A queued job is cancelled at once; a running one stops its search within about a second "
    "and ends `cancelled`. A finished job cannot be cancelled (409).",
)
def cancel_job(job_id: int, site: Site, session: DB, settings: Config) -> JobOut:
    row = _job(session, site, job_id, settings)
    jobs.cancel_job(session, row, utcnow())
    session.flush()
    return job_out(row)


@router.get("/sites/{site_id}/schedules/{job_id}/result", summary="The schedule a job found")
def job_result(job_id: int, site: Site, session: DB, settings: Config) -> Schedule:
    row = _job(session, site, job_id, settings)
    schedule = jobs.result_of(row)
    if schedule is None:
        raise ConflictError(f"the job is {row.state}: it has no schedule")
    return schedule


@router.get(
    "/sites/{site_id}/schedules/{job_id}/advice",
    summary="Staffing advice: whom to recruit so that the job's short slots are staffed",
    description="For a finished job whose schedule leaves slots short: how many more volunteers, with which "
    "skills and availability, would staff them (virtual volunteers of a few archetypes, derived from the "
    "short slots' times and skills, added to the job's scenario snapshot; their number minimised once "
    "coverage is as good as it gets), and a short recruiting text. A schedule with nothing short answers "
    "at once. The worker works the advice out right after the solve (a fifth of the job's time limit, "
    "2 to 20 s) and stores it: this request then only reads it. For a job finished without one (before "
    "this existed, or when the advice failed) this request solves, within `time_limit` seconds (at most "
    "10, default 5): on a big site the answer is the best found in that time (`status: feasible`).",
)
def job_advice(
    job_id: int,
    site: Site,
    session: DB,
    settings: Config,
    time_limit: Annotated[float, Query(ge=1, le=10, description="Seconds of solving, all phases")] = 5.0,
) -> StaffingAdvice:
    row = _job(session, site, job_id, settings)
    schedule = jobs.result_of(row)
    if schedule is None:
        raise ConflictError(f"the job is {row.state}: it has no schedule to advise on")
    if not schedule.uncovered:
        return StaffingAdvice(
            status="optimal", short_slots=0, missing_people=0, closed_slots=[], still_short=[], items=[],
            recruiting_text="", volunteers=[],
        )
    if row.advice is not None:
        return StaffingAdvice.model_validate(row.advice)
    return advise(jobs.scenario_of(row), time_limit=time_limit, seed=row.seed or 0, workers=1)


@router.post(
    "/sites/{site_id}/schedules/{job_id}/publish",
    status_code=201,
    summary="Publish a finished job's schedule (a full solve or a re-solve)",
    description="In one step: the schedule becomes a new version and the site's published schedule (the "
    "previous versions are kept), the calendar feeds follow (changed shifts get a higher SEQUENCE, "
    "removed ones are CANCELLED), and the site's webhook, if any, gets the change set (sent by a worker "
    "right after; a failing webhook never holds up or fails the publication). A re-solve is refused (409) "
    "when another version was published after the one it re-planned.",
)
def publish(job_id: int, site: Site, session: DB, settings: Config, response: Response) -> VersionOut:
    locked = sites.get_site(session, site.id, lock=True)
    row = jobs.get_job(session, site.id, check_id(job_id, "schedule job"))
    version = publishing.publish(session, locked, row, utcnow(), keep_cancelled(settings))
    session.flush()
    response.headers["Location"] = f"{site_path(site.id)}/schedule/versions/{version.number}"
    return version_out(version, locked)


# ------------------------------------------------------------------------------------ published


@router.get("/sites/{site_id}/schedule", summary="The published schedule")
def get_published(site: Site, session: DB) -> PublishedOut:
    row = schedule_store.published(session, site)
    return version_out(row, site, PublishedOut, schedule=row.model)


@router.get("/sites/{site_id}/schedule/versions", summary="Every published version, newest first")
def list_versions(site: Site, session: DB) -> list[VersionOut]:
    return [version_out(row, site) for row in schedule_store.list_versions(session, site.id)]


@router.get("/sites/{site_id}/schedule/versions/{number}", summary="One published version")
def get_version(number: int, site: Site, session: DB) -> PublishedOut:
    row = schedule_store.get_version(session, site.id, check_id(number, "schedule version"))
    return version_out(row, site, PublishedOut, schedule=row.model)


Version = Annotated[
    int | None, Query(ge=1, le=2**31 - 1, description="A published version; default: the current one")
]
From = Annotated[dt.date | None, Query(alias="from", description="First local date (inclusive)")]
Until = Annotated[dt.date | None, Query(description="Last local date (inclusive)")]


def _schedule(session, site: sites.SiteRow, version: int | None) -> Schedule:
    if version is None:
        return schedule_store.published(session, site).model
    return schedule_store.get_version(session, site.id, version).model


@router.get(
    "/sites/{site_id}/schedule/assignments",
    summary="Assignments of the published schedule",
    description="Filter by volunteer, post and the local date on which the shift starts.",
)
def assignments(
    site: Site,
    session: DB,
    volunteer: str | None = None,
    post: str | None = None,
    first: From = None,
    until: Until = None,
    version: Version = None,
) -> list[Assignment]:
    schedule = _schedule(session, site, version)
    return schedule_store.select_assignments(
        schedule, volunteer=volunteer, post=post, first=first, last=until
    )


@router.get(
    "/sites/{site_id}/schedule/load",
    summary="Load per volunteer: shifts, hours, nights, heavy and weekend shifts, load per mille",
)
def load(
    site: Site, session: DB, volunteer: str | None = None, version: Version = None
) -> list[VolunteerTotals]:
    return schedule_store.load_summary(_schedule(session, site, version), volunteer=volunteer)


@router.get(
    "/sites/{site_id}/schedule/uncovered",
    summary="Slots the published schedule could not fully staff, with the reasons",
)
def uncovered(
    site: Site,
    session: DB,
    post: str | None = None,
    first: From = None,
    until: Until = None,
    version: Version = None,
) -> list[Uncovered]:
    schedule = _schedule(session, site, version)
    return schedule_store.select_uncovered(schedule, post=post, first=first, last=until)
