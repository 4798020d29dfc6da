"""Re-solves: a disruption recorded and the published schedule re-planned from a cut-off, changing as
little as possible (issue 5). The job runs in a worker, as a full solve does; it is watched, cancelled
and published through ``/sites/{id}/schedules/{job}``.

* ``POST /sites/{id}/disruptions``: sick calls, withdrawals, raised headcounts, new posts, new
  volunteers, contacts marked isolating; each is recorded on the site (as the equivalent resource edit)
  in the same transaction that queues the re-solve.
* ``POST /sites/{id}/volunteers/{v}/health?resolve=true`` (:mod:`api.routes.health_records`) does the same
  for one health update; with the site's ``auto_resolve`` on, every health update does.
* ``GET/PUT /sites/{id}/resolve-settings``: ``auto_resolve`` and ``contact_tracing_days``.
"""

from __future__ import annotations

import typing

from fastapi import APIRouter, Response

from api.deps import DB, Config, IfMatch, Site, check_if_match, etag, site_path
from api.errors import register_union_tags
from api.schemas.replans import ResolveRequest, ResolveSettings
from api.schemas.schedules import JobOut, job_out
from scheduler.domain import disruptions
from scheduler.services import replan_jobs
from scheduler.store import sites
from scheduler.store.db import utcnow

router = APIRouter(tags=["re-solve"])

register_union_tags(
    typing.get_args(cls.model_fields["kind"].annotation)[0]
    for cls in typing.get_args(disruptions.AnyDisruption)
)

_CONFLICT = {409: {"description": "No published schedule, or it no longer fits the site"}}


@router.post(
    "/sites/{site_id}/disruptions",
    status_code=202,
    summary="Record disruptions and re-solve the published schedule",
    description="Each disruption (`kind`: `sick_call`, `withdrawal`, `demand_change`, `new_post`, "
    "`new_volunteer`, `mark_isolating`) is recorded on the site as the equivalent edit would (a health "
    "record, a dated absence, extra one-person shift templates `<shift>.extra1`... on the raised dates, a "
    "new post or volunteer), and a re-solve of the published schedule is queued, in one transaction. "
    "Nothing starting before `cutoff` (default: now) changes, nor any shift under way at it. Answers 202 "
    "with the job's URL in `Location`; poll it for the change set, then publish it "
    "(`POST .../schedules/{job}/publish`). 409 without a published schedule; 422 naming the field "
    "(`disruptions[0].volunteer`...) for what does not fit the site, and for an empty `disruptions` "
    "list unless `replan` is true (re-plan the site as it is now). 429 with `Retry-After` when the "
    "site already has its share of the job queue.",
    responses={**_CONFLICT, 429: {"description": "The site has its share of the job queue: retry later"}},
)
def post_disruptions(
    body: ResolveRequest, site: Site, session: DB, settings: Config, response: Response
) -> JobOut:
    locked = sites.get_site(session, site.id, lock=True)
    row, _ = replan_jobs.queue_resolve(session, locked, body, settings, utcnow())
    session.flush()
    response.headers["Location"] = f"{site_path(site.id)}/schedules/{row.id}"
    response.headers["Retry-After"] = "1"
    return job_out(row)


def _settings_of(site: sites.SiteRow) -> ResolveSettings:
    return ResolveSettings(
        auto_resolve=site.auto_resolve, contact_tracing_days=sites.rules_of(site).contact_tracing_days
    )


@router.get("/sites/{site_id}/resolve-settings", summary="The site's re-solve settings")
def get_resolve_settings(site: Site, response: Response) -> ResolveSettings:
    response.headers["ETag"] = etag(site)
    return _settings_of(site)


@router.put(
    "/sites/{site_id}/resolve-settings",
    summary="Change the site's re-solve settings",
    description="`contact_tracing_days` is stored in the site's rules (`GET .../rules` shows it too).",
)
def put_resolve_settings(
    body: ResolveSettings, site: Site, session: DB, response: Response, if_match: IfMatch = None
) -> ResolveSettings:
    check_if_match(if_match, site)
    rules = sites.rules_of(site)
    if rules.contact_tracing_days != body.contact_tracing_days:
        rules.contact_tracing_days = body.contact_tracing_days
        sites.set_rules(site, rules)
    sites.set_auto_resolve(site, body.auto_resolve)
    session.flush()
    response.headers["ETag"] = etag(site)
    return _settings_of(site)
