"""A volunteer's own dated absences and wishes, changed from their own page.

The same steps and checks as ``PUT /sites/{id}/volunteers/{v}`` (:mod:`api.routes.volunteers`): the
volunteer as stored with one part changed, validated as a :class:`~scheduler.store.volunteers.VolunteerUpdate`
(pydantic: an absence's ``until`` before its ``from``, a post named twice...), written with
:func:`~scheduler.store.volunteers.replace_volunteer` and the whole site checked again
(:func:`~scheduler.store.sites.validate_site`: a wish naming a post or shift the site does not have).
Errors are InputError naming the scenario's fields (``unavailable[2].until``,
``preferences.unwanted_posts``...). Nothing else about the volunteer changes; an absence's reason is
optional and one of :class:`~scheduler.domain.scenario.AbsenceReason` (no free text from this page).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from scheduler.domain.errors import FieldProblem, InputError, validation_problems
from scheduler.store import sites, volunteers

#: At most this many absences on a volunteer (the page lists them all).
MAX_ABSENCES = 50


def _data(session: Session, row: volunteers.VolunteerRow) -> dict[str, Any]:
    return volunteers.model(session, row).model_dump(mode="json", by_alias=True, exclude={"health", "id"})


def _save(session: Session, site: sites.SiteRow, row: volunteers.VolunteerRow, data: dict[str, Any]) -> None:
    try:
        update = volunteers.VolunteerUpdate.model_validate(data)
    except ValidationError as exc:
        raise InputError("volunteer", validation_problems(exc)) from None
    volunteers.replace_volunteer(session, row, update)
    sites.validate_site(session, site, volunteer=row.key)
    session.flush()


def add_absence(
    session: Session,
    site: sites.SiteRow,
    row: volunteers.VolunteerRow,
    start: dt.date | None,
    until: dt.date | None,
    today: dt.date,
    reason: str | None = None,
) -> int:
    """Add a dated absence (whole local days, ``until`` inclusive) with an optional reason from the fixed
    list (``unavailable.reason`` names a value that is not on it); its index."""
    problems = []
    if start is None:
        problems.append(FieldProblem("unavailable.from", "pick the first day"))
    if until is None:
        problems.append(FieldProblem("unavailable.until", "pick the last day"))
    if until is not None and until < today:
        problems.append(FieldProblem("unavailable.until", f"must not be before today ({today.isoformat()})"))
    data = _data(session, row)
    if len(data["unavailable"]) >= MAX_ABSENCES:
        problems.append(FieldProblem("unavailable", f"at most {MAX_ABSENCES} absences"))
    if problems:
        raise InputError("volunteer", problems)
    assert start is not None and until is not None
    data["unavailable"].append(
        {"from": start.isoformat(), "until": until.isoformat(), "reason": reason or None}
    )
    index = len(data["unavailable"]) - 1
    try:
        _save(session, site, row, data)
    except InputError as exc:  # name the new absence's fields without its index
        raise InputError(
            "volunteer",
            [
                FieldProblem(p.field.replace(f"unavailable[{index}]", "unavailable"), p.message)
                for p in exc.problems
            ],
        ) from None
    return index


def remove_absence(
    session: Session, site: sites.SiteRow, row: volunteers.VolunteerRow, index: int
) -> None:
    data = _data(session, row)
    if not 0 <= index < len(data["unavailable"]):
        raise InputError("volunteer", [FieldProblem("unavailable", "no such absence")])
    del data["unavailable"][index]
    _save(session, site, row, data)


def set_wishes(
    session: Session,
    site: sites.SiteRow,
    row: volunteers.VolunteerRow,
    *,
    preferred_posts: list[str],
    unwanted_posts: list[str],
    preferred_shifts: list[str],
    unwanted_shifts: list[str],
    unwanted_weekdays: list[str],
) -> None:
    """Replace the volunteer's wishes (posts, shift templates, weekdays); their target hours stay."""
    data = _data(session, row)
    prefs = dict(data.get("preferences") or {})
    problems = []
    for name, wanted, unwanted in (
        ("posts", preferred_posts, unwanted_posts), ("shifts", preferred_shifts, unwanted_shifts)
    ):
        both = sorted(set(wanted) & set(unwanted))
        if both:
            problems.append(
                FieldProblem(f"preferences.unwanted_{name}", f"{', '.join(both)}: both wished and unwanted")
            )
    if problems:
        raise InputError("volunteer", problems)
    prefs.update(
        preferred_posts=preferred_posts,
        unwanted_posts=unwanted_posts,
        preferred_shifts=preferred_shifts,
        unwanted_shifts=unwanted_shifts,
        unwanted_weekdays=unwanted_weekdays,
    )
    data["preferences"] = prefs
    _save(session, site, row, data)
