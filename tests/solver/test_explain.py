"""Explanations of shortfalls: one test per reason, the counting rules, a property and speed."""

from __future__ import annotations

import bisect

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver.explain import (
    AT_A_LIMIT,
    NO_ONE_AVAILABLE,
    SKILL_MISSING,
    STOPPED_EARLY,
    Explanation,
    explain_shortfall,
    explain_shortfalls,
)
from solver.problem import History, HistoryDay, Shortfall
from solver.validate import _check_one, _Days, _index, _shift_key, expected_shortfalls
from tests.solver.strategies import assignments, problems
from tests.solver.test_validate import H, big_problem, daily, on, person, problem, shift


def explain(p, asg, sid: str) -> Explanation:
    [sf] = [sf for sf in expected_shortfalls(p, asg) if sf.shift == sid]
    return explain_shortfall(p, asg, sf)


def test_no_one_available():
    people = [
        person("a", unavailable={"d0": "sick"}),
        person("b", unavailable={"d0": "outside availability"}),
        person("c", unavailable={"d0": "sick"}),
    ]
    e = explain(problem(1, daily(1), people), [], "d0")
    assert e.reason == NO_ONE_AVAILABLE
    assert e.blocked_by == {"sick": 2, "outside availability": 1}
    assert e.detail == "3 people are unavailable (sick 2, outside availability 1)"


def test_no_one_else_at_all():
    e = explain(problem(1, daily(1, required=2), [person("a")]), on("a", "d0"), "d0")
    assert e.reason == NO_ONE_AVAILABLE and e.blocked_by == {}


def test_skill_missing():
    s = daily(1, required=1, skills={"medic": 1})
    people = [
        person("a"),
        person("b"),
        person("c", skills=frozenset({"driver"})),
        person("d", unavailable={"d0": "vacation"}),
    ]
    e = explain(problem(1, s, people), on("a", "d0"), "d0")
    assert e.reason == SKILL_MISSING
    assert e.blocked_by == {"vacation": 1, "lacks skill medic": 2}
    assert e.detail == "1 person is unavailable (vacation 1); 2 people lack skill medic"


def test_skill_holders_at_a_limit():
    s = daily(2, required=1, skills={"medic": 1})
    people = [
        person("a"),
        person("b"),
        person("m", skills=frozenset({"medic"}), rules={"max_total_minutes": 0}),
    ]
    e = explain(problem(2, s, people), on("a", "d0"), "d0")
    assert e.reason == AT_A_LIMIT
    assert e.blocked_by == {"lacks skill medic": 1, "max_total_minutes": 1}


def test_everyone_eligible_is_at_a_limit():
    s = [shift("late", 0, 14, 22), shift("early", 1, 6, 14), shift("night", 0, 22, 31, night=True)]
    people = [
        person("a", rules={"min_rest_minutes": 11 * H}),
        person("b", rules={"min_rest_minutes": 11 * H, "max_consecutive_days": 1}),
        person("c", unavailable={"early": "sick"}),
        person("d", rules={"max_shifts_per_day": 1}),
    ]
    asg = on("a", "late") + on("b", "late") + on("d", "night")
    e = explain(problem(2, s, people), asg, "early")
    assert e.reason == AT_A_LIMIT
    # d's night ends at 07:00 on day 1: the early shift overlaps it
    assert e.blocked_by == {"sick": 1, "min_rest": 2, "max_consecutive_days": 1, "no_double_booking": 1}
    assert e.detail == (
        "1 person is unavailable (sick 1); 3 could work but each would break a rule "
        "(min_rest 2, max_consecutive_days 1, no_double_booking 1)"
    )


def test_stopped_early():
    people = [
        person("a", rules={"max_total_minutes": 0}),
        person("b"),
        person("c", unavailable={"d1": "sick"}),
    ]
    e = explain(problem(2, daily(2), people), on("b", "d0"), "d1")
    assert e.reason == STOPPED_EARLY
    assert e.blocked_by == {"sick": 1, "max_total_minutes": 1}
    assert e.detail == (
        "1 person is unavailable (sick 1); 1 could work but would break a rule (max_total_minutes 1); "
        "1 could work it without breaking a rule"
    )


def test_existing_violations_do_not_block():
    # a already breaks max_consecutive_days on days 0-2; working day 5 adds nothing new
    p = problem(6, daily(6), [person("a", rules={"max_consecutive_days": 2, "min_total_minutes": 99 * H})])
    e = explain(p, on("a", "d0", "d1", "d2"), "d5")
    assert e.reason == STOPPED_EARLY and e.blocked_by == {}
    # ... but day 3 makes the run longer
    assert explain(p, on("a", "d0", "d1", "d2"), "d3").blocked_by == {"max_consecutive_days": 1}


def test_min_consecutive_days_blocks_only_a_new_lone_day():
    p = problem(7, daily(7), [person("a", rules={"min_consecutive_days": 3})])
    assert explain(p, [], "d3").blocked_by == {"min_consecutive_days": 1}
    assert explain(p, on("a", "d2"), "d3").blocked_by == {}  # [2] becomes [2, 3]: still short, no worse
    assert explain(p, [], "d0").blocked_by == {}  # blocks touching the edges are exempt


def test_history_counts():
    hist = History(days=(HistoryDay(480),) * 4, last_shift_end=-10 * H)
    p = problem(
        2,
        daily(2),
        [person("a", rules={"max_consecutive_days": 4, "min_rest_minutes": 11 * H}, history=hist)],
    )
    e = explain(p, [], "d0")
    assert e.reason == AT_A_LIMIT
    assert e.blocked_by == {"max_consecutive_days": 1}  # 10 h + 8 h rest is enough


def test_max_staff_blocks_everyone():
    s = daily(1, required=3, max_staff=1)
    p = problem(1, s, [person("a"), person("b")])
    e = explain(p, on("a", "d0"), "d0")
    assert e.reason == AT_A_LIMIT and e.blocked_by == {"max_staff": 1}


def test_frozen_blocks_additions_before_the_cut():
    p = problem(
        2, daily(2), [person("a"), person("b")], reference=frozenset(on("a", "d0")), freeze_before=24 * H
    )
    e = explain(p, [], "d0")
    assert e.blocked_by == {"frozen": 1} and e.reason == STOPPED_EARLY  # a may be put back


def test_explain_shortfalls_batch_matches_single():
    people = [person(c, rules={"max_consecutive_days": 2}) for c in "abc"]
    p = problem(5, daily(5, required=2), people)
    asg = on("a", "d0", "d1") + on("b", "d1", "d2") + on("c", "d3")
    short = expected_shortfalls(p, asg)
    assert explain_shortfalls(p, asg, short) == [explain_shortfall(p, asg, sf) for sf in short]
    with pytest.raises(KeyError):
        explain_shortfall(p, asg, Shortfall("nope", 1))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_focused_recheck_finds_exactly_the_new_violations(data):
    """The fast re-check used by explain reports the same new violations as a full re-check."""
    p = data.draw(problems())
    asg = data.draw(assignments(p))
    ix = _index(p)
    who = data.draw(st.sampled_from(p.people))
    mine = sorted((ix.shifts[sid] for pid, sid in asg if pid == who.id), key=_shift_key)
    others = [s for s in p.shifts if s not in mine]
    if not others:
        return
    added = data.draw(st.sampled_from(others))
    days = _Days(p, who, mine)
    base = set(_check_one(p, ix, who, mine, days=days))
    with_it = list(mine)
    bisect.insort(with_it, added, key=_shift_key)
    full = set(_check_one(p, ix, who, with_it)) - base
    focused = set(_check_one(p, ix, who, with_it, days=days.plus(added))) - base
    assert focused == full


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_explain_random(data):
    p = data.draw(problems())
    asg = data.draw(assignments(p))
    short = expected_shortfalls(p, asg)
    for sf, e in zip(short, explain_shortfalls(p, asg, short), strict=True):
        assert e.reason in (NO_ONE_AVAILABLE, SKILL_MISSING, AT_A_LIMIT, STOPPED_EARLY)
        assert e.detail and all(n > 0 for n in e.blocked_by.values())
        nobody = all(not x.may_work(sf.shift) or (x.id, sf.shift) in asg for x in p.people)
        assert (e.reason == NO_ONE_AVAILABLE) == nobody


def test_explain_on_a_big_problem():
    p, asg = big_problem()  # its speed is measured by `make bench`, not here
    short = expected_shortfalls(p, asg)[:100]
    assert len(short) == 100
    found = [explain_shortfall(p, asg, sf) for sf in short]
    assert {e.reason for e in found} == {AT_A_LIMIT}
