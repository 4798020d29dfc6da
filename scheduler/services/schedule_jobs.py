"""Queueing a full solve of a site: the site's scenario as it is now, over the requested horizon, with
the published schedule's shifts before that horizon as the volunteers' exact history, as they were
worked where that is recorded (:mod:`scheduler.services.worked`)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from scheduler.domain.limits import DEFAULT as DEFAULT_SIZE
from scheduler.domain.limits import SizeLimits
from scheduler.services import residents, worked
from scheduler.settings import Settings
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
    size: SizeLimits = DEFAULT_SIZE,
) -> jobs.JobRow:
    """A queued job planning ``site``; a new period after the published one starts from its shifts
    (history from the previous period), so the summary form of a volunteer's history is needed only
    for imports. Residents whose guardian became ineligible are re-matched first
    (:func:`scheduler.services.residents.rematch_ineligible`)."""
    previous = None
    if site.published_version is not None:
        previous = schedule_store.published(session, site).model
    # a guardian who fell ill since the matching hands their residents over first (stored, with history)
    scenario = residents.rematch_ineligible(session, site, sites.export_scenario(session, site), now)
    horizon = request.horizon or site.horizon
    return jobs.create_job(
        session,
        site.id,
        scenario,
        request,
        default_time_limit=default_time_limit,
        max_time_limit=max_time_limit,
        workers=workers,
        now=now,
        limits=limits,
        previous=previous,
        size=size,
        worked=worked.history_of(session, site.id, horizon.start),
    )


def queue_site_schedule(
    session: Session, site_id: int, request: jobs.JobRequest, settings: Settings, now: dt.datetime
) -> jobs.JobRow:
    """:func:`queue_schedule` with the service's limits (``settings``), the site row locked first so its
    share of the queue is checked once: what the API's solve route and the console's solve page call."""
    return queue_schedule(
        session,
        sites.get_site(session, site_id, lock=True),
        request,
        default_time_limit=settings.default_time_limit,
        max_time_limit=settings.max_time_limit,
        workers=settings.solver_workers,
        now=now,
        limits=jobs.SiteLimits.of(settings),
        size=SizeLimits.of(settings),
    )
