"""The exact local model of a re-solve (solver.restaff): the chains the plain repair cannot make.

The hand-made case: volunteer ``s`` falls ill and leaves the afternoon place ``H`` short. Only ``a``
may work it, and ``a`` already works the morning ``X`` and the night ``Y`` of the same day, each
within the minimum rest of ``H``. Two different rules break if ``a`` takes ``H`` (rest after ``X``,
rest before ``Y``), so no single shift ``a`` could give up makes room: the repair's chains (one mover,
one shift given up, one free person taking it) leave ``H`` short. The local model lets ``a`` give up
both, ``b`` take ``X`` and ``c`` take ``Y``: five changes, no place short.
"""

from __future__ import annotations

import dataclasses

from solver.greedy import greedy
from solver.options import SolveOptions
from solver.problem import Person, Problem, Rules, Shift, Status, Weights
from solver.repair import fillable, kept_pairs, lexicographic_order, relieve, rescored
from solver.restaff import neighbourhood, restaff
from solver.validate import change_cost, evaluate_terms, expected_shortfalls, validate

H_ = 60
ONE_WORKER = SolveOptions(time_limit=10, workers=1, seed=0)
CHANGE = 1000


def _shift(sid: str, start: int, hours: int = 8) -> Shift:
    return Shift(id=sid, post="gate", type=sid, day=0, start=start, end=start + hours * H_)


def _problem(backfill_night: bool = True) -> Problem:
    shifts = (_shift("X", 4 * H_), _shift("H", 12 * H_), _shift("Y", 20 * H_))
    rest = Rules(min_rest_minutes=8 * H_, max_shifts_per_day=3)
    people = (
        Person("s", unavailable={"X": "sick", "H": "sick", "Y": "sick"}),
        Person("a", rules=rest),
        Person("b", rules=rest, unavailable={"H": "not trained", "Y": "not trained"}),
        Person("c", rules=rest, unavailable={"X": "away", "H": "not trained"}
               | ({} if backfill_night else {"Y": "away"})),
    )
    return Problem(
        days=1,
        shifts=shifts,
        people=people,
        weights=Weights(change=CHANGE),
        reference=frozenset({("s", "H"), ("a", "X"), ("a", "Y")}),
        freeze_before=0,
    )


def _repaired(problem: Problem) -> tuple[list[tuple[str, str]], list[str]]:
    """The plain repair (kept pairs, then the short chains), and the places it leaves fillable."""
    start = relieve(problem, kept_pairs(problem), {"H"})
    return start, fillable(problem, start, {"H"}, {})


def test_the_local_model_finds_the_chain_the_repair_misses() -> None:
    problem = _problem()
    start, short = _repaired(problem)
    assert short == ["H"]  # the repair alone leaves the place short
    assert [sf.shift for sf in expected_shortfalls(problem, start)] == ["H"]

    solution, hood = restaff(problem, start, short, ONE_WORKER)
    assert solution.status is Status.OPTIMAL
    assert hood.movers == 1 and hood.backfills == 2
    assert validate(problem, solution.assignments) == []
    terms = evaluate_terms(problem, solution.assignments)
    assert terms["uncovered"] == 0
    # a takes H and gives up X and Y, which b and c take: five changes within the first day
    assert terms["change"] == 5 * change_cost(problem, problem.shift("H"))
    better = rescored(problem, solution)
    before = rescored(problem, dataclasses.replace(solution, assignments=tuple(start)))
    assert lexicographic_order(better) < lexicographic_order(before)


def test_the_local_model_proves_nothing_better_when_a_rule_cannot_be_mended() -> None:
    # nobody could take over the night: a's rest before it cannot be mended, so H stays short
    problem = _problem(backfill_night=False)
    start, short = _repaired(problem)
    assert short == ["H"]
    assert neighbourhood(problem, start, short).movers == 0

    solution, _ = restaff(problem, start, short, ONE_WORKER)
    assert solution.status is Status.OPTIMAL
    assert validate(problem, solution.assignments) == []
    assert evaluate_terms(problem, solution.assignments)["uncovered"] == 1
    assert evaluate_terms(problem, solution.assignments)["change"] == evaluate_terms(problem, start)["change"]


def test_people_outside_the_neighbourhood_keep_their_shifts() -> None:
    # a fourth, unrelated shift and its volunteer: fixed, and in the answer unchanged
    base = _problem()
    other = Shift(id="Z", post="kitchen", type="Z", day=0, start=6 * H_, end=14 * H_)
    problem = dataclasses.replace(
        base,
        shifts=(*base.shifts, other),
        people=(*base.people, Person("d", unavailable={"X": "-", "H": "-", "Y": "-"})),
        reference=base.reference | {("d", "Z")},
    )
    start, short = _repaired(problem)
    solution, hood = restaff(problem, start, short, ONE_WORKER)
    assert "d" not in hood.candidates
    outside = {pair for pair in start if pair[0] not in hood.candidates}
    assert outside and outside == {pair for pair in solution.assignments if pair[0] not in hood.candidates}
    assert validate(problem, solution.assignments) == []
    assert evaluate_terms(problem, solution.assignments)["uncovered"] == 0


def test_a_place_short_of_a_skill_is_swapped_to_someone_who_has_it() -> None:
    # the medic s falls ill on H (one place, one medic wanted); the repair puts a free volunteer there,
    # which leaves H a medic short: the only other medic, m, works X, which overlaps H
    shifts = (
        Shift(id="X", post="gate", type="X", day=0, start=8 * H_, end=16 * H_),
        Shift(id="H", post="clinic", type="H", day=0, start=12 * H_, end=20 * H_, max_staff=1,
              skills={"medical": 1}),
    )
    people = (
        Person("s", skills=frozenset({"medical"}), unavailable={"X": "sick", "H": "sick"}),
        Person("m", skills=frozenset({"medical"})),
        Person("w"),
        Person("v"),
    )
    problem = Problem(
        days=1, shifts=shifts, people=people, weights=Weights(change=CHANGE),
        reference=frozenset({("s", "H"), ("m", "X")}), freeze_before=0,
    )
    start = relieve(problem, greedy_fill(problem), {"H"})
    assert evaluate_terms(problem, start)["skill_shortfall"] == 1
    short = fillable(problem, start, {"H"}, {})
    assert short == ["H"]

    solution, _ = restaff(problem, start, short, ONE_WORKER)
    assert solution.status is Status.OPTIMAL
    assert validate(problem, solution.assignments) == []
    terms = evaluate_terms(problem, solution.assignments)
    assert terms["skill_shortfall"] == 0 and terms["uncovered"] == 0
    # m moves to H, someone free takes X: three changes against the previous schedule
    assert terms["change"] == 3 * change_cost(problem, problem.shift("H"))


def greedy_fill(problem: Problem) -> list[tuple[str, str]]:
    """The re-solve's start: the kept pairs, and the free places given by the greedy (everything kept
    pinned), as ``solver.repair.search_problem`` makes it."""
    kept = kept_pairs(problem)
    return greedy(dataclasses.replace(problem, pinned=problem.pinned | frozenset(kept)))


def _medic_spent_early() -> Problem:
    """The greedy start walks the shifts in time order: the morning A goes to the medic m (u and w
    would rather not), so the afternoon B, which needs a medic, gets u and stays a medic short (m may
    work one shift a day). The chain mends it: m moves to B, w takes A. One change at a time cannot: a
    place left open on A costs twice a medic missing on B, and A holds one person."""
    shifts = (
        Shift(id="A", post="gate", type="A", day=0, start=6 * H_, end=14 * H_, under_weight=2,
              max_staff=1),
        Shift(id="B", post="clinic", type="B", day=0, start=14 * H_, end=22 * H_, skills={"medical": 1}),
    )
    people = (
        Person("m", skills=frozenset({"medical"})),
        Person("u", avoids={"A": 5}),
        Person("w", avoids={"A": 5}, unavailable={"B": "not trained"}),
    )
    return Problem(days=1, shifts=shifts, people=people)


def test_the_neighbourhood_search_restaffs_the_places_its_start_leaves_short(monkeypatch) -> None:
    from solver import lns
    from solver.solve import solve

    problem = _medic_spent_early()
    assert evaluate_terms(problem, greedy(problem))["skill_shortfall"] == 1  # what the start leaves
    # five pairs in all: a neighbourhood (at most a third of them) cannot move the medic, the chain can
    options = SolveOptions(time_limit=5, workers=1, seed=0, direct_limit=1, lp_bound=False)
    solution = solve(problem, options)
    assert solution.stats["method"] == "large neighbourhood search"
    assert solution.stats["restaff_rounds"] == 1
    assert validate(problem, solution.assignments) == []
    terms = evaluate_terms(problem, solution.assignments)
    assert terms["skill_shortfall"] == 0 and terms["uncovered"] == 0
    assert solution.objective == sum(v * getattr(problem.weights, k) for k, v in terms.items())

    monkeypatch.setattr(lns, "RESTAFF_ROUNDS", 0)  # without the chains the place stays short
    without = solve(problem, options)
    assert without.stats["restaff_rounds"] == 0
    assert evaluate_terms(problem, without.assignments)["skill_shortfall"] == 1
