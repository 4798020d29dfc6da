from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

import scheduler.domain.compile
from scheduler.domain.check import Violation, validate
from scheduler.domain.compile import compile_scenario
from scheduler.domain.report import build_schedule
from scheduler.domain.schedule import Schedule, Uncovered
from solver import validate as solver_validate
from solver.problem import Solution, Status
from tests.scheduler._build import post, scenario, template, volunteer

ROOT = Path(__file__).resolve().parents[3]
PLUS_ONE = dt.timezone(dt.timedelta(hours=1))


def site():
    posts = [
        post("gate", template("day", "08:00", "16:00"), template("night", "22:00", "06:00"),
             intensity="heavy"),
        post("desk", template("day", "09:00", "13:00", skills={"medical": 1}), intensity="light"),
    ]
    vs = [
        volunteer("ann", skills=["medical"]),
        volunteer("bob"),
        volunteer("cat"),
        volunteer("dan", health=[{"status": "sick", "from": "2026-03-29"}]),
        volunteer("eve", unavailable=[{"from": "2026-03-30", "until": "2026-03-30", "reason": "study"}]),
        volunteer("fay", health=[{"status": "limited", "from": "2026-03-28T12:00", "until": "2026-03-31"}]),
    ]
    # 2026-03-28 is a Saturday; the night into the 29th is 7 hours long in Berlin
    return scenario(start="2026-03-28", days=3, posts=posts, volunteers=vs)


DAYS = ("2026-03-28", "2026-03-29", "2026-03-30")
GOOD = tuple(
    pair
    for d in DAYS
    for pair in (("ann", f"desk/day/{d}"), ("bob", f"gate/day/{d}"), ("cat", f"gate/night/{d}"))
)


def schedule_for(sc, assignments=GOOD) -> Schedule:
    compiled = compile_scenario(sc)
    uncovered = solver_validate.expected_shortfalls(compiled.problem, assignments)
    solution = Solution(
        Status.OPTIMAL, assignments=tuple(assignments), uncovered=tuple(uncovered), objective=0
    )
    # through JSON, as ``rota check`` reads it
    return Schedule.model_validate_json(build_schedule(compiled, solution).model_dump_json())


def rules(violations: list[Violation]) -> list[tuple[str, str | None, str | None, str | None]]:
    return [(v.rule, v.volunteer, v.post, v.date and v.date.isoformat()) for v in violations]


def index_of(schedule: Schedule, volunteer: str, post: str, shift: str, date: str) -> int:
    for i, a in enumerate(schedule.assignments):
        if (a.volunteer, a.post, a.shift, a.date.isoformat()) == (volunteer, post, shift, date):
            return i
    raise LookupError((volunteer, post, shift, date))


def swap(schedule: Schedule, slot: tuple[str, str, str, str], volunteer: str) -> Schedule:
    """Give ``slot`` (current volunteer, post, template, date) to ``volunteer`` instead."""
    i = index_of(schedule, *slot)
    schedule.assignments[i] = schedule.assignments[i].model_copy(update={"volunteer": volunteer})
    return schedule


def test_a_correct_schedule_has_no_violations():
    sc = site()
    s = schedule_for(sc)
    assert s.uncovered == []
    assert validate(sc, s) == []


def test_a_correct_schedule_with_honest_uncovered_entries():
    sc = site()
    s = schedule_for(sc, GOOD[:-1])  # nobody on the last night, and it is reported
    assert [(u.post, u.shift, u.date.isoformat(), u.missing) for u in s.uncovered] == [
        ("gate", "night", "2026-03-30", 1)]
    assert validate(sc, s) == []


def test_sick_person_assigned_is_reported_twice_independently():
    sc = site()
    # the night of the 28th runs into the 29th, when dan is sick
    s = swap(schedule_for(sc), ("cat", "gate", "night", "2026-03-28"), "dan")
    found = rules(validate(sc, s))
    assert ("health", "dan", "gate", "2026-03-28") in found
    assert ("eligibility", "dan", "gate", "2026-03-28") in found
    message = next(v.message for v in validate(sc, s) if v.rule == "health")
    assert message == "dan on gate/night 2026-03-28: sick (sick from 2026-03-29)"


def test_a_re_solve_keeps_the_worked_past_whatever_was_recorded_since():
    sc = site()
    # dan worked the night of the 28th (under way when he reported sick on the 29th at 02:00)
    s = swap(schedule_for(sc), ("cat", "gate", "night", "2026-03-28"), "dan")
    s.cutoff = dt.datetime(2026, 3, 29, 2, 0, tzinfo=PLUS_ONE)
    assert validate(sc, s) == []
    # after the cut-off the same health record still forbids him
    later = swap(schedule_for(sc), ("cat", "gate", "night", "2026-03-29"), "dan")
    later.cutoff = dt.datetime(2026, 3, 29, 2, 0, tzinfo=PLUS_ONE)
    found = rules(validate(sc, later))
    assert ("health", "dan", "gate", "2026-03-29") in found
    assert ("eligibility", "dan", "gate", "2026-03-29") in found


def test_independent_health_check_catches_a_compile_bug(monkeypatch):
    sc = site()
    s = swap(schedule_for(sc), ("cat", "gate", "night", "2026-03-29"), "dan")
    s = swap(s, ("bob", "gate", "day", "2026-03-30"), "eve")
    monkeypatch.setattr(scheduler.domain.compile, "_blocks", lambda volunteer, clock: [])  # no health
    found = rules(validate(sc, s))
    assert ("health", "dan", "gate", "2026-03-29") in found
    assert ("unavailable", "eve", "gate", "2026-03-30") in found
    assert all(rule != "eligibility" for rule, *_ in found)


def test_limited_duty_only_on_light_day_posts():
    sc = site()
    s = schedule_for(sc)
    s = swap(s, ("ann", "desk", "day", "2026-03-28"), "fay")  # desk 09:00 is before 12:00: ok
    # no health violation; fay lacks the medical skill, which the (unchanged) uncovered list hides
    assert rules(validate(sc, s)) == [("uncovered_report", None, "desk", "2026-03-28")]
    s = swap(schedule_for(sc), ("bob", "gate", "day", "2026-03-29"), "fay")
    found = rules(validate(sc, s))
    assert ("health", "fay", "gate", "2026-03-29") in found


def test_dated_unavailability_is_reported():
    sc = site()
    s = swap(schedule_for(sc), ("bob", "gate", "day", "2026-03-30"), "eve")
    violations = validate(sc, s)
    assert ("unavailable", "eve", "gate", "2026-03-30") in rules(violations)
    assert "eve on gate/day 2026-03-30: unavailable from 2026-03-30 until 2026-03-30: study" in [
        v.message for v in violations]


def test_wrong_times_are_reported():
    sc = site()
    s = schedule_for(sc)
    i = index_of(s, "cat", "gate", "night", "2026-03-28")
    # wall-clock arithmetic would give 8 hours and keep the winter offset
    s.assignments[i] = s.assignments[i].model_copy(
        update={"end": dt.datetime(2026, 3, 29, 6, 0, tzinfo=PLUS_ONE), "hours": 8.0})
    violations = validate(sc, s)
    assert rules(violations) == [("wrong_times", "cat", "gate", "2026-03-28")]
    assert violations[0].message == (
        "cat on gate/night/2026-03-28: end 2026-03-29T06:00:00+01:00 (should be 2026-03-29T06:00:00+02:00), "
        "hours 8 (should be 7)"
    )


def test_same_instant_in_another_offset_is_not_wrong():
    sc = site()
    s = schedule_for(sc)
    i = index_of(s, "cat", "gate", "night", "2026-03-28")
    a = s.assignments[i]
    utc = {"start": a.start.astimezone(dt.UTC), "end": a.end.astimezone(dt.UTC)}
    s.assignments[i] = a.model_copy(update=utc)
    assert validate(sc, s) == []


def test_missing_uncovered_entry_is_reported():
    sc = site()
    s = schedule_for(sc)
    del s.assignments[index_of(s, "bob", "gate", "day", "2026-03-29")]
    assert rules(validate(sc, s)) == [("uncovered_report", None, "gate", "2026-03-29")]


def test_false_uncovered_entry_is_reported():
    sc = site()
    s = schedule_for(sc)
    a = s.assignments[0]
    s.uncovered.append(Uncovered(post=a.post, shift=a.shift, date=a.date, start=a.start, end=a.end,
                                 required=1, assigned=1, missing=1))
    assert rules(validate(sc, s)) == [("uncovered_report", None, a.post, a.date.isoformat())]


def test_unknown_post_is_reported():
    sc = site()
    s = schedule_for(sc)
    i = index_of(s, "bob", "gate", "day", "2026-03-29")
    s.assignments[i] = s.assignments[i].model_copy(update={"post": "roof"})
    found = rules(validate(sc, s))
    assert ("unknown_slot", "bob", "roof", "2026-03-29") in found
    assert ("uncovered_report", None, "gate", "2026-03-29") in found  # the real slot is now empty


def test_unknown_uncovered_slot_and_header_mismatch():
    sc = site()
    s = schedule_for(sc)
    a = s.assignments[0]
    s.uncovered.append(Uncovered(post="gate", shift="noon", date=a.date, start=a.start, end=a.end,
                                 required=1, assigned=0, missing=1))
    s.timezone = "Europe/Paris"
    violations = validate(sc, s)
    assert rules(violations) == [
        ("mismatch", None, None, None),
        ("unknown_slot", None, "gate", "2026-03-28"),
    ]
    assert violations[1].message == "uncovered[0] (gate/noon 2026-03-28): post 'gate' has no shift 'noon'"


def test_hard_rules_from_the_solver_checker_are_mapped_and_sorted():
    sc = site()
    s = schedule_for(sc)
    # bob also works the night after his day: overlap-free but only 6 hours of rest, and cat is off
    s = swap(s, ("cat", "gate", "night", "2026-03-28"), "bob")
    violations = validate(sc, s)
    assert ("min_rest", "bob", "gate", "2026-03-28") in rules(violations)
    assert violations == sorted(
        violations, key=lambda v: (v.date or dt.date.min, v.volunteer or "", v.post or "", v.rule, v.message))


def test_a_solve_without_a_plan_is_one_violation():
    sc = site()
    compiled = compile_scenario(sc)
    s = build_schedule(compiled, Solution(Status.INFEASIBLE))
    violations = validate(sc, s)
    assert rules(violations) == [("no_schedule", None, None, None)]
    assert violations[0].message == "the solve ended infeasible: no plan"


def test_check_does_not_import_ortools():
    code = "import scheduler.domain.check, sys; assert 'ortools' not in sys.modules, 'ortools imported'"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_an_uncompilable_scenario_raises():
    sc = site()
    sc.pinned = []
    s = schedule_for(sc)
    sc.volunteers[0].preferences.unwanted_shifts = ["nite"]
    with pytest.raises(scheduler.domain.compile.ScenarioError):
        validate(sc, s)


@pytest.mark.parametrize(("seed", "kind"), [(1, "compound"), (2, "shelter")])
def test_independent_recheck_agrees_with_compile_on_generated_sites(seed, kind):
    """Both ways: the raw-record re-check flags a pair exactly when compile gave it a health or
    absence reason (compile names one reason; the re-check may find both)."""
    from scheduler.domain.check import _absences, _health
    from scheduler.domain.generate import generate
    from scheduler.domain.schedule import Assignment

    sc = generate(60, 14, seed, site=kind)
    compiled = compile_scenario(sc)
    volunteers = {v.id: v for v in sc.volunteers}
    flagged = 0
    for person in compiled.problem.people:
        v = volunteers[person.id]
        if not v.health and not v.unavailable:
            continue
        for shift in compiled.problem.shifts:
            slot = compiled.slots[shift.id]
            a = Assignment(volunteer=v.id, post=slot.post, shift=slot.template, date=slot.date,
                           start=slot.start, end=slot.end, hours=slot.hours, night=slot.night,
                           intensity=slot.intensity.value)
            found = {x.rule for x in _health(sc, v, a) + _absences(sc, v, a)}
            reason = person.unavailable.get(shift.id, "")
            expected = set()
            if reason in ("sick", "isolating") or reason.startswith("limited duty"):
                expected.add("health")
            elif reason.startswith("unavailable"):
                expected.add("unavailable")
            assert expected <= found, (v.id, shift.id, reason, found)
            assert not found or expected, (v.id, shift.id, reason, found)
            flagged += bool(found)
    assert flagged > 0
