"""Worked hours for coordinators: ``GET /sites/{id}/worked?from=&to=`` lists the published shifts of
those local days that have started, each with what was worked (checked in and out on the volunteer's
page, or recorded by a coordinator), and the extra shifts; ``POST .../worked`` records a shift (worked
with its times, a no-show, an extra shift), ``PUT .../worked/{record}`` corrects a record, ``POST
.../worked/confirm`` confirms every ended shift of a day. What is recorded becomes the exact history of
the next planning period (:mod:`scheduler.services.worked`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from api.deps import DB, Site, Who, check_id
from api.errors import problem_responses
from api.schemas.worked import ConfirmDay, Confirmed, WorkedIn, WorkedOut, WorkedUpdate, worked_out
from scheduler.domain.errors import FieldProblem, InputError
from scheduler.domain.worked import ShiftKey
from scheduler.services import worked
from scheduler.store.db import utcnow

router = APIRouter(tags=["worked"])

#: At most this many days in one listing.
MAX_DAYS = 62
DEFAULT_DAYS = 7


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.astimezone(dt.UTC) if value is not None else None


@router.get(
    "/sites/{site_id}/worked",
    summary="What was worked: the published shifts that have started, with their records",
    responses=problem_responses(422),
)
def list_worked(
    site: Site,
    session: DB,
    first: Annotated[dt.date | None, Query(alias="from", description="First local date (7 days ago)")] = None,
    last: Annotated[dt.date | None, Query(alias="to", description="Last local date (today)")] = None,
) -> list[WorkedOut]:
    now = utcnow()
    today = now.astimezone(ZoneInfo(site.timezone)).date()
    last = last or today
    first = first or last - dt.timedelta(days=DEFAULT_DAYS - 1)
    if last < first:
        raise InputError("query", [FieldProblem("to", "must not be before from")])
    if (last - first).days >= MAX_DAYS:
        raise InputError("query", [FieldProblem("to", f"at most {MAX_DAYS} days after from")])
    return [worked_out(line) for line in worked.listing(session, site, first, last, now)]


@router.post(
    "/sites/{site_id}/worked",
    status_code=201,
    summary="Record what was worked",
    description="For a published shift (`shift` and `date`): `worked` with its actual `start` and `end` "
    "(left out: as published; times that start late or end early by more than 15 minutes are `partly`), "
    "or `no_show`; it replaces the shift's record. Without `shift`: an `extra` shift worked without a "
    "published one (`start` and `end` needed). Times: not in the future, the end after the start, at "
    "most 24 hours.",
    responses=problem_responses(404, 422),
)
def post_worked(body: WorkedIn, site: Site, who: Who, session: DB) -> WorkedOut:
    key = None
    if body.shift is not None or body.date is not None:
        if body.shift is None or body.date is None:
            missing = "shift" if body.shift is None else "date"
            raise InputError("worked", [FieldProblem(missing, "required with the other")])
        key = ShiftKey(body.volunteer, body.post, body.shift, body.date)
    change = worked.Change(body.status, _utc(body.start), _utc(body.end), key, body.volunteer, body.post)
    out = worked.record(session, site, change, who.label, utcnow())
    return worked_out(worked.line_of(session, site, out.record))


@router.put(
    "/sites/{site_id}/worked/{worked_id}",
    summary="Correct a record of what was worked",
    responses=problem_responses(404, 422),
)
def put_worked(worked_id: int, body: WorkedUpdate, site: Site, who: Who, session: DB) -> WorkedOut:
    change = worked.Change(body.status, _utc(body.start), _utc(body.end))
    out = worked.update(session, site, check_id(worked_id, "worked record"), change, who.label, utcnow())
    return worked_out(worked.line_of(session, site, out.record))


@router.post(
    "/sites/{site_id}/worked/confirm",
    summary="Confirm every ended published shift of a day as worked",
    description="As checked in and out where that is recorded, else as published; no-shows stay.",
    responses=problem_responses(422),
)
def confirm_day(body: ConfirmDay, site: Site, who: Who, session: DB) -> Confirmed:
    return Confirmed(confirmed=worked.confirm_day(session, site, body.date, who.label, utcnow()))
