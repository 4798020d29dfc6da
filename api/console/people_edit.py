"""Volunteers added and edited from the console: name, phone and e-mail, skills, weekly hours cap,
weekly availability windows and dated absences. The same store functions and checks as
``POST/PUT /sites/{id}/volunteers[/{v}]`` (:mod:`api.routes.volunteers`); what the form does not show
(preferences, rule overrides, history, the health history) is kept as it is."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from api.console.posts import WEEKDAYS
from api.console.web import (
    Checked,
    Coordinator,
    Form,
    FormErrors,
    Signed,
    clean,
    gettext_of,
    redirect,
    refused,
    render,
)
from api.deps import DB, Config, check_key, keep_cancelled
from scheduler.domain import scenario as sc
from scheduler.domain.errors import ConflictError, InputError, validation_problems
from scheduler.domain.limits import SizeLimits
from scheduler.services import publishing
from scheduler.store import sites, volunteers
from scheduler.store.db import utcnow

router = APIRouter(prefix="/console", include_in_schema=False)

FIELDS = ("id", "name", "phone", "email", "skills", "max_hours_per_week", "languages", "building", "zone")
MAX_ROWS = 50
ABSENCE_REASONS = [r.value for r in sc.AbsenceReason]


def _blank_window() -> dict:
    return {"weekdays": [], "start": "", "end": ""}


def _blank_absence() -> dict:
    return {"from": "", "until": "", "reason": ""}


def _values_of(v: sc.Volunteer | None) -> dict:
    if v is None:
        return {"id": "", "name": "", "phone": "", "email": "", "skills": "", "max_hours_per_week": "",
                "languages": "", "building": "", "zone": "", "risk_group": False,
                "windows": [_blank_window()], "absences": [_blank_absence()]}
    return {
        "id": v.id, "name": v.name, "phone": v.contact.phone or "", "email": v.contact.email or "",
        "skills": ", ".join(v.skills),
        "max_hours_per_week": "" if v.max_hours_per_week is None else f"{v.max_hours_per_week:g}",
        "languages": ", ".join(v.languages), "building": v.building or "", "zone": v.zone or "",
        "risk_group": v.risk_group,
        "windows": [
            {"weekdays": [d.value for d in w.weekdays], "start": w.start.strftime("%H:%M"),
             "end": w.end.strftime("%H:%M")}
            for w in v.availability or []
        ] + [_blank_window()],
        "absences": [
            {"from": "" if p.start is None else p.start.isoformat(),
             "until": "" if p.until is None else p.until.isoformat(),
             "reason": p.reason.value if p.reason else ""}
            for p in v.unavailable
        ] + [_blank_absence()],
    }


def _page(request: Request, who: Coordinator, key: str | None, values: dict, errors=None, status_code=200):
    return render(request, "person_form.html", status_code, who=who, page="people", key=key, values=values,
                  errors=errors or FormErrors(), weekdays=WEEKDAYS, absence_reasons=ABSENCE_REASONS)


@router.get("/people/new")
def new_person_form(request: Request, who: Signed) -> Response:
    return _page(request, who, None, _values_of(None))


@router.get("/people/{key}/edit")
def edit_person_form(request: Request, key: str, who: Signed, session: DB) -> Response:
    row = volunteers.get_volunteer(session, who.site_id, check_key(key, "volunteer"))
    return _page(request, who, row.key, _values_of(volunteers.model(session, row)))


def _count(form: dict[str, str], name: str) -> int:
    try:
        return max(0, min(int(form.get(name, "0")), MAX_ROWS))
    except ValueError:
        return 0


def _read(
    form: dict[str, str], base: dict | None, errors: FormErrors, _
) -> tuple[dict, dict, dict[str, str]]:
    """``base``: the volunteer as stored (None for a new one, whose id the form gives)."""
    values: dict = {name: clean(form, name, errors, _) for name in FIELDS}
    data = dict(base or {})
    if base is None:
        data["id"] = values["id"]
    data["name"] = values["name"]
    data["contact"] = {"phone": values["phone"] or None, "email": values["email"] or None}
    data["skills"] = [s.strip() for s in values["skills"].replace("，", ",").split(",") if s.strip()]
    data["max_hours_per_week"] = None
    if values["max_hours_per_week"]:
        try:
            data["max_hours_per_week"] = float(values["max_hours_per_week"])
        except ValueError:
            errors.add("max_hours_per_week", _("expected a number of hours"))
    data["languages"] = [s.strip() for s in values["languages"].replace("，", ",").split(",") if s.strip()]
    data["building"] = values["building"] or None
    data["zone"] = values["zone"] or None
    values["risk_group"] = data["risk_group"] = bool(form.get("risk_group"))
    names = {"id": "id", "name": "name", "contact.phone": "phone", "contact.email": "email",
             "skills": "skills", "max_hours_per_week": "max_hours_per_week", "languages": "languages",
             "building": "building", "zone": "zone"}
    windows, shown = [], []
    for i in range(_count(form, "windows")):
        p = f"w{i}-"
        row = {"weekdays": [d for d in WEEKDAYS if form.get(f"{p}wd-{d}")],
               "start": clean(form, p + "start", errors, _), "end": clean(form, p + "end", errors, _)}
        if form.get(p + "remove") or not (row["weekdays"] or row["start"] or row["end"]):
            continue
        shown.append(row)
        j = len(windows)
        for f in ("weekdays", "start", "end"):
            names[f"availability[{j}].{f}"] = p + f
        names[f"availability[{j}]"] = p + "start"
        windows.append({"weekdays": row["weekdays"] or list(WEEKDAYS), "start": row["start"] or "00:00",
                        "end": row["end"] or "00:00"})
    data["availability"] = windows or None
    values["windows"] = shown + [_blank_window()]
    absences, shown = [], []
    for i in range(_count(form, "absences")):
        p = f"u{i}-"
        row = {f: clean(form, p + f, errors, _) for f in ("from", "until", "reason")}
        if form.get(p + "remove") or not (row["from"] or row["until"]):
            continue
        if row["reason"] and row["reason"] not in ABSENCE_REASONS:
            errors.add(p + "reason", _("choose one of the reasons"))
            row["reason"] = ""
        shown.append(row)
        j = len(absences)
        for f in ("from", "until", "reason"):
            names[f"unavailable[{j}].{f}"] = p + f
        names[f"unavailable[{j}]"] = p + "from"
        absences.append({"from": row["from"] or None, "until": row["until"] or None,
                         "reason": row["reason"] or None})
    data["unavailable"] = absences
    values["absences"] = shown + [_blank_absence()]
    return data, values, names


def _save(request: Request, who: Coordinator, session, settings, form: dict[str, str], key: str | None):
    _ = gettext_of(request)
    errors = FormErrors()
    row = volunteers.get_volunteer(session, who.site_id, check_key(key, "volunteer")) if key else None
    base = None
    if row is not None:
        base = volunteers.model(session, row).model_dump(mode="json", by_alias=True, exclude={"health", "id"})
    data, values, names = _read(form, base, errors, _)
    if row is not None:
        values["id"] = row.key
    model = None
    if not errors:
        try:
            model = (sc.Volunteer if row is None else volunteers.VolunteerUpdate).model_validate(data)
        except ValidationError as exc:
            errors.absorb(validation_problems(exc), names)
    if errors or model is None:
        return _page(request, who, key, values, errors, 422)
    try:
        if row is None:
            row = volunteers.add_volunteer(session, who.site_id, model, utcnow())
            sites.validate_site(session, who.site, volunteer=row.key, limits=SizeLimits.of(settings))
        else:
            volunteers.replace_volunteer(session, row, model)
            sites.validate_site(session, who.site, volunteer=row.key)
            publishing.refresh_calendars(
                session, who.site, utcnow(), keep_cancelled(settings), volunteer=row.key
            )
        session.flush()
    except (InputError, ConflictError) as exc:
        return _page(request, who, key, values, errors, refused(session, who, exc, errors, names))
    return redirect(f"/console/people/{row.key}?saved=1")


@router.post("/people/new")
def add_person(request: Request, who: Checked, session: DB, settings: Config, form: Form) -> Response:
    return _save(request, who, session, settings, form, None)


@router.post("/people/{key}/edit")
def edit_person(
    request: Request, key: str, who: Checked, session: DB, settings: Config, form: Form
) -> Response:
    return _save(request, who, session, settings, form, key)
