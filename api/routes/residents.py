"""Vulnerable residents (coordinators only: sensitive personal data, protected like health records).

The register (``/sites/{id}/residents``) and each resident's pair history; the matching of residents to
a primary and a backup volunteer and the guardians report, at-risk residents first
(``/sites/{id}/guardians``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from api.deps import DB, Config, IfMatch, Site, check_if_match, etag, keep_cancelled, site_path
from api.schemas.residents import MatchReport, PairChange, Resident, ResidentStatus, ResidentUpdate
from scheduler.domain.errors import NotFoundError
from scheduler.services import publishing
from scheduler.services import residents as service
from scheduler.store import residents, sites
from scheduler.store.db import utcnow

router = APIRouter(tags=["residents"])


def site_resident(resident_id: str, site: Site, session: DB) -> residents.ResidentRow:
    if not 0 < len(resident_id) <= 58:
        raise NotFoundError(f"resident {resident_id!r}")
    return residents.get_resident(session, site.id, resident_id)


ResidentRow = Annotated[residents.ResidentRow, Depends(site_resident)]


def _location(site_id: int, key: str) -> str:
    return f"{site_path(site_id)}/residents/{key}"


@router.get("/sites/{site_id}/residents", summary="The site's vulnerable residents, with their pairs")
def list_residents(site: Site, session: DB) -> list[Resident]:
    return residents.models(session, site.id)


@router.post(
    "/sites/{site_id}/residents",
    status_code=201,
    summary="Add a resident",
    description="`primary` and `backup` may be given (volunteers of the site, distinct) or left to "
    "`POST /sites/{id}/guardians/match`.",
)
def add_resident(body: Resident, site: Site, session: DB, response: Response) -> Resident:
    row = residents.add_resident(session, site.id, body, utcnow())
    sites.validate_site(session, site, resident=row.key)
    response.headers["Location"] = _location(site.id, row.key)
    response.headers["ETag"] = etag(row)
    return residents.to_model(row)


@router.get("/sites/{site_id}/residents/{resident_id}", summary="A resident")
def get_resident(resident: ResidentRow, response: Response) -> Resident:
    response.headers["ETag"] = etag(resident)
    return residents.to_model(resident)


@router.put("/sites/{site_id}/residents/{resident_id}", summary="Replace a resident")
def put_resident(
    body: ResidentUpdate,
    resident: ResidentRow,
    site: Site,
    session: DB,
    settings: Config,
    response: Response,
    if_match: IfMatch = None,
) -> Resident:
    check_if_match(if_match, resident)
    residents.replace_resident(session, resident, body, utcnow())
    sites.validate_site(session, site, resident=resident.key)
    publishing.refresh_calendars(session, site, utcnow(), keep_cancelled(settings))
    response.headers["ETag"] = etag(resident)
    return residents.to_model(resident)


@router.delete("/sites/{site_id}/residents/{resident_id}", status_code=204, summary="Delete a resident")
def delete_resident(resident: ResidentRow, site: Site, session: DB, if_match: IfMatch = None) -> Response:
    check_if_match(if_match, resident)
    residents.delete_resident(session, resident)
    sites.validate_site(session, site)
    return Response(status_code=204)


@router.get(
    "/sites/{site_id}/residents/{resident_id}/history",
    summary="Every change of the resident's primary and backup, oldest first",
)
def resident_history(resident: ResidentRow, site: Site, session: DB) -> list[PairChange]:
    return residents.pair_history(session, site.id, resident.key)


@router.get(
    "/sites/{site_id}/guardians",
    summary="Every resident with their primary, backup and next visit; residents at risk first",
    description="At risk: no primary or backup, no eligible volunteer left for a backup, a guardian no "
    "longer eligible (sick, isolating), a visit uncovered in the next 72 hours (by the published "
    "schedule), a guardian at or near a cap.",
)
def guardians_report(site: Site, session: DB) -> list[ResidentStatus]:
    return service.register(session, site, utcnow())


@router.post(
    "/sites/{site_id}/guardians/match",
    summary="Match every resident to a primary and a distinct backup volunteer",
    description="Continuity first: a pair is kept unless it must change (a guardian no longer eligible) "
    "or a resident has none. The new pairs are stored with their history; the changes name whom to tell.",
)
def match_guardians(site: Site, session: DB) -> MatchReport:
    return service.match_site(session, site, utcnow())
