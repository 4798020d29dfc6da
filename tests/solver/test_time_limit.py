"""The time limit holds from the call's start: the greedy start, model building and every sub-search
share one deadline (issue 15)."""

from __future__ import annotations

import time

import pytest

from scheduler.domain.compile import compile_scenario
from scheduler.domain.generate import generate
from solver.build import build
from solver.greedy import greedy
from solver.options import OutOfTime, SolveOptions
from solver.problem import Status
from solver.solve import candidate_pairs, solve
from solver.validate import expected_shortfalls, objective, validate

# Allowed: 5% over the limit, plus this much for a machine shared with other work (the figures on an
# idle machine are in docs/BENCHMARKS.md); the old code overran by the whole model-building time.
SLACK = 1.0


@pytest.fixture(scope="module")
def big():
    """200 volunteers x 28 days: building its whole model takes many seconds."""
    problem = compile_scenario(generate(200, 28, 1)).problem
    assert candidate_pairs(problem) > 250_000
    return problem


def test_building_a_model_stops_at_the_deadline(big):
    began = time.monotonic()
    with pytest.raises(OutOfTime, match="building the model"):
        build(big, deadline=time.monotonic())
    assert time.monotonic() - began < 1.0  # stopped at the first check, not after the whole model


def test_the_greedy_start_stops_at_the_deadline_and_stays_valid(big):
    partial = greedy(big, seed=0, deadline=time.monotonic())
    assert partial == []  # no shift was staffed once the deadline had passed (no pins here)
    full = greedy(big, seed=0)
    assert full and validate(big, full) == []


def test_one_model_too_large_for_the_limit_answers_within_it(big):
    """Forced to build one CP-SAT model of 290,000 pairs with a 1 s limit (the old code built it whole,
    then searched 1 s more): the call returns within the limit with the valid start it had."""
    limit = 1.0
    began = time.monotonic()
    solution = solve(big, SolveOptions(time_limit=limit, workers=1, seed=0, direct_limit=10**9))
    took = time.monotonic() - began
    assert took <= limit * 1.05 + SLACK
    assert solution.wall_time == pytest.approx(took, abs=0.05)
    assert solution.status is Status.FEASIBLE
    assert "model" in solution.stats["out_of_time"]  # its building was cut short
    assert validate(big, list(solution.assignments)) == []
    assert solution.objective == objective(big, solution.assignments)
    assert list(solution.uncovered) == expected_shortfalls(big, solution.assignments)


def test_the_neighbourhood_search_answers_within_the_limit(big):
    limit = 4.0
    began = time.monotonic()
    solution = solve(big, SolveOptions(time_limit=limit, workers=1, seed=0))
    took = time.monotonic() - began
    assert solution.stats["method"] == "large neighbourhood search"
    assert took <= limit * 1.05 + SLACK
    assert validate(big, list(solution.assignments)) == []
    assert solution.objective == objective(big, solution.assignments)
