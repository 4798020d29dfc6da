"""Sent reminders: each (site, event UID, start, offset) is claimed once, also by two sessions (two
workers); a moved shift (another start) is its own reminder; old rows are forgotten."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from scheduler.domain import scenario as sc
from scheduler.store import reminders, sites
from scheduler.store.db import utcnow

SMALL = Path(__file__).resolve().parents[3] / "fixtures" / "small.json"
START = dt.datetime(2027, 1, 11, 5, 0, tzinfo=dt.UTC)


def test_a_reminder_is_claimed_once_across_sessions(sessions):
    with sessions() as session:
        scenario = sc.Scenario.model_validate(json.loads(SMALL.read_text(encoding="utf-8")))
        site_id = sites.import_scenario(session, scenario, utcnow()).id
        session.commit()
    now = START - dt.timedelta(hours=12)
    with sessions() as first:
        assert reminders.claim(first, site_id, "uid-1", START, 720, now)
        first.commit()
    with sessions() as second:  # another worker, after the first committed
        assert not reminders.claim(second, site_id, "uid-1", START, 720, now)
        # the same shift's other offset, and the shift moved to another start, are reminders of their own
        assert reminders.claim(second, site_id, "uid-1", START, 60, now)
        assert reminders.claim(second, site_id, "uid-1", START + dt.timedelta(hours=1), 720, now)
        second.commit()
    with sessions() as session:
        assert reminders.forget_before(session, START + dt.timedelta(minutes=30)) == 2
        session.commit()
    with sessions() as session:
        assert reminders.claim(session, site_id, "uid-1", START, 720, now)  # forgotten: claimable again
