"""The linear relaxation's bound (issue 15): every rule it states holds for every valid schedule, so the
bound is never above a valid schedule's objective; and each rule, on its own, raises the bound."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings

from solver.bounds import staffing_bound
from solver.load import load_share
from solver.options import SolveOptions
from solver.problem import Person, Problem, Rules, Shift, Status, Weights
from solver.relaxation import BoundInBackground, lp_bound, with_bound
from solver.solve import solve
from solver.validate import change_cost, objective, validate
from tests.solver.strategies import problems

DAY = 24 * 60
COVER = Weights(  # people missing, and nothing else
    uncovered=100,
    skill_shortfall=100,
    overstaffed=0,
    load_max=0,
    load_spread=0,
    nights_spread=0,
    weekends_spread=0,
    heavy_spread=0,
    preference=0,
    isolated_day_off=0,
    isolated_work_day=0,
)


def _shift(day: int, kind: str = "D", hour: int = 8, hours: int = 8, **kw) -> Shift:
    start = day * DAY + hour * 60
    return Shift(id=f"{kind}{day}@{hour}", post="x", type=kind, day=day, start=start,
                 end=start + hours * 60, **kw)


NO_RULES = Rules()


def _one(days: int, shifts: list[Shift], rules: Rules = NO_RULES, **kw) -> Problem:
    return Problem(days=days, shifts=tuple(shifts), people=(Person("p", rules=rules),), weights=COVER, **kw)


def _optimum(problem: Problem) -> int:
    solution = solve(problem, SolveOptions(time_limit=10, workers=1, seed=0))
    assert solution.status is Status.OPTIMAL
    assert validate(problem, solution.assignments, solution.uncovered) == []
    return solution.objective


def _decides(problem: Problem, rules: Rules, expected: int) -> None:
    """With ``rules`` the bound is ``expected`` (and no valid schedule is below it); without, 0."""
    assert lp_bound(problem, 10) == 0
    people = tuple(dataclasses.replace(p, rules=rules) for p in problem.people)
    ruled = dataclasses.replace(problem, people=people)
    assert lp_bound(ruled, 10) == expected
    assert staffing_bound(ruled) == 0  # the bound the neighbourhood search had before: blind to it
    assert _optimum(ruled) >= expected


def test_hours_over_the_horizon():
    _decides(_one(3, [_shift(d) for d in range(3)]), Rules(max_total_minutes=2 * 480), 100)


def test_hours_in_7_days():
    _decides(_one(3, [_shift(d) for d in range(3)]), Rules(max_minutes_per_7_days=2 * 480), 100)


def test_shifts_of_a_type():
    _decides(_one(2, [_shift(0), _shift(1)]), Rules(max_shifts_by_type={"D": 1}), 100)


def test_rest_between_shifts():
    late, early = _shift(0, "L", hour=14), _shift(1, "E", hour=6)  # 8 hours apart
    _decides(_one(2, [late, early]), Rules(min_rest_minutes=11 * 60), 100)


def test_overlapping_shifts():
    rules = Rules(max_shifts_per_day=3)
    apart = _one(1, [_shift(0, "A", hour=6, hours=4), _shift(0, "B", hour=12, hours=4)], rules)
    assert lp_bound(apart, 10) == 0
    overlapping = _one(1, [_shift(0, "A", hour=6), _shift(0, "B", hour=10), _shift(0, "C", hour=20)], rules)
    assert lp_bound(overlapping, 10) == 100 == _optimum(overlapping)


def test_shifts_per_day():
    three = [_shift(0, k, hour=h, hours=3) for k, h in (("A", 0), ("B", 8), ("C", 16))]
    _decides(_one(1, three, Rules(max_shifts_per_day=3)), Rules(max_shifts_per_day=2), 100)


def test_consecutive_days():
    _decides(_one(3, [_shift(d) for d in range(3)]), Rules(max_consecutive_days=2), 100)


def test_days_off_in_7():
    _decides(_one(7, [_shift(d) for d in range(7)]), Rules(min_days_off_per_7=2), 200)


def test_weekends():
    weekend_days = (5, 6, 12, 13)  # day 0 is a Monday
    _decides(_one(14, [_shift(d) for d in weekend_days]), Rules(max_weekends=1), 200)


def test_forbidden_successions():
    night, early = _shift(0, "N", hour=22), _shift(1, "E", hour=14)
    problem = _one(2, [night, early])
    assert lp_bound(problem, 10) == 0
    forbidden = dataclasses.replace(problem, forbidden_successions=frozenset({("N", "E")}))
    assert lp_bound(forbidden, 10) == 100 == _optimum(forbidden)


def test_shortest_block_of_days_on():
    # a block of one day, touching neither end of the horizon: too short
    _decides(_one(3, [_shift(1)]), Rules(min_consecutive_days=2), 100)


def test_a_block_at_the_end_of_the_horizon_may_be_short():
    problem = _one(3, [_shift(2)], Rules(min_consecutive_days=3))
    assert lp_bound(problem, 10) == 0 == _optimum(problem)


def test_shortest_block_of_days_off():
    _decides(_one(3, [_shift(0), _shift(2)]), Rules(min_consecutive_days_off=2), 100)


def test_headcount_caps_and_skills():
    capped = Problem(days=1, shifts=(_shift(0, required=2, max_staff=1),),
                     people=(Person("a"), Person("b")), weights=COVER)
    assert lp_bound(capped, 10) == 100 == _optimum(capped)
    skilled = dataclasses.replace(capped, shifts=(_shift(0, required=1, skills={"medic": 1}),))
    assert lp_bound(skilled, 10) == 100 == _optimum(skilled)


def test_the_busiest_load():
    shift = _shift(0)
    weights = dataclasses.replace(COVER, uncovered=0, load_max=1)
    problem = Problem(days=1, shifts=(shift,), people=(Person("p"),), pinned=frozenset({("p", shift.id)}),
                      weights=weights)
    assert lp_bound(problem, 10) == load_share(problem, problem.people[0], shift) == _optimum(problem)
    # a person with a wish counts for nothing up to it: left out
    wishing = dataclasses.replace(problem, people=(Person("p", target_minutes=600),))
    assert lp_bound(wishing, 10) == 0 == _optimum(wishing)


def test_wishes_and_changes():
    weights = dataclasses.replace(COVER, preference=1, change=1)
    a, b = _shift(1, "A", required=0), _shift(1, "B", required=1)
    person = Person("p", wants={a.id: 3}, avoids={b.id: 2})
    # the person was on A and is wanted on B the same day: a change, or B short, or their wishes
    problem = Problem(days=2, shifts=(a, b), people=(person,), weights=weights,
                      reference=frozenset({("p", a.id)}))
    # moving costs both changes (off A, onto B) and both wishes; staying leaves B short
    expected = min(2 * change_cost(problem, a) + 3 + 2, 100)
    assert lp_bound(problem, 10) == expected == _optimum(problem)


def test_the_frozen_past_and_pins():
    a, b = _shift(0, required=1), _shift(1, required=1)
    frozen = Problem(days=2, shifts=(a, b), people=(Person("p"),), weights=COVER,
                     reference=frozenset(), freeze_before=DAY)
    assert lp_bound(frozen, 10) == 100 == _optimum(frozen)  # nobody was on a: it stays short
    pinned = dataclasses.replace(
        frozen, freeze_before=None, pinned=frozenset({("p", a.id)}),
        shifts=(a, dataclasses.replace(b, day=0, start=a.start, end=a.end)),
    )
    assert lp_bound(pinned, 10) == 100  # pinned on a, so not on the other shift of day 0


def test_rules_no_schedule_can_keep_give_no_bound():
    problem = _one(1, [_shift(0)], Rules(min_total_minutes=10 * 480))
    assert lp_bound(problem, 10) is None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_no_valid_schedule_is_below_the_relaxation(problem):
    bound = lp_bound(problem, 10)
    solution = solve(problem, SolveOptions(time_limit=3, workers=1, seed=0))
    if bound is not None and solution.has_schedule and not validate(problem, solution.assignments):
        assert bound <= objective(problem, solution.assignments)
        assert solution.best_bound <= solution.objective + 1e-6  # CP-SAT's own bound is a float


def _short_by_hours(days: int = 14, people: int = 3) -> Problem:
    """Every day asks for two people, whom the hours over the horizon cannot give."""
    shifts = [_shift(d, required=2) for d in range(days)]
    crew = tuple(Person(f"v{i}", rules=Rules(max_total_minutes=5 * 480)) for i in range(people))
    weights = dataclasses.replace(COVER, uncovered=100_000)
    return Problem(days=days, shifts=tuple(shifts), people=crew, weights=weights)


def test_the_neighbourhood_search_reports_the_relaxation_and_its_gap():
    problem = _short_by_hours()
    expected = problem.weights.uncovered * (2 * 14 - 3 * 5)
    assert lp_bound(problem, 10) == expected and staffing_bound(problem) == 0
    solution = solve(problem, SolveOptions(time_limit=4, workers=1, seed=0, direct_limit=10))
    assert solution.stats["method"] == "large neighbourhood search"
    assert solution.best_bound == expected == solution.stats["lp_bound"]
    assert solution.best_bound <= solution.objective == objective(problem, solution.assignments)
    assert solution.stats["gap"] == round(solution.gap, 4)


def test_a_single_model_keeps_the_better_of_the_two_bounds():
    problem = _short_by_hours()
    solution = solve(problem, SolveOptions(time_limit=4, workers=1, seed=0))
    # the relaxation's bound, unless CP-SAT proved the optimum before it was in (then it needs none)
    assert solution.stats.get("lp_bound") == problem.weights.uncovered * 13 or solution.gap == 0.0
    assert solution.best_bound >= lp_bound(problem, 10)
    off = solve(problem, SolveOptions(time_limit=2, workers=1, seed=0, lp_bound=False))
    assert "lp_bound" not in off.stats


def test_the_bound_in_the_background_and_lifting_a_solution():
    problem = _short_by_hours()
    background = BoundInBackground(problem, 10)
    assert background.result(timeout=10) == problem.weights.uncovered * 13
    found = solve(problem, SolveOptions(time_limit=2, workers=1, seed=0, lp_bound=False))
    lifted = with_bound(dataclasses.replace(found, best_bound=0), 1_300_000)
    assert lifted.best_bound == 1_300_000 and lifted.stats["gap"] == round(lifted.gap, 4)
    assert with_bound(found, None) is found
    capped = with_bound(found, found.objective + 5)  # never above the schedule's own objective
    assert capped.best_bound == found.objective


def test_no_time_no_bound():
    assert lp_bound(_short_by_hours(), 0.0) is None


def test_a_bound_that_comes_too_late_is_stopped():
    from tests.solver.test_solve import _gate

    background = BoundInBackground(_gate(days=28, people=60), 60)
    assert background.result() is None  # not done at once: stopped, not left running
    background._thread.join(10)
    assert not background._thread.is_alive()


def test_the_first_order_solver_proves_a_bound_by_its_duals(monkeypatch):
    """Large problems are solved by PDLP, whose optimum is approximate: the bound is what its dual
    values prove, priced exactly, so it is never above the true optimum, and close to it."""
    import solver.relaxation as relaxation

    problem = _short_by_hours()
    exact = lp_bound(problem, 10)
    monkeypatch.setattr(relaxation, "PDLP_PAIRS", 0)
    built = relaxation.build(problem)
    assert "PDLP" in built[0].solver.SolverVersion()
    approximate = lp_bound(problem, 10)
    assert approximate is not None and 0.99 * exact <= approximate <= exact
