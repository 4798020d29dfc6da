from __future__ import annotations

import datetime as dt
import math

from scheduler.domain.compile import compile_scenario
from scheduler.domain.report import assignments_of, build_schedule, summary_text, uncovered_of
from scheduler.domain.schedule import Assignment, Schedule
from solver import validate as solver_validate
from solver.problem import Shortfall, Solution, Status, Term
from tests.scheduler._build import post, scenario, template, volunteer


def site(**rules):
    posts = [
        post("gate", template("day", "08:00", "16:00"), template("night", "22:00", "06:00"),
             intensity="heavy"),
        post("desk", template("day", "09:00", "13:00", skills={"medical": 1}), intensity="light"),
    ]
    vs = [
        volunteer("ann", skills=["medical"], history={"hours_last_7_days": 10, "consecutive_days_worked": 1}),
        volunteer("bob", health=[{"status": "sick", "from": "2026-03-29"}]),
        volunteer("cid", max_hours_per_week=0),
    ]
    # 2026-03-28 is a Saturday; the night into the 29th is 7 hours long in Berlin
    return compile_scenario(
        scenario(start="2026-03-28", days=2, posts=posts, volunteers=vs, rules=rules or None)
    )


def solution(compiled):
    assignments = (
        ("bob", "gate/night/2026-03-28"),
        ("ann", "gate/day/2026-03-28"),
        ("ann", "desk/day/2026-03-29"),
    )
    uncovered = (
        Shortfall("gate/night/2026-03-29", 1),
        Shortfall("gate/day/2026-03-29", 1),
    )
    terms = (Term("uncovered", 2, 100_000), Term("load_max", 930, 20), Term("preference", 0, 1))
    return Solution(
        status=Status.FEASIBLE, assignments=assignments, uncovered=uncovered, objective=218_600,
        best_bound=200_000.0, wall_time=2.5, first_solution_time=0.4, terms=terms,
    )


def test_build_schedule():
    c = site()
    s = build_schedule(c, solution(c), time_limit=10, workers=2, seed=7)
    assert (s.site, s.timezone, s.start, s.days, s.status) == (
        "Test site", "Europe/Berlin", dt.date(2026, 3, 28), 2, "feasible")
    r = s.solver
    assert (r.status, r.objective, r.best_bound, r.wall_time, r.first_solution_time) == (
        "feasible", 218_600, 200_000.0, 2.5, 0.4)
    assert math.isclose(r.gap, 18_600 / 218_600)
    assert (r.time_limit, r.workers, r.seed) == (10, 2, 7)

    got = [(a.volunteer, a.post, a.shift, a.date.isoformat()) for a in s.assignments]
    assert got == [
        ("ann", "gate", "day", "2026-03-28"),
        ("bob", "gate", "night", "2026-03-28"),
        ("ann", "desk", "day", "2026-03-29"),
    ]
    night = s.assignments[1]
    assert (night.hours, night.night, night.intensity) == (7, True, "heavy")
    data = s.model_dump(mode="json")
    assert data["assignments"][1]["start"] == "2026-03-28T22:00:00+01:00"
    assert data["assignments"][1]["end"] == "2026-03-29T06:00:00+02:00"
    assert data["assignments"][2]["start"] == "2026-03-29T09:00:00+02:00"

    assert [(u.post, u.shift, u.date.isoformat()) for u in s.uncovered] == [
        ("gate", "day", "2026-03-29"), ("gate", "night", "2026-03-29")]
    u = s.uncovered[0]
    assert (u.required, u.assigned, u.missing, u.missing_skills) == (1, 0, 1, {})
    assert u.start.isoformat() == "2026-03-29T08:00:00+02:00"
    assert u.reason  # from solver.explain
    assert u.blocked_by.get("sick") == 1  # bob
    assert u.detail

    assert [t.model_dump() for t in s.objective_terms] == [
        {"name": "uncovered", "value": 2, "weight": 100_000, "weighted": 200_000},
        {"name": "load_max", "value": 930, "weight": 20, "weighted": 18_600},
        {"name": "preference", "value": 0, "weight": 1, "weighted": 0},
    ]


def test_volunteer_load_in_hours():
    """The default load measure: tenths of intensity-weighted hours, history included."""
    c = site()
    s = build_schedule(c, solution(c))
    totals = {v.volunteer: v for v in s.volunteers}
    assert s.load_measure == "hours"
    # ann: 8 h heavy (150%) = 12 h, 4 h light (75%) = 3 h, 10 h history at 100%: 25 h
    assert totals["ann"].load == 250
    # bob: the 7-hour night at the post (150% + 25%) = 12.25 h -> 122.5, halves up
    assert totals["bob"].load == 123
    assert totals["cid"].load == 0
    assert "by load (tenths of weighted hours)" in summary_text(s)


def test_volunteer_totals_and_load():
    c = site(load_measure="capacity")
    s = build_schedule(c, solution(c))
    assert s.load_measure == "capacity"
    totals = {v.volunteer: v for v in s.volunteers}
    assert [v.volunteer for v in s.volunteers] == ["ann", "bob", "cid"]
    ann, bob, cid = totals["ann"], totals["bob"], totals["cid"]
    assert (ann.name, ann.shifts, ann.hours, ann.nights, ann.heavy_shifts, ann.weekend_shifts) == (
        "Volunteer ann", 2, 12, 0, 1, 2)
    assert (bob.shifts, bob.hours, bob.nights, bob.heavy_shifts, bob.weekend_shifts) == (1, 7, 1, 1, 1)
    # the unit of solver.load: each shift's minutes * intensity percent and the history minutes at the
    # normal percent, each rounded to per mille of capacity
    # ann: 480 min heavy (150%) + 240 min light (75%) + 600 history minutes at 100%;
    # capacity: 2400 * (7 + 2) / 7 = 3085.7 -> 3086
    assert c.problem.person("ann").capacity_minutes == 3086
    assert ann.load == 194 + 233 + 58  # 194.4, 233.3, 58.3
    # bob may only work Saturday: capacity 2400 * 8 / 7 -> 2743; night adds 25%
    assert bob.load == 268  # 10 * 420 * 175 / 2743 = 267.95
    for v in s.volunteers:
        person = c.problem.person(v.volunteer)
        mine = [c.problem.shift(sid) for pid, sid in solution(c).assignments if pid == v.volunteer]
        assert v.load == (solver_validate.load(c.problem, person, mine) if person.capacity_minutes else 0)
    assert cid.load == 0 and cid.shifts == 0 and cid.hours == 0


def test_assignments_map_back_through_json():
    c = site()
    sol = solution(c)
    s = Schedule.model_validate_json(build_schedule(c, sol).model_dump_json())
    pairs, problems = assignments_of(c, s)
    assert problems == []
    assert sorted(pairs) == sorted(sol.assignments)
    shortfalls, problems = uncovered_of(c, s)
    assert problems == [] and sorted(shortfalls, key=lambda f: f.shift) == sorted(
        sol.uncovered, key=lambda f: f.shift)


def test_assignments_of_names_what_does_not_map():
    c = site()
    s = build_schedule(c, solution(c))
    base = s.assignments[0]

    def bad(**change) -> Assignment:
        return base.model_copy(update=change)

    s.assignments = [
        base,
        bad(volunteer="zed"),
        bad(post="roof"),
        bad(shift="noon"),
        bad(date=dt.date(2026, 3, 30)),
        bad(post="desk", shift="day", date=dt.date(2026, 3, 28)),  # fine: desk runs every day
    ]
    pairs, problems = assignments_of(c, s)
    assert pairs == [("ann", "gate/day/2026-03-28"), ("ann", "desk/day/2026-03-28")]
    assert problems == [
        "assignments[1] (zed on gate/day 2026-03-28): no volunteer 'zed'",
        "assignments[2] (ann on roof/day 2026-03-28): no post 'roof'",
        "assignments[3] (ann on gate/noon 2026-03-28): post 'gate' has no shift 'noon'",
        "assignments[4] (ann on gate/day 2026-03-30): "
        "2026-03-30 is outside the horizon 2026-03-28..2026-03-30",
    ]


def test_assignments_of_template_not_running_that_day():
    posts = [post("p", template("wk", "08:00", "12:00", weekdays=["mon"]))]
    c = compile_scenario(scenario(posts=posts, volunteers=[volunteer("v")], days=2))
    s = build_schedule(c, Solution(Status.OPTIMAL, assignments=(("v", "p/wk/2026-12-07"),)))
    s.assignments[0].date = dt.date(2026, 12, 8)
    assert assignments_of(c, s)[1] == [
        "assignments[0] (v on p/wk 2026-12-08): shift 'wk' at post 'p' does not run on 2026-12-08"]


def test_summary_text():
    c = site()
    text = summary_text(build_schedule(c, solution(c)))
    assert "Status: feasible" in text
    assert "objective 218,600" in text and "bound 200,000" in text and "gap 8.51%" in text
    assert "time 2.5 s (first schedule after 0.4 s)" in text
    # slots seen: gate/day/28, gate/night/28, desk/day/29, gate/day/29, gate/night/29
    assert "Coverage: 3/5 slots fully staffed, 3/5 people-shifts filled" in text
    assert "Uncovered slots (2):" in text
    assert "2026-03-29 08:00-16:00  gate/day  0/1 staffed, missing 1: " in text
    lines = text.splitlines()
    table = lines.index(next(line for line in lines if line.startswith("Volunteers (3)")))
    order = [lines[table + 2 + i].split()[0] for i in range(3)]
    loads = {v.volunteer: v.load for v in build_schedule(c, solution(c)).volunteers}
    assert order == sorted(loads, key=lambda v: -loads[v])
    assert "Objective by term:" in text
    assert any(line.split()[:2] == ["uncovered", "2"] and line.endswith("200,000") for line in lines)
    assert lines[-1].split() == ["total", "218,600"]


def test_summary_text_truncates_long_lists():
    posts = [post("p", template("a", "08:00", "09:00", required=3))]
    vs = [volunteer(f"v{i:02d}") for i in range(30)]
    c = compile_scenario(scenario(posts=posts, volunteers=vs, days=30))
    assignments = tuple((f"v{i:02d}", f"p/a/{c.slots[sid].date}") for i, sid in enumerate(sorted(c.slots)))
    uncovered = tuple(Shortfall(sid, 2) for sid in sorted(c.slots))
    s = build_schedule(c, Solution(Status.FEASIBLE, assignments=assignments, uncovered=uncovered))
    text = summary_text(s)
    assert "Uncovered slots (30):" in text and "  ... and 10 more" in text
    assert "Volunteers (30)" in text and "  ... 10 more" in text
    assert "Coverage: 0/30 slots fully staffed, 30/90 people-shifts filled" in text
    rows = [line for line in text.splitlines() if line.startswith("  v") and "shifts" not in line]
    assert len(rows) == 20
