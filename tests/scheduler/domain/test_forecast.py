"""The plan week by week (scheduler.domain.forecast): the first weeks to publish, then the forecast."""

from __future__ import annotations

import datetime as dt

from scheduler.domain import forecast
from scheduler.domain.compile import compile_scenario
from scheduler.domain.generate import generate
from scheduler.domain.report import build_schedule
from scheduler.domain.schedule import Assignment, Uncovered
from solver.options import SolveOptions
from solver.solve import solve

START = dt.date(2027, 1, 11)
TZ = dt.timezone(dt.timedelta(hours=8))


def _shift(volunteer: str, day: int, hours: float = 8.0) -> Assignment:
    start = dt.datetime.combine(START + dt.timedelta(days=day), dt.time(8), TZ)
    return Assignment(volunteer=volunteer, post="gate", shift="day", date=start.date(), start=start,
                      end=start + dt.timedelta(hours=hours), hours=hours)


def _gap(day: int, missing: int, skills: dict[str, int] | None = None) -> Uncovered:
    start = dt.datetime.combine(START + dt.timedelta(days=day), dt.time(20), TZ)
    end = start + dt.timedelta(hours=12)
    return Uncovered(post="gate", shift="night", date=start.date(), start=start, end=end, required=2,
                     assigned=2 - missing, missing=missing, missing_skills=skills or {})


def test_weeks_count_hours_gaps_and_caps_in_the_week_a_shift_starts():
    shifts = [_shift("a", d) for d in (0, 1, 2, 3, 4)] + [_shift("a", 7)] + [_shift("b", 6), _shift("b", 15)]
    gaps = [_gap(2, 1), _gap(9, 2, {"medic": 1}), _gap(16, 1)]
    weeks = forecast.weekly(START, 17, shifts, gaps, ["a", "b", "c"], {"a": 40.0, "b": 8.0, "c": None})
    assert [w.week for w in weeks] == [1, 2, 3]
    assert [(w.start, w.end) for w in weeks] == [
        (START, START + dt.timedelta(days=6)),
        (START + dt.timedelta(days=7), START + dt.timedelta(days=13)),
        (START + dt.timedelta(days=14), START + dt.timedelta(days=16)),  # the horizon's last day
    ]
    assert [w.forecast for w in weeks] == [False, False, True]  # the first two weeks are to publish
    assert [(w.people_short, w.skilled_short) for w in weeks] == [(1, 0), (2, 1), (1, 0)]
    assert [w.busiest_hours for w in weeks] == [40.0, 8.0, 8.0]
    assert weeks[0].mean_hours == round(48 / 3, 2)
    # a reaches 40 h in week 1 only; b's 8 h cap is reached in weeks 1 and 3; c has no cap
    assert [w.at_cap for w in weeks] == [["a", "b"], [], ["b"]]


def test_weekly_hours_per_volunteer():
    hours = forecast.weekly_hours(START, 14, [_shift("a", 0), _shift("a", 6, 4), _shift("a", 13, 12)])
    assert hours == {"a": [12.0, 12.0]}


def test_a_schedule_carries_its_weeks_and_each_volunteers_weekly_hours():
    compiled = compile_scenario(generate(20, 21, 2))
    solution = solve(compiled.problem, SolveOptions(time_limit=5, workers=1, seed=0))
    schedule = build_schedule(compiled, solution)
    assert len(schedule.weeks) == 3 and [w.forecast for w in schedule.weeks] == [False, False, True]
    for v in schedule.volunteers:
        assert len(v.weekly_hours) == 3
        assert abs(sum(v.weekly_hours) - v.hours) < 1e-6
    assert [w.busiest_hours for w in schedule.weeks] == [
        max(v.weekly_hours[i] for v in schedule.volunteers) for i in range(3)
    ]
    short = sum(w.people_short for w in schedule.weeks)
    assert short == sum(u.missing for u in schedule.uncovered)
    caps = {p.id: p.rules.max_minutes_per_7_days for p in compiled.problem.people}
    for w in schedule.weeks:  # nobody's planned week exceeds their 7-day cap (the hard rule)
        for v in schedule.volunteers:
            if caps[v.volunteer] is not None:
                assert v.weekly_hours[w.week - 1] * 60 <= caps[v.volunteer] + 1e-6
