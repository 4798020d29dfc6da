"""Volunteers: skills, availability, absences, preferences, contact, rule overrides and recent history
(the scenario's ``Volunteer``). Their health history has its own routes (:mod:`api.routes.health_records`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from api.deps import (
    DB,
    Config,
    IfMatch,
    Site,
    Who,
    check_if_match,
    check_key,
    etag,
    keep_cancelled,
    site_path,
)
from api.schemas.volunteers import VolunteerUpdate
from scheduler.domain import scenario as sc
from scheduler.domain.limits import SizeLimits
from scheduler.services import health_data, publishing
from scheduler.store import sites, volunteers
from scheduler.store.db import utcnow
from scheduler.store.health_audit import AuditAction

router = APIRouter(tags=["volunteers"])


def site_volunteer(volunteer_id: str, site: Site, session: DB) -> volunteers.VolunteerRow:
    return volunteers.get_volunteer(session, site.id, check_key(volunteer_id, f"volunteer {volunteer_id!r}"))


Volunteer = Annotated[volunteers.VolunteerRow, Depends(site_volunteer)]


def _location(site_id: int, key: str) -> str:
    return f"{site_path(site_id)}/volunteers/{key}"


@router.get("/sites/{site_id}/volunteers", summary="The site's volunteers, with their health history")
def list_volunteers(site: Site, session: DB, who: Who) -> list[sc.Volunteer]:
    health_data.audit(session, site.id, who, AuditAction.read, "API: volunteers with health", utcnow())
    return volunteers.models(session, site.id)


@router.post(
    "/sites/{site_id}/volunteers",
    status_code=201,
    summary="Add a volunteer",
    description="Health records given here start the volunteer's health history.",
)
def add_volunteer(
    body: sc.Volunteer, site: Site, session: DB, settings: Config, response: Response, who: Who
) -> sc.Volunteer:
    row = volunteers.add_volunteer(session, site.id, body, utcnow())
    sites.validate_site(session, site, volunteer=row.key, limits=SizeLimits.of(settings))
    if body.health:
        health_data.audit(session, site.id, who, AuditAction.create, "API: volunteer added with health",
                          utcnow(), volunteer=row.key)
    response.headers["Location"] = _location(site.id, row.key)
    response.headers["ETag"] = etag(row)
    return volunteers.model(session, row)


@router.get("/sites/{site_id}/volunteers/{volunteer_id}", summary="A volunteer")
def get_volunteer(
    volunteer: Volunteer, site: Site, session: DB, response: Response, who: Who
) -> sc.Volunteer:
    health_data.audit(session, site.id, who, AuditAction.read, "API: volunteer with health", utcnow(),
                      volunteer=volunteer.key)
    response.headers["ETag"] = etag(volunteer)
    return volunteers.model(session, volunteer)


@router.put(
    "/sites/{site_id}/volunteers/{volunteer_id}",
    summary="Replace a volunteer (not their health history)",
    description="`health` may be sent back as it was read; health updates are added with `POST .../health`.",
)
def put_volunteer(
    body: VolunteerUpdate,
    volunteer: Volunteer,
    site: Site,
    session: DB,
    settings: Config,
    response: Response,
    if_match: IfMatch = None,
) -> sc.Volunteer:
    check_if_match(if_match, volunteer)
    volunteers.replace_volunteer(session, volunteer, body)
    sites.validate_site(session, site, volunteer=volunteer.key)
    publishing.refresh_calendars(session, site, utcnow(), keep_cancelled(settings), volunteer=volunteer.key)
    session.flush()
    response.headers["ETag"] = etag(volunteer)
    return volunteers.model(session, volunteer)


@router.delete(
    "/sites/{site_id}/volunteers/{volunteer_id}",
    status_code=204,
    summary="Delete a volunteer and their health history, everywhere",
    description="Refused (409) while a pin names them. Their health data is also erased from every stored "
    "copy (job snapshots, re-solves' disruptions and change sets), and their name and contact from the "
    "schedules and webhook payloads (the assignments keep their id). The erasure is audited.",
)
def delete_volunteer(
    volunteer: Volunteer, site: Site, session: DB, who: Who, if_match: IfMatch = None
) -> Response:
    check_if_match(if_match, volunteer)
    health_data.delete_volunteer(session, site, volunteer, who, utcnow())
    sites.validate_site(session, site)
    return Response(status_code=204)
