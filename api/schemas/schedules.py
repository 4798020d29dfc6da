"""The HTTP API's models for schedules: request bodies and responses."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query, Response  # noqa: F401
from pydantic import BaseModel, Field

from api.deps import site_path
from scheduler.domain import scenario as sc
from scheduler.domain.changes import ChangeSet
from scheduler.domain.disruptions import Disruption
from scheduler.domain.schedule import Schedule
from scheduler.store import jobs, sites
from scheduler.store import schedules as schedule_store
from scheduler.store.jobs import JobRequest

__all__ = [
    "JobOut",
    "JobProgress",
    "JobRequest",
    "PublishedOut",
    "ResultSummary",
    "VersionOut",
    "job_out",
    "version_out",
]


class JobProgress(BaseModel):
    elapsed: float = Field(description="Seconds since the search started")
    objective: float | None = Field(description="Objective of the best schedule so far (lower is better)")
    bound: float | None = Field(description="Proven lower bound on the objective")
    gap: float | None = Field(description="(objective - bound) / objective")
    solutions: int = Field(description="Improving schedules found so far")
    phase: str = Field(description="The search's current phase, e.g. 'coverage' (staffing every slot first)")


class ResultSummary(BaseModel):
    status: str
    objective: int | None
    assignments: int
    uncovered_slots: int
    people_missing: int
    advised_volunteers: int | None = Field(
        default=None,
        description="When slots stay short: how many more volunteers the staffing advice (`.../advice`) "
        "would recruit; missing when nothing is short or no advice was computed",
    )
    advice_closes_slots: int | None = Field(
        default=None, description="Short slots the advised volunteers staff"
    )


class JobOut(BaseModel):
    id: int
    kind: jobs.JobKind = Field(
        description="schedule: a full solve of the site; resolve: a re-solve of the published schedule "
        "after disruptions, changing as little as possible from the cut-off on"
    )
    state: jobs.JobState
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    horizon: sc.Horizon
    time_limit: float
    seed: int
    cancel_requested: bool
    progress: JobProgress | None
    result: ResultSummary | None
    error: str | None = Field(description="Why the job failed (or a note, e.g. that it was re-queued)")
    cutoff: dt.datetime | None = Field(
        default=None, description="Re-solves: nothing starting before this changes (UTC)"
    )
    base_version: int | None = Field(default=None, description="Re-solves: the published version re-planned")
    disruptions: list[Disruption] | None = Field(default=None, description="Re-solves: what happened")
    changes: ChangeSet | None = Field(
        default=None,
        description="Re-solves, once done (shown when one job is read, not in the listing): for each "
        "volunteer with a change, the shifts removed and added, with their contact, soonest first; the "
        "slots that stay short after the cut-off and why; for an infectious illness, the contacts",
    )
    links: dict[str, str]


class VersionOut(BaseModel):
    number: int
    published_at: dt.datetime
    job_id: int | None
    horizon: sc.Horizon
    current: bool = Field(description="Whether this is the site's published schedule")
    links: dict[str, str]


class PublishedOut(VersionOut):
    schedule: Schedule


def job_out(row: jobs.JobRow, *, changes: bool = False) -> JobOut:
    """The job as the API shows it; ``changes``: with a re-solve's change set (a deferred column)."""
    base = f"{site_path(row.site_id)}/schedules/{row.id}"
    links = {"self": base}
    if row.summary is not None:
        links["result"] = f"{base}/result"
        if row.state == jobs.JobState.done:
            links["publish"] = f"{base}/publish"
    resolve = row.kind == jobs.JobKind.resolve
    if resolve and row.base_version is not None:
        links["base_version"] = f"{site_path(row.site_id)}/schedule/versions/{row.base_version}"
    return JobOut(
        id=row.id,
        kind=jobs.JobKind(row.kind),
        state=jobs.JobState(row.state),
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        horizon=sc.Horizon(start=row.horizon_start, days=row.horizon_days),
        time_limit=row.time_limit,
        seed=row.seed,
        cancel_requested=row.cancel_requested,
        progress=JobProgress(**row.progress) if row.progress else None,
        result=None if row.summary is None else ResultSummary(**row.summary),
        error=row.error,
        cutoff=row.cutoff.astimezone(dt.UTC) if row.cutoff is not None else None,
        base_version=row.base_version,
        disruptions=row.disruptions if resolve else None,
        changes=row.changes if resolve and changes and row.changes is not None else None,
        links=links,
    )


def version_out(row: schedule_store.ScheduleVersionRow, site: sites.SiteRow, cls=VersionOut, **extra):
    base = f"{site_path(site.id)}/schedule"
    return cls(
        number=row.number,
        published_at=row.published_at,
        job_id=row.job_id,
        horizon=sc.Horizon(start=row.horizon_start, days=row.horizon_days),
        current=row.number == site.published_version,
        links={
            "self": f"{base}/versions/{row.number}",
            "assignments": f"{base}/assignments?version={row.number}",
        },
        **extra,
    )
