"""History from the previous period: the published shifts before a new horizon become the exact
``recent_shifts`` of the volunteers, so the summary form of ``history`` (counts placed conservatively
on the last days) is needed only for imports.

Pure: no DB, no HTTP.
"""

from __future__ import annotations

import datetime as dt

from scheduler.domain.scenario import PastShift, Scenario
from scheduler.domain.schedule import Schedule

HISTORY_WINDOW_DAYS = 28  # the longest rule window that looks back (the heavy share over 28 days)


def with_published_history(scenario: Scenario, published: Schedule | None) -> Scenario:
    """``scenario`` with each volunteer's history taken from ``published`` where it precedes the
    horizon: every published shift that starts before the horizon's first day (and within the last
    28 days) is a recent shift, with its post, template and night flag; the volunteer's own recent
    shifts from before the published period are kept. A volunteer with such shifts loses the summary
    counts (exact shifts replace them). Unchanged when nothing published lies before the horizon."""
    if published is None or published.start >= scenario.horizon.start:
        return scenario
    first = scenario.horizon.start - dt.timedelta(days=HISTORY_WINDOW_DAYS)
    by_volunteer: dict[str, list[PastShift]] = {}
    for a in published.assignments:
        if first <= a.date < scenario.horizon.start:
            by_volunteer.setdefault(a.volunteer, []).append(
                PastShift(start=a.start, end=a.end, post=a.post, shift=a.shift, night=a.night)
            )
    if not by_volunteer:
        return scenario
    volunteers = []
    for v in scenario.volunteers:
        past = by_volunteer.get(v.id)
        if past is None:
            volunteers.append(v)
            continue
        older = [s for s in v.history.recent_shifts if _local_date(s.start, scenario) < published.start]
        shifts = sorted([*older, *past], key=lambda s: _aware(s.start, scenario))
        history = v.history.model_copy(
            update={
                "recent_shifts": shifts,
                "consecutive_days_worked": 0,
                "consecutive_nights": 0,
                "consecutive_heavy_days": 0,
                "hours_last_7_days": 0,
            }
        )
        volunteers.append(v.model_copy(update={"history": history}))
    return scenario.model_copy(update={"volunteers": volunteers})


def _local_date(instant: dt.datetime, scenario: Scenario) -> dt.date:
    """The site-local date of ``instant`` (naive = site-local already)."""
    if instant.tzinfo is None:
        return instant.date()
    return instant.astimezone(scenario.site.zone).date()


def _aware(instant: dt.datetime, scenario: Scenario) -> dt.datetime:
    return instant.replace(tzinfo=scenario.site.zone) if instant.tzinfo is None else instant
