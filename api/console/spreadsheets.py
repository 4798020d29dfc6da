"""Spreadsheets in and out of the console: volunteers imported from CSV or .xlsx (all rows or none,
every bad value reported by its cell, e.g. ``C5``), a template of each to download, and the published
rota exported as .xlsx.

An imported row with a new id adds the volunteer; one with an existing id updates the columns the sheet
has (name, phone, e-mail, skills, weekly hours cap) and keeps the rest (availability, absences,
preferences, history, health). Adding and replacing go through the store functions the API's
``POST/PUT /sites/{id}/volunteers`` use, then the same whole-site check.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from pydantic import ValidationError

from api.console.pages import published_schedule, site_posts
from api.console.web import (
    Checked,
    Coordinator,
    FormErrors,
    Signed,
    gettext_of,
    redirect,
    render,
    rollback,
)
from api.deps import DB, Config, keep_cancelled
from scheduler.domain import scenario as sc
from scheduler.domain.errors import (
    ConflictError,
    FieldProblem,
    InputError,
    NotFoundError,
    validation_problems,
)
from scheduler.domain.limits import SizeLimits
from scheduler.services import publishing
from scheduler.store import sites, volunteers
from scheduler.store.db import utcnow

router = APIRouter(prefix="/console", include_in_schema=False)

COLUMNS = ("id", "name", "phone", "email", "skills", "max_hours_per_week")
REQUIRED = ("id", "name")
MAX_ROWS = 2000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXAMPLE = ("v101", "Li Wei", "+86 138 0000 0101", "", "medical, driver", "24")


@dataclass
class RowProblem:
    row: int  # the sheet's row number (1 is the header)
    cell: str  # e.g. "C5"; the row's "A5" for a problem of the whole row
    message: str


@dataclass
class Parsed:
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    columns: dict[str, int] = field(default_factory=dict)  # column name -> 1-based column
    problems: list[RowProblem] = field(default_factory=list)


def _cells(content: bytes, filename: str, _) -> list[list[str]]:
    """The sheet's cells as text, row by row; InputError naming ``file`` for what cannot be read."""
    if content[:2] == b"PK" or filename.lower().endswith(".xlsx"):
        try:
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception:
            raise InputError("file", [FieldProblem("file", _("not a readable .xlsx file"))]) from None
        sheet = workbook.worksheets[0]
        out = []
        for row in sheet.iter_rows(max_row=MAX_ROWS + 2, values_only=True):
            out.append(["" if v is None else (f"{v:g}" if isinstance(v, float) else str(v)) for v in row])
        workbook.close()
        return out
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in Chinese saves CSV in GB18030
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InputError("file", [FieldProblem("file", _("not a CSV file in UTF-8 or GB18030"))])
    try:
        dialect = csv.Sniffer().sniff(text[:2048], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [row for row in csv.reader(io.StringIO(text), dialect)][: MAX_ROWS + 2]


def parse(content: bytes, filename: str, _) -> Parsed:
    """The sheet's rows by column name (the header names them; unknown columns are problems)."""
    out = Parsed()
    cells = _cells(content, filename, _)
    if not cells or not any(c.strip() for c in cells[0]):
        out.problems.append(RowProblem(1, "A1", _("the first row must name the columns: %(columns)s")
                                       % {"columns": ", ".join(COLUMNS)}))
        return out
    for i, name in enumerate(cells[0], start=1):
        key = name.strip().lower()
        if not key:
            continue
        cell = f"{get_column_letter(i)}1"
        if key not in COLUMNS:
            message = _("unknown column “%(name)s” (known: %(columns)s)")
            known = {"name": name.strip(), "columns": ", ".join(COLUMNS)}
            out.problems.append(RowProblem(1, cell, message % known))
        elif key in out.columns:
            out.problems.append(RowProblem(1, cell, _("column “%(name)s” twice") % {"name": key}))
        else:
            out.columns[key] = i
    for name in REQUIRED:
        if name not in out.columns:
            out.problems.append(RowProblem(1, "A1", _("a column “%(name)s” is required") % {"name": name}))
    if len(cells) - 1 > MAX_ROWS:
        out.problems.append(RowProblem(MAX_ROWS + 2, f"A{MAX_ROWS + 2}", _("at most %(n)d rows at a time")
                                       % {"n": MAX_ROWS}))
    for number, row in enumerate(cells[1 : MAX_ROWS + 1], start=2):
        values = {
            name: (row[col - 1].strip() if col - 1 < len(row) else "") for name, col in out.columns.items()
        }
        if any(values.values()):
            out.rows.append((number, values))
    return out


def _cell(parsed: Parsed, row: int, column: str) -> str:
    return f"{get_column_letter(parsed.columns.get(column, 1))}{row}"


def volunteers_of(
    parsed: Parsed, existing: dict[str, sc.Volunteer], _
) -> tuple[list[sc.Volunteer], list[sc.Volunteer]]:
    """The rows as volunteers to add and to update; every bad value goes to ``parsed.problems``."""
    new, changed, seen = [], [], {}
    for number, values in parsed.rows:
        if "\x00" in "".join(values.values()):
            parsed.problems.append(RowProblem(number, f"A{number}", _("must not contain a NUL character")))
            continue
        vid = values.get("id", "")
        if vid in seen:
            parsed.problems.append(RowProblem(number, _cell(parsed, number, "id"),
                                              _("the same id as row %(row)d") % {"row": seen[vid]}))
            continue
        seen[vid] = number
        base = existing.get(vid)
        data = base.model_dump(mode="json", by_alias=True) if base is not None else {"id": vid}
        data["name"] = values.get("name", "")
        contact = dict(data.get("contact") or {})
        for name in ("phone", "email"):
            if name in values:
                contact[name] = values[name] or None
        data["contact"] = contact
        if "skills" in values:
            text = values["skills"].replace("，", ",").replace("、", ",")
            data["skills"] = [s.strip() for s in text.split(",") if s.strip()]
        if "max_hours_per_week" in values:
            text = values["max_hours_per_week"]
            try:
                data["max_hours_per_week"] = float(text) if text else None
            except ValueError:
                parsed.problems.append(RowProblem(number, _cell(parsed, number, "max_hours_per_week"),
                                                  _("expected a number of hours")))
                continue
        try:
            model = sc.Volunteer.model_validate(data)
        except ValidationError as exc:
            for p in validation_problems(exc):
                top = p.field.split(".")[0].split("[")[0]
                column = {"contact": p.field.split(".")[-1] if "." in p.field else "phone"}.get(top, top)
                parsed.problems.append(RowProblem(number, _cell(parsed, number, column), p.message))
            continue
        (new if base is None else changed).append(model)
    return new, changed


def _template_rows(_) -> list[tuple[str, ...]]:
    return [COLUMNS, EXAMPLE]


@router.get("/people/import/template.csv")
def csv_template(request: Request, who: Signed) -> Response:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(_template_rows(gettext_of(request)))
    return Response(("\ufeff" + buffer.getvalue()).encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="volunteers.csv"'})


def _xlsx(workbook: Workbook, filename: str) -> Response:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return Response(buffer.getvalue(), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/people/import/template.xlsx")
def xlsx_template(request: Request, who: Signed) -> Response:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "volunteers"
    for row in _template_rows(gettext_of(request)):
        sheet.append(list(row))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    return _xlsx(workbook, "volunteers.xlsx")


def _page(request: Request, who: Coordinator, status_code=200, problems=None, errors=None, done=None):
    return render(request, "import.html", status_code, who=who, page="people", problems=problems or [],
                  errors=errors or FormErrors(), done=done)


@router.get("/people/import")
def import_page(request: Request, who: Signed, added: int | None = None, updated: int | None = None):
    done = {"added": added, "updated": updated} if added is not None else None
    return _page(request, who, done=done)


async def uploaded(request: Request) -> tuple[str, bytes] | None:
    """The posted form's ``file``: its name and content (None without one)."""
    form = await request.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str) or not upload.filename:
        return None
    return upload.filename, await upload.read()


Upload = Annotated[tuple[str, bytes] | None, Depends(uploaded)]


@router.post("/people/import")
def import_upload(request: Request, who: Checked, session: DB, settings: Config, upload: Upload) -> Response:
    _ = gettext_of(request)
    errors = FormErrors()
    if upload is None:
        errors.add("file", _("choose a .csv or .xlsx file"))
        return _page(request, who, 422, errors=errors)
    filename, content = upload
    try:
        parsed = parse(content, filename, _)
    except InputError as exc:
        errors.absorb(exc.problems, {"file": "file"})
        return _page(request, who, 422, errors=errors)
    site = sites.get_site(session, who.site_id, lock=True)
    existing = {v.id: v for v in volunteers.models(session, site.id)}
    new, changed = volunteers_of(parsed, existing, _) if not parsed.problems else ([], [])
    if parsed.problems:
        parsed.problems.sort(key=lambda p: (p.row, p.cell))
        return _page(request, who, 422, problems=parsed.problems)
    now = utcnow()
    try:
        for v in new:
            volunteers.add_volunteer(session, site.id, v, now)
        for v in changed:
            row = volunteers.get_volunteer(session, site.id, v.id)
            update = volunteers.VolunteerUpdate.model_validate(
                v.model_dump(mode="json", by_alias=True, exclude={"health"})
            )
            volunteers.replace_volunteer(session, row, update)
        sites.validate_site(session, site, limits=SizeLimits.of(settings))
        if changed:
            publishing.refresh_calendars(session, site, now, keep_cancelled(settings))
        session.flush()
    except (InputError, ConflictError) as exc:
        rollback(session)
        who.site = sites.get_site(session, who.site_id)
        problems = [RowProblem(0, "", str(p)) for p in exc.problems] or [RowProblem(0, "", str(exc))]
        return _page(request, who, 409, problems=problems)
    return redirect(f"/console/people/import?added={len(new)}&updated={len(changed)}")


# ---------------------------------------------------------------------------------------- export


@router.get("/rota.xlsx")
def export_rota(who: Signed, session: DB, settings: Config) -> Response:
    """The published schedule as a workbook: every assignment, the gaps, and people x days."""
    schedule = published_schedule(session, who.site)
    if schedule is None:
        raise NotFoundError("published schedule")
    people = {v.id: v for v in volunteers.models(session, who.site_id)}
    posts = {p.id: p for p in site_posts(session, who.site_id)}
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "assignments"
    sheet.append(["date", "start", "end", "post", "shift", "volunteer", "name", "phone", "hours", "night"])
    for a in sorted(schedule.assignments, key=lambda a: (a.start, a.post, a.volunteer)):
        v = people.get(a.volunteer)
        sheet.append([a.date, a.start.strftime("%H:%M"), a.end.strftime("%H:%M"),
                      posts[a.post].name if a.post in posts else a.post, a.shift, a.volunteer,
                      v.name if v else a.volunteer, v.contact.phone if v else None, a.hours, a.night])
    gaps = workbook.create_sheet("gaps")
    gaps.append(["date", "start", "end", "post", "shift", "required", "assigned", "missing", "reason"])
    red = PatternFill("solid", fgColor="FDE8E7")
    for u in schedule.uncovered:
        gaps.append([u.date, u.start.strftime("%H:%M"), u.end.strftime("%H:%M"),
                     posts[u.post].name if u.post in posts else u.post, u.shift, u.required, u.assigned,
                     u.missing, u.reason])
        for cell in gaps[gaps.max_row]:
            cell.fill = red
    days = [schedule.start + dt.timedelta(days=i) for i in range(schedule.days)]
    grid = workbook.create_sheet("people x days")
    grid.append(["volunteer", *days])
    cells: dict[tuple[str, dt.date], list[str]] = {}
    for a in sorted(schedule.assignments, key=lambda a: a.start):
        cells.setdefault((a.volunteer, a.date), []).append(f"{a.start.strftime('%H:%M')} {a.post}")
    for vid, v in people.items():
        grid.append([v.name, *["\n".join(cells.get((vid, d), [])) for d in days]])
    for ws in workbook.worksheets:
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "B2"
    return _xlsx(workbook, f"rota-{schedule.start.isoformat()}.xlsx")
