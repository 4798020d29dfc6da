"""The console's pages of a site: Today, the rota grid, People, one person (and marking them ill).

Every read goes through the store functions the HTTP API uses (``schedules.published``,
``select_assignments``, ``select_uncovered``, ``volunteers.models``, ``posts``); marking someone ill goes
through the same steps as ``POST /sites/{id}/volunteers/{v}/health?resolve=true``
(:mod:`api.routes.health_records`): the record and, when a schedule is published, the re-solve job, in
one transaction; then the job's page shows its progress and change set.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import segno
from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy.orm import Session

from api.console import views
from api.console.web import (
    Checked,
    Coordinator,
    Form,
    FormErrors,
    Signed,
    clean,
    gettext_of,
    parse_date,
    redirect,
    render,
    rollback,
)
from api.deps import DB, Config, check_id, check_key
from scheduler.domain import scenario as sc
from scheduler.domain.errors import ConflictError, InputError, validation_problems
from scheduler.domain.schedule import Schedule
from scheduler.services import health_data, unwell, worked
from scheduler.services import replan_jobs as resolve_job
from scheduler.store import access, sites, unwell_reports, volunteers
from scheduler.store import health_records as health
from scheduler.store import posts as post_store
from scheduler.store import schedules as schedule_store
from scheduler.store.db import utcnow
from scheduler.store.health_audit import AuditAction
from scheduler.store.jobs import get_job, result_of

router = APIRouter(prefix="/console", include_in_schema=False)

#: The statuses a coordinator records from a person's page (recovering is recorded through the API).
STATUSES = ("sick", "isolating", "limited", "fit")


def site_posts(session: Session, site_id: int) -> list[sc.Post]:
    return [post_store.to_model(p) for p in post_store.list_posts(session, site_id)]


def published_schedule(session: Session, site: sites.SiteRow) -> Schedule | None:
    if site.published_version is None:
        return None
    return schedule_store.published(session, site).model


def versions_since(
    session: Session, site: sites.SiteRow, since: dt.datetime, current: Schedule | None = None
) -> list[views.Version]:
    """The site's published versions whose horizon reaches past ``since`` (the others hold nothing of it).
    ``current``: the published version's schedule when the caller has read it already (not read twice)."""
    day = since.astimezone(ZoneInfo(site.timezone)).date()
    return [
        views.Version(
            row.number, row.published_at,
            current if current is not None and row.number == site.published_version else row.model,
        )
        for row in schedule_store.list_versions(session, site.id)
        if row.horizon_start + dt.timedelta(days=row.horizon_days) > day
    ]


def _local_today(site: sites.SiteRow) -> dt.date:
    return utcnow().astimezone(ZoneInfo(site.timezone)).date()


@router.get("/today")
def today_page(request: Request, who: Signed, session: DB) -> Response:
    schedule = published_schedule(session, who.site)
    view = None
    if schedule is not None:
        now = utcnow()
        zone = ZoneInfo(schedule.timezone)
        start = max(now.astimezone(zone).date(), schedule.start)
        # the store's own filters, as GET .../schedule/assignments?from=...&until=... reads them
        window = schedule.model_copy(
            update={
                "assignments": schedule_store.select_assignments(
                    schedule, first=start - dt.timedelta(days=1), last=start + dt.timedelta(days=3)
                ),
                "uncovered": schedule_store.select_uncovered(
                    schedule, first=start - dt.timedelta(days=1), last=start + dt.timedelta(days=3)
                ),
            }
        )
        view = views.today(
            window, site_posts(session, who.site_id), volunteers.models(session, who.site_id), now
        )
    reports = unwell.site_reports(session, who.site, utcnow(), schedule)
    return render(request, "today.html", who=who, view=view, page="today", reports=reports)


@router.post("/unwell/{report_id}/resolve")
def resolve_unwell(request: Request, report_id: str, who: Checked, session: DB, settings: Config) -> Response:
    """A report the site held for the coordinator: re-plan now (the re-solve of the site as it is), then
    the job's page."""
    report = unwell_reports.get_report(session, who.site_id, check_id(_number(report_id), "unwell report"))
    job = unwell.resolve_held(session, who.site, report, settings, utcnow())
    return redirect(f"/console/jobs/{job.id}")


def _draft(session: Session, who: Coordinator, job_id: int | None) -> tuple[Schedule | None, int | None]:
    if job_id is None:
        return published_schedule(session, who.site), None
    row = get_job(session, who.site_id, job_id)  # NotFoundError for another site's job
    schedule = result_of(row)
    if schedule is None:
        raise ConflictError(f"job {row.id} is {row.state}: it has no schedule yet")
    return schedule, row.id


def _number(text: str) -> int:
    return int(text) if text.isdigit() and len(text) < 12 else 0


@router.get("/rota")
def rota_page(
    request: Request,
    who: Signed,
    session: DB,
    week: str | None = None,
    job: str | None = None,
    published: str | None = None,
) -> Response:
    schedule, job_id = _draft(session, who, None if not job else check_id(_number(job), "schedule job"))
    view = None
    if schedule is not None:
        wanted = None
        if week:
            try:
                wanted = dt.date.fromisoformat(week)
            except ValueError:
                wanted = None
        first = views.week_start(schedule, wanted, _local_today(who.site))
        baseline = None
        if job_id is not None and who.site.published_version is not None:
            published = schedule_store.published(session, who.site)
            baseline = published.model if published.job_id != job_id else None
        view = views.grid(
            schedule, site_posts(session, who.site_id), volunteers.models(session, who.site_id), first,
            baseline=baseline,
        )
    return render(
        request, "rota.html", who=who, view=view, job_id=job_id, page="rota", just_published=bool(published)
    )


@router.get("/print")
def print_page(request: Request, who: Signed, session: DB, week: str | None = None) -> Response:
    """The week of the published schedule, one A4 page per post (print CSS), for the booth's wall."""
    schedule = published_schedule(session, who.site)
    view, post_models = None, site_posts(session, who.site_id)
    if schedule is not None:
        wanted = None
        if week:
            try:
                wanted = dt.date.fromisoformat(week)
            except ValueError:
                wanted = None
        first = views.week_start(schedule, wanted, _local_today(who.site))
        view = views.grid(schedule, post_models, volunteers.models(session, who.site_id), first)
    return render(request, "print.html", who=who, view=view, page="rota")


@router.get("/people")
def people_page(request: Request, who: Signed, session: DB) -> Response:
    schedule = published_schedule(session, who.site)
    now = utcnow()
    since = now - dt.timedelta(days=views.RECENT_DAYS)
    people = volunteers.models(session, who.site_id)
    health_data.audit(session, who.site_id, who.actor, AuditAction.read, "console: people", now)
    zone = ZoneInfo(who.site.timezone)
    recent = views.past_work(versions_since(session, who.site, since, schedule), people, since, now, zone)
    records = worked.records_of(session, who.site_id, now - dt.timedelta(days=14))
    week, rows = views.people_loads(
        schedule, people, sites.rules_of(who.site), who.site.timezone, now, recent, worked=records
    )
    return render(request, "people.html", who=who, week=week, rows=rows, page="people",
                  published=schedule is not None, recent_days=views.RECENT_DAYS)


@router.get("/load")
def load_page(request: Request, who: Signed, session: DB) -> Response:
    schedule = published_schedule(session, who.site)
    now = utcnow()
    today = _local_today(who.site)
    this_week, _ = views.week_of(today)
    since_day = this_week - dt.timedelta(days=7 * views.PAST_WEEKS)
    zone = ZoneInfo(who.site.timezone)
    since = dt.datetime.combine(since_day, dt.time(), zone).astimezone(dt.UTC)
    until = min(now, dt.datetime.combine(this_week, dt.time(), zone).astimezone(dt.UTC))
    people = volunteers.models(session, who.site_id)
    past = views.past_work(versions_since(session, who.site, since, schedule), people, since, until, zone)
    chart = None
    if schedule is not None or past:
        chart = views.load_chart(schedule, people, sites.rules_of(who.site), past, today)
    return render(request, "load.html", who=who, page="people", chart=chart)


def _person_page(
    request: Request,
    who: Coordinator,
    session: Session,
    key: str,
    status_code: int = 200,
    errors: FormErrors | None = None,
    values: dict[str, str] | None = None,
    feed: dict[str, str] | None = None,
) -> Response:
    row = volunteers.get_volunteer(session, who.site_id, check_key(key, "volunteer"))
    model = volunteers.model(session, row)
    records = health.records_of(session, row.id)
    health_data.audit(session, who.site_id, who.actor, AuditAction.read, "console: person", utcnow(),
                      volunteer=row.key)
    schedule = published_schedule(session, who.site)
    zone = ZoneInfo(who.site.timezone)
    now = utcnow()
    upcoming = []
    if schedule is not None:
        upcoming = [
            a for a in schedule_store.select_assignments(schedule, volunteer=model.id) if a.end > now
        ][:10]
    return render(
        request,
        "person.html",
        status_code,
        who=who,
        page="people",
        volunteer=model,
        phone_link=views.tel(model.contact.phone),
        status=views.status_at(model.health, now, zone),
        upcoming_status=views.next_status(model.health, now, zone),
        records=[(r.recorded_at.astimezone(zone), health.to_model(r)) for r in reversed(records)],
        upcoming=upcoming,
        statuses=STATUSES,
        reasons=[r.value for r in sc.HealthReason],
        published=schedule is not None,
        errors=errors or FormErrors(),
        values=values or {"status": "sick", "from": _local_today(who.site).isoformat()},
        feed=feed,
    )


@router.get("/people/{key}")
def person_page(request: Request, key: str, who: Signed, session: DB) -> Response:
    return _person_page(request, who, session, key)


@router.post("/people/{key}/calendar")
def calendar_link(request: Request, key: str, who: Checked, session: DB) -> Response:
    """A new calendar feed URL for the volunteer, as ``POST .../volunteers/{v}/calendar/token``: the previous
    one stops working at once. Shown once, with a QR code to scan with their phone."""
    row = volunteers.get_volunteer(session, who.site_id, check_key(key, "volunteer"))
    token = access.rotate_feed_token(session, access.Feed(who.site_id, volunteer_id=row.id), utcnow())
    url = str(request.url_for("subscribed_feed", token=token))
    feed = {
        "url": url,
        "webcal": "webcal://" + url.split("://", 1)[1],
        "qr": Markup(segno.make(url, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff")),
    }
    return _person_page(request, who, session, row.key, feed=feed)


FIELDS = {"status": "status", "from": "from", "until": "until", "infectious": "infectious", "start": "from",
          "reason": "reason",
          "isolate_contacts": "isolate_contacts", "isolate_until": "until"}


@router.post("/people/{key}/health")
def record_health(
    request: Request, key: str, who: Checked, session: DB, settings: Config, form: Form
) -> Response:
    """Same as ``POST /sites/{id}/volunteers/{v}/health`` with ``resolve=true`` while a schedule is
    published (without, the record is only added): a bad value is shown beside its field."""
    _ = gettext_of(request)
    row = volunteers.get_volunteer(session, who.site_id, check_key(key, "volunteer"))
    errors = FormErrors()
    values = {name: clean(form, name, errors, _) for name in ("status", "from", "until", "reason")}
    values["infectious"] = "on" if form.get("infectious") else ""
    values["isolate_contacts"] = "on" if form.get("isolate_contacts") else ""
    if values["isolate_contacts"] and who.site.published_version is None:
        errors.add("isolate_contacts", _("only with a published schedule: contacts are found from it"))
    if values["status"] not in STATUSES:
        errors.add("status", _("choose one of the statuses"))
    if values["reason"] and values["reason"] not in {r.value for r in sc.HealthReason}:
        errors.add("reason", _("choose one of the reasons"))
    start = parse_date(values["from"], "from", errors, _)
    until = parse_date(values["until"], "until", errors, _)
    record = None
    if not errors:
        try:
            record = sc.HealthRecord.model_validate(
                {"status": values["status"], "from": start, "until": until,
                 "infectious": bool(values["infectious"]), "reason": values["reason"] or None}
            )
        except ValidationError as exc:
            errors.absorb(validation_problems(exc), FIELDS)
    if errors or record is None:
        return _person_page(request, who, session, key, 422, errors, values)
    now = utcnow()
    if who.site.published_version is None:
        added = health.add_record(session, row.id, record, now)
        sites.validate_site(session, who.site)
        health_data.audit(session, who.site_id, who.actor, AuditAction.create, "console: health recorded",
                          now, volunteer=row.key, record_id=added.id)
        return redirect(f"/console/people/{row.key}?recorded=1")
    try:
        locked = sites.get_site(session, who.site_id, lock=True)
        cut = resolve_job.cutoff_at(locked, None, now)
        request_ = resolve_job.ResolveRequest(
            disruptions=[resolve_job.sick_call(row.key, record, cut)],
            cutoff=cut,
            isolate_contacts=bool(values["isolate_contacts"]),
        )
        job, added_rows = resolve_job.queue_resolve(session, locked, request_, settings, now)
        health_data.audit(session, who.site_id, who.actor, AuditAction.create,
                          "console: health recorded, re-solve queued", now, volunteer=row.key,
                          record_id=added_rows[row.key][0].id)
    except (InputError, ConflictError) as exc:
        rollback(session)
        errors.absorb(exc.problems, FIELDS)
        if isinstance(exc, ConflictError):
            errors.general.insert(0, exc.message)
        if not errors:
            errors.general.append(str(exc))
        return _person_page(request, who, session, key, 422 if isinstance(exc, InputError) else 409,
                            errors, values)
    return redirect(f"/console/jobs/{job.id}")
