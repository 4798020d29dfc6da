"""Vulnerable residents in the console (coordinators only): the guardians report (every resident with
their primary, backup and next visit, those at risk first), the matching, and the register's form, on
the same service and store functions as ``/sites/{id}/residents`` and ``/sites/{id}/guardians``
(:mod:`api.routes.residents`); a bad value is shown beside its field."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

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
from api.deps import DB, Config, keep_cancelled
from scheduler.domain import scenario as sc
from scheduler.domain.errors import ConflictError, InputError, NotFoundError, validation_problems
from scheduler.services import publishing
from scheduler.services import residents as service
from scheduler.store import residents as store
from scheduler.store import sites, volunteers
from scheduler.store.db import utcnow

router = APIRouter(prefix="/console", include_in_schema=False)

WEEKDAYS = [d.value for d in sc.Weekday]
FIELDS = ("id", "name", "building", "address", "zone", "language", "notes", "close_contact",
          "kin_name", "kin_relation", "kin_phone", "primary", "backup")
NEEDS = ("daily_check_in", "mobility_help", "medical_care")
VISIT_FIELDS = ("id", "start", "minutes", "purpose")
MAX_VISITS = 20


def _resident_key(key: str) -> str:
    if not 0 < len(key) <= 58:
        raise NotFoundError("resident")
    return key


@router.get("/residents")
def residents_page(request: Request, who: Signed, session: DB, matched: int | None = None) -> Response:
    rows = service.register(session, who.site, utcnow())
    return render(request, "residents.html", who=who, page="residents", rows=rows, matched=matched,
                  at_risk=sum(1 for r in rows if r.at_risk))


@router.post("/residents/match")
def match_page(request: Request, who: Checked, session: DB) -> Response:
    report = service.match_site(session, who.site, utcnow())
    if report.violations:
        raise ConflictError("the matching broke a rule: " + "; ".join(report.violations[:3]))
    return redirect(f"/console/residents?matched={len(report.changes)}")


def _visit_values(v: sc.ResidentVisit | None) -> dict[str, object]:
    if v is None:
        return {"id": "", "start": "", "minutes": "30", "purpose": "", "weekdays": list(WEEKDAYS)}
    return {"id": v.id, "start": v.start.strftime("%H:%M"), "minutes": str(v.minutes),
            "purpose": v.purpose or "", "weekdays": [d.value for d in v.weekdays]}


def _values_of(r: sc.Resident | None) -> dict[str, object]:
    if r is None:
        values: dict[str, object] = {name: "" for name in FIELDS}
        values.update({n: False for n in NEEDS})
        values.update(grocery_days=[], medicine_days=[], visits=[_visit_values(None)])
        return values
    kin = r.kin
    return {
        "id": r.id, "name": r.name, "building": r.building or "", "address": r.address or "",
        "zone": r.zone or "", "language": r.needs.language or "", "notes": r.needs.notes or "",
        "close_contact": "" if r.close_contact is None else ("yes" if r.close_contact else "no"),
        "kin_name": kin.name if kin else "", "kin_relation": (kin.relation or "") if kin else "",
        "kin_phone": (kin.phone or "") if kin else "", "primary": r.primary or "", "backup": r.backup or "",
        "daily_check_in": r.needs.daily_check_in, "mobility_help": r.needs.mobility_help,
        "medical_care": r.needs.medical_care, "grocery_days": [d.value for d in r.needs.grocery_days],
        "medicine_days": [d.value for d in r.needs.medicine_days],
        "visits": [_visit_values(v) for v in r.visits] + [_visit_values(None)],
    }


def _form_page(request: Request, who: Coordinator, session, key: str | None, values, errors=None,
               status_code=200) -> Response:
    people = [(v.id, v.name) for v in volunteers.models(session, who.site_id)]
    history = store.pair_history(session, who.site_id, key) if key else []
    return render(
        request, "resident_form.html", status_code, who=who, page="residents", key=key, values=values,
        errors=errors or FormErrors(), weekdays=WEEKDAYS, people=people, history=history,
    )


@router.get("/residents/new")
def new_resident_form(request: Request, who: Signed, session: DB) -> Response:
    return _form_page(request, who, session, None, _values_of(None))


@router.get("/residents/{key}")
def edit_resident_form(request: Request, key: str, who: Signed, session: DB) -> Response:
    row = store.get_resident(session, who.site_id, _resident_key(key))
    return _form_page(request, who, session, row.key, _values_of(store.to_model(row)))


def _read(form: dict[str, str], new: bool, errors: FormErrors, _) -> tuple[dict, dict, dict[str, str]]:
    """The resident as the scenario's JSON data, the values to show again, and the form field of each of
    the data's paths (for the messages)."""
    values: dict[str, object] = {name: clean(form, name, errors, _) for name in FIELDS}
    for name in NEEDS:
        values[name] = bool(form.get(name))
    values["grocery_days"] = [d for d in WEEKDAYS if form.get(f"g-wd-{d}")]
    values["medicine_days"] = [d for d in WEEKDAYS if form.get(f"m-wd-{d}")]
    names = {name: name for name in ("id", "name", "building", "address", "zone", "primary", "backup",
                                     "close_contact")}
    names.update({"needs.language": "language", "needs.notes": "notes", "kin": "kin_name",
                  "kin.name": "kin_name", "kin.relation": "kin_relation", "kin.phone": "kin_phone",
                  "needs.grocery_days": "g-days", "needs.medicine_days": "m-days"})
    data: dict[str, object] = {
        "name": values["name"], "building": values["building"] or None, "address": values["address"] or None,
        "zone": values["zone"] or None,
        "needs": {
            **{n: values[n] for n in NEEDS}, "language": values["language"] or None,
            "notes": values["notes"] or None, "grocery_days": values["grocery_days"],
            "medicine_days": values["medicine_days"],
        },
        "close_contact": {"yes": True, "no": False}.get(str(values["close_contact"])),
        "primary": values["primary"] or None, "backup": values["backup"] or None,
    }
    if values["kin_name"] or values["kin_phone"] or values["kin_relation"]:
        data["kin"] = {"name": values["kin_name"], "relation": values["kin_relation"] or None,
                       "phone": values["kin_phone"] or None}
    if new:
        data["id"] = values["id"]
    try:
        count = min(int(form.get("visits", "0")), MAX_VISITS)
    except ValueError:
        count = 0
    visits, rows = [], []
    for i in range(count):
        prefix = f"v{i}-"
        row: dict[str, object] = {f: clean(form, prefix + f, errors, _) for f in VISIT_FIELDS}
        row["weekdays"] = [d for d in WEEKDAYS if form.get(f"{prefix}wd-{d}")]
        removed = bool(form.get(prefix + "remove"))
        if removed or not (row["id"] or row["start"]):
            continue
        rows.append(row)
        j = len(visits)
        for f in ("id", "start", "minutes", "purpose", "weekdays"):
            names[f"visits[{j}].{f}"] = prefix + f
        names[f"visits[{j}]"] = prefix + "id"
        try:
            minutes = int(str(row["minutes"]) or "30")
        except ValueError:
            errors.add(prefix + "minutes", _("expected a whole number of minutes"))
            minutes = 30
        visits.append({"id": row["id"], "start": row["start"], "minutes": minutes,
                       "purpose": row["purpose"] or None, "weekdays": row["weekdays"]})
    data["visits"] = visits
    values["visits"] = rows + [_visit_values(None)]
    return data, values, names


def _save(request: Request, who: Coordinator, session, settings, form: dict[str, str], key: str | None):
    _ = gettext_of(request)
    errors = FormErrors()
    row = store.get_resident(session, who.site_id, _resident_key(key)) if key else None
    data, values, names = _read(form, row is None, errors, _)
    if not errors:
        try:
            model = (sc.Resident if row is None else store.ResidentUpdate).model_validate(data)
        except ValidationError as exc:
            errors.absorb(validation_problems(exc), names)
    if errors:
        return _form_page(request, who, session, key, values, errors, 422)
    try:
        if row is None:
            row = store.add_resident(session, who.site_id, model, utcnow())
        else:
            store.replace_resident(session, row, model, utcnow())
            publishing.refresh_calendars(session, who.site, utcnow(), keep_cancelled(settings))
        sites.validate_site(session, who.site, resident=row.key)
        session.flush()
    except (InputError, ConflictError) as exc:
        status = refused(session, who, exc, errors, names)
        return _form_page(request, who, session, key, values, errors, status)
    return redirect("/console/residents")


@router.post("/residents/new")
def add_resident(request: Request, who: Checked, session: DB, settings: Config, form: Form) -> Response:
    return _save(request, who, session, settings, form, None)


@router.post("/residents/{key}")
def edit_resident(request: Request, key: str, who: Checked, session: DB, settings: Config,
                  form: Form) -> Response:
    return _save(request, who, session, settings, form, key)


@router.post("/residents/{key}/delete")
def delete_resident(request: Request, key: str, who: Checked, session: DB) -> Response:
    row = store.get_resident(session, who.site_id, _resident_key(key))
    store.delete_resident(session, row)
    sites.validate_site(session, who.site)
    return redirect("/console/residents")
