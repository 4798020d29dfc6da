"""The plan week by week: the first weeks to publish, the later ones a forecast.

A long horizon (12 weeks, say) is planned as a whole so that the rules and the fair load hold across
it, but only its first weeks are firm: demand, health and availability will change before the later
ones come. :func:`weekly` reads a schedule's assignments and gaps per calendar week (7 days from the
horizon's start): people and skilled people short, the busiest and the mean planned hours, and who
reaches their 7-day cap, so a coordinator sees early the weeks where coverage fails or someone hits a
limit. Pure: no solver, no database.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping

from scheduler.domain.schedule import Assignment, Uncovered, WeekForecast

WEEK_DAYS = 7
#: Weeks from the horizon's start that are the schedule to publish; later weeks are a forecast.
PUBLISH_WEEKS = 2


def week_of(start: dt.date, date: dt.date) -> int:
    """The 0-based calendar week of the horizon that ``date`` falls in."""
    return (date - start).days // WEEK_DAYS


def weekly_hours(
    start: dt.date, days: int, assignments: Iterable[Assignment]
) -> dict[str, list[float]]:
    """Per volunteer, the planned hours of each week of the horizon (a shift counts in the week of the
    local date it starts on)."""
    weeks = (days + WEEK_DAYS - 1) // WEEK_DAYS
    hours: dict[str, list[float]] = defaultdict(lambda: [0.0] * weeks)
    for a in assignments:
        w = week_of(start, a.date)
        if 0 <= w < weeks:
            hours[a.volunteer][w] += a.hours
    return {v: [round(h, 2) for h in row] for v, row in hours.items()}


def weekly(
    start: dt.date,
    days: int,
    assignments: Iterable[Assignment],
    uncovered: Iterable[Uncovered],
    volunteers: Iterable[str],
    caps_hours: Mapping[str, float | None],
    publish_weeks: int = PUBLISH_WEEKS,
    hours: Mapping[str, list[float]] | None = None,
) -> list[WeekForecast]:
    """One row per calendar week of the horizon. ``caps_hours``: each volunteer's 7-day cap in hours
    (None: no cap); a volunteer whose planned hours within the week reach it is *at cap* that week.
    ``hours``: :func:`weekly_hours` of ``assignments`` when the caller has it already."""
    everyone = list(volunteers)
    if hours is None:
        hours = weekly_hours(start, days, assignments)
    short: dict[int, int] = defaultdict(int)
    skilled: dict[int, int] = defaultdict(int)
    for u in uncovered:
        w = week_of(start, u.date)
        short[w] += u.missing
        skilled[w] += sum(u.missing_skills.values())
    rows = []
    weeks = (days + WEEK_DAYS - 1) // WEEK_DAYS
    for w in range(weeks):
        planned = [hours[v][w] if v in hours else 0.0 for v in everyone]
        at_cap = [
            v for v, h in zip(everyone, planned, strict=True)
            if caps_hours.get(v) is not None and h > 0 and h >= caps_hours[v] - 1e-9
        ]
        first = start + dt.timedelta(days=w * WEEK_DAYS)
        last = start + dt.timedelta(days=min(days, (w + 1) * WEEK_DAYS) - 1)
        rows.append(WeekForecast(
            week=w + 1,
            start=first,
            end=last,
            forecast=w >= publish_weeks,
            people_short=short.get(w, 0),
            skilled_short=skilled.get(w, 0),
            busiest_hours=round(max(planned, default=0.0), 2),
            mean_hours=round(sum(planned) / len(planned), 2) if planned else 0.0,
            at_cap=at_cap,
        ))
    return rows
