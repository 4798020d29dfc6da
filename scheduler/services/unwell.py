""""I'm unwell" from a volunteer's own page: one step that the caller's unit of work commits.

:func:`report_unwell`:

1. records a health record for the volunteer: sick or isolating from now until the end of the day they
   picked, optionally "might be infectious"; never a note (no free text, no diagnosis);
2. does what the site's policy asks: with ``auto_resolve`` on and a published schedule, queues the
   re-solve (:func:`scheduler.services.replan_jobs.queue_resolve`, the same step as the API's
   ``POST .../health?resolve=true``); otherwise the re-solve is *held* for the coordinator, who sees the
   report on the console's Today page and re-plans from there (:func:`resolve_held`);
3. keeps an :class:`~scheduler.store.unwell_reports.UnwellReportRow` with the volunteer's shifts still to
   come in the published schedule, so their page can say which were released once a newer version is
   published (:func:`report_view`);
4. queues a ``volunteer.unwell`` webhook event (no health detail: who is off duty, from when until when).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from scheduler.domain import publication
from scheduler.domain import scenario as sc
from scheduler.domain.clock import aware
from scheduler.domain.errors import ConflictError, FieldProblem, InputError, TooBusyError
from scheduler.domain.schedule import Assignment, Schedule
from scheduler.services import replan_jobs
from scheduler.settings import Settings
from scheduler.store import health_records, sites, volunteers, webhooks
from scheduler.store import schedules as schedule_store
from scheduler.store.jobs import JobRow, JobState
from scheduler.store.unwell_reports import UnwellReportRow, add_report, reports_of
from scheduler.store.unwell_reports import site_reports as _site_reports

log = logging.getLogger("rota.unwell")

#: What a volunteer may say about themselves: off every shift.
STATUSES = (sc.HealthStatus.sick.value, sc.HealthStatus.isolating.value)
#: How far ahead "until" may be.
MAX_DAYS = 60


@dataclass(frozen=True)
class UnwellRequest:
    status: str
    until: dt.date | None
    infectious: bool = False


def check_request(request: UnwellRequest, today: dt.date) -> None:
    """InputError naming ``status`` or ``until`` for what a volunteer may not ask."""
    problems = []
    if request.status not in STATUSES:
        problems.append(FieldProblem("status", "must be sick or isolating"))
    if request.until is None:
        problems.append(FieldProblem("until", "pick the last day you expect to be off"))
    elif request.until < today:
        problems.append(FieldProblem("until", f"must not be before today ({today.isoformat()})"))
    elif request.until > today + dt.timedelta(days=MAX_DAYS):
        problems.append(FieldProblem("until", f"must be at most {MAX_DAYS} days ahead"))
    if problems:
        raise InputError("request", problems)


def shift_ref(a: Assignment) -> dict:
    return {
        "post": a.post,
        "shift": a.shift,
        "date": a.date.isoformat(),
        "start": a.start.isoformat(),
        "end": a.end.isoformat(),
    }


def _key(ref: dict) -> tuple[str, str, str]:
    return (ref["post"], ref["shift"], ref["date"])


def upcoming_shifts(schedule: Schedule | None, volunteer: str, now: dt.datetime) -> list[Assignment]:
    if schedule is None:
        return []
    return sorted(
        (a for a in schedule_store.select_assignments(schedule, volunteer=volunteer) if a.end > now),
        key=lambda a: a.start,
    )


def report_unwell(
    session: Session,
    site: sites.SiteRow,
    volunteer: volunteers.VolunteerRow,
    request: UnwellRequest,
    settings: Settings,
    now: dt.datetime,
) -> UnwellReportRow:
    """Record the volunteer's report (see the module's steps); InputError naming the field, ConflictError
    when the re-solve cannot be queued (nothing is kept then: the caller's unit of work rolls back)."""
    zone = ZoneInfo(site.timezone)
    local_now = now.astimezone(zone).replace(second=0, microsecond=0)
    check_request(request, local_now.date())
    assert request.until is not None
    record = sc.HealthRecord.model_validate(
        {"status": request.status, "from": local_now, "until": request.until,
         "infectious": request.infectious,
         # no free text from the volunteer; "unwell" is what they said by tapping "I'm unwell" sick
         "reason": "unwell" if request.status == "sick" else None}
    )
    schedule = None
    base_version = site.published_version
    if base_version is not None:
        schedule = schedule_store.published(session, site).model
    before = upcoming_shifts(schedule, volunteer.key, now)
    end = dt.datetime.combine(request.until + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    concerned = [a for a in before if a.start < end]
    job: JobRow | None = None
    row = None
    if site.auto_resolve and schedule is not None and concerned:
        job, row = _queue_resolve(session, site, volunteer, record, settings, now)
    if row is None:  # held for the coordinator (by policy, or the re-solve could not be queued now)
        row = health_records.add_record(session, volunteer.id, record, now)
    report = add_report(
        session,
        site_id=site.id,
        volunteer_id=volunteer.id,
        health_record_id=row.id,
        job_id=job.id if job is not None else None,
        base_version=base_version,
        shifts_before=[shift_ref(a) for a in before],
        now=now,
    )
    payload = publication.unwell_payload(
        webhooks.new_delivery_id(),
        site_id=site.id,
        site_name=site.name,
        volunteer=volunteer.key,
        volunteer_name=volunteer.name,
        off_from=local_now,
        off_until=request.until,
        job_id=report.job_id,
        shifts_concerned=len(concerned),
        reported_at=now,
    )
    webhooks.enqueue_event(session, site.id, publication.EVENT_UNWELL, payload, now, job_id=report.job_id)
    session.flush()
    return report


def _queue_resolve(
    session: Session,
    site: sites.SiteRow,
    volunteer: volunteers.VolunteerRow,
    record: sc.HealthRecord,
    settings: Settings,
    now: dt.datetime,
) -> tuple[JobRow | None, health_records.HealthRecordRow | None]:
    """The re-solve the site's auto_resolve asks for, with the record; (None, None) when it cannot be
    queued now (the queue is full, the published schedule no longer fits the site...): then nothing of it
    is kept, and the report is held for the coordinator instead. A volunteer's report is never lost."""
    try:
        with session.begin_nested():
            locked = sites.get_site(session, site.id, lock=True)
            cut = replan_jobs.cutoff_at(locked, None, now)
            job, added = replan_jobs.queue_resolve(
                session,
                locked,
                replan_jobs.ResolveRequest(
                    disruptions=[replan_jobs.sick_call(volunteer.key, record, cut)], cutoff=cut
                ),
                settings,
                now,
            )
            return job, added[volunteer.key][0]
    except (InputError, ConflictError, TooBusyError) as exc:
        log.warning("site %d: unwell report held, the re-solve could not be queued (%s)", site.id,
                    type(exc).__name__)
        return None, None


def resolve_held(
    session: Session, site: sites.SiteRow, report: UnwellReportRow, settings: Settings, now: dt.datetime
) -> JobRow:
    """The coordinator re-plans after a held report: a re-solve of the site as it now is (the health
    record is on the site already), linked to the report. ConflictError when it is being re-planned
    already or a newer version is published."""
    if report_view(session, site, report, "", None).state not in ("held",):
        raise ConflictError("this report is being re-planned already")
    locked = sites.get_site(session, site.id, lock=True)
    job, _ = replan_jobs.queue_resolve(
        session, locked, replan_jobs.ResolveRequest(replan=True, disruptions=[]), settings, now
    )
    report.job_id = job.id
    session.flush()
    return job


# ------------------------------------------------------------------------------------------ views


@dataclass
class ReportView:
    """Where a report stands, as its volunteer and the coordinator see it.

    ``state``: ``held`` (waiting for the coordinator to re-plan), ``clear`` (none of their shifts falls
    in the time off: nothing to re-plan), ``replanning`` (the re-solve is queued or
    running), ``ready`` (re-planned, waiting for the coordinator to publish), ``published`` (a newer
    version is published: ``released`` are the shifts no longer the volunteer's, ``kept`` those that
    still are)."""

    report: UnwellReportRow
    state: str
    until: str | None = None
    status: str | None = None
    released: list[dict] = field(default_factory=list)
    kept: list[dict] = field(default_factory=list)

    #: the shifts of ``shifts_before`` inside the time off (they need someone else)
    concerned: list[dict] = field(default_factory=list)


def report_view(
    session: Session,
    site: sites.SiteRow,
    report: UnwellReportRow,
    volunteer_key: str,
    published: Schedule | None,
) -> ReportView:
    """``published``: the site's published schedule as read already (None when there is none)."""
    record = (
        session.get(health_records.HealthRecordRow, report.health_record_id)
        if report.health_record_id is not None
        else None
    )
    until = record.until if record is not None else None
    status = record.status if record is not None else None
    concerned = list(report.shifts_before)
    if until:
        zone = ZoneInfo(site.timezone)
        end = (
            aware(dt.datetime.fromisoformat(until), zone) if "T" in until
            else dt.datetime.combine(dt.date.fromisoformat(until) + dt.timedelta(days=1), dt.time(), zone)
        )
        concerned = [s for s in report.shifts_before if dt.datetime.fromisoformat(s["start"]) < end]
    current = site.published_version
    if current is not None and published is not None and (
        report.base_version is None or current > report.base_version
    ):
        now_mine = {(a.post, a.shift, a.date.isoformat()) for a in published.assignments
                    if a.volunteer == volunteer_key}
        released = [s for s in report.shifts_before if _key(s) not in now_mine]
        kept = [s for s in report.shifts_before if _key(s) in now_mine]
        return ReportView(report, "published", until, status, released, kept, concerned)
    if report.job_id is None:
        state = "held" if concerned else "clear"  # clear: none of their shifts falls in the time off
        return ReportView(report, state, until, status, concerned=concerned)
    job = session.get(JobRow, report.job_id)
    if job is None or job.state in (JobState.failed, JobState.cancelled):
        return ReportView(report, "held", until, status, concerned=concerned)
    if job.state == JobState.done:
        return ReportView(report, "ready", until, status, concerned=concerned)
    return ReportView(report, "replanning", until, status, concerned=concerned)


def volunteer_reports(
    session: Session, site: sites.SiteRow, volunteer: volunteers.VolunteerRow, published: Schedule | None,
    limit: int = 3,
) -> list[ReportView]:
    return [report_view(session, site, r, volunteer.key, published) for r in reports_of(session, volunteer.id,
                                                                                      limit)]


#: How far back the console's Today page lists unwell reports.
RECENT = dt.timedelta(days=7)


@dataclass
class SiteReport:
    view: ReportView
    volunteer: str  # id (key)
    name: str


def site_reports(
    session: Session, site: sites.SiteRow, now: dt.datetime, published: Schedule | None
) -> list[SiteReport]:
    """The site's reports of the last :data:`RECENT` days, for its coordinators, newest first."""
    out = []
    for row in _site_reports(session, site.id, now - RECENT):
        volunteer = session.get(volunteers.VolunteerRow, row.volunteer_id)
        if volunteer is None:
            continue
        out.append(SiteReport(report_view(session, site, row, volunteer.key, published), volunteer.key,
                              volunteer.name))
    return out
