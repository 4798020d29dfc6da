"""Short visits (``Shift.visit``, issue 12): a 30-minute home visit is not the day's one shift, needs no
rest of its own but a travel gap (``visit_gap``), makes no working day on its own, but falls under the
hours caps, the rest blocks and eligibility like any shift. Each case is solved (one worker, fixed seed)
and checked by the independent checker; the same case with the flag off shows the flag decides."""

from __future__ import annotations

from dataclasses import replace

from solver.problem import History, HistoryDay, Person, Problem, Rules
from solver.validate import evaluate_terms, validate
from tests.solver.test_rules import ONLY_COVERAGE, H, one_person, run, shift

# the defaults of a site: one shift a day, 11 h of rest, at most 6 days in a row
SITE = Rules(min_rest_minutes=11 * H, max_shifts_per_day=1, max_consecutive_days=6)


def visit(day: int, start_hour: float, minutes: int = 30, **kw):
    return shift(day, start_hour, minutes / 60, id=kw.pop("id", f"visit-{day}-{start_hour:g}"),
                 type="visit", visit=True, **kw)


def unflagged(problem: Problem) -> Problem:
    """The same problem with every visit an ordinary shift (the behaviour before short visits)."""
    return replace(problem, shifts=tuple(replace(s, visit=False) for s in problem.shifts))


def shortfall(solution) -> int:
    return sum(sf.missing for sf in solution.uncovered)


def test_a_guardian_with_a_gate_shift_also_makes_the_visit():
    problem = one_person((shift(0, 8, 8, id="gate"), visit(0, 18)), SITE)
    solution, violations = run(problem)
    assert violations == [] and shortfall(solution) == 0
    assert solution.objective == sum(t.weighted for t in solution.terms)
    # before: the visit was the day's one shift, 11 h from the gate
    before, checked = run(unflagged(problem))
    assert checked == [] and shortfall(before) == 1
    assert {v.rule for v in validate(unflagged(problem), solution.assignments)} == {
        "max_shifts_per_day", "min_rest"
    }


def test_several_visits_a_day_around_a_shift():
    problem = one_person(
        (visit(0, 7), shift(0, 8, 8, id="gate"), visit(0, 16.25), visit(0, 17), visit(0, 17.25)), SITE
    )
    solution, violations = run(problem)
    assert violations == []
    # 07:00 ends 30 min before the gate, 16:15 starts 15 min after it, 17:00 15 min after 16:45; the
    # visits at 17:00 and 17:15 overlap: one of them stays short
    assert shortfall(solution) == 1


def test_a_visit_overlapping_a_shift_is_refused_by_both():
    problem = one_person((shift(0, 8, 8, id="gate"), visit(0, 15.75, id="visit")), SITE)
    solution, violations = run(problem)
    assert violations == [] and shortfall(solution) == 1
    assert {v.rule for v in validate(problem, [("ana", "gate"), ("ana", "visit")])} == {"no_double_booking"}


def test_a_visit_inside_the_travel_gap_is_refused_by_both():
    problem = one_person((shift(0, 8, 8, id="gate"), visit(0, 16 + 10 / 60, id="visit")), SITE)
    solution, violations = run(problem)
    assert violations == [] and shortfall(solution) == 1
    found = validate(problem, [("ana", "gate"), ("ana", "visit")])
    assert [v.rule for v in found] == ["visit_gap"] and "10 min" in found[0].message
    # a gap of 0 (a visit next door) lets it through
    problem = replace(problem, people=(replace(problem.people[0], rules=replace(SITE, visit_gap_minutes=0)),))
    solution, violations = run(problem)
    assert violations == [] and shortfall(solution) == 0


def test_a_visit_inside_a_rest_block_after_nights_is_refused_by_both():
    rules = replace(SITE, rest_after_nights=2, rest_after_nights_minutes=48 * H)
    nights = tuple(shift(d, 22, 8, id=f"night-{d}", type="night", night=True) for d in range(2))
    problem = one_person((*nights, visit(2, 18, id="visit")), rules, days=3)
    solution, violations = run(problem)
    assert violations == [] and shortfall(solution) == 1
    bad = [("ana", "night-0"), ("ana", "night-1"), ("ana", "visit")]
    assert {v.rule for v in validate(problem, bad)} == {"rest_after_nights"}


def test_a_visit_while_unavailable_is_refused():
    problem = one_person((visit(0, 10, id="visit"),), SITE, person={"unavailable": {"visit": "sick"}})
    solution, violations = run(problem)
    assert violations == [] and shortfall(solution) == 1
    assert {v.rule for v in validate(problem, [("ana", "visit")])} == {"eligibility"}


def test_visits_alone_make_no_working_day():
    """Three days on, the limit, then visits every day: the visits need no day off."""
    rules = replace(SITE, max_consecutive_days=3)
    gates = tuple(shift(d, 8, 8, id=f"gate-{d}") for d in range(5))
    visits = tuple(visit(d, 18) for d in range(5))
    problem = one_person((*gates, *visits), rules)
    solution, violations = run(problem)
    assert violations == []
    assert shortfall(solution) == 1  # one gate (days 0-2 and 4, or 0 and 2-4, ...); every visit made
    before, checked = run(unflagged(problem))
    assert checked == [] and shortfall(before) > shortfall(solution)


def test_a_day_with_only_visits_is_not_a_working_day_for_the_checker():
    rules = Rules(max_consecutive_days=2, min_days_off_per_7=5)
    problem = one_person((*(shift(d, 8, 8, id=f"gate-{d}") for d in range(2)), visit(2, 10, id="v")), rules)
    assert validate(problem, [("ana", "gate-0"), ("ana", "gate-1"), ("ana", "v")]) == []
    history = History(days=(HistoryDay(8 * H),) * 2)
    problem = replace(problem, people=(Person("ana", rules=rules, history=history),))
    assert validate(problem, [("ana", "v")]) == []


def test_visit_minutes_count_in_the_hours_caps_and_the_load():
    rules = replace(SITE, max_minutes_per_7_days=8 * H + 20)
    problem = one_person((shift(0, 8, 8, id="gate"), visit(0, 18, id="visit")), rules)
    solution, violations = run(problem)
    assert violations == [] and shortfall(solution) == 1
    found = validate(problem, [("ana", "gate"), ("ana", "visit")])
    assert [v.rule for v in found] == ["max_minutes_per_7_days"] and found[0].shifts == ("gate", "visit")
    # the load term counts the visit's half hour (tenths of an hour)
    loose = one_person((shift(0, 8, 8, id="gate"), visit(0, 18, id="visit")), SITE,
                       weights=replace(ONLY_COVERAGE, load_max=1))
    with_visit = evaluate_terms(loose, [("ana", "gate"), ("ana", "visit")])["load_max"]
    assert with_visit - evaluate_terms(loose, [("ana", "gate")])["load_max"] == 5


def test_the_travel_gap_holds_after_the_last_shift_before_the_horizon():
    problem = one_person((visit(0, 0.25, id="visit"),), SITE, history=History(last_shift_end=0), days=1)
    solution, violations = run(problem)
    assert violations == [] and shortfall(solution) == 0  # 15 min after: no 11 h of rest needed
    problem = replace(problem, people=(Person("ana", rules=SITE, history=History(last_shift_end=5)),))
    solution, violations = run(problem)
    assert violations == [] and shortfall(solution) == 1
