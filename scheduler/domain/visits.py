"""Residents' visits as posts of the rota: each resident with visits gets one post, ``visit:<resident id>``,
with a shift template per visit, which only the resident's primary (or, when the primary cannot, the
backup) may work (the restriction is compiled in :mod:`scheduler.domain.compile`).

The post carries what the visiting volunteer must know and nothing more: the address as its location and
the needs as its instructions. The resident's name, kin contact and guardians stay in the register
(coordinators only).
"""

from __future__ import annotations

import datetime as dt

from scheduler.domain.scenario import (
    VISIT_POST_PREFIX,
    Intensity,
    Post,
    Resident,
    Scenario,
    ShiftTemplate,
    Weekday,
    visit_post_id,
)

VISIT_KIND = "care_visit"
VISIT_POST_NAME = "Home visit"

_DAY_NAMES = {w: w.value.capitalize() for w in Weekday}


def address_of(resident: Resident) -> str | None:
    parts = [p for p in (resident.building, resident.address) if p]
    return ", ".join(parts) or None


def needs_text(resident: Resident) -> str:
    """The needs a visiting volunteer must know, as one line (no name, no kin, no diagnosis)."""
    needs = resident.needs
    parts = []
    if needs.daily_check_in:
        parts.append("daily check-in")
    if needs.grocery_days:
        parts.append("groceries on " + ", ".join(_DAY_NAMES[d] for d in needs.grocery_days))
    if needs.medicine_days:
        parts.append("medicine on " + ", ".join(_DAY_NAMES[d] for d in needs.medicine_days))
    if needs.mobility_help:
        parts.append("mobility help")
    if needs.medical_care:
        parts.append("medical care")
    if needs.language:
        parts.append(f"speaks {needs.language}")
    text = "; ".join(parts)
    if needs.notes:
        text = f"{text}. {needs.notes}" if text else needs.notes
    return text


def _end(start: dt.time, minutes: int) -> dt.time:
    return (dt.datetime.combine(dt.date(2000, 1, 1), start) + dt.timedelta(minutes=minutes)).time()


def visit_post(resident: Resident) -> Post | None:
    if not resident.visits:
        return None
    return Post(
        id=visit_post_id(resident.id),
        name=VISIT_POST_NAME,
        kind=VISIT_KIND,
        # a check-in, a delivery: light work a volunteer on limited duty may do; close-contact care is not
        intensity=Intensity.normal if resident.is_close_contact else Intensity.light,
        location=address_of(resident),
        instructions=needs_text(resident) or None,
        shifts=[
            ShiftTemplate(
                id=v.id, start=v.start, end=_end(v.start, v.minutes), weekdays=v.weekdays, required=1
            )
            for v in resident.visits
        ],
    )


def visit_posts(scenario: Scenario) -> list[Post]:
    return [p for p in (visit_post(r) for r in scenario.residents) if p is not None]


def all_posts(scenario: Scenario) -> list[Post]:
    """The scenario's posts and its residents' visit posts: every post the rota staffs."""
    return list(scenario.posts) + visit_posts(scenario)


def guardians_by_post(scenario: Scenario) -> dict[str, tuple[str | None, str | None]]:
    """Visit post id -> (primary, backup) of its resident."""
    return {visit_post_id(r.id): (r.primary, r.backup) for r in scenario.residents if r.visits}


def is_visit_post(post_id: str) -> bool:
    return post_id.startswith(VISIT_POST_PREFIX)
