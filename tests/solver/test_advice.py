"""solver.advice: coverage first, then the fewest virtual people, on problems small enough to prove."""

from __future__ import annotations

from solver.advice import advise, coverage_only, without
from solver.problem import Person, Problem, Rules, Weights
from solver.validate import expected_shortfalls, validate
from tests.solver.test_rules import daily

RULES = Rules(max_consecutive_days=3)


def problem(people) -> Problem:
    return Problem(days=6, shifts=daily(6, required=2), people=tuple(people), name="short")


def test_fewest_virtual_people_that_close_the_gap():
    real = [Person("ann", rules=RULES)]
    # 2 places a day for 6 days; nobody works more than 3 days in a row, so at most 5 of the 6 days
    virtual = {f"v{i}": "any" for i in range(4)}
    people = real + [Person(i, rules=RULES) for i in virtual]
    advice = advise(problem(people), virtual, time_limit=10)
    assert advice.status.value == "optimal"
    assert advice.before and advice.after == ()
    assert set(advice.closed) == {sf.shift for sf in advice.before}
    # 12 places, at most 5 each: ann and one more (10) are not enough, ann and two more (15) are
    assert advice.counts == {"any": 2}
    with_them = problem(real + [Person(i, rules=RULES) for i in advice.used])
    assert validate(with_them, advice.assignments) == []
    assert expected_shortfalls(with_them, advice.assignments) == []
    fewer = without(with_them, advice.used[:1])
    assert expected_shortfalls(fewer, [a for a in advice.assignments if a[0] != advice.used[0]])


def test_narrow_archetype_preferred_at_equal_count():
    shifts = daily(2)
    day0_only = {shifts[1].id: "not on day 1"}
    virtual = {"narrow": "day0", "broad": "any"}
    people = (Person("ann", unavailable={shifts[0].id: "away"}), Person("narrow", unavailable=day0_only),
              Person("broad"))
    p = Problem(days=2, shifts=shifts, people=people)
    advice = advise(p, virtual, extra={"any": 5}, time_limit=5)
    assert advice.counts == {"day0": 1} and advice.after == () and advice.used == ("narrow",)
    # without the tie-break either would do; with the broad one cheaper, it is the broad one
    assert advise(p, virtual, extra={"day0": 5}, time_limit=5).used == ("broad",)


def test_coverage_only_keeps_coverage_weights():
    w = coverage_only(problem([])).weights
    assert w.uncovered == Weights().uncovered and w.load_max == 0 and w.preference == 0
    assert w.heavy_percent == Weights().heavy_percent


def test_greedy_cover_fills_people_up_and_breaks_no_rule():
    """The greedy answer (used at scale, and as the hint) gives the short places to recruits who may
    take them, the busiest first, so it needs as few as the optimum here; the checker finds nothing."""
    from solver.advice import greedy_cover

    later = {s.id: "away" for s in daily(6, required=2)[3:]}
    real = [Person("ann", rules=RULES, unavailable=later)]  # ann works days 0-2 and no more
    virtual = {f"v{i}": "any" for i in range(6)}
    p = problem(real + [Person(i, rules=RULES) for i in virtual])
    start = [("ann", s.id) for s in p.shifts[:3]]
    before = expected_shortfalls(without(p, virtual), start)
    pairs = greedy_cover(p, virtual, start, before)
    assert validate(p, pairs) == []
    assert expected_shortfalls(p, pairs) == []
    best = advise(p, virtual, start=start, time_limit=10)  # the fewest (phase 3 proves it here)
    assert best.after == ()
    # days 3-5 take two recruits for three days, so day 2 a third
    assert len({person for person, _ in pairs if person in virtual}) == len(best.used) == 3


def test_greedy_cover_sends_skilled_places_to_skilled_recruits():
    from solver.advice import greedy_cover
    from solver.problem import Shift

    shifts = (Shift("s0", "post", "day", 0, 480, 960, required=2, skills={"medic": 1}),)
    virtual = {"plain": "any", "medic": "medic"}
    p = Problem(days=1, shifts=shifts, people=(Person("plain"), Person("medic", skills=frozenset({"medic"}))))
    before = expected_shortfalls(without(p, virtual), [])
    pairs = greedy_cover(p, virtual, [], before, {"medic": 1})
    assert sorted(pairs) == [("medic", "s0"), ("plain", "s0")]
    assert expected_shortfalls(p, pairs) == []
