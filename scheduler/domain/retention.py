"""What the retention period lets go of (issue 14): pure rules, applied by
:mod:`scheduler.services.retention`.

A health record has *ended* when its ``until`` lies before the cut-off day, or when a record that
starts later (so wins, see :class:`~scheduler.domain.scenario.HealthRecord`) and is open-ended began
before the cut-off day: from then on it no longer decides anything. Open-ended records that nothing
replaced still hold and are kept, however old.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from scheduler.domain.scenario import HealthRecord


def _day(value: dt.date | dt.datetime | None) -> dt.date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, dt.datetime) else value


def ended_before(records: Sequence[HealthRecord], day: dt.date) -> list[int]:
    """Indexes (in recorded order) of the records that ended before ``day``."""
    out = []
    for i, record in enumerate(records):
        until = _day(record.until)
        if until is not None:
            # a date is inclusive, a date-time exclusive: either way, over before the day after
            if until < day:
                out.append(i)
            continue
        start = _day(record.start)
        for j, later in enumerate(records):
            if j == i or later.until is not None:
                continue
            later_start = _day(later.start)
            if later_start is None or later_start >= day:
                continue
            wins = (start is None or later_start > start) or (later_start == start and j > i)
            if wins:
                out.append(i)
                break
    return out
