"""The staffing bound: a lower bound on the objective of every schedule, so the neighbourhood search's
schedules show a gap too (issue 15)."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings

from solver.bounds import staffing_bound
from solver.options import SolveOptions
from solver.solve import solve
from solver.validate import objective, validate
from tests.solver.strategies import problems
from tests.solver.test_solve import _gate


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_no_valid_schedule_is_below_the_staffing_bound(problem):
    solution = solve(problem, SolveOptions(time_limit=3, workers=1, seed=0))
    if solution.has_schedule and not validate(problem, solution.assignments, solution.uncovered):
        assert staffing_bound(problem) <= objective(problem, solution.assignments)


def test_slots_short_of_everyone_who_may_work_them_are_the_bound():
    problem = _gate(days=7, people=12)
    assert staffing_bound(problem) == 0
    # the night of day 3 needs 2 and only v0 may work it; day 5's early nobody may work
    night, early = "g/night/3", "g/early/5"
    people = tuple(
        dataclasses.replace(
            p, unavailable={early: "away", **({} if p.id == "v0" else {night: "away"})}
        )
        for p in problem.people
    )
    short = dataclasses.replace(problem, people=people)
    assert staffing_bound(short) == short.weights.uncovered * (1 + 2)


def test_the_neighbourhood_search_reports_the_staffing_bound_and_its_gap():
    problem = _gate(days=14, people=16)
    people = tuple(dataclasses.replace(p, unavailable={"g/night/3": "away"}) for p in problem.people)
    short = dataclasses.replace(problem, people=people)
    solution = solve(short, SolveOptions(time_limit=4, workers=1, seed=0, direct_limit=100, lp_bound=False))
    assert solution.stats["method"] == "large neighbourhood search"
    assert solution.best_bound == staffing_bound(short) == 2 * short.weights.uncovered
    assert solution.best_bound <= solution.objective == objective(short, solution.assignments)
    assert solution.stats["gap"] == round(solution.gap, 4)
    assert validate(short, solution.assignments, solution.uncovered) == []
