"""The coordinator's worked-hours page (``/console/worked``): the published shifts of the last days that
have started, each with what was worked (checked in and out by the volunteer, or recorded here), and the
extra shifts; confirm one as worked, or all of a day, mark a no-show, correct the times, add an extra
shift. The same service functions as ``/sites/{id}/worked`` (:mod:`api.routes.worked`); bad times are
messages beside the field."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.console import texts
from api.console.web import (
    Checked,
    Coordinator,
    Form,
    FormErrors,
    Signed,
    gettext_of,
    redirect,
    refused,
    render,
)
from api.deps import DB
from scheduler.domain import clock
from scheduler.domain.errors import ConflictError, InputError
from scheduler.domain.worked import ShiftKey
from scheduler.services import worked
from scheduler.store import posts as post_store
from scheduler.store import volunteers
from scheduler.store.db import utcnow

router = APIRouter(prefix="/console", include_in_schema=False)

#: The page shows this many days up to the chosen one.
DAYS = 3
PAGE = "/console/worked"


def _actor(who: Coordinator) -> str:
    return who.actor.label


def _local(value: dt.datetime | None, zone: ZoneInfo) -> dt.datetime | None:
    return value.astimezone(zone) if value is not None else None


def _page(request: Request, session, who: Coordinator, *, day: dt.date | None = None,
          errors: FormErrors | None = None, form: str | None = None, values: dict | None = None,
          status_code: int = 200) -> Response:
    site = who.site
    zone = ZoneInfo(site.timezone)
    now = utcnow()
    today = now.astimezone(zone).date()
    last = min(day or today, today)
    first = last - dt.timedelta(days=DAYS - 1)
    lines = worked.listing(session, site, first, last, now)
    names = {v.key: v.name for v in volunteers.list_volunteers(session, site.id)}
    post_rows = post_store.list_posts(session, site.id)
    post_names = {p.key: p.name for p in post_rows}
    days = []
    for offset in range(DAYS):
        d = last - dt.timedelta(days=offset)
        of_day = [ln for ln in lines if _day_of(ln, zone) == d]
        days.append({"date": d, "lines": [_row(ln, zone, names, post_names) for ln in of_day]})
    return render(
        request, "worked.html", status_code, who=who, page="worked",
        days=days, today=today, yesterday=today - dt.timedelta(days=1),
        earlier=(first - dt.timedelta(days=1)).isoformat(),
        later=(last + dt.timedelta(days=DAYS)).isoformat() if last < today else None,
        people=sorted(names.items(), key=lambda kv: kv[1]), posts=[(p.key, p.name) for p in post_rows],
        errors=errors or FormErrors(), form=form, values=values or {},
        max_local=now.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
        done=request.query_params.get("done"),
    )


def _day_of(line: worked.Line, zone: ZoneInfo) -> dt.date | None:
    if line.key is not None:
        return line.key.date
    return line.start.astimezone(zone).date() if line.start is not None else None


def _row(line: worked.Line, zone: ZoneInfo, names: dict, post_names: dict) -> dict:
    key = line.key
    form_id = key.text() if key is not None else f"record-{line.record.id}"  # type: ignore[union-attr]
    return {
        "line": line, "id": form_id, "key": key.text() if key is not None else "",
        "record": line.record.id if line.record is not None else "",
        "name": names.get(line.volunteer, line.volunteer), "post": post_names.get(line.post, line.post),
        "planned_start": _local(line.planned_start, zone), "planned_end": _local(line.planned_end, zone),
        "start": _local(line.start, zone), "end": _local(line.end, zone),
        "state": line.state, "confirmed": line.confirmed, "hours": line.hours(),
        "source": line.record.source if line.record is not None else None,
        "start_value": _input(line.start or line.planned_start, zone),
        "end_value": _input(line.end or line.planned_end, zone),
    }


def _input(value: dt.datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if value is not None else ""


def _day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get("/worked")
def worked_page(request: Request, who: Signed, session: DB) -> Response:
    return _page(request, session, who, day=_day(request.query_params.get("day")))


def _when(form: dict, name: str, zone: ZoneInfo, errors: FormErrors, _) -> dt.datetime | None:
    value = (form.get(name) or "").strip()
    if not value:
        errors.add(name, _("required"))
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        errors.add(name, _("expected a date and time"))
        return None
    return clock.utc(clock.aware(parsed.replace(tzinfo=None), zone))


FIELDS = {"start": "start", "end": "end", "volunteer": "volunteer", "post": "post"}


def _refused(request, session, who, exc, form_id: str, values: dict | None, day) -> Response:
    _ = gettext_of(request)
    errors = FormErrors()
    status = refused(session, who, exc, FormErrors(), {})  # rolls back, reads the site again
    if isinstance(exc, InputError | ConflictError):
        for p in exc.problems:
            message = texts.known(p.message, _)
            if p.field in FIELDS:
                errors.add(FIELDS[p.field], message)
            else:
                errors.general.append(message)
        if isinstance(exc, ConflictError):
            errors.general.insert(0, exc.message)
    return _page(request, session, who, day=day, errors=errors, form=form_id, values=values,
                 status_code=status)


def _key(form: dict) -> ShiftKey | None:
    try:
        return ShiftKey.parse(form.get("shift", ""))
    except InputError:
        return None


def _back(form: dict, done: str) -> Response:
    day = _day(form.get("day"))
    return redirect(f"{PAGE}?done={done}" + (f"&day={day.isoformat()}" if day else ""))


@router.post("/worked/confirm")
def confirm(request: Request, who: Checked, session: DB, form: Form) -> Response:
    key = _key(form)
    if key is None:
        return _back(form, "none")
    try:
        worked.confirm(session, who.site, key, _actor(who), utcnow())
    except InputError as exc:
        return _refused(request, session, who, exc, key.text(), None, _day(form.get("day")))
    return _back(form, "confirmed")


@router.post("/worked/confirm-day")
def confirm_day(request: Request, who: Checked, session: DB, form: Form) -> Response:
    day = _day(form.get("date"))
    if day is None:
        return _back(form, "none")
    count = worked.confirm_day(session, who.site, day, _actor(who), utcnow())
    return _back(form, f"day-{count}")


@router.post("/worked/no-show")
def no_show(request: Request, who: Checked, session: DB, form: Form) -> Response:
    key = _key(form)
    if key is None:
        return _back(form, "none")
    try:
        worked.record(session, who.site, worked.Change("no_show", key=key), _actor(who), utcnow())
    except InputError as exc:
        return _refused(request, session, who, exc, key.text(), None, _day(form.get("day")))
    return _back(form, "no-show")


@router.post("/worked/correct")
def correct(request: Request, who: Checked, session: DB, form: Form) -> Response:
    _ = gettext_of(request)
    zone = ZoneInfo(who.site.timezone)
    key = _key(form)
    record_id = form.get("record", "")
    form_id = key.text() if key is not None else f"record-{record_id}"
    errors = FormErrors()
    start, end = _when(form, "start", zone, errors, _), _when(form, "end", zone, errors, _)
    values = {"start": form.get("start", ""), "end": form.get("end", "")}
    day = _day(form.get("day"))
    if errors:
        return _page(request, session, who, day=day, errors=errors, form=form_id, values=values,
                     status_code=422)
    try:
        if key is not None:
            worked.record(session, who.site, worked.Change("worked", start, end, key), _actor(who), utcnow())
        elif record_id.isdigit():
            worked.update(session, who.site, int(record_id), worked.Change("extra", start, end), _actor(who),
                          utcnow())
        else:
            return _back(form, "none")
    except InputError as exc:
        return _refused(request, session, who, exc, form_id, values, day)
    return _back(form, "corrected")


@router.post("/worked/extra")
def extra(request: Request, who: Checked, session: DB, form: Form) -> Response:
    _ = gettext_of(request)
    zone = ZoneInfo(who.site.timezone)
    errors = FormErrors()
    values = {k: form.get(k, "") for k in ("volunteer", "post", "start", "end")}
    start, end = _when(form, "start", zone, errors, _), _when(form, "end", zone, errors, _)
    if not values["volunteer"]:
        errors.add("volunteer", _("choose one"))
    if not values["post"]:
        errors.add("post", _("choose one"))
    if errors:
        return _page(request, session, who, errors=errors, form="extra", values=values, status_code=422)
    change = worked.Change("extra", start, end, volunteer=values["volunteer"], post=values["post"])
    try:
        worked.record(session, who.site, change, _actor(who), utcnow())
    except InputError as exc:
        return _refused(request, session, who, exc, "extra", values, None)
    return _back(form, "extra")
