"""Worked hours: check-in and check-out on a volunteer's own page, a coordinator's records (confirm as
worked, a no-show, corrected times, an extra shift), and the listing of past shifts with their status.
Each step is one change that the caller's unit of work commits; the times a volunteer gives are the
server's clock, never typed.

What is recorded becomes the exact history of the next planning period
(:func:`scheduler.domain.history.with_published_history`, fed by :func:`history_of`), and the hours
this week on the volunteer's page (:func:`hours_this_week`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from scheduler.domain.errors import FieldProblem, InputError, NotFoundError
from scheduler.domain.history import HISTORY_WINDOW_DAYS
from scheduler.domain.schedule import Assignment, Schedule
from scheduler.domain.worked import (
    ShiftKey,
    Source,
    WorkedShift,
    WorkStatus,
    check_times,
    classify,
    hours_of,
    window,
)
from scheduler.store import posts as post_store
from scheduler.store import schedules as schedule_store
from scheduler.store import volunteers, worked
from scheduler.store.sites import SiteRow
from scheduler.store.worked import WorkedShiftRow

VOLUNTEER = "volunteer"

#: What a line of the listing can be, besides a record's status.
PENDING = "pending"  # a past published shift without a record
CHECKED_IN = "checked_in"  # checked in, not out yet


def published_schedule(session: Session, site: SiteRow) -> Schedule | None:
    if site.published_version is None:
        return None
    return schedule_store.published(session, site).model


def _problem(field: str, message: str) -> InputError:
    return InputError("worked", [FieldProblem(field, message)])


# ------------------------------------------------------------------------------- the volunteer


@dataclass
class OwnShift:
    """The volunteer's shift whose check-in window holds now, and its record."""

    shift: Assignment
    record: WorkedShiftRow | None

    @property
    def checked_in(self) -> bool:
        return self.record is not None and self.record.start is not None

    @property
    def checked_out(self) -> bool:
        return self.record is not None and self.record.end is not None

    @property
    def no_show(self) -> bool:
        return self.record is not None and self.record.status == WorkStatus.no_show


def own_shift(session: Session, site: SiteRow, volunteer: volunteers.VolunteerRow, now: dt.datetime,
              schedule: Schedule | None = None) -> OwnShift | None:
    """The volunteer's published shift to check in to or out of now: of those whose window (an hour
    before the start to 12 hours after the end) holds now, one they are checked in to, else the one
    that starts nearest to now."""
    schedule = schedule if schedule is not None else published_schedule(session, site)
    if schedule is None:
        return None
    mine = [a for a in schedule_store.select_assignments(schedule, volunteer=volunteer.key)
            if window(a)[0] <= now <= window(a)[1]]
    if not mine:
        return None
    found = [OwnShift(a, worked.for_shift(session, volunteer.id, a.post, a.shift, a.date)) for a in mine]
    open_ = [f for f in found if f.checked_in and not f.checked_out]
    if open_:
        return open_[0]
    return min(found, key=lambda f: (f.checked_out, abs((f.shift.start - now).total_seconds())))


@dataclass
class Outcome:
    record: WorkedShiftRow
    changed: bool  # False: nothing was done (a second check-in)


def check_in(session: Session, site: SiteRow, volunteer: volunteers.VolunteerRow,
             now: dt.datetime) -> Outcome:
    """Check the volunteer in to their shift now (InputError ``check_in`` unless it starts within the
    hour or is on now); a second check-in changes nothing."""
    own = own_shift(session, site, volunteer, now)
    if own is None:
        raise _problem("check_in", "no shift of yours starts within the hour or is on now")
    if own.record is not None:
        return Outcome(own.record, False)
    a = own.shift
    if now > a.end:
        raise _problem("check_in", "the shift has ended: ask your coordinator to record it")
    row = worked.add(session, WorkedShiftRow(
        site_id=site.id, volunteer_id=volunteer.id, post=a.post, shift=a.shift, date=a.date,
        planned_start=a.start, planned_end=a.end, start=now, end=None, status=WorkStatus.worked.value,
        source=Source.volunteer.value, recorded_by=VOLUNTEER, recorded_at=now, confirmed=False,
        created_at=now,
    ))
    return Outcome(row, True)


def check_out(session: Session, site: SiteRow, volunteer: volunteers.VolunteerRow,
              now: dt.datetime) -> Outcome:
    """Check the volunteer out now: InputError ``check_out`` unless they are checked in (within the
    shift's window); a second check-out changes nothing."""
    own = own_shift(session, site, volunteer, now)
    if own is None or not own.checked_in or own.no_show:
        raise _problem("check_out", "check in first")
    row = own.record
    assert row is not None and row.start is not None
    if row.end is not None:
        return Outcome(row, False)
    end = max(now, row.start + dt.timedelta(minutes=1))
    row.end = end
    row.status = classify(own.shift.start, own.shift.end, row.start, end).value
    row.recorded_at = now
    session.flush()
    return Outcome(row, True)


# ------------------------------------------------------------------------------- the coordinator


@dataclass(frozen=True)
class Change:
    """What a coordinator records for a published shift (``key``) or, without one, an extra shift of
    ``volunteer`` on ``post``. ``status`` no_show needs no times; worked (or partly: the times decide
    which) and extra need both."""

    status: str
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    key: ShiftKey | None = None
    volunteer: str | None = None
    post: str | None = None


STATUSES = tuple(s.value for s in WorkStatus)


def _volunteer(session: Session, site: SiteRow, key: str) -> volunteers.VolunteerRow:
    try:
        return volunteers.get_volunteer(session, site.id, key)
    except NotFoundError:
        raise _problem("volunteer", f"no volunteer {key!r} on this site") from None


def _planned(schedule: Schedule | None, key: ShiftKey) -> Assignment:
    if schedule is not None:
        for a in schedule_store.select_assignments(schedule, volunteer=key.volunteer, post=key.post,
                                                   first=key.date, last=key.date):
            if a.shift == key.shift:
                return a
    raise _problem("shift", "not a published shift of this volunteer")


def record(session: Session, site: SiteRow, change: Change, actor: str, now: dt.datetime) -> Outcome:
    """Record what was worked (a published shift's record is created or replaced); InputError naming
    the field for bad input, nothing written then."""
    if change.status not in STATUSES:
        raise _problem("status", "expected one of " + ", ".join(STATUSES))
    if change.key is None:
        return _extra(session, site, change, actor, now)
    if change.status == WorkStatus.extra:
        raise _problem("status", "an extra shift has no published shift: leave out the shift")
    person = _volunteer(session, site, change.key.volunteer)
    a = _planned(published_schedule(session, site), change.key)
    row = worked.for_shift(session, person.id, a.post, a.shift, a.date)
    fresh = row is None
    if row is None:
        row = WorkedShiftRow(site_id=site.id, volunteer_id=person.id, post=a.post, shift=a.shift, date=a.date,
                             planned_start=a.start, planned_end=a.end, created_at=now)
    _apply(row, a, change, now)
    row.source, row.recorded_by, row.recorded_at, row.confirmed = Source.coordinator.value, actor, now, True
    if fresh:
        worked.add(session, row)
    session.flush()
    return Outcome(row, True)


def update(session: Session, site: SiteRow, record_id: int, change: Change, actor: str,
           now: dt.datetime) -> Outcome:
    """Change a record (NotFoundError for another site's)."""
    row = worked.get(session, site.id, record_id)
    keys = worked.keys_of(session, site.id)
    if row.shift is None or row.date is None:
        if change.status not in (WorkStatus.extra, WorkStatus.no_show):
            raise _problem("status", "an extra shift is extra (or no_show to take it back)")
        if change.status == WorkStatus.no_show:
            row.status, row.start, row.end = WorkStatus.no_show.value, None, None
        else:
            _check(change.start, change.end, now)
            row.start, row.end = change.start, change.end
    else:
        key = ShiftKey(keys[row.volunteer_id], row.post, row.shift, row.date)
        return record(session, site, Change(change.status, change.start, change.end, key), actor, now)
    row.source, row.recorded_by, row.recorded_at, row.confirmed = Source.coordinator.value, actor, now, True
    session.flush()
    return Outcome(row, True)


def _check(start: dt.datetime | None, end: dt.datetime | None, now: dt.datetime) -> None:
    problems = check_times(start, end, now)
    if problems:
        raise InputError("worked", problems)


def _apply(row: WorkedShiftRow, a: Assignment, change: Change, now: dt.datetime) -> None:
    if change.status == WorkStatus.no_show:
        if a.start > now:
            raise _problem("status", "the shift has not started yet")
        row.status, row.start, row.end = WorkStatus.no_show.value, None, None
        return
    start = change.start if change.start is not None else (row.start or a.start)
    end = change.end if change.end is not None else (row.end or (a.end if change.start is None else None))
    if change.start is None and change.end is None and a.end > now:
        raise _problem("shift", "the shift has not ended yet")
    _check(start, end, now)
    assert start is not None and end is not None
    row.start, row.end = start, end
    row.status = classify(a.start, a.end, start, end).value


def _extra(session: Session, site: SiteRow, change: Change, actor: str, now: dt.datetime) -> Outcome:
    problems = []
    if change.status != WorkStatus.extra:
        problems.append(FieldProblem("shift", "required, unless the status is extra"))
    if not change.volunteer:
        problems.append(FieldProblem("volunteer", "required"))
    if not change.post:
        problems.append(FieldProblem("post", "required"))
    elif change.post not in {p.key for p in post_store.list_posts(session, site.id)}:
        problems.append(FieldProblem("post", f"no post {change.post!r} on this site"))
    problems.extend(check_times(change.start, change.end, now))
    if problems:
        raise InputError("worked", problems)
    assert change.volunteer and change.post
    person = _volunteer(session, site, change.volunteer)
    row = worked.add(session, WorkedShiftRow(
        site_id=site.id, volunteer_id=person.id, post=change.post, shift=None, date=None,
        start=change.start, end=change.end, status=WorkStatus.extra.value, source=Source.coordinator.value,
        recorded_by=actor, recorded_at=now, confirmed=True, created_at=now,
    ))
    return Outcome(row, True)


def confirm(session: Session, site: SiteRow, key: ShiftKey, actor: str, now: dt.datetime) -> Outcome:
    """Confirm that a published shift that has ended was worked: as recorded (a check-out), with the
    published end where only a check-in is known, or as published."""
    person = _volunteer(session, site, key.volunteer)
    a = _planned(published_schedule(session, site), key)
    row = worked.for_shift(session, person.id, a.post, a.shift, a.date)
    if row is not None and row.status == WorkStatus.no_show:
        raise _problem("shift", "marked as a no-show: correct the times instead")
    if row is not None and row.start is not None and row.end is not None:
        row.confirmed, row.recorded_by, row.recorded_at = True, actor, now
        session.flush()
        return Outcome(row, True)
    if a.end > now:
        raise _problem("shift", "the shift has not ended yet")
    start = row.start if row is not None and row.start is not None else a.start
    end = max(a.end, start + dt.timedelta(minutes=1))
    return record(session, site, Change(WorkStatus.worked.value, start, end, key), actor, now)


def confirm_day(session: Session, site: SiteRow, day: dt.date, actor: str, now: dt.datetime) -> int:
    """Confirm every published shift of the local ``day`` that has ended and is not confirmed yet
    (no-shows stay); how many."""
    count = 0
    for line in listing(session, site, day, day, now):
        if line.key is None or line.confirmed or line.state == WorkStatus.no_show or line.planned is None:
            continue
        if line.planned.end > now and not (line.record and line.record.end):
            continue
        confirm(session, site, line.key, actor, now)
        count += 1
    return count


@dataclass
class Line:
    """A published shift that has started (with its record, if any) or an extra shift."""

    volunteer: str
    post: str
    planned: Assignment | None
    record: WorkedShiftRow | None

    @property
    def key(self) -> ShiftKey | None:
        if self.planned is not None:
            return ShiftKey.of(self.planned)
        r = self.record
        if r is not None and r.shift is not None and r.date is not None:
            return ShiftKey(self.volunteer, r.post, r.shift, r.date)
        return None

    @property
    def planned_start(self) -> dt.datetime | None:
        return self.planned.start if self.planned is not None else (self.record and self.record.planned_start)

    @property
    def planned_end(self) -> dt.datetime | None:
        return self.planned.end if self.planned is not None else (self.record and self.record.planned_end)

    @property
    def state(self) -> str:
        if self.record is None:
            return PENDING
        if self.record.start is not None and self.record.end is None:
            return CHECKED_IN
        return self.record.status

    @property
    def confirmed(self) -> bool:
        return self.record is not None and self.record.confirmed

    @property
    def start(self) -> dt.datetime | None:
        if self.record is not None and self.record.start is not None:
            return self.record.start
        return self.planned.start if self.planned is not None and self.state == PENDING else None

    @property
    def end(self) -> dt.datetime | None:
        if self.record is not None and self.record.end is not None:
            return self.record.end
        return self.planned.end if self.planned is not None and self.state == PENDING else None

    @property
    def sort_key(self) -> tuple:
        first = self.planned_start or self.start or dt.datetime.min.replace(tzinfo=dt.UTC)
        return (first, self.volunteer, self.post)

    def hours(self) -> float:
        if self.record is None:
            return self.planned.hours if self.planned is not None else 0.0
        return hours_of(worked.to_domain(self.record, self.volunteer), self.planned)


def line_of(session: Session, site: SiteRow, row: WorkedShiftRow) -> Line:
    """The line of one record, with its published shift if that is still published."""
    volunteer = worked.keys_of(session, site.id)[row.volunteer_id]
    planned = None
    schedule = published_schedule(session, site)
    if schedule is not None and row.shift is not None and row.date is not None:
        same = schedule_store.select_assignments(schedule, volunteer=volunteer, post=row.post,
                                                 first=row.date, last=row.date)
        planned = next((a for a in same if a.shift == row.shift), None)
    return Line(volunteer, row.post, planned, row)


def listing(session: Session, site: SiteRow, first: dt.date, last: dt.date, now: dt.datetime,
            schedule: Schedule | None = None) -> list[Line]:
    """The published shifts of the local days ``first``..``last`` that have started by ``now``, each with
    its record, and the extra shifts that started on those days, in order of start."""
    zone = ZoneInfo(site.timezone)
    schedule = schedule if schedule is not None else published_schedule(session, site)
    keys = worked.keys_of(session, site.id)
    since = dt.datetime.combine(first, dt.time(), tzinfo=zone)
    until = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    rows = worked.of_site(session, site.id, since - dt.timedelta(days=1), until + dt.timedelta(days=1))
    by_key = {(keys.get(r.volunteer_id), r.post, r.shift, r.date): r for r in rows if r.shift is not None}
    out: list[Line] = []
    if schedule is not None:
        for a in schedule_store.select_assignments(schedule, first=first, last=last):
            if a.start <= now:
                out.append(Line(a.volunteer, a.post, a, by_key.get((a.volunteer, a.post, a.shift, a.date))))
    for r in rows:
        if r.shift is None and r.start is not None and since <= r.start < until and r.volunteer_id in keys:
            out.append(Line(keys[r.volunteer_id], r.post, None, r))
    return sorted(out, key=lambda line: line.sort_key)


# ------------------------------------------------------------------------------- what they add up to


def records_of(session: Session, site_id: int, since: dt.datetime,
               volunteer: volunteers.VolunteerRow | None = None) -> list[WorkedShift]:
    """The site's records (or one volunteer's) from ``since`` on, as the history and the hours read them."""
    keys = worked.keys_of(session, site_id)
    rows = worked.of_site(session, site_id, since, volunteer_id=volunteer.id if volunteer else None)
    return [worked.to_domain(r, keys[r.volunteer_id]) for r in rows if r.volunteer_id in keys]


def history_of(session: Session, site_id: int, horizon_start: dt.date) -> list[WorkedShift]:
    """The records a new period starting on ``horizon_start`` reads as its history."""
    since = dt.datetime.combine(horizon_start - dt.timedelta(days=HISTORY_WINDOW_DAYS + 1), dt.time(),
                                tzinfo=dt.UTC)
    return records_of(session, site_id, since)
