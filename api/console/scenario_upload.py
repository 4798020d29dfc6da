"""Upload a scenario file from the console: the same step as ``POST /sites`` (:mod:`api.routes.sites`):
``sites.import_scenario`` makes a new site holding the whole scenario and an admin token for it, shown
once; each volunteer it brings with health records is written to the new site's health audit log (as
the API does). As in the API, it needs an admin token: the form asks for one of the signed-in site (a console
session does not carry the admin role). Bad JSON, an invalid scenario (each problem naming its field
path) and a refused token are shown beside their field, never a 500.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError

from api.console.spreadsheets import Upload
from api.console.web import Checked, Coordinator, FormErrors, Signed, gettext_of, render, rollback
from api.deps import DB, Config
from scheduler.domain import scenario as sc
from scheduler.domain.errors import ConflictError, InputError, validation_problems
from scheduler.domain.limits import SizeLimits
from scheduler.services import health_data
from scheduler.settings import token_expiry
from scheduler.store import access, sites
from scheduler.store.db import utcnow

router = APIRouter(prefix="/console", include_in_schema=False)

#: The largest scenario file accepted (bytes); the API's request limit is of the same order.
MAX_SCENARIO_BYTES = 5 * 1024 * 1024
#: At most this many problems are listed beside the file field.
MAX_PROBLEMS = 20


def _page(request: Request, who: Coordinator, status_code: int = 200, errors: FormErrors | None = None,
          created: dict | None = None) -> Response:
    return render(request, "scenario_upload.html", status_code, who=who, page="posts",
                  errors=errors or FormErrors(), created=created)


@router.get("/scenario")
def scenario_page(request: Request, who: Signed) -> Response:
    return _page(request, who)


async def _form_token(request: Request) -> str:
    form = await request.form()
    value = form.get("admin_token")
    return value.strip()[:200] if isinstance(value, str) else ""


AdminField = Annotated[str, Depends(_form_token)]


@router.post("/scenario")
def scenario_upload(request: Request, who: Checked, session: DB, settings: Config, upload: Upload,
                    token: AdminField) -> Response:
    _ = gettext_of(request)
    errors = FormErrors()
    if not token:
        errors.add("admin_token", _("an admin token of this site is required (as for POST /sites)"))
    else:
        row = access.api_token(session, token)
        if row is None or row.site_id != who.site_id:
            errors.add("admin_token", _("not a valid token of this site (unknown, revoked or expired)"))
        elif not row.admin:
            errors.add("admin_token",
                       _("this is a coordinator token: importing a scenario needs an admin token"))
    scenario = None
    if upload is None:
        errors.add("file", _("choose a scenario file (.json)"))
    else:
        _filename, content = upload
        if len(content) > MAX_SCENARIO_BYTES:
            limit = {"mib": MAX_SCENARIO_BYTES // 2**20}
            errors.add("file", _("the file is larger than %(mib)d MiB") % limit)
        else:
            try:
                data = json.loads(content.decode("utf-8-sig"))
            except UnicodeDecodeError:
                errors.add("file", _("the file is not UTF-8 text"))
            except json.JSONDecodeError as exc:
                errors.add("file", _("not valid JSON: line %(line)d, column %(column)d: %(message)s")
                                % {"line": exc.lineno, "column": exc.colno, "message": exc.msg})
            else:
                try:
                    scenario = sc.Scenario.model_validate(data, context=sc.OLD_DATA)
                except ValidationError as exc:
                    problems = validation_problems(exc)
                    listed = [str(p) for p in problems[:MAX_PROBLEMS]]
                    if len(problems) > MAX_PROBLEMS:
                        listed.append(_("and %(num)d more problems") % {"num": len(problems) - MAX_PROBLEMS})
                    errors.add("file", "; ".join(listed))  # one message: one id for aria-describedby
    if errors or scenario is None:
        return _page(request, who, 422, errors=errors)
    now = utcnow()
    try:
        site = sites.import_scenario(session, scenario, now, SizeLimits.of(settings))
        health_data.audit_import(session, site.id, who.actor, scenario, "console", now)
        new_token = access.create_api_token(
            session, site.id, "created with the site", now, expires_at=token_expiry(settings, now), admin=True
        )
        session.flush()
    except (InputError, ConflictError) as exc:
        rollback(session)
        who.site = sites.get_site(session, who.site_id)
        errors.add("file", "; ".join(str(p) for p in getattr(exc, "problems", None) or [exc]))
        return _page(request, who, 422, errors=errors)
    created = {"id": site.id, "name": site.name, "token": new_token,
               "posts": len(scenario.posts), "volunteers": len(scenario.volunteers)}
    return _page(request, who, 201, created=created)
