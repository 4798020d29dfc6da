"""History from the previous period: published shifts before a new horizon become exact recent shifts."""

from __future__ import annotations

import datetime as dt

from scheduler.domain.compile import compile_scenario
from scheduler.domain.history import with_published_history
from scheduler.domain.schedule import Assignment, Schedule, SolverReport
from tests.scheduler._build import gate, scenario, volunteer

BERLIN = dt.timezone(dt.timedelta(hours=1))


def shift(who, date, start_h, hours, template="day", night=False):
    start = dt.datetime.combine(date, dt.time(start_h), tzinfo=BERLIN)
    return Assignment(volunteer=who, post="gate", shift=template, date=date, start=start,
                      end=start + dt.timedelta(hours=hours), hours=hours, night=night)


def published(start, assignments):
    return Schedule(site="Test site", timezone="Europe/Berlin", start=start, days=7, status="feasible",
                    solver=SolverReport(status="feasible", wall_time=1), assignments=assignments)


def test_published_shifts_before_the_horizon_become_the_history():
    old = {"start": "2026-11-01T08:00", "end": "2026-11-01T16:00", "post": "gate", "shift": "day"}
    summary = {"consecutive_days_worked": 5, "hours_last_7_days": 30, "recent_shifts": [old]}
    site = scenario(start="2026-12-14", volunteers=[volunteer("ann", history=summary), volunteer("bob")],
                    posts=[gate()])
    mon = dt.date(2026, 12, 7)
    sun = dt.date(2026, 12, 13)
    plan = published(mon, [shift("ann", mon, 8, 8), shift("ann", sun, 22, 8, "night", night=True),
                           shift("cid", sun, 8, 8)])
    new = with_published_history(site, plan)
    ann, bob = new.volunteers
    assert [(s.start.date(), s.shift, s.night) for s in ann.history.recent_shifts] == [
        (dt.date(2026, 11, 1), "day", None), (mon, "day", False), (sun, "night", True)
    ]
    assert ann.history.consecutive_days_worked == 0 and ann.history.hours_last_7_days == 0
    assert bob == site.volunteers[1]  # nobody published for bob: unchanged (cid is not a volunteer here)
    history = compile_scenario(new).problem.person("ann").history
    assert history.day(-1).night and history.day(-1).minutes == 8 * 60 and not history.day(-2).worked
    assert history.day(-7).minutes == 8 * 60  # Monday of the published week, exactly
    assert history.last_shift_end == 6 * 60  # the Sunday night ends at 06:00 on the first day


def test_unchanged_when_the_horizon_is_not_after_the_published_start():
    site = scenario(start="2026-12-07", volunteers=[volunteer("ann")])
    mon = dt.date(2026, 12, 7)
    assert with_published_history(site, published(mon, [shift("ann", mon, 8, 8)])) is site
    assert with_published_history(site, None) is site
