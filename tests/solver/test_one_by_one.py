"""The first schedule planned one person at a time (solver.one_by_one, solver.person_roster; issue 15):
only where every hard rule binds one person, each person's roster valid on its own, the whole schedule
valid, and on a long horizon with tight minimums it is what gives a valid schedule in time."""

from __future__ import annotations

import dataclasses
import time
from collections import Counter

from solver import one_by_one, person_roster
from solver.options import SolveOptions
from solver.problem import MINUTES_PER_DAY, Person, Problem, Rules, Shift, Status, Weights
from solver.solve import solve
from solver.validate import objective, validate

SHIFT = 480
#: only the cover counts (one person at a time cannot be weighed against the others)
COVER_ONLY = Weights(
    uncovered=1, skill_shortfall=0, overstaffed=1, load_max=0, load_spread=0, nights_spread=0,
    weekends_spread=0, heavy_spread=0, isolated_day_off=0, isolated_work_day=0,
)


def _early_and(days: int, kind: str, start: int, end: int) -> list[Shift]:
    """Each day an 8-hour early shift "E" and one of type ``kind`` from ``start`` to ``end`` minutes
    after midnight, one person each, a missing one costing 100."""
    shifts = []
    for d in range(days):
        midnight = d * MINUTES_PER_DAY
        shifts.append(Shift(f"d{d}-E", "E", "E", d, midnight, midnight + SHIFT, required=1, under_weight=100))
        shifts.append(Shift(f"d{d}-{kind}", kind, kind, d, midnight + start, midnight + end, required=1,
                            under_weight=100))
    return shifts


def _problem(days: int = 126, people: int = 6, slack: int = 1, min_off: int = 2) -> Problem:
    """Curtois-like: soft cover, runs of 2-5 days, ``min_off`` days off at least, total minutes within
    ``slack`` shifts of the most (and near what the runs allow), a cap on late shifts, late then early
    forbidden, days off."""
    shifts = []
    for d in range(days):
        start = d * MINUTES_PER_DAY
        shifts.append(Shift(f"d{d}-E", "E", "E", d, start, start + SHIFT, required=2, under_weight=100))
        shifts.append(Shift(f"d{d}-L", "L", "L", d, start, start + SHIFT, required=2, under_weight=100))
    most = days * 5 // 8  # a working day in 1.6: close to what 5 on, 2 off allows with the days off
    rules = Rules(
        max_consecutive_days=5,
        min_consecutive_days=2,
        min_consecutive_days_off=min_off,
        min_total_minutes=(most - slack) * SHIFT,
        max_total_minutes=most * SHIFT,
        max_weekends=days // 7 * 3 // 4,
        max_shifts_by_type={"L": most // 2},
    )
    staff = []
    for i in range(people):
        off = {(11 * i + 5 + 17 * k) % days for k in range(days // 28)}  # a few days off each
        unavailable = {f"d{d}-{t}": "day off" for d in off for t in "EL"}
        wants = {f"d{(7 * i + 3) % days}-E": 2}
        staff.append(Person(f"p{i}", rules=rules, unavailable=unavailable, wants=wants))
    return Problem(
        days=days, shifts=tuple(shifts), people=tuple(staff), forbidden_successions=frozenset({("L", "E")}),
        weights=COVER_ONLY, name="one by one",
    )


def test_only_rules_that_bind_one_person_let_people_be_planned_alone():
    problem = _problem()
    assert one_by_one.per_person(problem)
    capped = dataclasses.replace(problem, shifts=(dataclasses.replace(problem.shifts[0], max_staff=2),
                                                  *problem.shifts[1:]))
    paired = dataclasses.replace(problem, shifts=(dataclasses.replace(problem.shifts[0], pair=True),
                                                  *problem.shifts[1:]))
    again = dataclasses.replace(problem, reference=frozenset({("p0", "d0-E")}))
    assert not any(one_by_one.per_person(p) for p in (capped, paired, again))
    # chosen on its own where the rules set minimums, whatever the horizon; never across people,
    # whatever the option
    assert one_by_one.chosen(problem, SolveOptions())
    assert one_by_one.chosen(_problem(days=28), SolveOptions())
    assert not one_by_one.chosen(_problem(days=28), SolveOptions(one_by_one=False))
    assert not one_by_one.chosen(problem, SolveOptions(rolling_start=True))  # blocks of weeks asked for
    assert one_by_one.chosen(_problem(days=84), SolveOptions(one_by_one=True))
    assert not one_by_one.chosen(problem, SolveOptions(one_by_one=False))
    assert not one_by_one.chosen(capped, SolveOptions(one_by_one=True))
    assert not one_by_one.chosen(problem, SolveOptions(hint=[]))


def test_the_path_gives_one_person_a_roster_that_breaks_none_of_their_rules():
    problem = _problem(days=182, slack=0)  # the total minutes exactly
    person = problem.people[0]
    alone = one_by_one._alone(problem, person, Counter(), Counter())
    assert person_roster.supported(alone, alone.people[0])
    gains = one_by_one._gains(alone, alone.people[0])
    began = time.monotonic()
    mine = person_roster.plan(alone, alone.people[0], gains, 1.0, polish=False)
    assert time.monotonic() - began < 5
    assert mine is not None
    assert validate(alone, mine) == []
    assert sum(problem.shift(s).minutes for _, s in mine) == person.rules.max_total_minutes


def test_the_path_plans_people_who_need_only_one_day_off_at_a_time():
    """At least one day off (20 of Curtois 24's people): the path may rest two days running, and
    walking it back from the last day must find that too (it found no roster for them at all)."""
    problem = _problem(days=182, slack=0, min_off=1)
    for person in problem.people[:3]:
        alone = one_by_one._alone(problem, person, Counter(), Counter())
        gains = one_by_one._gains(alone, alone.people[0])
        mine = person_roster.plan(alone, alone.people[0], gains, 1.0, polish=False)
        assert mine is not None
        assert validate(alone, mine) == []
        assert sum(problem.shift(s).minutes for _, s in mine) == person.rules.max_total_minutes


def test_a_shift_type_that_only_itself_may_follow_runs_out_and_the_runs_are_found_by_backtracking():
    """Night shifts after which only another night may follow, two of them in the whole roster: the
    greedy shifts take one on a run's first day and then dead-end (Curtois 24: 40 of its people);
    the search over the run goes back a day and puts both nights at its end, within the total."""
    days = 28
    shifts = _early_and(days, "N", 900, 1500)
    rules = Rules(max_consecutive_days=4, min_consecutive_days=4, min_consecutive_days_off=2,
                  min_total_minutes=16 * SHIFT, max_total_minutes=14 * SHIFT + 2 * 600,
                  max_shifts_by_type={"N": 2})
    person = Person("p0", rules=rules)
    problem = Problem(days=days, shifts=tuple(shifts), people=(person,), weights=COVER_ONLY, name="nights",
                      forbidden_successions=frozenset({("N", "E")}))
    gains = {s.id: (500 if s.type == "N" else 100) for s in shifts}  # the nights are worth most
    work = [d for d in range(days) if d % 7 < 4]  # four runs of four days
    by_day = {d: [s for s in shifts if s.day == d] for d in work}
    planned = {d: 600 for d in work}  # the path asked for nights' lengths
    assert person_roster._greedy_shifts(problem, person, work, by_day, gains, planned, safe=False) is None
    mended = person_roster._mended_shifts(problem, person, work, by_day, gains, planned)
    assert mended is not None
    assert validate(problem, [("p0", s) for s in mended]) == []
    assert sum(gains[s] for s in mended) == 14 * 100 + 2 * 500  # both nights, at a run's end


def test_the_path_takes_no_more_long_shifts_than_the_caps_allow():
    """The path counts lengths, not types: where the only 12-hour type is capped (Curtois 21: 46 of
    them in 182 days) and worth most, it took more of them than the cap, and no shifts fitted its
    days (21 had people left without a roster); a price on the length keeps it within."""
    days = 84
    shifts = _early_and(days, "P", 600, 1320)
    rules = Rules(max_consecutive_days=5, min_consecutive_days=2, min_consecutive_days_off=2,
                  min_total_minutes=44 * SHIFT, max_total_minutes=45 * SHIFT, max_shifts_by_type={"P": 10})
    person = Person("p0", rules=rules)
    problem = Problem(days=days, shifts=tuple(shifts), people=(person,), weights=COVER_ONLY, name="long",
                      forbidden_successions=frozenset({("P", "P"), ("P", "E")}))
    for gains in ({s.id: (300 if s.type == "P" else 100) for s in shifts}, {}):
        mine = person_roster.plan(problem, person, gains, 1.0, polish=False)
        assert mine is not None
        assert validate(problem, mine) == []
        assert sum(1 for _, s in mine if problem.shift(s).type == "P") <= 10


def test_the_gains_are_exactly_what_a_roster_changes_in_the_objective():
    """Planning a person again is only as good as its gains: a roster's gains, given everyone else,
    are what taking it out costs the whole objective (cover, skills, wishes)."""
    problem = _problem(days=84)
    options = SolveOptions(time_limit=10, workers=1, seed=0)
    schedule, failed = one_by_one.plan_one_by_one(problem, options, time.monotonic() + 10)
    assert failed == []
    whole = objective(problem, schedule)
    for person in problem.people[:3]:
        others = [(p, s) for p, s in schedule if p != person.id]
        taken = Counter(s for _, s in others)
        alone = one_by_one._alone(problem, person, Counter(), Counter())
        gains = one_by_one._gains(alone, alone.people[0], taken, Counter())
        residual = one_by_one._alone(problem, person, taken, Counter())
        assert gains == one_by_one._gains(residual, residual.people[0])
        worth = sum(gains[s] for p, s in schedule if p == person.id)
        assert objective(problem, others) - whole == worth


def test_the_path_refuses_rules_it_does_not_know():
    problem = _problem(days=28)
    person = problem.people[0]
    for rules in (dataclasses.replace(person.rules, min_rest_minutes=660),
                  dataclasses.replace(person.rules, max_minutes_per_7_days=2400)):
        other = dataclasses.replace(person, rules=rules)
        assert not person_roster.supported(dataclasses.replace(problem, people=(other,)), other)


def test_everyone_planned_one_by_one_is_a_valid_schedule_and_replanning_never_makes_it_worse():
    problem = _problem()
    options = SolveOptions(time_limit=20, workers=1, seed=0)
    schedule, failed = one_by_one.plan_one_by_one(problem, options, time.monotonic() + 15)
    assert failed == []
    assert validate(problem, schedule) == []
    first = objective(problem, schedule)
    stats: dict[str, int] = {}
    better, changed = one_by_one.replan(problem, schedule, options, time.monotonic() + 10, stats)
    assert validate(problem, better) == []
    assert objective(problem, better) <= first
    assert changed == 0 or objective(problem, better) < first
    # the passes stopped gaining before the time was up: a few people were re-planned together,
    # and a round that gained nothing left the schedule as it was
    assert stats["passes"] >= 1 and stats["rounds"] >= 1
    assert 0 <= stats["rounds_kept"] <= stats["rounds"]


def test_only_the_people_one_by_one_give_a_valid_schedule_within_a_short_limit():
    """A long horizon with the total minutes exact: within 6 s the default start (greedy, then each
    person short of their minimum re-planned by their whole CP-SAT model, then the whole model) finds
    no valid schedule; planned one person at a time (chosen on its own here) it does."""
    problem = _problem(days=168, people=6, slack=0)
    limit = 6.0
    base = SolveOptions(time_limit=limit, workers=1, seed=0, direct_limit=100, coverage_first=True)
    began = time.monotonic()
    default = solve(problem, dataclasses.replace(base, one_by_one=False))
    assert time.monotonic() - began <= limit * 1.05 + 0.5
    assert not default.has_schedule or validate(problem, list(default.assignments)) != []
    began = time.monotonic()
    solution = solve(problem, base)
    assert time.monotonic() - began <= limit * 1.05 + 0.5
    assert solution.status is Status.FEASIBLE
    assert solution.stats["first_schedule"] == "people one by one"
    assert validate(problem, list(solution.assignments)) == []
    assert solution.objective == objective(problem, solution.assignments)
    assert sum(t.weighted for t in solution.terms) == solution.objective
    assert solution.first_solution_time is not None and solution.first_solution_time < limit


def test_a_site_with_headcount_caps_is_never_planned_one_by_one():
    """Volunteer sites cap the headcount of their shifts (a rule across people): even when asked for,
    the start is the greedy one, and the answer is valid."""
    problem = _problem(days=126, people=6)
    shifts = tuple(dataclasses.replace(s, max_staff=3) for s in problem.shifts)
    capped = dataclasses.replace(problem, shifts=shifts)
    options = SolveOptions(time_limit=4, workers=1, seed=0, direct_limit=100, one_by_one=True)
    solution = solve(capped, options)
    assert solution.stats.get("first_schedule") != "people one by one"
    if solution.has_schedule:
        assert validate(capped, list(solution.assignments)) == []


def _weekends_worked(problem: Problem, shifts) -> int:
    return len({problem.shift(s).day // 7 for s in shifts if problem.is_weekend(problem.shift(s).day)})


def test_the_path_works_every_weekend_it_may_where_the_weekends_gain_more():
    """Places open only on weekends (the weekdays are covered already): the best roster works all the
    weekends its limit allows. Weekends that gain alike all cost the path the same price, so at one
    price it took all of them or none and ended far below the limit (Curtois 21, 23, 24: half the
    weekends people could work were left unworked, the cover short on every weekend)."""
    problem = _problem(days=182)
    person = problem.people[0]
    alone = one_by_one._alone(problem, person, Counter(), Counter())
    gains = {s.id: (100 if problem.is_weekend(s.day) else -1) for s in alone.shifts}
    limit = person.rules.max_weekends
    for seed in range(3):
        mine = person_roster.plan(alone, alone.people[0], gains, 1.0, seed, polish=False, prices={})
        assert mine is not None
        assert validate(alone, mine) == []
        assert limit - 1 <= _weekends_worked(problem, [s for _, s in mine]) <= limit


def test_where_weekends_are_scarce_the_people_planned_first_work_theirs(monkeypatch):
    """The weekends people may work barely meet what the weekends' cover asks for: the first people,
    who find every place open, took weekdays (a weekend counts against their limit and gained no
    more), and the weekends stayed short for the people after them. With the weekend's places worth
    more to them, fewer weekend places stay open; the schedule valid, everyone planned."""
    problem = _problem(days=126)
    assert one_by_one.weekend_scarcity(problem) >= one_by_one.SCARCE_WEEKENDS

    def weekend_places_open(bonus: float) -> int:
        monkeypatch.setattr(one_by_one, "WEEKEND_BONUS", bonus)
        schedule, failed = one_by_one.plan_one_by_one(
            problem, SolveOptions(workers=1, seed=0), time.monotonic() + 20
        )
        assert failed == []
        assert validate(problem, schedule) == []
        taken = Counter(s for _, s in schedule)
        return sum(max(0, s.required - taken[s.id]) for s in problem.shifts if problem.is_weekend(s.day))

    assert weekend_places_open(one_by_one.WEEKEND_BONUS) < weekend_places_open(0)
