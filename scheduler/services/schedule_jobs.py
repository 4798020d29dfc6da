"""Queueing a full solve of a site: the site's scenario as it is now, over the requested horizon, with
the published schedule's shifts before that horizon as the volunteers' exact history."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from scheduler.store import jobs, sites
from scheduler.store import schedules as schedule_store


def queue_schedule(
    session: Session,
    site: sites.SiteRow,
    request: jobs.JobRequest,
    *,
    default_time_limit: float,
    max_time_limit: float,
    workers: int,
    now: dt.datetime,
    limits: jobs.SiteLimits | None = None,
) -> jobs.JobRow:
    """A queued job planning ``site``; a new period after the published one starts from its shifts
    (history from the previous period), so the summary form of a volunteer's history is needed only
    for imports."""
    previous = None
    if site.published_version is not None:
        previous = schedule_store.published(session, site).model
    return jobs.create_job(
        session,
        site.id,
        sites.export_scenario(session, site),
        request,
        default_time_limit=default_time_limit,
        max_time_limit=max_time_limit,
        workers=workers,
        now=now,
        limits=limits,
        previous=previous,
    )
