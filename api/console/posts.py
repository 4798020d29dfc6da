"""Posts and their shift templates, edited from the console: the same store functions and checks as
``POST/PUT/DELETE /sites/{id}/posts[/{post}]`` (:mod:`api.routes.posts`), a bad value shown beside its
field (``shifts[1].end`` beside that template's end time)."""

from __future__ import annotations

import re

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
from api.deps import DB, Config, check_key, keep_cancelled
from scheduler.domain import scenario as sc
from scheduler.domain.errors import ConflictError, InputError, validation_problems
from scheduler.domain.limits import SizeLimits
from scheduler.services import publishing
from scheduler.store import posts as post_store
from scheduler.store import sites
from scheduler.store.db import utcnow

router = APIRouter(prefix="/console", include_in_schema=False)

WEEKDAYS = [d.value for d in sc.Weekday]
INTENSITIES = [i.value for i in sc.Intensity]
POST_FIELDS = ("id", "name", "kind", "intensity", "location", "instructions")
TEMPLATE_FIELDS = ("id", "start", "end", "required", "skills", "intensity")
#: Template rows a form may post (more are ignored).
MAX_TEMPLATES = 50
_SKILL = re.compile(r"^\s*([^\s:=×]+)\s*(?:[:=×]\s*(\d+))?\s*$")


def _template_values(t: sc.ShiftTemplate) -> dict[str, object]:
    return {
        "id": t.id,
        "start": t.start.strftime("%H:%M"),
        "end": t.end.strftime("%H:%M"),
        "required": str(t.required),
        "skills": ", ".join(f"{k}:{v}" for k, v in t.skills.items()),
        "intensity": t.intensity.value if t.intensity else "",
        "weekdays": [d.value for d in t.weekdays],
        "dates": t.dates,
    }


def _blank_template() -> dict[str, object]:
    return {"id": "", "start": "", "end": "", "required": "1", "skills": "", "intensity": "",
            "weekdays": list(WEEKDAYS), "dates": None}


def _values_of(post: sc.Post | None) -> dict[str, object]:
    if post is None:
        return {"id": "", "name": "", "kind": "", "intensity": "normal", "location": "", "instructions": "",
                "templates": [_blank_template()]}
    return {
        "id": post.id, "name": post.name, "kind": post.kind, "intensity": post.intensity.value,
        "location": post.location or "", "instructions": post.instructions or "",
        "templates": [_template_values(t) for t in post.shifts] + [_blank_template()],
    }


def _form_page(request: Request, who: Coordinator, key: str | None, values, errors=None, status_code=200):
    return render(
        request, "post_form.html", status_code, who=who, page="posts", key=key, values=values,
        errors=errors or FormErrors(), weekdays=WEEKDAYS, intensities=INTENSITIES,
    )


@router.get("/posts")
def posts_page(request: Request, who: Signed, session: DB, saved: str | None = None) -> Response:
    rows = [post_store.to_model(p) for p in post_store.list_posts(session, who.site_id)]
    return render(request, "posts.html", who=who, page="posts", posts=rows, saved=saved)


@router.get("/posts/new")
def new_post_form(request: Request, who: Signed) -> Response:
    return _form_page(request, who, None, _values_of(None))


@router.get("/posts/{key}")
def edit_post_form(request: Request, key: str, who: Signed, session: DB) -> Response:
    row = post_store.get_post(session, who.site_id, check_key(key, "post"))
    return _form_page(request, who, row.key, _values_of(post_store.to_model(row)))


def _skills(text: str, field: str, errors: FormErrors, _) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in re.split(r"[,;，、]", text))):
        match = _SKILL.match(part)
        if match is None:
            errors.add(field, _("write skills as name:count, e.g. medical:1, driver:1"))
            return {}
        out[match.group(1)] = int(match.group(2) or 1)
    return out


def _read(form: dict[str, str], new: bool, errors: FormErrors, _) -> tuple[dict, dict, dict[str, str]]:
    """The post as the scenario's JSON data, the values to show again, and which form field each of the
    data's paths is (for the messages)."""
    values: dict[str, object] = {name: clean(form, name, errors, _) for name in POST_FIELDS}
    data: dict[str, object] = {
        "name": values["name"],
        "kind": values["kind"] or "other",
        "intensity": values["intensity"] or "normal",
        "location": values["location"] or None, "instructions": values["instructions"] or None,
    }
    if new:
        data["id"] = values["id"]
    names = {name: name for name in POST_FIELDS}
    try:
        count = min(int(form.get("templates", "0")), MAX_TEMPLATES)
    except ValueError:
        count = 0
    shifts, rows = [], []
    seen: set[str] = set()
    for i in range(count):
        prefix = f"t{i}-"
        row: dict[str, object] = {f: clean(form, prefix + f, errors, _) for f in TEMPLATE_FIELDS}
        row["weekdays"] = [d for d in WEEKDAYS if form.get(f"{prefix}wd-{d}")]
        row["dates"] = None
        removed = bool(form.get(prefix + "remove"))
        if removed or not (row["id"] or row["start"] or row["end"]):
            if not removed:
                rows.append(row)  # the blank row for a new template stays on the form
            continue
        rows.append(row)
        if row["id"] and row["id"] in seen:
            errors.add(prefix + "id", _("another shift of this post has this id"))
        seen.add(str(row["id"]))
        j = len(shifts)
        for f in ("id", "start", "end", "required", "skills", "intensity", "weekdays"):
            names[f"shifts[{j}].{f}"] = prefix + f
        names[f"shifts[{j}]"] = prefix + "id"
        try:
            required = int(str(row["required"]) or "1")
        except ValueError:
            errors.add(prefix + "required", _("expected a whole number of people"))
            required = 1
        shift: dict[str, object] = {
            "id": row["id"], "start": row["start"], "end": row["end"], "weekdays": row["weekdays"],
            "required": required, "skills": _skills(str(row["skills"]), prefix + "skills", errors, _),
        }
        if row["intensity"]:
            shift["intensity"] = row["intensity"]
        shifts.append(shift)
    data["shifts"] = shifts
    names["shifts"] = f"t{len(rows) - 1}-id" if rows else "name"
    if not rows or rows[-1]["id"] or rows[-1]["start"] or rows[-1]["end"]:
        rows.append(_blank_template())  # always a blank row to add a template
    values["templates"] = rows
    return data, values, names


def _save(request: Request, who: Coordinator, session, settings, form: dict[str, str], key: str | None):
    _ = gettext_of(request)
    errors = FormErrors()
    row = post_store.get_post(session, who.site_id, check_key(key, "post")) if key else None
    data, values, names = _read(form, row is None, errors, _)
    if not errors:
        try:
            cls = sc.Post if row is None else post_store.PostUpdate
            model = cls.model_validate(data)
        except ValidationError as exc:
            errors.absorb(validation_problems(exc), names)
    if errors:
        return _form_page(request, who, key, values, errors, 422)
    try:
        if row is None:
            row = post_store.add_post(session, who.site_id, model)
            sites.validate_site(session, who.site, post=row.key, limits=SizeLimits.of(settings))
        else:
            post_store.replace_post(session, row, model)
            sites.validate_site(session, who.site, limits=SizeLimits.of(settings))
            publishing.refresh_calendars(session, who.site, utcnow(), keep_cancelled(settings), post=row.key)
        session.flush()
    except (InputError, ConflictError) as exc:
        return _form_page(request, who, key, values, errors, refused(session, who, exc, errors, names))
    return redirect(f"/console/posts?saved={row.key}")


@router.post("/posts/new")
def add_post(request: Request, who: Checked, session: DB, settings: Config, form: Form) -> Response:
    return _save(request, who, session, settings, form, None)


@router.post("/posts/{key}")
def edit_post(
    request: Request, key: str, who: Checked, session: DB, settings: Config, form: Form
) -> Response:
    return _save(request, who, session, settings, form, key)


@router.post("/posts/{key}/delete")
def delete_post(request: Request, key: str, who: Checked, session: DB) -> Response:
    row = post_store.get_post(session, who.site_id, check_key(key, "post"))
    post_store.delete_post(session, row)
    sites.validate_site(session, who.site)  # ConflictError (a pin names it, the last post): a 409 page
    return redirect("/console/posts")
