"""Worked hours: what was actually worked, against what was published.

A **worked record** refers to one published shift of a volunteer (post, shift template, local date) or,
for an ``extra`` shift, to none; it holds the actual start and end (instants, UTC where stored), a
status and where it came from (the volunteer's check-in and check-out on their page, or a coordinator).

* ``worked``: worked as published (within :data:`TOLERANCE` at either end, or longer: an overrun);
* ``partly``: started late or left early by more than that;
* ``no_show``: not worked at all;
* ``extra``: worked without a published shift.

A record being checked in has a start and no end yet. :func:`check_times` is the one check of times a
person gives (a coordinator's correction or an extra shift). :func:`scheduler.domain.history` turns the
records into the next period's exact history.

Pure: no DB, no HTTP.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from scheduler.domain.errors import FieldProblem, InputError
from scheduler.domain.schedule import Assignment, Schedule


class WorkStatus(StrEnum):
    worked = "worked"
    partly = "partly"
    no_show = "no_show"
    extra = "extra"


class Source(StrEnum):
    volunteer = "volunteer"  # check-in and check-out on their own page
    coordinator = "coordinator"  # the console or the API


#: Late or early by at most this much still counts as worked as published.
TOLERANCE = dt.timedelta(minutes=15)
#: On the day of a shift, check-in opens this long before its start ...
CHECK_IN_BEFORE = dt.timedelta(hours=1)
#: ... and check-out closes this long after its end.
CHECK_OUT_AFTER = dt.timedelta(hours=12)
#: No worked span is longer than this.
MAX_SPAN = dt.timedelta(hours=24)


@dataclass(frozen=True)
class ShiftKey:
    """A volunteer's published shift: who, which post and template, on which local date."""

    volunteer: str
    post: str
    shift: str
    date: dt.date

    @classmethod
    def of(cls, a: Assignment) -> ShiftKey:
        return cls(a.volunteer, a.post, a.shift, a.date)

    def text(self) -> str:
        return f"{self.volunteer}/{self.post}/{self.shift}/{self.date.isoformat()}"

    @classmethod
    def parse(cls, text: str, field: str = "shift") -> ShiftKey:
        parts = text.split("/")
        try:
            if len(parts) != 4 or not all(parts):
                raise ValueError
            return cls(parts[0], parts[1], parts[2], dt.date.fromisoformat(parts[3]))
        except ValueError:
            problem = FieldProblem(field, "expected volunteer/post/shift/YYYY-MM-DD")
            raise InputError("worked", [problem]) from None


@dataclass(frozen=True)
class WorkedShift:
    """A worked record as the history reads it. ``key`` is None for an extra shift (then ``post`` says
    where; ``start`` and ``end`` are set). ``end`` None: checked in, not out yet."""

    volunteer: str
    status: WorkStatus
    start: dt.datetime | None
    end: dt.datetime | None
    key: ShiftKey | None = None
    post: str | None = None


def window(a: Assignment) -> tuple[dt.datetime, dt.datetime]:
    """When a volunteer may check in to and out of the shift ``a``."""
    return a.start - CHECK_IN_BEFORE, a.end + CHECK_OUT_AFTER


def classify(planned_start: dt.datetime, planned_end: dt.datetime, start: dt.datetime,
             end: dt.datetime) -> WorkStatus:
    """Worked (an overrun included) or partly (late or early by more than the tolerance)."""
    if start > planned_start + TOLERANCE or end < planned_end - TOLERANCE:
        return WorkStatus.partly
    return WorkStatus.worked


def check_times(start: dt.datetime | None, end: dt.datetime | None, now: dt.datetime) -> list[FieldProblem]:
    """What is wrong with a worked span a person gives: both needed, the end after the start, at most
    24 hours, neither in the future. Empty when it is fine."""
    problems = []
    if start is None:
        problems.append(FieldProblem("start", "required"))
    elif start > now:
        problems.append(FieldProblem("start", "must not be in the future"))
    if end is None:
        problems.append(FieldProblem("end", "required"))
    elif end > now:
        problems.append(FieldProblem("end", "must not be in the future"))
    if start is not None and end is not None:
        if end <= start:
            problems.append(FieldProblem("end", "must be after the start"))
        elif end - start > MAX_SPAN:
            problems.append(FieldProblem("end", "at most 24 hours after the start"))
    return problems


def hours_of(record: WorkedShift, planned: Assignment | None) -> float:
    """The hours a record counts: none for a no-show, the actual span where known, else the planned one
    (checked in, not out yet)."""
    if record.status == WorkStatus.no_show:
        return 0.0
    if record.start is not None and record.end is not None:
        return round((record.end - record.start).total_seconds() / 3600, 2)
    return planned.hours if planned is not None else 0.0


def hours_by_shift(records: Iterable[WorkedShift], schedule: Schedule | None
                   ) -> tuple[dict[ShiftKey, float], list[WorkedShift]]:
    """(hours of each published shift with a record, the extra shifts): what the hours this week count
    instead of the published hours."""
    planned = {ShiftKey.of(a): a for a in schedule.assignments} if schedule is not None else {}
    by_shift: dict[ShiftKey, float] = {}
    extra: list[WorkedShift] = []
    for r in records:
        if r.key is None:
            if r.status == WorkStatus.extra and r.start is not None and r.end is not None:
                extra.append(r)
        else:
            by_shift[r.key] = hours_of(r, planned.get(r.key))
    return by_shift, extra
