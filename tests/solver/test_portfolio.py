"""Worker portfolios chosen per problem, and the proven bound and gap in every answer (issue 15)."""

from __future__ import annotations

import pytest

from solver.options import MAX_LP_PAIRS, SolveOptions
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
