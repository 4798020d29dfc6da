"""A volunteer's own page at ``/me/{token}``: no account, no password; the token is their calendar feed's
(``scheduler.store.access.resolve_feed_token``), so making a new feed link also ends the old page link.
Only a volunteer's feed opens a page: a post's or a site's feed token, an unknown or a revoked one are
all the same 404 page, which names nothing.

* ``GET /me/{token}``: my upcoming published shifts (post, place, instructions, teammates' names and
  nothing else of them), my hours this week against my cap, add-to-calendar (webcal link and QR code),
  "I'm unwell" and what became of my last reports, my dated absences and wishes; links to swaps and open
  shifts (``/me/{token}/swaps``, ``/me/{token}/open``, built elsewhere).
* ``POST /me/{token}/unwell``: :func:`scheduler.services.unwell.report_unwell`.
* ``POST /me/{token}/absences``, ``POST /me/{token}/absences/{i}/delete``, ``POST /me/{token}/wishes``:
  :mod:`scheduler.services.own_wishes`, checked like ``PUT /sites/{id}/volunteers/{v}``.
* ``POST /me/{token}/check-in``, ``POST /me/{token}/check-out``: on the day of a shift (an hour before
  its start to 12 hours after its end), :mod:`scheduler.services.worked`; the times are the server's clock.
* ``GET /me/{token}/lang/{locale}``: the language switch (else the browser's Accept-Language).

CSRF: there is no session, so every form carries the value of a random ``rota_me_csrf`` cookie
(HttpOnly, SameSite=Strict, path ``/me/``) set by the page (double submit), and a POST the browser marks
``Sec-Fetch-Site: cross-site`` is refused as well. Pages are ``no-store`` and send no referrer (the URL is
the secret).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Annotated
from zoneinfo import ZoneInfo

import segno
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from markupsafe import Markup

from api.console import i18n, views
from api.console.posts import WEEKDAYS
from api.console.web import FormErrors, gettext_of, parse_date, redirect, render, rollback
from api.deps import DB, Config
from scheduler.domain import scenario as sc
from scheduler.domain.errors import ConflictError, InputError, NotFoundError, TooBusyError
from scheduler.domain.schedule import Schedule
from scheduler.services import own_wishes, unwell, worked
from scheduler.settings import Settings
from scheduler.store import access, sites, volunteers
from scheduler.store import posts as post_store
from scheduler.store import schedules as schedule_store
from scheduler.store.db import utcnow

PREFIX = "/me"
CSRF_COOKIE = "rota_me_csrf"
router = APIRouter(prefix=PREFIX, include_in_schema=False)

#: Links to the parts of the page built elsewhere (swaps and give-aways, open shifts): ``{token}`` filled.
SWAPS = PREFIX + "/{token}/swaps"
OPEN_SHIFTS = PREFIX + "/{token}/open"


class PageMissing(Exception):
    """Whatever the reason (unknown, revoked, not a volunteer's feed), the same page."""


@dataclass
class Me:
    token: str
    site: sites.SiteRow
    volunteer: volunteers.VolunteerRow

    @property
    def base(self) -> str:
        return f"{PREFIX}/{self.token}"


def me_of(token: str, session: DB) -> Me:
    try:
        feed = access.resolve_feed_token(session, token)
    except NotFoundError:
        raise PageMissing() from None
    if feed.volunteer_id is None:
        raise PageMissing()
    volunteer = session.get(volunteers.VolunteerRow, feed.volunteer_id)
    if volunteer is None or volunteer.site_id != feed.site_id:
        raise PageMissing()
    return Me(token, sites.get_site(session, feed.site_id), volunteer)


Mine = Annotated[Me, Depends(me_of)]


def _harden(response: Response) -> Response:
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def not_found_page(request: Request, exc: Exception) -> Response:
    return _harden(render(request, "me_missing.html", 404))


# ------------------------------------------------------------------------------------------ forms


@dataclass
class Posted:
    values: dict[str, list[str]]

    def one(self, name: str) -> str:
        got = self.values.get(name) or [""]
        return got[-1].strip()[:200]

    def many(self, name: str) -> list[str]:
        return [v.strip()[:80] for v in self.values.get(name, [])][:50]


async def posted(request: Request) -> Posted:
    try:
        form = await request.form()
    except Exception:  # not a form at all: an empty one (CSRF refuses it)
        return Posted({})
    out: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str) and "\x00" not in value:
            out.setdefault(key, []).append(value)
    return Posted(out)


PostedForm = Annotated[Posted, Depends(posted)]


class Refused(Exception):
    pass


def csrf_checked(request: Request, form: PostedForm) -> Posted:
    cookie = request.cookies.get(CSRF_COOKIE)
    given = form.one("csrf")
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise Refused()
    if not cookie or not given or not secrets.compare_digest(cookie, given):
        raise Refused()
    return form


Checked = Annotated[Posted, Depends(csrf_checked)]


def refused_page(request: Request, exc: Exception) -> Response:
    return _harden(render(request, "me_missing.html", 403, refused=True))


# ------------------------------------------------------------------------------------------ page


@dataclass
class MyShift:
    start: dt.datetime
    end: dt.datetime
    date: dt.date
    post: str
    post_name: str
    shift: str
    location: str | None
    instructions: str | None
    teammates: list[str]
    night: bool
    hours: float
    now: bool


def _feed(settings: Settings, token: str) -> dict:
    url = f"{settings.base_url()}/calendar/{token}.ics"
    return {
        "url": url,
        "webcal": "webcal://" + url.split("://", 1)[1],
        "qr": Markup(segno.make("webcal://" + url.split("://", 1)[1], error="m").svg_inline(
            scale=4, border=2, dark="#000", light="#fff", title=None)),
    }


def _shifts(
    schedule: Schedule | None,
    me: sc.Volunteer,
    people: list[sc.Volunteer],
    post_models: list[sc.Post],
    now: dt.datetime,
    zone: ZoneInfo,
) -> list[MyShift]:
    if schedule is None:
        return []
    names = {v.id: v.name for v in people}
    by_post = {p.id: p for p in post_models}
    team: dict[tuple, list[str]] = {}
    for a in schedule.assignments:
        if a.volunteer != me.id:
            team.setdefault((a.post, a.shift, a.date), []).append(names.get(a.volunteer, ""))
    out = []
    for a in unwell.upcoming_shifts(schedule, me.id, now):
        post = by_post.get(a.post)
        out.append(MyShift(
            start=a.start.astimezone(zone), end=a.end.astimezone(zone), date=a.date, post=a.post,
            post_name=post.name if post else a.post, shift=a.shift,
            location=post.location if post else None, instructions=post.instructions if post else None,
            teammates=sorted(n for n in team.get((a.post, a.shift, a.date), []) if n),
            night=a.night, hours=a.hours, now=a.start <= now < a.end,
        ))
    return out


def _labelled(refs: list[dict], post_models: list[sc.Post], zone: ZoneInfo) -> list[dict]:
    names = {p.id: p.name for p in post_models}
    return [
        {"post_name": names.get(r["post"], r["post"]),
         "start": dt.datetime.fromisoformat(r["start"]).astimezone(zone),
         "end": dt.datetime.fromisoformat(r["end"]).astimezone(zone)}
        for r in refs
    ]


#: The hours this week read the volunteer's worked records of this many days back.
RECORDS_DAYS = 14


def _duty(own: worked.OwnShift | None, post_models: list[sc.Post], zone: ZoneInfo) -> dict | None:
    """The shift to check in to or out of now, for the page (local times)."""
    if own is None:
        return None
    names = {p.id: p.name for p in post_models}
    r = own.record
    return {
        "post_name": names.get(own.shift.post, own.shift.post),
        "date": own.shift.date,
        "start": own.shift.start.astimezone(zone),
        "end": own.shift.end.astimezone(zone),
        "checked_in_at": r.start.astimezone(zone) if r is not None and r.start is not None else None,
        "checked_out_at": r.end.astimezone(zone) if r is not None and r.end is not None else None,
        "no_show": own.no_show,
        "can_check_in": r is None,
        "can_check_out": own.checked_in and not own.checked_out and not own.no_show,
    }


def _hours(hours: float) -> str:
    return f"{hours:g}"


def _when(value: str | None) -> dt.date | dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)


def _page(
    request: Request,
    me: Me,
    session,
    settings: Settings,
    status_code: int = 200,
    *,
    errors: FormErrors | None = None,
    values: dict | None = None,
    form: str | None = None,
    notice: str | None = None,
) -> Response:
    site = me.site
    zone = ZoneInfo(site.timezone)
    now = utcnow()
    people = volunteers.models(session, site.id)
    model = next(v for v in people if v.id == me.volunteer.key)
    post_models = [post_store.to_model(p) for p in post_store.list_posts(session, site.id)]
    schedule = None
    if site.published_version is not None:
        schedule = schedule_store.published(session, site).model
    own = worked.own_shift(session, site, me.volunteer, now, schedule)
    records = worked.records_of(session, site.id, now - dt.timedelta(days=RECORDS_DAYS), me.volunteer)
    week, loads = views.people_loads(schedule, [model], sites.rules_of(site), site.timezone, now,
                                     worked=records)
    load = loads[0]
    reports = unwell.volunteer_reports(session, site, me.volunteer, schedule)
    for r in reports:
        r.released = _labelled(r.released, post_models, zone)
        r.kept = _labelled(r.kept, post_models, zone)
        r.reported_local = r.report.created_at.astimezone(zone)  # type: ignore[attr-defined]
        r.until_value = _when(r.until)  # type: ignore[attr-defined]
    today = now.astimezone(zone).date()
    shift_ids: dict[str, str] = {}
    for p in post_models:
        for t in p.shifts:
            shift_ids.setdefault(t.id, f"{t.start.strftime('%H:%M')}–{t.end.strftime('%H:%M')}")
    prefs = model.preferences
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(
        request,
        "me.html",
        status_code,
        me=me,
        site_name=site.name,
        name=model.name,
        status=views.status_at(model.health, now, zone),
        shifts=_shifts(schedule, model, people, post_models, now, zone),
        duty=_duty(own, post_models, zone),
        published=schedule is not None,
        week=week,
        hours=load.hours,
        cap=load.cap,
        share=load.share,
        feed=_feed(settings, me.token),
        reminders=", ".join(_hours(h) for h in sites.reminders_of(site)),
        reports=reports,
        today=today,
        max_until=today + dt.timedelta(days=unwell.MAX_DAYS),
        absences=[(i, p) for i, p in enumerate(model.unavailable)],
        absence_reasons=[r.value for r in sc.AbsenceReason],
        posts=post_models,
        shift_ids=sorted(shift_ids.items()),
        weekdays=WEEKDAYS,
        prefs={
            "preferred_posts": prefs.preferred_posts, "unwanted_posts": prefs.unwanted_posts,
            "preferred_shifts": prefs.preferred_shifts, "unwanted_shifts": prefs.unwanted_shifts,
            "unwanted_weekdays": [d.value for d in prefs.unwanted_weekdays],
        },
        errors=errors or FormErrors(),
        form=form,
        values=values
        or {"status": "sick", "until": "", "from": "", "absence_until": "", "absence_reason": ""},
        notice=notice,
        csrf=csrf,
        swaps=SWAPS.format(token=me.token),
        open_shifts=OPEN_SHIFTS.format(token=me.token),
        lang_base=f"{me.base}/lang/",
    )
    response.set_cookie(CSRF_COOKIE, csrf, max_age=30 * 24 * 3600, path=PREFIX + "/", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")
    return _harden(response)


NOTICES = ("unwell", "absence", "absence-removed", "wishes", "checked-in", "already-in", "checked-out",
           "already-out")


@router.get("/{token}")
def my_page(request: Request, me: Mine, session: DB, settings: Config, done: str | None = None) -> Response:
    return _page(request, me, session, settings, notice=done if done in NOTICES else None)


@router.get("/{token}/lang/{locale}")
def switch_language(request: Request, me: Mine, locale: str) -> Response:
    response = redirect(me.base)
    if locale in i18n.LOCALES:
        response.set_cookie(i18n.LANG_COOKIE, locale, max_age=365 * 24 * 3600, path=PREFIX + "/",
                            samesite="lax", secure=request.url.scheme == "https")
    return _harden(response)


def _refused(request, me, session, settings, exc, errors: FormErrors, names: dict[str, str], values, form):
    _ = gettext_of(request)
    rollback(session)
    me.site = sites.get_site(session, me.site.id)
    me.volunteer = session.get(volunteers.VolunteerRow, me.volunteer.id)
    status = 422
    if isinstance(exc, InputError):
        errors.absorb(exc.problems, names)
    elif isinstance(exc, ConflictError):
        errors.general.append(_("This could not be saved right now. Please call your coordinator."))
        status = 409
    else:
        errors.general.append(_("Too busy right now: please try again in a minute."))
        status = 429
    return _page(request, me, session, settings, status, errors=errors, values=values, form=form)


UNWELL_FIELDS = {"status": "status", "until": "until", "infectious": "infectious", "from": "until"}


@router.post("/{token}/unwell")
def report_unwell(request: Request, me: Mine, form: Checked, session: DB, settings: Config) -> Response:
    _ = gettext_of(request)
    errors = FormErrors()
    values = {"status": form.one("status"), "until": form.one("until"),
              "infectious": "on" if form.one("infectious") else ""}
    until = parse_date(values["until"], "until", errors, _)
    if not values["until"]:
        errors.add("until", _("pick the last day you expect to be off"))
    if values["status"] not in unwell.STATUSES:
        errors.add("status", _("choose sick or isolating"))
    if errors:
        return _page(request, me, session, settings, 422, errors=errors, values=values, form="unwell")
    try:
        unwell.report_unwell(
            session, me.site, me.volunteer,
            unwell.UnwellRequest(values["status"], until, bool(values["infectious"])), settings, utcnow(),
        )
    except (InputError, ConflictError, TooBusyError) as exc:
        return _refused(request, me, session, settings, exc, errors, UNWELL_FIELDS, values, "unwell")
    return _harden(redirect(f"{me.base}?done=unwell#unwell"))


ABSENCE_FIELDS = {"unavailable.from": "absence_from", "unavailable.until": "absence_until",
                  "unavailable.reason": "absence_reason", "reason": "absence_reason",
                  "unavailable": "absence_from", "from": "absence_from", "until": "absence_until"}


@router.post("/{token}/absences")
def add_absence(request: Request, me: Mine, form: Checked, session: DB, settings: Config) -> Response:
    _ = gettext_of(request)
    errors = FormErrors()
    values = {"absence_from": form.one("absence_from"), "absence_until": form.one("absence_until"),
              "absence_reason": form.one("absence_reason")}
    start = parse_date(values["absence_from"], "absence_from", errors, _)
    until = parse_date(values["absence_until"], "absence_until", errors, _)
    if not values["absence_from"]:
        errors.add("absence_from", _("pick the first day"))
    if not values["absence_until"]:
        errors.add("absence_until", _("pick the last day"))
    if values["absence_reason"] and values["absence_reason"] not in {r.value for r in sc.AbsenceReason}:
        errors.add("absence_reason", _("choose one of the reasons"))
    if errors:
        return _page(request, me, session, settings, 422, errors=errors, values=values, form="absence")
    zone = ZoneInfo(me.site.timezone)
    try:
        own_wishes.add_absence(session, me.site, me.volunteer, start, until, utcnow().astimezone(zone).date(),
                               values["absence_reason"] or None)
    except InputError as exc:
        return _refused(request, me, session, settings, exc, errors, ABSENCE_FIELDS, values, "absence")
    return _harden(redirect(f"{me.base}?done=absence#absences"))


@router.post("/{token}/absences/{index}/delete")
def remove_absence(request: Request, me: Mine, index: int, form: Checked, session: DB,
                   settings: Config) -> Response:
    try:
        own_wishes.remove_absence(session, me.site, me.volunteer, index)
    except InputError as exc:
        return _refused(request, me, session, settings, exc, FormErrors(), ABSENCE_FIELDS, None, "absence")
    return _harden(redirect(f"{me.base}?done=absence-removed#absences"))


WISH_FIELDS = {name: name for name in ("preferred_posts", "unwanted_posts", "preferred_shifts",
                                       "unwanted_shifts", "unwanted_weekdays")}


@router.post("/{token}/wishes")
def set_wishes(request: Request, me: Mine, form: Checked, session: DB, settings: Config) -> Response:
    wishes = {name: form.many(name) for name in WISH_FIELDS}
    try:
        own_wishes.set_wishes(session, me.site, me.volunteer, **wishes)
    except InputError as exc:
        names = {f"preferences.{k}": v for k, v in WISH_FIELDS.items()} | WISH_FIELDS
        return _refused(request, me, session, settings, exc, FormErrors(), names, None, "wishes")
    return _harden(redirect(f"{me.base}?done=wishes#wishes"))


@router.post("/{token}/check-in")
def check_in(request: Request, me: Mine, form: Checked, session: DB, settings: Config) -> Response:
    try:
        out = worked.check_in(session, me.site, me.volunteer, utcnow())
    except InputError:
        return _duty_refused(request, me, session, settings, "check_in")
    return _harden(redirect(f"{me.base}?done={'checked-in' if out.changed else 'already-in'}#duty"))


@router.post("/{token}/check-out")
def check_out(request: Request, me: Mine, form: Checked, session: DB, settings: Config) -> Response:
    try:
        out = worked.check_out(session, me.site, me.volunteer, utcnow())
    except InputError:
        return _duty_refused(request, me, session, settings, "check_out")
    return _harden(redirect(f"{me.base}?done={'checked-out' if out.changed else 'already-out'}#duty"))


def _duty_refused(request, me, session, settings, step: str) -> Response:
    _ = gettext_of(request)
    rollback(session)
    me.site = sites.get_site(session, me.site.id)
    me.volunteer = session.get(volunteers.VolunteerRow, me.volunteer.id)
    errors = FormErrors()
    if step == "check_in":
        errors.add("duty", _("You can check in from an hour before your shift starts until it ends."))
    else:
        errors.add("duty", _("Check in first."))
    return _page(request, me, session, settings, 422, errors=errors, form="duty")
