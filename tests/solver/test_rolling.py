"""The first schedule planned a block of weeks at a time (solver.rolling, issue 15): the blocks cover the
horizon, each block gets its share of the horizon totals, and a problem with minimums the greedy start
cannot meet gets a valid schedule from the blocks, then the neighbourhood search."""

from __future__ import annotations

import time

import pytest

from solver.options import SolveOptions
from solver.problem import MINUTES_PER_DAY, Person, Problem, Rules, Shift, Status, Weights
from solver.rolling import Block, block_problem, blocks, rolling_start
from solver.solve import solve
from solver.validate import objective, validate

DAY_MINUTES = 480


def _problem(days: int = 35, people: int = 6) -> Problem:
    shifts = []
    for d in range(days):
        start = d * MINUTES_PER_DAY
        shifts.append(Shift(f"d{d}-D", "D", "D", d, start + 420, start + 420 + DAY_MINUTES, required=2))
        shifts.append(Shift(f"d{d}-L", "L", "L", d, start + 840, start + 840 + DAY_MINUTES, required=1))
    rules = Rules(
        max_consecutive_days=5,
        min_consecutive_days=2,
        min_consecutive_days_off=2,
        min_total_minutes=16 * DAY_MINUTES,
        max_total_minutes=22 * DAY_MINUTES,
        max_weekends=3,
        max_shifts_by_type={"L": 8},
    )
    off = [(3 * i + 2) % days for i in range(people)]  # one day off each
    staff = tuple(
        Person(f"p{i}", rules=rules, unavailable={f"d{off[i]}-D": "day off", f"d{off[i]}-L": "day off"})
        for i in range(people)
    )
    weights = Weights(load_max=0, load_spread=0, isolated_day_off=0, isolated_work_day=0)
    return Problem(
        days=days, shifts=tuple(shifts), people=staff, forbidden_successions=frozenset({("L", "D")}),
        weights=weights, name="rolling",
    )


@pytest.mark.parametrize("days", [1, 6, 7, 14, 20, 21, 35, 182, 364])
def test_blocks_cover_the_horizon_once_in_order(days):
    plan = blocks(days)
    assert plan[0].first == 0 and plan[-1].fix == days == plan[-1].end
    for before, after in zip(plan, plan[1:], strict=False):
        assert after.first == before.fix  # the fixed parts tile the horizon
        assert after.back == max(0, after.first - 7)
        assert before.end > before.fix  # every block but the last plans days ahead
    assert all(b.back <= b.first < b.fix <= b.end for b in plan)


def test_a_block_gets_its_share_of_the_totals_and_the_last_one_exactly_the_rest():
    problem = _problem()
    person = problem.people[0]
    first = block_problem(problem, [], Block(0, 0, 7, 14))
    rules = first.person(person.id).rules
    # 14 of the 35 days (one day off in the first block), within one shift of the exact share
    assert first.days == 14 and len(first.shifts) == 28
    assert rules.max_total_minutes <= person.rules.max_total_minutes * 14 / 34 + DAY_MINUTES + 1
    assert rules.max_total_minutes >= person.rules.max_total_minutes * 13 / 34
    # no lower share before the last block (measured: often out of reach; who is short is repaired)
    assert rules.min_total_minutes == 0
    assert rules.max_weekends < person.rules.max_weekends
    relaxed = block_problem(problem, [], Block(0, 0, 7, 14), None).person(person.id).rules
    assert relaxed.min_total_minutes == 0 and relaxed.max_total_minutes == person.rules.max_total_minutes
    # the last block: exactly what is left after the fixed days (here three shifts in the first week)
    fixed = [(person.id, "d0-D"), (person.id, "d1-D"), (person.id, "d9-D")]
    last = block_problem(problem, fixed, Block(14, 21, 35, 35)).person(person.id).rules
    assert last.min_total_minutes == person.rules.min_total_minutes - 3 * DAY_MINUTES
    assert last.max_total_minutes == person.rules.max_total_minutes - 3 * DAY_MINUTES
    # the fixed days before the block are its history (three days worked, the last of them day 9)
    history = block_problem(problem, fixed, Block(14, 21, 35, 35)).person(person.id).history
    assert sum(d.worked for d in history.days) == 3 and history.days[-5].worked


def test_the_blocks_give_a_schedule_that_breaks_no_rule():
    problem = _problem()
    began = time.monotonic()
    options = SolveOptions(time_limit=8, workers=1, seed=0)
    schedule = rolling_start(problem, options, began + 8, until=began + 4)
    assert schedule is not None
    assert validate(problem, schedule) == []
    assert time.monotonic() - began <= 8 * 1.05 + 0.5


def test_large_problem_with_minimums_starts_from_the_blocks_and_stays_valid():
    """Forced into the neighbourhood search with ``rolling_start``: the greedy start may break the
    minimum runs and hours; the blocks give the first schedule instead, and the answer stays valid."""
    problem = _problem()
    limit = 8.0
    began = time.monotonic()
    options = SolveOptions(time_limit=limit, workers=1, seed=0, direct_limit=100, rolling_start=True)
    solution = solve(problem, options)
    assert time.monotonic() - began <= limit * 1.05 + 0.5
    assert solution.status is Status.FEASIBLE
    assert solution.stats["first_schedule"] == "blocks of weeks"
    assert validate(problem, list(solution.assignments)) == []
    assert solution.objective == objective(problem, solution.assignments)

