"""The independent checker: every hard rule broken once and kept once, history, terms, properties."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver.problem import (
    History,
    HistoryDay,
    Intensity,
    LoadMeasure,
    Person,
    Problem,
    Rules,
    Shift,
    Shortfall,
    Weights,
)
from solver.validate import (
    HARD_RULES,
    TERMS,
    Violation,
    change_cost,
    evaluate_terms,
    expected_shortfalls,
    objective,
    person_violations,
    validate,
)
from tests.solver.strategies import assignments, problems

H = 60
DAY = 24 * H


def shift(sid: str, day: int, start_h: float, end_h: float, **kw) -> Shift:
    """A shift on ``day`` from ``start_h`` to ``end_h`` o'clock (``end_h`` > 24 ends the next day)."""
    kw.setdefault("type", "D")
    return Shift(
        id=sid, post="P", day=day, start=day * DAY + int(start_h * H), end=day * DAY + int(end_h * H), **kw
    )


def daily(days: int, start_h: float = 8, end_h: float = 16, prefix: str = "d", **kw) -> list[Shift]:
    return [shift(f"{prefix}{d}", d, start_h, end_h, **kw) for d in range(days)]


def person(pid: str = "a", **kw) -> Person:
    if isinstance(kw.get("rules"), dict):
        kw["rules"] = Rules(**kw["rules"])
    return Person(id=pid, **kw)


def problem(days: int, shifts: list[Shift], people: list[Person], **kw) -> Problem:
    return Problem(days=days, shifts=tuple(shifts), people=tuple(people), **kw)


def rules(violations: list[Violation]) -> list[str]:
    return sorted({v.rule for v in violations})


def on(pid: str, *sids: str) -> list[tuple[str, str]]:
    return [(pid, sid) for sid in sids]


# --------------------------------------------------------------------------------------------------
# Hard rules, one at a time: (problem, breaking assignments, compliant assignments)


def _case(rule: str):
    if rule == "unknown_reference":
        p = problem(1, daily(1), [person()])
        return p, [("ghost", "d0"), ("a", "nope")], on("a", "d0")
    if rule == "duplicate_assignment":
        p = problem(1, daily(1), [person()])
        return p, on("a", "d0", "d0"), on("a", "d0")
    if rule == "eligibility":
        p = problem(2, daily(2), [person(unavailable={"d0": "sick"})])
        return p, on("a", "d0"), on("a", "d1")
    if rule == "max_staff":
        p = problem(1, daily(1, max_staff=1), [person("a"), person("b")])
        return p, on("a", "d0") + on("b", "d0"), on("a", "d0")
    if rule == "pairs":
        p = problem(1, daily(1, pair=True, required=2), [person("a"), person("b")])
        return p, on("a", "d0"), on("a", "d0") + on("b", "d0")
    if rule == "no_double_booking":
        s = [shift("x", 0, 8, 12), shift("y", 0, 11, 15), shift("z", 0, 12, 16)]
        p = problem(1, s, [person(rules={"max_shifts_per_day": 2})])
        return p, on("a", "x", "y"), on("a", "x", "z")  # [8, 12) and [12, 16) only touch
    if rule == "min_rest":
        s = [shift("late", 0, 14, 22), shift("early", 1, 6, 14), shift("day", 1, 9, 17)]
        p = problem(2, s, [person(rules={"min_rest_minutes": 11 * H})])
        return p, on("a", "late", "early"), on("a", "late", "day")  # 8 h, then exactly 11 h
    if rule == "visit_gap":
        # a gate shift to 14:00; a 30-minute visit 5 min after it breaks the travel gap, one 15 min after
        # it keeps it (and needs neither the day's one shift nor 11 h of rest)
        s = [shift("gate", 0, 6, 14), shift("near", 0, 14 + 5 / 60, 14.5 + 5 / 60, visit=True),
             shift("later", 0, 14.25, 14.75, visit=True)]
        p = problem(1, s, [person(rules={"min_rest_minutes": 11 * H})])
        return p, on("a", "gate", "near"), on("a", "gate", "later")
    if rule == "max_shifts_per_day":
        s = [shift("x", 0, 6, 10), shift("y", 0, 14, 18)]
        p = problem(1, s, [person(rules={"max_shifts_per_day": 1})])
        return p, on("a", "x", "y"), on("a", "x")
    if rule == "max_consecutive_days":
        p = problem(5, daily(5), [person(rules={"max_consecutive_days": 3})])
        return p, on("a", "d0", "d1", "d2", "d3"), on("a", "d0", "d1", "d2", "d4")
    if rule == "min_consecutive_days":
        p = problem(5, daily(5), [person(rules={"min_consecutive_days": 2})])
        # a lone day inside the horizon breaks it; lone days on the first and last day are exempt
        return p, on("a", "d2"), on("a", "d0", "d4")
    if rule == "min_consecutive_days_off":
        p = problem(5, daily(5), [person(rules={"min_consecutive_days_off": 2})])
        return p, on("a", "d0", "d1", "d3", "d4"), on("a", "d0", "d3", "d4")
    if rule == "min_days_off_per_7":
        p = problem(7, daily(7), [person(rules={"min_days_off_per_7": 2})])
        return p, on("a", "d0", "d1", "d2", "d3", "d4", "d5"), on("a", "d0", "d1", "d2", "d3", "d4")
    if rule == "max_minutes_per_7_days":
        p = problem(3, daily(3), [person(rules={"max_minutes_per_7_days": 16 * H})])
        return p, on("a", "d0", "d1", "d2"), on("a", "d0", "d2")
    if rule == "max_consecutive_nights":
        p = problem(4, daily(4, 22, 31, night=True), [person(rules={"max_consecutive_nights": 2})])
        return p, on("a", "d0", "d1", "d2"), on("a", "d0", "d1", "d3")
    if rule == "min_total_minutes":
        p = problem(3, daily(3), [person(rules={"min_total_minutes": 16 * H})])
        return p, on("a", "d0"), on("a", "d0", "d2")
    if rule == "max_total_minutes":
        p = problem(3, daily(3), [person(rules={"max_total_minutes": 16 * H})])
        return p, on("a", "d0", "d1", "d2"), on("a", "d0", "d2")
    if rule == "max_weekends":
        # day 0 is a Saturday: days 0, 1 are one weekend, days 7, 8 the next
        p = problem(9, daily(9), [person(rules={"max_weekends": 1})], first_weekday=5)
        return p, on("a", "d1", "d7"), on("a", "d0", "d1", "d3")
    if rule == "max_shifts_by_type":
        s = daily(3, type="N") + daily(3, prefix="e", start_h=16, end_h=20, type="E")
        p = problem(3, s, [person(rules={"max_shifts_by_type": {"N": 1, "E": 0}, "max_shifts_per_day": 2})])
        return p, on("a", "d0", "d1"), on("a", "d2")
    if rule == "forbidden_succession":
        s = [
            shift("late", 0, 14, 22, type="L"),
            shift("early", 1, 6, 14, type="E"),
            shift("late1", 1, 14, 22, type="L"),
        ]
        p = problem(2, s, [person()], forbidden_successions=frozenset({("L", "E")}))
        return p, on("a", "late", "early"), on("a", "late", "late1")
    if rule == "rest_after_nights":
        s = daily(3, 22, 30, night=True) + [shift("late", 3, 14, 22), shift("next", 5, 8, 16)]
        p = problem(6, s, [person(rules={"rest_after_nights": 2, "rest_after_nights_minutes": 48 * H})])
        # after nights 0-1 (ending 06:00 on day 2) 32 h; after nights 0-2, the shift 50 h later is fine
        return p, on("a", "d0", "d1", "late"), on("a", "d0", "d1", "d2", "next")
    if rule == "rest_after_heavy":
        s = daily(4, intensity=Intensity.HEAVY) + [shift("late", 4, 14, 22), shift("next", 6, 8, 16)]
        p = problem(7, s, [person(rules={"rest_after_heavy": 3, "rest_after_heavy_minutes": 36 * H})])
        # heavy days 0-2 end 16:00 on day 2: a late shift on day 4 starts 46 h later (fine), but after
        # heavy days 0-3 (ending 16:00 on day 3) the same late shift is 22 h later; day 6 is 64 h later
        return p, on("a", "d0", "d1", "d2", "d3", "late"), on("a", "d0", "d1", "d2", "late", "next")
    if rule == "max_consecutive_heavy_days":
        p = problem(4, daily(4, intensity=Intensity.HEAVY), [person(rules={"max_consecutive_heavy_days": 2})])
        return p, on("a", "d0", "d1", "d2"), on("a", "d0", "d1", "d3")
    if rule == "max_heavy_share_28_days":
        s = daily(3, intensity=Intensity.HEAVY) + [shift("n3", 3, 8, 16), shift("n4", 4, 8, 16)]
        p = problem(5, s, [person(rules={"max_heavy_per_mille_28_days": 500})])
        return p, on("a", "d0", "d1", "n3"), on("a", "d0", "d1", "n3", "n4")  # 2 of 3, then 2 of 4
    if rule == "pinned":
        p = problem(2, daily(2), [person()], pinned=frozenset({("a", "d1")}))
        return p, on("a", "d0"), on("a", "d1")
    if rule == "frozen":
        p = problem(
            3,
            daily(3),
            [person("a"), person("b")],
            reference=frozenset(on("a", "d0", "d2")),
            freeze_before=DAY,
        )
        return p, on("b", "d0", "d2"), on("a", "d0") + on("b", "d1")  # after the freeze anything goes
    raise AssertionError(rule)


PERSON_AND_ASSIGNMENT_RULES = [r for r in HARD_RULES if r != "uncovered_report"]


@pytest.mark.parametrize("rule", PERSON_AND_ASSIGNMENT_RULES)
def test_each_rule_broken_alone(rule):
    p, bad, _ = _case(rule)
    found = validate(p, bad)
    assert rules(found) == [rule], found
    for v in found:
        assert v.message and v.message[0].isalnum()


@pytest.mark.parametrize("rule", PERSON_AND_ASSIGNMENT_RULES)
def test_each_rule_kept(rule):
    p, _, good = _case(rule)
    assert validate(p, good) == []


def test_eligibility_message_names_the_reason():
    p, bad, _ = _case("eligibility")
    [v] = validate(p, bad)
    assert "sick" in v.message and v.person == "a" and v.shifts == ("d0",) and v.day == 0


def test_max_consecutive_days_message_and_once_per_run():
    p = problem(7, daily(7), [person("v3", rules={"max_consecutive_days": 6})])
    found = validate(p, on("v3", *(f"d{d}" for d in range(7))))
    assert [v.message for v in found] == ["v3 works 7 consecutive days (days 0-6), limit 6"]
    assert found[0].shifts == tuple(f"d{d}" for d in range(7))


def test_double_booking_reports_every_overlapping_pair():
    s = [shift("x", 0, 8, 20), shift("y", 0, 9, 10), shift("z", 0, 11, 12)]
    p = problem(1, s, [person(rules={"max_shifts_per_day": 3})])
    found = validate(p, on("a", "x", "y", "z"))
    assert sorted(v.shifts for v in found) == [("x", "y"), ("x", "z")]


def test_min_rest_off_when_zero():
    p = problem(2, [shift("late", 0, 14, 22), shift("early", 1, 6, 14)], [person()])
    assert validate(p, on("a", "late", "early")) == []


def test_min_consecutive_days_exempts_blocks_touching_the_edges_only():
    p = problem(6, daily(6), [person(rules={"min_consecutive_days": 3})])
    assert validate(p, on("a", "d0", "d5")) == []
    assert rules(validate(p, on("a", "d0", "d1", "d2", "d4"))) == ["min_consecutive_days"]
    assert validate(p, on("a", "d1", "d2", "d3")) == []


def test_min_consecutive_days_ignores_history():
    p = problem(
        4, daily(4), [person(rules={"min_consecutive_days": 3}, history=History(days=(HistoryDay(480),) * 3))]
    )
    assert validate(p, on("a", "d0")) == []  # touches day 0: exempt whatever the history


def test_min_consecutive_days_off_at_edges_exempt():
    p = problem(5, daily(5), [person(rules={"min_consecutive_days_off": 3})])
    assert validate(p, on("a", "d1", "d2", "d3")) == []  # off blocks [0] and [4] touch the edges


def test_min_days_off_short_horizon_windows_use_unknown_history_as_days_off():
    p = problem(3, daily(3), [person(rules={"min_days_off_per_7": 5})])
    assert validate(p, on("a", "d0", "d1")) == []  # window [-4, 2]: 5 days off
    assert rules(validate(p, on("a", "d0", "d1", "d2"))) == ["min_days_off_per_7"]


def test_max_weekends_week_key():
    # day 0 is a Sunday and day 6 the next Saturday: two different weekends
    p = problem(7, daily(7), [person(rules={"max_weekends": 1})], first_weekday=6)
    assert rules(validate(p, on("a", "d0", "d6"))) == ["max_weekends"]
    # day 0 is a Saturday, day 1 the Sunday: one weekend
    p = problem(7, daily(7), [person(rules={"max_weekends": 1})], first_weekday=5)
    assert validate(p, on("a", "d0", "d1")) == []


def test_max_shifts_by_type_zero_means_never():
    p = problem(1, daily(1, type="N"), [person(rules={"max_shifts_by_type": {"N": 0}})])
    [v] = validate(p, on("a", "d0"))
    assert v.rule == "max_shifts_by_type" and "type N" in v.message


def test_frozen_reports_additions_and_removals():
    p, bad, _ = _case("frozen")
    found = validate(p, bad)
    assert sorted((v.person, v.shifts) for v in found) == [("a", ("d0",)), ("b", ("d0",))]


# --------------------------------------------------------------------------------------------------
# History


def test_rest_across_the_boundary():
    hist = History(days=(HistoryDay(480),), last_shift_end=-H)  # ended 23:00 on day -1
    p = problem(
        1,
        [shift("early", 0, 6, 14), shift("day", 0, 10, 18)],
        [person(rules={"min_rest_minutes": 11 * H}, history=hist)],
    )
    [v] = validate(p, on("a", "early"))
    assert v.rule == "min_rest" and v.shifts == ("early",)
    assert validate(p, on("a", "day")) == []


def test_overlap_with_history_is_min_rest():
    hist = History(days=(HistoryDay(540, night=True),), last_shift_end=7 * H)  # night ends 07:00 on day 0
    p = problem(1, [shift("early", 0, 6, 14)], [person(rules={"min_rest_minutes": 60}, history=hist)])
    assert rules(validate(p, on("a", "early"))) == ["min_rest"]


def test_consecutive_days_across_the_boundary():
    hist = History(days=(HistoryDay(480),) * 3)
    p = problem(4, daily(4), [person(rules={"max_consecutive_days": 4}, history=hist)])
    [v] = validate(p, on("a", "d0", "d1"))
    assert v.rule == "max_consecutive_days" and v.day == -3 and "days -3 to 1" in v.message
    assert v.shifts == ("d0", "d1")
    assert validate(p, on("a", "d0", "d2")) == []


def test_a_run_entirely_in_history_is_not_reported():
    hist = History(days=(HistoryDay(480),) * 6)
    p = problem(
        2, daily(2), [person(rules={"max_consecutive_days": 3, "max_consecutive_nights": 1}, history=hist)]
    )
    assert validate(p, on("a", "d1")) == []


def test_consecutive_nights_across_the_boundary():
    hist = History(days=(HistoryDay(540, night=True),) * 2, last_shift_end=7 * H)
    p = problem(3, daily(3, 22, 31, night=True), [person(rules={"max_consecutive_nights": 2}, history=hist)])
    assert rules(validate(p, on("a", "d0"))) == ["max_consecutive_nights"]
    assert validate(p, on("a", "d1")) == []


def test_seven_day_window_with_history_minutes():
    hist = History(days=(HistoryDay(480),) * 6)
    p = problem(3, daily(3), [person(rules={"max_minutes_per_7_days": 3000}, history=hist)])
    found = validate(p, on("a", "d0"))
    assert rules(found) == ["max_minutes_per_7_days"] and found[0].day == -6
    assert "3360 min" in found[0].message
    fresh = problem(3, daily(3), [person(rules={"max_minutes_per_7_days": 3000})])
    assert validate(fresh, on("a", "d0", "d1", "d2")) == []


def test_days_off_window_with_history():
    hist = History(days=(HistoryDay(480),) * 5 + (HistoryDay(),))
    p = problem(2, daily(2), [person(rules={"min_days_off_per_7": 1}, history=hist)])
    assert validate(p, on("a", "d0")) == []  # [-6, 0] has day -1 off
    assert rules(validate(p, on("a", "d0", "d1"))) == []  # [-5, 1] has day -1 off too
    hist = History(days=(HistoryDay(480),) * 6)
    p = problem(2, daily(2), [person(rules={"min_days_off_per_7": 1}, history=hist)])
    assert rules(validate(p, on("a", "d0"))) == ["min_days_off_per_7"]


def test_forbidden_succession_from_history():
    hist = History(days=(HistoryDay(480, types=frozenset({"L"})),), last_shift_end=-2 * H)
    s = [shift("early", 0, 6, 14, type="E"), shift("late", 0, 14, 22, type="L")]
    p = problem(1, s, [person(history=hist)], forbidden_successions=frozenset({("L", "E")}))
    [v] = validate(p, on("a", "early"))
    assert v.rule == "forbidden_succession" and v.shifts == ("early",) and v.day == 0
    assert validate(p, on("a", "late")) == []


# --------------------------------------------------------------------------------------------------
# Coverage report


def test_expected_shortfalls():
    s = [
        shift("x", 0, 8, 16, required=2, skills={"medic": 1, "driver": 2}),
        shift("y", 0, 16, 20),
        shift("z", 0, 20, 23, required=0),
    ]
    p = problem(1, s, [person("a", skills=frozenset({"driver"})), person("b"), person("c")])
    assert expected_shortfalls(p, on("a", "x") + on("b", "x")) == [
        Shortfall("x", 0, {"driver": 1, "medic": 1}),
        Shortfall("y", 1, {}),
    ]
    assert expected_shortfalls(p, on("a", "x") + on("b", "y")) == [
        Shortfall("x", 1, {"driver": 1, "medic": 1})
    ]


def test_uncovered_report():
    s = [shift("x", 0, 8, 16, required=2, skills={"medic": 1}), shift("y", 0, 16, 20)]
    p = problem(1, s, [person("a"), person("b")])
    asg = on("a", "x")
    truth = expected_shortfalls(p, asg)
    assert validate(p, asg, truth) == []
    assert validate(p, asg, [Shortfall("x", 1, {"medic": 1, "driver": 0}), Shortfall("y", 1)]) == []
    wrong = validate(p, asg, [Shortfall("x", 1, {"medic": 1})])  # y left out
    assert rules(wrong) == ["uncovered_report"] and wrong[0].shifts == ("y",)
    assert rules(validate(p, asg, [Shortfall("x", 2, {"medic": 1}), Shortfall("y", 1)])) == [
        "uncovered_report"
    ]
    assert rules(validate(p, asg, [Shortfall("x", 1, {}), Shortfall("y", 1)])) == ["uncovered_report"]
    invented = validate(p, on("a", "x", "y") + on("b", "x"), [Shortfall("y", 1)])
    assert [v.rule for v in invented if v.rule == "uncovered_report"] == ["uncovered_report"] * 2
    assert {v.shifts for v in invented if v.rule == "uncovered_report"} == {("x",), ("y",)}  # x lacks a medic
    assert rules(validate(p, asg, truth + [Shortfall("y", 1)])) == ["uncovered_report"]  # listed twice


# --------------------------------------------------------------------------------------------------
# Terms


def test_terms_coverage():
    s = [
        shift("x", 0, 8, 16, required=2, under_weight=3, skills={"medic": 2}),
        shift("y", 0, 16, 20, over_weight=2),
        shift("z", 0, 20, 23, required=1, max_staff=3),
    ]
    p = problem(1, s, [person(c, skills=frozenset({"medic"}) if c == "a" else frozenset()) for c in "abcd"])
    t = evaluate_terms(p, on("a", "x") + on("b", "y") + on("c", "y") + on("d", "y"))
    assert (t["uncovered"], t["skill_shortfall"], t["overstaffed"]) == (3 + 1, 1, 4)


def test_terms_load_capacity():
    w = Weights()
    s = [shift("n", 0, 22, 30, night=True, intensity=Intensity.HEAVY), shift("d", 1, 8, 16)]
    hist = History(days=(HistoryDay(480), HistoryDay()))
    people = [
        person("a", capacity_minutes=7000, history=hist),
        person("b", capacity_minutes=1000),
        person("c", capacity_minutes=1000, unavailable={"n": "sick", "d": "sick"}),  # can't work: left out
        person("d"),  # no capacity: left out
    ]
    p = problem(2, s, people, weights=w, load_measure=LoadMeasure.CAPACITY)
    t = evaluate_terms(p, on("a", "n") + on("d", "d"))
    # a: 480 min * (150 + 25) % + 480 history min * 100 % = 132000; 10 * 132000 / 7000 = 188.57 -> 189
    assert t["load_max"] == 189 and t["load_spread"] == 189
    t = evaluate_terms(p, on("a", "n") + on("b", "d"))
    # b: 480 * 100 = 48000 -> 480 per mille
    assert t["load_max"] == 480 and t["load_spread"] == 480 - 189


def test_terms_load_single_person_has_no_spread():
    p = problem(1, daily(1), [person("a", capacity_minutes=960)], load_measure=LoadMeasure.CAPACITY)
    t = evaluate_terms(p, on("a", "d0"))
    assert t["load_max"] == 500 and t["load_spread"] == 0


def test_terms_load_hours():
    """The default measure: tenths of intensity-weighted hours, history included, whatever the
    declared capacity; everyone who may work takes part."""
    s = [shift("n", 0, 22, 30, night=True, intensity=Intensity.HEAVY), shift("d", 1, 8, 16)]
    hist = History(days=(HistoryDay(480), HistoryDay()))
    people = [
        person("a", capacity_minutes=7000, history=hist),
        person("b", capacity_minutes=1000),
        person("c", unavailable={"n": "sick", "d": "sick"}),  # can't work: left out
        person("d"),  # no capacity: takes part all the same
    ]
    p = problem(2, s, people)
    t = evaluate_terms(p, on("a", "n") + on("d", "d"))
    # a: 8 h * 175 % + 8 h history = 22 h -> 220; d: 8 h -> 80; b: 0
    assert t["load_max"] == 220 and t["load_spread"] == 220
    t = evaluate_terms(p, on("a", "n") + on("b", "d") + on("d", "d"))
    assert t["load_max"] == 220 and t["load_spread"] == 220 - 80


def test_terms_load_target():
    """Up to their wish a person counts as neither busy nor idle; beyond it, with all their load."""
    s = [shift("d0", 0, 8, 16), shift("d1", 1, 8, 16), shift("e1", 1, 8, 16)]
    keen = person("k", target_minutes=16 * H)  # 16 h -> 160
    p = problem(2, s, [keen, person("b")])
    t = evaluate_terms(p, on("k", "d0") + on("b", "d1"))
    # k at 80 is below the wish: busy 0, idle 160; b: 80
    assert t["load_max"] == 80 and t["load_spread"] == 0  # max(0, 80 - min(80, 160))
    t = evaluate_terms(p, on("k", "d0") + on("k", "d1"))
    assert t["load_max"] == 0 and t["load_spread"] == 0  # k exactly at the wish, b idle at 0
    p3 = problem(3, [*s, shift("d2", 2, 8, 16)], [keen, person("b")])
    t = evaluate_terms(p3, on("k", "d0") + on("k", "d1") + on("k", "d2"))
    assert t["load_max"] == 240 and t["load_spread"] == 240  # beyond the wish: all 24 h count


def test_terms_spreads():
    s = [
        shift("n0", 0, 22, 30, night=True),
        shift("n1", 1, 22, 30, night=True),
        shift("h0", 0, 8, 16, intensity=Intensity.HEAVY),
        shift("sat", 5, 8, 16),
        shift("sun", 6, 8, 16),
    ]
    people = [
        person("a", rules={"max_shifts_per_day": 2}),
        person("b"),
        person("c", unavailable={"n0": "x", "n1": "x", "h0": "x", "sat": "x", "sun": "x"}),
        person("d", unavailable={"n0": "x", "n1": "x"}),
    ]
    p = problem(7, s, people, first_weekday=0)
    t = evaluate_terms(p, on("a", "n0", "n1", "h0", "sat", "sun"))
    # nights: a 2, b 0 (c, d can't work nights); heavy and weekends: a vs b and d
    assert (t["nights_spread"], t["heavy_spread"], t["weekends_spread"]) == (2, 1, 2)
    t = evaluate_terms(p, on("a", "n0") + on("b", "n1") + on("d", "sat"))
    assert (t["nights_spread"], t["heavy_spread"], t["weekends_spread"]) == (0, 0, 1)


def test_terms_spread_needs_two_people():
    p = problem(1, [shift("n", 0, 22, 30, night=True)], [person("a"), person("b", unavailable={"n": "x"})])
    assert evaluate_terms(p, on("a", "n"))["nights_spread"] == 0


def test_terms_preference():
    p = problem(3, daily(3), [person(wants={"d0": 3, "d1": 4}, avoids={"d2": 2, "d1": 7})])
    assert evaluate_terms(p, on("a", "d1", "d2"))["preference"] == 3 + 7 + 2
    assert evaluate_terms(p, on("a", "d0", "d1"))["preference"] == 7
    # a wanted shift that is not in the problem can't be worked: it always costs
    p = problem(1, daily(1), [person(wants={"gone": 5}, avoids={"gone": 9})])
    assert evaluate_terms(p, [])["preference"] == 5


def test_terms_isolated_days():
    p = problem(5, daily(5), [person()])
    t = evaluate_terms(p, on("a", "d0", "d2", "d4"))
    # off-on-off: day 0 (day -1 is off) and day 2 (day 4 is the last day: not counted); on-off-on: 1, 3
    assert (t["isolated_work_day"], t["isolated_day_off"]) == (2, 2)
    hist = History(days=(HistoryDay(480),))
    p = problem(3, daily(3), [person(history=hist)])
    t = evaluate_terms(p, on("a", "d1"))
    assert (t["isolated_work_day"], t["isolated_day_off"]) == (1, 1)  # day -1 on, 0 off, 1 on, 2 off
    t = evaluate_terms(p, on("a", "d0"))
    assert (t["isolated_work_day"], t["isolated_day_off"]) == (0, 0)
    t = evaluate_terms(p, on("a", "d2"))  # the last day is never the middle of a triple
    assert (t["isolated_work_day"], t["isolated_day_off"]) == (0, 0)


def test_change_cost():
    p = problem(10, daily(10), [person()])
    assert [change_cost(p, s) for s in p.shifts] == [8, 7, 6, 5, 4, 3, 2, 1, 1, 1]
    frozen = problem(10, daily(10), [person()], freeze_before=2 * DAY + 12 * H)
    # shift d2 starts before the cut-off: max(0, negative) -> first day; d3 is 20 h after it
    assert [change_cost(frozen, s) for s in frozen.shifts][2:5] == [8, 8, 7]


def test_terms_change():
    people = [person("a"), person("b", unavailable={"d3": "sick"})]
    p = problem(10, daily(10), people, reference=frozenset(on("a", "d0") + on("b", "d3")))
    assert evaluate_terms(p, on("a", "d0"))["change"] == 0  # b can't work d3: not counted
    assert evaluate_terms(p, on("a", "d8"))["change"] == 8 + 1
    assert evaluate_terms(p, on("a", "d0") + on("b", "d0"))["change"] == 8
    p = problem(10, daily(10), people, reference=frozenset(on("a", "d0")), freeze_before=DAY)
    assert evaluate_terms(p, on("b", "d1") + on("b", "d0"))["change"] == 8  # d0 is before the cut-off
    assert evaluate_terms(problem(2, daily(2), people), on("a", "d0"))["change"] == 0  # no reference
    only_freeze = problem(2, daily(2), people, freeze_before=0)
    assert evaluate_terms(only_freeze, on("a", "d0"))["change"] == 8
    assert evaluate_terms(only_freeze, on("a", "d1"))["change"] == 7


def test_objective_weights_every_term():
    w = Weights(
        uncovered=1000,
        skill_shortfall=2000,
        overstaffed=3,
        load_max=5,
        load_spread=7,
        nights_spread=11,
        weekends_spread=13,
        heavy_spread=17,
        preference=19,
        isolated_day_off=23,
        isolated_work_day=29,
        change=31,
    )
    s = daily(4, required=2, skills={"medic": 1}) + [shift("n", 1, 22, 30, night=True, type="N")]
    people = [
        person("a", capacity_minutes=4800, wants={"d3": 2}, rules={"max_shifts_per_day": 2}),
        person("b", skills=frozenset({"medic"})),
    ]
    p = problem(4, s, people, weights=w, reference=frozenset(on("b", "d0")))
    asg = on("a", "d0", "d1", "n", "d3")
    terms = evaluate_terms(p, asg)
    assert list(terms) == list(TERMS)
    assert all(isinstance(v, int) for v in terms.values())
    assert objective(p, asg) == sum(v * getattr(w, k) for k, v in terms.items())
    assert objective(p, asg) > 0


# --------------------------------------------------------------------------------------------------
# person_violations


def test_person_violations_only_that_person():
    p = problem(
        3,
        daily(3),
        [person("a", rules={"max_consecutive_days": 1}), person("b", rules={"max_total_minutes": 0})],
        pinned=frozenset({("b", "d2")}),
    )
    asg = on("a", "d0", "d1") + on("b", "d0")
    assert rules(person_violations(p, asg, "a")) == ["max_consecutive_days"]
    assert rules(person_violations(p, asg, "b")) == ["max_total_minutes", "pinned"]
    assert rules(person_violations(p, asg, "ghost")) == ["unknown_reference"]


# --------------------------------------------------------------------------------------------------
# Properties and speed


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_validate_random_assignments(data):
    p = data.draw(problems())
    asg = data.draw(assignments(p, junk=True))
    found = validate(p, asg)
    assert all(v.rule in HARD_RULES and v.message for v in found)
    truth = expected_shortfalls(p, asg)
    assert [v for v in validate(p, asg, truth) if v.rule == "uncovered_report"] == []
    order = {s.id: i for i, s in enumerate(p.shifts)}
    assert [order[sf.shift] for sf in truth] == sorted(order[sf.shift] for sf in truth)
    # person_violations agrees with validate person by person
    for who in p.people:
        assert set(person_violations(p, asg, who.id)) == {
            v for v in found if v.person == who.id and v.rule not in ("max_staff", "pairs")
        }
    terms = evaluate_terms(p, asg)
    assert set(terms) == set(TERMS) and min(terms.values()) >= 0
    assert objective(p, asg) == sum(v * getattr(p.weights, k) for k, v in terms.items())


def big_problem(
    people: int = 200, days: int = 28, required: int = 6
) -> tuple[Problem, list[tuple[str, str]]]:
    """700 shifts and ~4000 assignments that keep every hard rule: the size the checker must handle.

    Everyone works five days and has two off, the same kind of shift all five days, changing kind only
    after the days off; history continues the pattern.
    """
    kinds = {"E": (6, 14, False, 9), "L": (14, 22, False, 7), "N": (22, 31, True, 9)}  # kind -> ..., posts
    shifts = [
        shift(f"{post}-{d}-{kind}", d, a, b, type=kind, night=night, required=required, skills={"medic": 1})
        for d in range(days)
        for kind, (a, b, night, posts) in kinds.items()
        for post in range(posts)
    ]
    everyone = Rules(
        min_rest_minutes=11 * H,
        max_consecutive_days=5,
        min_consecutive_days=2,
        min_consecutive_days_off=2,
        min_days_off_per_7=2,
        max_minutes_per_7_days=48 * H,
        max_consecutive_nights=5,
        min_total_minutes=60 * H,
        max_total_minutes=200 * H,
        max_shifts_by_type={"N": 12},
    )

    def plan(i: int, d: int) -> str | None:
        """The shift id person ``i`` works on day ``d`` (negative: history), if any."""
        if (d + i) % 7 >= 5:
            return None
        kind = "ELN"[((d + i) // 7 + i) % 3]
        return f"{i % kinds[kind][3]}-{d}-{kind}"

    crowd = []
    for i in range(people):
        past = [plan(i, d) for d in range(-7, 0)]
        history = tuple(
            HistoryDay()
            if sid is None
            else HistoryDay(
                minutes=kinds[sid[-1]][1] * H - kinds[sid[-1]][0] * H,
                night=kinds[sid[-1]][2],
                types=frozenset({sid[-1]}),
            )
            for sid in past
        )
        last = max((d for d, sid in zip(range(-7, 0), past, strict=True) if sid), default=None)
        last_end = None if last is None else last * DAY + kinds[past[last + 7][-1]][1] * H
        away = {f"{(i + k) % 9}-{d}-{kind}" for k in (1, 2) for d in range(days) for kind in "EN"}
        crowd.append(
            Person(
                f"v{i}",
                skills=frozenset({"medic"}) if i % 4 == 0 else frozenset(),
                rules=everyone,
                history=History(days=history, last_shift_end=last_end),
                unavailable={sid: "outside availability" for sid in sorted(away)},
                wants={shifts[i].id: 3},
                capacity_minutes=160 * H,
            )
        )
    p = Problem(
        days=days,
        shifts=tuple(shifts),
        people=tuple(crowd),
        first_weekday=3,
        forbidden_successions=frozenset({("N", "E"), ("L", "E"), ("N", "L")}),
    )
    asg = [(f"v{i}", sid) for i in range(people) for d in range(days) if (sid := plan(i, d))]
    return p, asg


def test_validate_on_a_big_problem():
    p, asg = big_problem()  # its speed is measured by `make bench`, not here
    assert len(p.shifts) == 700 and len(asg) >= 3900
    short = expected_shortfalls(p, asg)
    found = validate(p, asg, short)
    evaluate_terms(p, asg)
    assert found == [] and short
    broken = [pair for pair in asg if pair != ("v0", "0-8-L")]  # v0 works days 7, 9, 10, 11
    assert len(broken) == len(asg) - 1
    assert rules(validate(p, broken)) == ["min_consecutive_days", "min_consecutive_days_off"]
