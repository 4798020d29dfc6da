"""History from the previous period: the published shifts before a new horizon become the exact
``recent_shifts`` of the volunteers, so the summary form of ``history`` (counts placed conservatively
on the last days) is needed only for imports.

Where a shift's worked record is known (:mod:`scheduler.domain.worked`), the record wins over the
published shift: a no-show removes it, actual times replace the published ones, an extra shift is added.
Published shifts without a record stay as published.

Pure: no DB, no HTTP.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from scheduler.domain.scenario import PastShift, Scenario
from scheduler.domain.schedule import Assignment, Schedule
from scheduler.domain.worked import ShiftKey, WorkedShift, WorkStatus

HISTORY_WINDOW_DAYS = 28  # the longest rule window that looks back (the heavy share over 28 days)


def with_published_history(
    scenario: Scenario, published: Schedule | None, worked: Sequence[WorkedShift] = ()
) -> Scenario:
    """``scenario`` with each volunteer's history taken from ``published`` where it precedes the
    horizon: every published shift that starts before the horizon's first day (and within the last
    28 days) is a recent shift, with its post, template and night flag, as its worked record in
    ``worked`` has it (none for a no-show, the actual times where recorded); the extra shifts of
    ``worked`` in that span are added. The volunteer's own recent shifts from before the published period
    (or before the first extra shift, without one) are kept. A volunteer with such shifts loses the
    summary counts (exact shifts replace them). Unchanged when nothing is known before the horizon."""
    first = scenario.horizon.start - dt.timedelta(days=HISTORY_WINDOW_DAYS)
    start = scenario.horizon.start
    zone = scenario.site.zone
    records = {r.key: r for r in worked if r.key is not None}
    by_volunteer: dict[str, list[PastShift]] = {}
    period_start: dt.date | None = None
    if published is not None and published.start < start:
        period_start = published.start
        for a in published.assignments:
            if first <= a.date < start:
                shift = _as_worked(a, records.get(ShiftKey.of(a)))
                by_volunteer.setdefault(a.volunteer, [])
                if shift is not None:
                    by_volunteer[a.volunteer].append(shift)
    for r in worked:
        if r.key is not None or r.status != WorkStatus.extra or r.start is None or r.end is None:
            continue
        day = r.start.astimezone(zone).date()
        if first <= day < start:
            period_start = day if period_start is None else min(period_start, day)
            by_volunteer.setdefault(r.volunteer, []).append(
                PastShift(start=r.start.astimezone(zone), end=r.end.astimezone(zone), post=r.post)
            )
    if period_start is None or not by_volunteer:
        return scenario
    volunteers = []
    for v in scenario.volunteers:
        past = by_volunteer.get(v.id)
        if past is None:
            volunteers.append(v)
            continue
        older = [s for s in v.history.recent_shifts if _local_date(s.start, scenario) < period_start]
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


def _as_worked(a: Assignment, record: WorkedShift | None) -> PastShift | None:
    """The published shift ``a`` as it was worked: as published without a record, None for a no-show,
    else with the record's times (a start without an end yet keeps the published end, unless it is
    already past it)."""
    if record is None:
        return PastShift(start=a.start, end=a.end, post=a.post, shift=a.shift, night=a.night)
    if record.status == WorkStatus.no_show:
        return None
    zone = a.start.tzinfo
    start = record.start.astimezone(zone) if record.start is not None else a.start
    if record.end is not None:
        end = record.end.astimezone(zone)
    else:
        end = max(a.end, start + dt.timedelta(minutes=1))
    return PastShift(start=start, end=end, post=a.post, shift=a.shift, night=a.night)


def _local_date(instant: dt.datetime, scenario: Scenario) -> dt.date:
    """The site-local date of ``instant`` (naive = site-local already)."""
    if instant.tzinfo is None:
        return instant.date()
    return instant.astimezone(scenario.site.zone).date()


def _aware(instant: dt.datetime, scenario: Scenario) -> dt.datetime:
    return instant.replace(tzinfo=scenario.site.zone) if instant.tzinfo is None else instant
