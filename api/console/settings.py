"""The site's policy on a console page (``/console/settings``): the reminders before each shift (the
same setting as ``GET/PUT /sites/{id}/reminders``: VALARMs in the volunteers' feeds and ``shift.reminder``
webhook events) and whether every health update re-solves the published schedule at once
(``auto_resolve``, as in ``/sites/{id}/resolve-settings``; otherwise an "I'm unwell" is held for the
coordinator). Errors beside the field; nothing is saved then."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from api.console.web import Checked, Coordinator, Form, FormErrors, Signed, gettext_of, redirect, render
from api.deps import DB
from api.schemas.reminders import MAX_REMINDERS, ReminderSettings
from scheduler.store import sites

router = APIRouter(prefix="/console", include_in_schema=False)

_SEPARATORS = re.compile(r"[\s,;，、；]+")


def _page(request: Request, who: Coordinator, errors: FormErrors | None = None, values: dict | None = None,
          status_code: int = 200) -> Response:
    site = who.site
    current = {
        "reminder_hours": ", ".join(f"{h:g}" for h in sites.reminders_of(site)),
        "auto_resolve": site.auto_resolve,
    }
    return render(request, "settings.html", status_code, who=who, page="settings",
                  errors=errors or FormErrors(), values=values or current,
                  max_reminders=MAX_REMINDERS, done=request.query_params.get("done"))


@router.get("/settings")
def settings_page(request: Request, who: Signed) -> Response:
    return _page(request, who)


def parse_hours(text: str, errors: FormErrors, _) -> list[float] | None:
    """'12, 1' -> [12.0, 1.0]; problems beside ``reminder_hours``."""
    parts = [p for p in _SEPARATORS.split(text.strip()) if p]
    try:
        hours = [float(p) for p in parts]
    except ValueError:
        errors.add("reminder_hours", _("expected hours separated by commas, e.g. 12, 1"))
        return None
    if len(hours) > MAX_REMINDERS:
        errors.add("reminder_hours", _("at most %(n)d reminders") % {"n": MAX_REMINDERS})
    if any(not 0 < h <= 168 for h in hours):
        errors.add("reminder_hours", _("each between 0 and 168 hours before the shift"))
    elif any(round(h * 60) != h * 60 for h in hours):
        errors.add("reminder_hours", _("whole minutes only"))
    if len(set(hours)) != len(hours):
        errors.add("reminder_hours", _("each offset at most once"))
    return None if errors else hours


@router.post("/settings")
def save_settings(request: Request, who: Checked, session: DB, form: Form) -> Response:
    _ = gettext_of(request)
    errors = FormErrors()
    values = {"reminder_hours": form.get("reminder_hours", "")[:200],
              "auto_resolve": bool(form.get("auto_resolve"))}
    hours = parse_hours(values["reminder_hours"], errors, _)
    if hours is not None:
        try:
            hours = ReminderSettings(hours_before=hours).hours_before  # the API's own check, too
        except ValidationError:
            errors.add("reminder_hours", _("expected hours separated by commas, e.g. 12, 1"))
    if errors or hours is None:
        return _page(request, who, errors, values, 422)
    site = sites.get_site(session, who.site_id, lock=True)
    if sites.reminders_of(site) != hours:
        sites.set_reminders(site, hours)
    sites.set_auto_resolve(site, values["auto_resolve"])
    session.flush()
    return redirect("/console/settings?done=saved")
