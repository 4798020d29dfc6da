"""The HTTP API's models for worked hours (what was actually worked against the published shifts)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from scheduler.domain import scenario as sc
from scheduler.services.worked import Line

Status = Literal["worked", "partly", "no_show", "extra"]


class WorkedIn(sc.Model):
    """A record of what was worked: for a published shift (``shift`` and ``date`` given: replaces its
    record) or an extra shift (``status`` extra, no ``shift``)."""

    volunteer: str = Field(min_length=1, max_length=64)
    post: str = Field(min_length=1, max_length=64)
    shift: str | None = Field(default=None, max_length=64, description="The published shift's template id")
    date: dt.date | None = Field(default=None, description="The local date the published shift starts")
    status: Status = Field(
        description="worked (partly is worked with times that start late or end early: the times decide), "
        "no_show (no times), extra (a shift worked without a published one)"
    )
    start: AwareDatetime | None = Field(
        default=None, description="When work started (with its UTC offset); for a published shift worked "
        "as published it may be left out"
    )
    end: AwareDatetime | None = None


class WorkedUpdate(sc.Model):
    status: Status
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None


class ConfirmDay(sc.Model):
    date: dt.date = Field(description="A local date: every ended published shift of it is confirmed")


class Confirmed(BaseModel):
    confirmed: int


class WorkedOut(BaseModel):
    id: int | None = Field(description="The record's id; none for a published shift without a record yet")
    volunteer: str
    post: str
    shift: str | None = Field(description="The published shift's template id (none for an extra shift)")
    date: dt.date | None
    planned_start: dt.datetime | None
    planned_end: dt.datetime | None
    start: dt.datetime | None = Field(description="What was worked (the published times while pending)")
    end: dt.datetime | None
    state: str = Field(description="pending (no record yet), checked_in, worked, partly, no_show or extra")
    confirmed: bool = Field(description="A coordinator recorded or confirmed it")
    source: str | None = Field(description="volunteer (check-in and check-out) or coordinator")
    recorded_by: str | None
    recorded_at: dt.datetime | None
    hours: float


def worked_out(line: Line) -> WorkedOut:
    r = line.record
    key = line.key

    def utc(value: dt.datetime | None) -> dt.datetime | None:
        return value.astimezone(dt.UTC) if value is not None else None

    return WorkedOut(
        id=r.id if r is not None else None,
        volunteer=line.volunteer,
        post=line.post,
        shift=key.shift if key else None,
        date=key.date if key else None,
        planned_start=utc(line.planned_start),
        planned_end=utc(line.planned_end),
        start=utc(line.start),
        end=utc(line.end),
        state=line.state,
        confirmed=line.confirmed,
        source=r.source if r is not None else None,
        recorded_by=r.recorded_by if r is not None else None,
        recorded_at=r.recorded_at if r is not None else None,
        hours=line.hours(),
    )
