"""The CP-SAT solver against the independent checker, on random and on hand-made problems."""

from __future__ import annotations

import dataclasses
import threading

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from solver.options import SolveOptions
from solver.problem import Person, Problem, Rules, Shift, Status
from solver.solve import solve
from solver.validate import evaluate_terms, expected_shortfalls, objective, validate
from tests.solver.strategies import problems

ONE_WORKER = SolveOptions(time_limit=10, workers=1, seed=0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_random_problems_have_no_violations(problem):
    solution = solve(problem, ONE_WORKER)
    if not solution.has_schedule:
        # only a minimum the rules cannot reach, contradictory pins or a frozen past make it infeasible
        assert solution.status is Status.INFEASIBLE
        assert (
            problem.pinned
            or problem.freeze_before is not None
            or any(p.rules.min_total_minutes for p in problem.people)
        )
        return
    assert validate(problem, solution.assignments, solution.uncovered) == []
    assert list(solution.uncovered) == expected_shortfalls(problem, solution.assignments)
    assert {t.name: t.value for t in solution.terms} == evaluate_terms(problem, solution.assignments)
    truth = objective(problem, solution.assignments)
    assert solution.objective == truth
    # the model's own objective uses auxiliary variables that are exact at the optimum, never below
    assert solution.stats["model_objective"] >= truth
    if solution.status is Status.OPTIMAL:
        assert solution.stats["model_objective"] == truth
        assert solution.best_bound <= truth + 1e-6


def _gate(days: int, people: int) -> Problem:
    shifts = tuple(
        Shift(
            id=f"g/{t}/{d}",
            post="g",
            type=t,
            day=d,
            start=d * 1440 + h * 60,
            end=d * 1440 + h * 60 + 480,
            required=2,
            max_staff=2,
            night=t == "night",
        )
        for d in range(days)
        for t, h in (("early", 6), ("late", 14), ("night", 22))
    )
    rules = Rules(
        min_rest_minutes=660,
        max_consecutive_days=5,
        min_days_off_per_7=2,
        max_minutes_per_7_days=40 * 60,
        max_consecutive_nights=2,
    )
    crew = tuple(
        Person(id=f"v{i}", rules=rules, capacity_minutes=40 * 60 * (days + 7) // 7) for i in range(people)
    )
    return Problem(days=days, shifts=shifts, people=crew)


def test_a_coverable_gate_is_fully_covered():
    problem = _gate(days=7, people=12)
    solution = solve(problem, SolveOptions(time_limit=3, workers=1, seed=0))
    assert solution.has_schedule
    assert solution.uncovered == ()
    assert validate(problem, solution.assignments, solution.uncovered) == []


def test_too_few_people_leaves_listed_gaps_not_an_error():
    problem = _gate(days=7, people=3)
    solution = solve(problem, ONE_WORKER)
    assert solution.has_schedule
    missing = sum(s.missing for s in solution.uncovered)
    # three people can give at most 3 x 5 shifts a week against 42 places
    assert missing >= 42 - 15
    assert validate(problem, solution.assignments, solution.uncovered) == []


def test_progress_is_reported_and_the_search_can_be_stopped():
    problem = _gate(days=14, people=20)
    seen = []
    stop = threading.Event()

    def on_progress(progress):
        seen.append(progress)
        if progress.objective is not None:
            stop.set()

    solution = solve(problem, SolveOptions(time_limit=60, workers=1, on_progress=on_progress, stop=stop))
    assert seen and seen[0].elapsed >= 0
    assert solution.wall_time < 30
    assert solution.stats["cancelled"] is True
    if solution.has_schedule:
        assert validate(problem, solution.assignments, solution.uncovered) == []


def test_large_problems_go_through_neighbourhoods_and_stay_valid():
    problem = _gate(days=14, people=16)
    seen = []
    options = SolveOptions(time_limit=8, workers=1, seed=0, direct_limit=100, on_progress=seen.append)
    solution = solve(problem, options)
    assert solution.stats["method"] == "large neighbourhood search"
    assert solution.stats["neighbourhoods"] >= 1
    assert validate(problem, solution.assignments, solution.uncovered) == []
    assert solution.objective == objective(problem, solution.assignments)
    # progress only ever reports improvements, starting from the greedy schedule
    values = [p.objective for p in seen]
    assert values == sorted(values, reverse=True) and len(set(values)) == len(values)
    assert solution.objective == values[-1]


def test_neighbourhood_search_starts_from_the_previous_schedule_without_the_ill():
    problem = _gate(days=7, people=12)
    first = solve(problem, SolveOptions(time_limit=3, workers=1, seed=0))
    ill = first.assignments[0][0]
    people = tuple(
        dataclasses.replace(p, unavailable={s.id: "sick" for s in problem.shifts}) if p.id == ill else p
        for p in problem.people
    )
    again = dataclasses.replace(problem, people=people, reference=frozenset(first.assignments))
    solution = solve(again, SolveOptions(time_limit=4, workers=1, seed=0, direct_limit=100))
    assert all(p != ill for p, _ in solution.assignments)
    assert validate(again, solution.assignments, solution.uncovered) == []


def test_people_the_greedy_start_leaves_below_a_minimum_are_re_planned_alone():
    """Greedy fills demand only; a minimum total (as in the public benchmark) it cannot meet. Each
    such person is re-planned alone against the others' shifts, and the start becomes valid."""
    import time

    from solver.greedy import greedy
    from solver.start import repair_people

    days = 7
    shifts = tuple(
        Shift(f"s{d}", "gate", "day", d, d * 1440 + 480, d * 1440 + 960, required=1, max_staff=2)
        for d in range(days)
    )
    rules = Rules(min_total_minutes=3 * 480, min_rest_minutes=11 * 60)
    people = tuple(Person(p, rules=rules) for p in ("ana", "ben", "cleo"))
    problem = Problem(days=days, shifts=shifts, people=people)
    start = greedy(problem, seed=0)
    broken = validate(problem, start)
    assert broken and {v.rule for v in broken} == {"min_total_minutes"}
    repaired = repair_people(
        problem, start, {v.person for v in broken}, SolveOptions(workers=1, seed=0), time.monotonic() + 20
    )
    assert validate(problem, repaired) == []
    assert expected_shortfalls(problem, repaired) == []
    # and the neighbourhood search starts from it
    solution = solve(problem, SolveOptions(time_limit=5, workers=1, seed=0, direct_limit=1))
    assert solution.has_schedule and validate(problem, solution.assignments) == []


def test_a_search_that_finds_nothing_in_time_answers_with_its_valid_start():
    """CP-SAT given no time at all finds nothing; the greedy start it was handed breaks no rule, so that
    start is the answer (scored by the checker) rather than no schedule."""
    from pathlib import Path

    from scheduler.domain.compile import compile_scenario
    from scheduler.domain.scenario import Scenario

    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "small.json"
    problem = compile_scenario(Scenario.model_validate_json(fixture.read_text())).problem
    options = SolveOptions(time_limit=5, workers=1, seed=0, parameters={"max_deterministic_time": 0.0})
    solution = solve(problem, options)
    assert solution.status == Status.FEASIBLE and solution.stats.get("answer") == "valid start"
    assert solution.assignments and validate(problem, list(solution.assignments)) == []
    assert solution.objective == objective(problem, solution.assignments)
    assert solution.uncovered == tuple(expected_shortfalls(problem, solution.assignments))
    # without a start to fall back on, nothing is what was found
    bare = solve(problem, dataclasses.replace(options, greedy_start=False))
    assert bare.status == Status.NO_SOLUTION and not bare.assignments


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.data())
def test_a_neighbourhood_model_scores_a_valid_schedule_as_the_checker_does(problem, data):
    """The model of a neighbourhood (some people free, everyone else fixed as constants), with the free
    people held to a valid schedule, is feasible and its every term is the checker's. A person outside
    the neighbourhood has no variables: a rule or term that read their shifts as none made every
    neighbourhood of Curtois 13 infeasible (total minutes) and over-counted its wishes (preference)."""
    from ortools.sat.python import cp_model

    from solver.build import build

    solution = solve(problem, dataclasses.replace(ONE_WORKER, time_limit=5))
    assume(solution.has_schedule)
    schedule = set(solution.assignments)
    ids = [p.id for p in problem.people]
    free = data.draw(st.sets(st.sampled_from(ids), max_size=len(ids) - 1), label="free people")
    fixed = {(p, s) for p, s in schedule if p not in free}
    candidates = {p: {s.id for s in problem.shifts} for p in free}
    model = build(problem, candidates=candidates, fixed=fixed)
    for p, row in enumerate(model.assign):
        for s, var in row.items():
            model.cp.add(var == int((problem.people[p].id, problem.shifts[s].id) in schedule))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    solver.parameters.max_time_in_seconds = 10
    assert solver.solve(model.cp) == cp_model.OPTIMAL
    truth = evaluate_terms(problem, schedule)
    assert {n: round(solver.value(e)) for n, e in model.terms.items()} == {n: truth[n] for n in model.terms}
    assert round(solver.objective_value) == objective(problem, schedule)
