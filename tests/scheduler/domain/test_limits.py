"""Size caps (scheduler.domain.limits): the estimate of a compile's size that decides whether a request
compiles a job itself."""

from __future__ import annotations

import pytest

from scheduler.domain.compile import compile_scenario
from scheduler.domain.generate import generate
from scheduler.domain.limits import estimated_pairs


@pytest.mark.parametrize("volunteers, days, residents", [(20, 7, 0), (60, 14, 10), (120, 28, 30)])
def test_the_estimate_bounds_the_compiled_volunteers_times_slots(volunteers, days, residents):
    scenario = generate(volunteers, days, 1, residents=residents)
    problem = compile_scenario(scenario).problem
    actual = len(problem.people) * len(problem.shifts)
    estimate = estimated_pairs(scenario)
    assert actual <= estimate <= 1.25 * actual + len(problem.people) * 10


def test_the_estimate_follows_the_days_planned():
    scenario = generate(30, 28, 2)
    assert estimated_pairs(scenario, 7) < estimated_pairs(scenario, 14) < estimated_pairs(scenario)
