"""A volunteer's health at an instant, from their history of records: where records overlap, the one that
starts later wins (ties: the later recorded), as in the scheduler (:func:`scheduler.domain.compile.
effective_health`); no record is fit. A date ``from`` starts at the site's midnight, a date ``until`` is
inclusive (it ends at the next midnight).

Pure: no DB, no HTTP.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from scheduler.domain import scenario as sc

#: Statuses that keep someone off every shift.
OFF_DUTY = ("sick", "isolating")


@dataclass
class Status:
    status: str  # fit, limited, recovering, sick, isolating
    start: sc.When | None
    until: sc.When | None
    infectious: bool = False

    @property
    def off_duty(self) -> bool:
        return self.status in OFF_DUTY


def _instant(value: sc.When, zone: ZoneInfo, *, end: bool) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    day = value + dt.timedelta(days=1) if end else value  # a date until is inclusive
    return dt.datetime.combine(day, dt.time(), tzinfo=zone)


def status_at(records: list[sc.HealthRecord], at: dt.datetime, zone: ZoneInfo) -> Status:
    """The health status that holds at ``at``: of the records covering it, the one that starts latest
    (for equal starts, the later recorded) wins, as in the scheduler; none is fit."""
    best: tuple[dt.datetime, int, sc.HealthRecord] | None = None
    floor = dt.datetime.min.replace(tzinfo=dt.UTC)
    for index, r in enumerate(records):
        start = _instant(r.start, zone, end=False) if r.start is not None else floor
        if start > at or (r.until is not None and _instant(r.until, zone, end=True) <= at):
            continue
        if best is None or (start, index) >= (best[0], best[1]):
            best = (start, index, r)
    if best is None:
        return Status("fit", None, None)
    r = best[2]
    return Status(r.status.value, r.start, r.until, r.infectious)


def next_status(records: list[sc.HealthRecord], at: dt.datetime, zone: ZoneInfo) -> Status | None:
    """The soonest change of status after ``at`` (a record that starts later), if any."""
    later = [
        (_instant(r.start, zone, end=False), i, r)
        for i, r in enumerate(records)
        if r.start is not None and _instant(r.start, zone, end=False) > at
    ]
    if not later:
        return None
    _, _, r = min(later, key=lambda item: (item[0], -item[1]))
    return Status(r.status.value, r.start, r.until, r.infectious)
