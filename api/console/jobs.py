"""Solving from the console: choose the horizon, queue a solve job (as ``POST /sites/{id}/schedules``),
watch it (a small JSON endpoint the page polls; without JavaScript the page refreshes itself), cancel it,
review it (coverage, gaps with reasons, a re-solve's change set) and publish it (as
``POST /sites/{id}/schedules/{job}/publish``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from api.console import views
from api.console.pages import site_posts
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
from api.deps import DB, Config, check_id, keep_cancelled
from scheduler.domain import scenario as sc
from scheduler.domain.advice import StaffingAdvice
from scheduler.domain.changes import ChangeSet
from scheduler.domain.errors import ConflictError, InputError, TooBusyError, validation_problems
from scheduler.services import publishing, schedule_jobs
from scheduler.store import jobs, residents, sites, volunteers
from scheduler.store import schedules as schedule_store
from scheduler.store.db import utcnow

router = APIRouter(prefix="/console", include_in_schema=False)

FIELDS = {"horizon.start": "start", "start": "start", "horizon.days": "days", "days": "days",
          "time_limit": "time_limit"}


def _solve_page(request: Request, who: Coordinator, session, settings, status_code=200, errors=None,
                values=None) -> Response:
    site = who.site
    limit = min(settings.default_time_limit, settings.max_time_limit)
    return render(
        request,
        "solve.html",
        status_code,
        who=who,
        page="solve",
        errors=errors or FormErrors(),
        values=values or {
            "start": site.horizon_start.isoformat(),
            "days": str(site.horizon_days),
            "time_limit": f"{limit:g}",
        },
        max_time_limit=settings.max_time_limit,
        recent=jobs.list_jobs(session, site.id, 10),
    )


@router.get("/solve")
def solve_page(request: Request, who: Signed, session: DB, settings: Config) -> Response:
    return _solve_page(request, who, session, settings)


@router.post("/solve")
def start_solve(request: Request, who: Checked, session: DB, settings: Config, form: Form) -> Response:
    _ = gettext_of(request)
    errors = FormErrors()
    values = {name: clean(form, name, errors, _) for name in ("start", "days", "time_limit")}
    start = parse_date(values["start"], "start", errors, _)
    if not values["start"] and "start" not in errors.fields:
        errors.add("start", _("enter the first day"))
    days = time_limit = None
    try:
        days = int(values["days"])
    except ValueError:
        errors.add("days", _("expected a whole number of days"))
    try:
        time_limit = float(values["time_limit"]) if values["time_limit"] else None
    except ValueError:
        errors.add("time_limit", _("expected a number of seconds"))
    job_request = None
    if not errors:
        try:
            job_request = jobs.JobRequest.model_validate(
                {"horizon": {"start": start, "days": days}, "time_limit": time_limit}
            )
        except ValidationError as exc:
            errors.absorb(validation_problems(exc), FIELDS)
    if errors or job_request is None:
        return _solve_page(request, who, session, settings, 422, errors, values)
    try:  # the same service as POST /sites/{id}/schedules: the site's share of the queue, the last period
        row = schedule_jobs.queue_site_schedule(session, who.site_id, job_request, settings, utcnow())
        session.flush()
    except InputError as exc:
        rollback(session)
        errors.absorb(exc.problems, FIELDS)
        return _solve_page(request, who, session, settings, 422, errors, values)
    except TooBusyError as exc:
        rollback(session)
        errors.general.append(exc.message)
        return _solve_page(request, who, session, settings, 429, errors, values)
    return redirect(f"/console/jobs/{row.id}")


def _status(row: jobs.JobRow) -> dict:
    progress = row.progress or {}
    out = {
        "id": row.id,
        "state": row.state,
        "finished": row.state in jobs.FINISHED,
        "elapsed": progress.get("elapsed"),
        "objective": progress.get("objective"),
        "phase": progress.get("phase") or "",
        "time_limit": row.time_limit,
        "cancel_requested": row.cancel_requested,
    }
    elapsed = progress.get("elapsed") or 0
    out["fraction"] = 1.0 if out["finished"] else min(0.99, elapsed / row.time_limit if row.time_limit else 0)
    if row.summary:
        staffed = row.summary["assignments"]
        total = staffed + row.summary["people_missing"]
        out["coverage"] = staffed / total if total else 1.0
    return out


def read_job(session, site, job_id: int, settings) -> jobs.JobRow:
    """The site's job as it is now (the same read as the API's job routes)."""
    job_id = check_id(job_id, "schedule job")
    return jobs.current_job(session, site.id, job_id, utcnow(), settings.job_stale_after)


def _job_id(job_id: str) -> int:
    return check_id(int(job_id) if job_id.isdigit() and len(job_id) < 12 else 0, "schedule job")


@router.get("/jobs/{job_id}/status.json")
def job_status(job_id: str, who: Signed, session: DB, settings: Config) -> Response:
    row = read_job(session, who.site, _job_id(job_id), settings)
    return JSONResponse(_status(row), headers={"Cache-Control": "no-store"})


def _job_page(request: Request, who: Coordinator, session, settings, job_id: int, status_code=200,
              message=None) -> Response:
    row = read_job(session, who.site, job_id, settings)
    schedule = jobs.result_of(row) if row.state in jobs.FINISHED else None
    changes = ChangeSet.model_validate(row.changes) if row.kind == "resolve" and row.changes else None
    people = views.people_of(volunteers.models(session, who.site_id))
    site_posts_ = site_posts(session, who.site_id)
    post_names = {p.id: p.name for p in site_posts_}
    home_visit = gettext_of(request)("Home visit")
    for resident in residents.list_residents(session, who.site_id):
        post_names[sc.visit_post_id(resident.key)] = home_visit
    covered = views.coverage(schedule) if schedule is not None else None
    advice = StaffingAdvice.model_validate(row.advice) if schedule is not None and row.advice else None
    gaps = []
    if schedule is not None:
        cutoff = row.cutoff
        gaps = [u for u in schedule.uncovered if cutoff is None or u.end > cutoff]
    return render(
        request,
        "job.html",
        status_code,
        who=who,
        page="solve",
        job=row,
        status=_status(row),
        schedule=schedule,
        coverage=covered,
        gaps=gaps,
        advice=advice,
        changes=changes,
        people=people,
        tel=views.tel,
        post_names=post_names,
        message=message,
        published=who.site.published_version is not None
        and schedule_store.published(session, who.site).job_id == row.id,
        publishable=row.state == jobs.JobState.done,
    )


@router.get("/jobs/{job_id}")
def job_page(request: Request, job_id: str, who: Signed, session: DB, settings: Config) -> Response:
    return _job_page(request, who, session, settings, _job_id(job_id))


@router.post("/jobs/{job_id}/cancel")
def cancel(request: Request, job_id: str, who: Checked, session: DB, settings: Config) -> Response:
    row = read_job(session, who.site, _job_id(job_id), settings)
    try:
        jobs.cancel_job(session, row, utcnow())
        session.flush()
    except ConflictError as exc:
        rollback(session)
        return _job_page(request, who, session, settings, row.id, 409, message=exc.message)
    return redirect(f"/console/jobs/{row.id}")


@router.post("/jobs/{job_id}/publish")
def publish(request: Request, job_id: str, who: Checked, session: DB, settings: Config) -> Response:
    number = _job_id(job_id)
    try:
        locked = sites.get_site(session, who.site_id, lock=True)
        row = jobs.get_job(session, who.site_id, number)
        version = publishing.publish(session, locked, row, utcnow(), keep_cancelled(settings))
        session.flush()
    except ConflictError as exc:
        rollback(session)
        who.site = sites.get_site(session, who.site_id)
        return _job_page(request, who, session, settings, number, 409, message=exc.message)
    first = row.horizon_start if row.cutoff is None else max(row.horizon_start, row.cutoff.date())
    return redirect(f"/console/rota?week={first.isoformat()}&published={version.number}")


