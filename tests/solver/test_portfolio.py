"""Worker portfolios chosen per problem, and the proven bound and gap in every answer (issue 15)."""

from __future__ import annotations

import pytest

from solver.options import MAX_LP_PAIRS, MAX_LP_PAIRS_PER_SECOND, SolveOptions
from solver.problem import Status
from solver.solve import candidate_pairs, solve
from solver.validate import objective, validate
from tests.solver.test_solve import _gate


def test_a_small_whole_model_gets_the_strong_lp_worker_and_reports_its_gap():
    problem = _gate(days=7, people=12)
    assert candidate_pairs(problem) <= MAX_LP_PAIRS
    solution = solve(problem, SolveOptions(time_limit=10, workers=2, seed=0))
    assert solution.stats["portfolio"] == "max_lp"
    assert solution.has_schedule and validate(problem, solution.assignments, solution.uncovered) == []
    assert solution.objective == objective(problem, solution.assignments)
    assert solution.best_bound is not None and solution.best_bound <= solution.objective
    assert solution.stats["gap"] == pytest.approx(solution.gap, abs=1e-4)
    if solution.status is Status.OPTIMAL:
        assert solution.stats["gap"] == 0.0


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (SolveOptions(time_limit=5, workers=2, seed=0, portfolio="default"), "default"),
        (SolveOptions(time_limit=5, workers=1, seed=0), "default"),  # one worker: no portfolio to choose
        (SolveOptions(time_limit=5, workers=2, seed=0, parameters={"extra_subsolvers": []}), "parameters"),
    ],
)
def test_the_portfolio_can_be_chosen(options, expected):
    problem = _gate(days=7, people=12)
    solution = solve(problem, options)
    assert solution.stats["portfolio"] == expected
    assert solution.has_schedule and validate(problem, solution.assignments, solution.uncovered) == []


def test_an_unknown_portfolio_is_refused():
    with pytest.raises(ValueError, match="portfolio"):
        SolveOptions(time_limit=2, workers=2, portfolio="fastest")


def test_a_whole_model_too_large_for_the_strong_lp_is_polished_by_neighbourhoods():
    problem = _gate(days=14, people=24)
    pairs = candidate_pairs(problem)
    limit = 4.0
    assert pairs > MAX_LP_PAIRS_PER_SECOND * limit  # "auto" would search it with the default portfolio
    seen = []
    solution = solve(problem, SolveOptions(time_limit=limit, workers=2, seed=0, on_progress=seen.append))
    assert solution.stats["method"] == "CP-SAT model, then neighbourhoods"
    assert solution.stats["whole_model_portfolio"] == "default"
    assert solution.has_schedule and validate(problem, solution.assignments, solution.uncovered) == []
    assert solution.objective == objective(problem, solution.assignments)
    assert solution.objective <= solution.stats["whole_model_objective"]
    assert solution.best_bound is not None and solution.best_bound <= solution.objective
    assert solution.stats["gap"] == pytest.approx(solution.gap, abs=1e-4)
    assert solution.wall_time <= limit * 1.05 + 0.3
    # the neighbourhoods' progress counts from the call's start, after the whole model's
    hoods = [p for p in seen if p.phase == "neighbourhoods"]
    assert hoods and min(p.elapsed for p in hoods) >= solution.stats["whole_model_seconds"]
    # and the schedules count on from the whole model's (the last count is the best schedule)
    assert [p.solutions for p in seen] == sorted(p.solutions for p in seen)


@pytest.mark.parametrize(
    ("options", "polished"),
    [
        (SolveOptions(time_limit=60, workers=2, seed=0), False),  # affordable: the strong LP itself
        (SolveOptions(time_limit=4, workers=2, seed=0, polish=False), False),
        (SolveOptions(time_limit=4, workers=2, seed=0), True),
        (SolveOptions(time_limit=4, workers=1, seed=0), False),  # measured with two workers only
        (SolveOptions(time_limit=4, workers=2, seed=0, portfolio="default"), False),  # chosen by hand
    ],
)
def test_when_the_whole_model_is_polished(options, polished):
    from solver.solve import _polishes

    assert _polishes(_gate(days=14, people=24), options) is polished
