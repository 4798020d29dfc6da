"""Sites: import a scenario file as a new site, read and change the site's settings, rules and pins,
export it back to a scenario file."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import (
    DB,
    AdminToken,
    Config,
    IfMatch,
    Site,
    TokenSite,
    Who,
    check_if_match,
    etag,
    require_if_match,
    site_path,
)
from api.schemas.sites import SiteCreated, SiteOut, SiteSettings, site_out
from scheduler.domain import scenario as sc
from scheduler.domain.limits import SizeLimits
from scheduler.services import health_data
from scheduler.settings import token_expiry
from scheduler.store import access, sites
from scheduler.store.db import utcnow
from scheduler.store.health_audit import Actor, AuditAction

router = APIRouter(tags=["sites"])


@router.get("/sites", summary="The sites your token opens (one)")
def list_sites(session: DB, token_site: TokenSite) -> list[SiteOut]:
    return [site_out(row) for row in sites.sites_by_id(session, [token_site])]


@router.post(
    "/sites",
    status_code=201,
    summary="Import a scenario file as a new site",
    description="Creates a site holding the whole scenario (posts, volunteers with their health history, "
    "rules, pins) and an admin token for it. Needs an admin token (403 for a coordinator token without "
    "the admin role); only the returned token opens the new site.",
    responses={403: {"description": "The token is not an admin token"}},
)
def import_site(
    scenario: sc.Scenario, session: DB, token: AdminToken, settings: Config, response: Response
) -> SiteCreated:
    now = utcnow()
    row = sites.import_scenario(session, scenario, now, SizeLimits.of(settings))
    health_data.audit_import(session, row.id, Actor("token", token.id), scenario, "API", now)
    token = access.create_api_token(
        session, row.id, "created with the site", now, expires_at=token_expiry(settings, now), admin=True
    )
    session.flush()
    response.headers["Location"] = site_path(row.id)
    response.headers["ETag"] = etag(row)
    return SiteCreated(**site_out(row).model_dump(), coordinator_token=token)


@router.get("/sites/{site_id}", summary="A site")
def get_site(site: Site, response: Response) -> SiteOut:
    response.headers["ETag"] = etag(site)
    return site_out(site)


@router.put("/sites/{site_id}", summary="Change the site's name, time zone or default horizon")
def put_site(
    body: SiteSettings,
    site: Site,
    session: DB,
    settings: Config,
    response: Response,
    if_match: IfMatch = None,
) -> SiteOut:
    check_if_match(if_match, site)
    sites.update_settings(site, body)
    sites.validate_site(session, site, blame="horizon", limits=SizeLimits.of(settings))
    session.flush()
    response.headers["ETag"] = etag(site)
    return site_out(site)


@router.delete(
    "/sites/{site_id}",
    status_code=204,
    summary="Delete the site and everything in it",
    description="Needs an admin token of the site (403 otherwise) and `If-Match` with the site's current "
    "ETag (428 without it, 409 if the site changed since): a deletion cannot be undone.",
    responses={
        403: {"description": "The token is not an admin token"},
        428: {"description": "If-Match is missing"},
    },
)
def delete_site(site: Site, session: DB, _: AdminToken, if_match: IfMatch = None) -> Response:
    require_if_match(if_match, site)
    sites.delete_site(session, site)
    return Response(status_code=204)


@router.get(
    "/sites/{site_id}/scenario",
    summary="Export the site as a scenario file",
    description="The same format `rota solve` reads and `POST /sites` imports; importing it again gives an "
    "equal site.",
    response_model=sc.Scenario,
    response_model_exclude_defaults=True,
)
def export_site(site: Site, session: DB, who: Who):
    health_data.audit(session, site.id, who, AuditAction.read, "API: scenario export with health", utcnow())
    return sites.export_scenario(session, site)


@router.get("/sites/{site_id}/rules", summary="The site's rules and objective weights")
def get_rules(site: Site, response: Response) -> sc.Rules:
    response.headers["ETag"] = etag(site)
    return sites.rules_of(site)


@router.put("/sites/{site_id}/rules", summary="Replace the site's rules")
def put_rules(
    body: sc.Rules, site: Site, session: DB, response: Response, if_match: IfMatch = None
) -> sc.Rules:
    check_if_match(if_match, site)
    sites.set_rules(site, body)
    sites.validate_site(session, site, blame="rules")
    session.flush()
    response.headers["ETag"] = etag(site)
    return sites.rules_of(site)


@router.get("/sites/{site_id}/pins", summary="Pinned assignments (kept by every solve)")
def get_pins(site: Site, response: Response) -> list[sc.Pin]:
    response.headers["ETag"] = etag(site)
    return sites.pins_of(site)


@router.put("/sites/{site_id}/pins", summary="Replace the pinned assignments")
def put_pins(
    body: list[sc.Pin], site: Site, session: DB, response: Response, if_match: IfMatch = None
) -> list[sc.Pin]:
    check_if_match(if_match, site)
    sites.set_pins(site, body)
    sites.validate_site(session, site, blame="pinned")
    session.flush()
    response.headers["ETag"] = etag(site)
    return sites.pins_of(site)
