"""Each soft term decides a tiny problem on its own.

Every case weights one term against a weaker pull the other way (a wish, mostly). Solved with every
term, the case comes out the term's way; solved with that one term left out of the model, the weaker
pull wins and the term's value (scored by the independent checker) is worse. So removing any term from
the model fails a test.
"""

from __future__ import annotations

import dataclasses

import pytest

from solver.options import SolveOptions
from solver.problem import Intensity, Person, Problem, Weights
from solver.solve import solve
from solver.validate import TERMS, evaluate_terms, validate
from tests.solver.test_rules import LOOSE, H, daily, shift

NONE = Weights(**dict.fromkeys(TERMS, 0))


def weights(**kw: int) -> Weights:
    return dataclasses.replace(NONE, **kw)


def people(*names: str, **kw) -> tuple[Person, ...]:
    per_person = {n: kw.pop(n, {}) for n in names}
    return tuple(Person(id=n, rules=LOOSE, **kw, **per_person[n]) for n in names)


TWO_DAYS = 2 * 8 * H  # capacity of two 8-hour shifts

CASES: dict[str, Problem] = {
    # ana would rather not, but the gate must be staffed
    "uncovered": Problem(
        days=1,
        shifts=(shift(0, 8, 8, id="gate"),),
        people=people("ana", ana={"avoids": {"gate": 5}}),
        weights=weights(uncovered=100, preference=1),
    ),
    # the medic would rather not, but the shift needs a medic
    "skill_shortfall": Problem(
        days=1,
        shifts=(shift(0, 8, 8, id="care", max_staff=1, skills={"medical": 1}),),
        people=people(
            "medic", "ben", medic={"skills": frozenset({"medical"}), "avoids": {"care": 5}}
        ),
        weights=weights(uncovered=100, skill_shortfall=100, preference=1),
    ),
    # both want the shift; one is enough
    "overstaffed": Problem(
        days=1,
        shifts=(shift(0, 8, 8, id="gate"),),
        people=people("ana", "ben", ana={"wants": {"gate": 5}}, ben={"wants": {"gate": 5}}),
        weights=weights(uncovered=100, overstaffed=100, preference=1),
    ),
    # ana wants both days; sharing them keeps either from being worn out
    "load_max": Problem(
        days=2,
        shifts=daily(2),
        people=people(
            "ana", "ben", capacity_minutes=TWO_DAYS, ana={"wants": {"day-0-8": 1, "day-1-8": 1}}
        ),
        weights=weights(uncovered=100_000, load_max=20, preference=1),
    ),
    "load_spread": Problem(
        days=2,
        shifts=daily(2, max_staff=1),
        people=people(
            "ana", "ben", capacity_minutes=TWO_DAYS, ana={"wants": {"day-0-8": 1, "day-1-8": 1}}
        ),
        weights=weights(uncovered=100_000, load_spread=20, preference=1),
    ),
    "nights_spread": Problem(
        days=2,
        shifts=daily(2, 22, 8, type="night", night=True, max_staff=1),
        people=people("ana", "ben", ana={"wants": {"night-0-22": 1, "night-1-22": 1}}),
        weights=weights(uncovered=100_000, nights_spread=100, preference=1),
    ),
    # day 0 is a Monday: days 5 and 6 are the weekend
    "weekends_spread": Problem(
        days=7,
        shifts=(shift(5, 8, 8, max_staff=1), shift(6, 8, 8, max_staff=1)),
        people=people("ana", "ben", ana={"wants": {"day-5-8": 1, "day-6-8": 1}}),
        weights=weights(uncovered=100_000, weekends_spread=100, preference=1),
    ),
    "heavy_spread": Problem(
        days=2,
        shifts=daily(2, intensity=Intensity.HEAVY, max_staff=1),
        people=people("ana", "ben", ana={"wants": {"day-0-8": 1, "day-1-8": 1}}),
        weights=weights(uncovered=100_000, heavy_spread=100, preference=1),
    ),
    # nobody has to work; ana's wish beats a lone working day
    "preference": Problem(
        days=3,
        shifts=(shift(1, 8, 8),),
        people=people("ana", ana={"wants": {"day-1-8": 10}}),
        weights=weights(preference=1, isolated_work_day=5),
    ),
    # ana wants days 0 and 2 and would skip day 1; a single day off between them is no rest
    "isolated_day_off": Problem(
        days=3,
        shifts=daily(3),
        people=people("ana", ana={"wants": {"day-0-8": 10, "day-2-8": 10}, "avoids": {"day-1-8": 1}}),
        weights=weights(preference=1, isolated_day_off=50),
    ),
    # ana wants a lone working day; off-on-off breaks the rhythm
    "isolated_work_day": Problem(
        days=3,
        shifts=(shift(1, 8, 8),),
        people=people("ana", ana={"wants": {"day-1-8": 1}}),
        weights=weights(preference=1, isolated_work_day=50),
    ),
    # ana had the shift; ben would like it, but changing the plan costs more
    "change": Problem(
        days=1,
        shifts=(shift(0, 8, 8, id="gate", max_staff=1),),
        people=people("ana", "ben", ben={"wants": {"gate": 1}}),
        reference=frozenset({("ana", "gate")}),
        weights=weights(uncovered=100_000, preference=1, change=100),
    ),
    # everyone's wishes would pair ana with ben on day 0 and with cleo on day 1: two pairs of partners
    # instead of one stable team
    "partners": Problem(
        days=2,
        shifts=daily(2, required=2, max_staff=2),
        people=people(
            "ana",
            "ben",
            "cleo",
            ana={"wants": {"day-0-8": 1, "day-1-8": 1}},
            ben={"wants": {"day-0-8": 1}},
            cleo={"wants": {"day-1-8": 1}},
        ),
        weights=weights(uncovered=100_000, preference=1, partners=100),
    ),
}


def run(problem: Problem, skip: tuple[str, ...] = ()) -> dict[str, int]:
    solution = solve(problem, SolveOptions(time_limit=10, workers=1, seed=0), skip=skip)
    assert solution.has_schedule, solution.status
    assert validate(problem, solution.assignments, solution.uncovered) == []
    return evaluate_terms(problem, solution.assignments)


@pytest.mark.parametrize("term", sorted(CASES))
def test_term_alone_decides(term):
    problem = CASES[term]
    assert getattr(problem.weights, term) > 0
    with_term, without = run(problem), run(problem, skip=(term,))
    assert with_term[term] < without[term], (with_term, without)


def test_every_soft_term_has_a_case():
    from solver.objectives import SOFT_TERMS

    assert set(SOFT_TERMS) == set(CASES) == set(TERMS)


def test_partners_in_the_model_match_the_checker_with_fixed_people():
    """In a neighbourhood, people outside it are constants: pairs among them and with them count too."""
    from ortools.sat.python import cp_model

    from solver.build import build

    problem = Problem(
        days=3,
        shifts=tuple(shift(d, 8, 8, required=3) for d in range(3)),
        people=people("ana", "ben", "cleo", "dan"),
        weights=weights(uncovered=1000, partners=1),
    )
    fixed = {("ana", "day-0-8"), ("ben", "day-0-8"), ("ana", "day-1-8")}
    candidates = {"cleo": {s.id for s in problem.shifts}, "dan": {s.id for s in problem.shifts}}
    model = build(problem, candidates=candidates, fixed=fixed)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    assert solver.solve(model.cp) == cp_model.OPTIMAL
    chosen = set(fixed) | {
        (problem.people[p].id, problem.shifts[s].id)
        for p, row in enumerate(model.assign)
        for s, var in row.items()
        if solver.value(var)
    }
    terms = evaluate_terms(problem, chosen)
    assert solver.value(model.terms["partners"]) == terms["partners"]
    # cleo and dan fill what they can (ana is not free on day 2): one of them joins ana and ben on
    # day 0, both work with ana on day 1 and with each other on day 2: five pairs
    assert terms["uncovered"] == 1 and terms["partners"] == 5


# --------------------------------------------------------------------------------------------------
# What the load terms measure (Problem.load_measure) and wishes for more hours (Person.target_minutes)


def _shifts_of(problem: Problem, solution) -> dict[str, int]:
    counts = dict.fromkeys((p.id for p in problem.people), 0)
    for person_id, _ in solution.assignments:
        counts[person_id] += 1
    return counts


def _balance(measure, *, target: int = 0):
    from solver.problem import LoadMeasure

    # four 8-hour days; ana declares room for all four, ben for two
    return Problem(
        days=4,
        shifts=daily(4, max_staff=1),
        people=(
            Person("ana", rules=LOOSE, capacity_minutes=4 * 8 * H, target_minutes=target),
            Person("ben", rules=LOOSE, capacity_minutes=2 * 8 * H),
        ),
        weights=weights(uncovered=100_000, load_max=20, load_spread=10),
        load_measure=LoadMeasure(measure),
    )


@pytest.mark.parametrize(
    ("measure", "target", "expected"),
    [
        ("hours", 0, {"ana": 2, "ben": 2}),  # a declared maximum is a limit, not a wish
        ("capacity", 0, {"ana": 3, "ben": 1}),  # 750 and 500 per mille beat 500 and 1000
        ("hours", 3 * 8 * H, {"ana": 3, "ben": 1}),  # ana wishes 24 h: hers up to it count for nothing
    ],
)
def test_load_measure_and_target(measure, target, expected):
    problem = _balance(measure, target=target)
    solution = solve(problem, SolveOptions(time_limit=10, workers=1, seed=0))
    assert solution.status.value == "optimal"
    assert validate(problem, solution.assignments, solution.uncovered) == []
    assert _shifts_of(problem, solution) == expected
    # the model's own accounting of the piecewise terms agrees with the checker's at the optimum
    assert solution.stats["model_objective"] == solution.objective


def test_target_beyond_the_wish_counts_in_full():
    """A wish is not a licence to overload: beyond it a person's whole load counts again, so ana
    (wishing 8 h) gets no more than the others' share."""
    problem = _balance("hours", target=8 * H)
    solution = solve(problem, SolveOptions(time_limit=10, workers=1, seed=0))
    assert solution.status.value == "optimal"
    assert _shifts_of(problem, solution) == {"ana": 2, "ben": 2}
    assert evaluate_terms(problem, solution.assignments)["load_max"] == 160


def test_one_more_covered_place_outweighs_its_load():
    """Coverage dominates in both load measures: the most one shift can add to the load terms (a
    24-hour heavy night, in hours; a whole capacity, per mille) stays below one missing person."""
    from solver.load import load_share
    from solver.problem import LoadMeasure, Shift

    w = Weights()
    night = Shift("n", "p", "night", 0, 0, 24 * H, night=True, intensity=Intensity.HEAVY)
    keen = Person("a", capacity_minutes=24 * H)
    for measure in LoadMeasure:
        problem = Problem(days=1, shifts=(night,), people=(keen,), load_measure=measure)
        most = load_share(problem, keen, night)
        assert most * (w.load_max + w.load_spread) < w.uncovered, measure


def test_load_terms_with_fixed_people_match_the_checker():
    """In a neighbourhood, a person outside it is a constant load: beyond their wish it counts in
    full, below it not at all, as the checker counts it."""
    from ortools.sat.python import cp_model

    from solver.build import build

    problem = Problem(
        days=4,
        shifts=daily(4, max_staff=1),
        people=(
            Person("ana", rules=LOOSE, target_minutes=8 * H),  # fixed on two days: beyond her wish
            Person("ben", rules=LOOSE, target_minutes=24 * H),  # fixed on one day: below his wish
            Person("cleo", rules=LOOSE),
        ),
        weights=weights(uncovered=100_000, load_max=20, load_spread=10),
    )
    fixed = {("ana", "day-0-8"), ("ana", "day-1-8"), ("ben", "day-2-8")}
    model = build(problem, candidates={"cleo": {s.id for s in problem.shifts}}, fixed=fixed)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    assert solver.solve(model.cp) == cp_model.OPTIMAL
    chosen = set(fixed) | {
        (problem.people[p].id, problem.shifts[s].id)
        for p, row in enumerate(model.assign)
        for s, var in row.items()
        if solver.value(var)
    }
    terms = evaluate_terms(problem, chosen)
    assert solver.value(model.terms["load_max"]) == terms["load_max"] == 160  # ana: 16 h
    assert solver.value(model.terms["load_spread"]) == terms["load_spread"]
