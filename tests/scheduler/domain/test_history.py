"""History from the previous period: published shifts before a new horizon become exact recent shifts."""

from __future__ import annotations

import datetime as dt

from scheduler.domain.compile import compile_scenario
from scheduler.domain.history import with_published_history
from scheduler.domain.schedule import Assignment, Schedule, SolverReport
from tests.scheduler._build import gate, post, scenario, template, volunteer

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


# ------------------------------------------------------------------------------- worked records win

UTC = dt.UTC


def record(a, status, start=None, end=None):
    from scheduler.domain.worked import ShiftKey, WorkedShift

    return WorkedShift(volunteer=a.volunteer, status=status, start=start, end=end, key=ShiftKey.of(a))


def test_a_worked_record_wins_over_the_published_shift():
    from scheduler.domain.worked import WorkedShift, WorkStatus

    site = scenario(start="2026-12-14", volunteers=[volunteer("ann"), volunteer("bob"), volunteer("cid")],
                    posts=[gate()])
    sat, sun = dt.date(2026, 12, 12), dt.date(2026, 12, 13)
    ann_sat, ann_sun = shift("ann", sat, 8, 8), shift("ann", sun, 8, 8)
    bob_sun, cid_sun = shift("bob", sun, 8, 8), shift("cid", sun, 8, 8)
    plan = published(dt.date(2026, 12, 7), [ann_sat, ann_sun, bob_sun, cid_sun])
    late_out = dt.datetime(2026, 12, 13, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    worked = [
        record(ann_sat, WorkStatus.no_show),
        record(ann_sun, WorkStatus.worked, ann_sun.start + dt.timedelta(minutes=30), late_out),
        record(cid_sun, WorkStatus.worked, cid_sun.start),  # checked in, not out yet
        WorkedShift(volunteer="bob", status=WorkStatus.extra, post="gate",
                    start=dt.datetime(2026, 12, 12, 17, tzinfo=UTC),
                    end=dt.datetime(2026, 12, 12, 21, tzinfo=UTC)),
        # an extra shift inside the new horizon is not history
        WorkedShift(volunteer="bob", status=WorkStatus.extra, post="gate",
                    start=dt.datetime(2026, 12, 14, 17, tzinfo=UTC),
                    end=dt.datetime(2026, 12, 14, 18, tzinfo=UTC)),
    ]
    new = with_published_history(site, plan, worked)
    ann, bob, cid = new.volunteers
    # the no-show is gone; the corrected times replace the published ones (flags from the shift)
    assert [(s.start, s.end, s.shift, s.night) for s in ann.history.recent_shifts] == [
        (ann_sun.start + dt.timedelta(minutes=30), late_out.astimezone(BERLIN), "day", False)
    ]
    # the extra shift is added, beside the published one without a record
    assert [(s.start.astimezone(UTC), s.post, s.shift) for s in bob.history.recent_shifts] == [
        (dt.datetime(2026, 12, 12, 17, tzinfo=UTC), "gate", None),
        (bob_sun.start.astimezone(UTC), "gate", "day"),
    ]
    # checked in without a check-out: the published end stands
    assert [(s.start, s.end) for s in cid.history.recent_shifts] == [(cid_sun.start, cid_sun.end)]
    # the published history alone is different
    plain = with_published_history(site, plan)
    assert plain.volunteers[0].history.recent_shifts != ann.history.recent_shifts
    assert len(plain.volunteers[0].history.recent_shifts) == 2
    assert compile_scenario(new).problem.person("ann").history.last_shift_end == -30  # 23:30 the day before


def _plan_day_0(site, plan, worked=()):
    from scheduler.domain.check import validate
    from scheduler.domain.planning import plan as solve

    facts = with_published_history(site, plan, worked)
    schedule = solve(compile_scenario(facts), time_limit=10, workers=1, seed=0)
    assert schedule.status in ("optimal", "feasible")
    assert schedule.solver.objective is not None
    assert validate(facts, schedule) == []  # the checker, on the facts
    return facts, schedule


def test_a_late_check_out_pushes_day_0s_first_shift_out_because_of_rest():
    from scheduler.domain.worked import WorkStatus

    site = scenario(start="2026-12-14", days=1, volunteers=[volunteer("ann")],
                    posts=[post("gate", template("day", "08:00", "16:00"))], rules={"min_rest_hours": 11})
    sun = dt.date(2026, 12, 13)
    ann_sun = shift("ann", sun, 8, 8)
    plan = published(dt.date(2026, 12, 7), [ann_sun])
    _, as_published = _plan_day_0(site, plan)
    assert len(as_published.assignments) == 1 and not as_published.uncovered  # 16 h of rest: she can
    late = record(ann_sun, WorkStatus.worked, ann_sun.start, dt.datetime(2026, 12, 13, 22, 30, tzinfo=UTC))
    facts, as_worked = _plan_day_0(site, plan, [late])
    assert not as_worked.assignments  # 8.5 h of rest before 08:00: she cannot
    assert [u.missing for u in as_worked.uncovered] == [1]
    assert "rest" in (as_worked.uncovered[0].reason + str(as_worked.uncovered[0].blocked_by))


def test_a_no_show_frees_the_7_day_hours():
    from scheduler.domain.worked import WorkStatus

    site = scenario(start="2026-12-14", days=1, volunteers=[volunteer("ann")],
                    posts=[post("gate", template("day", "08:00", "16:00"))],
                    rules={"max_hours_per_7_days": 40})
    days = [dt.date(2026, 12, d) for d in range(9, 14)]  # Wednesday to Sunday: 40 hours
    shifts = [shift("ann", d, 8, 8) for d in days]
    plan = published(dt.date(2026, 12, 7), shifts)
    _, as_published = _plan_day_0(site, plan)
    assert not as_published.assignments and as_published.uncovered[0].missing == 1  # 48 h in 7 days
    facts, after_no_show = _plan_day_0(site, plan, [record(shifts[-1], WorkStatus.no_show)])
    assert len(after_no_show.assignments) == 1 and not after_no_show.uncovered
    assert len(facts.volunteers[0].history.recent_shifts) == 4
