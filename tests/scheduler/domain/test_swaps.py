"""Swaps, give-aways and open shifts: the checker decides who could take what."""

from __future__ import annotations

import datetime as dt

from scheduler.domain import swaps
from scheduler.domain.check import validate
from scheduler.domain.compile import compile_scenario
from scheduler.domain.report import build_schedule
from scheduler.domain.schedule import Schedule
from solver import validate as solver_validate
from solver.problem import Solution, Status
from tests.scheduler._build import gate, scenario, volunteer

MON, TUE, WED = "2026-12-07", "2026-12-08", "2026-12-09"


def assigned(start: str = MON) -> tuple[tuple[str, str], ...]:
    """Monday: cat days, bob nights (ending Tuesday 06:00); Tuesday: ann days, the night is open;
    Wednesday: eve days, ann nights."""
    d0 = dt.date.fromisoformat(start)
    mon, tue, wed = (str(d0 + dt.timedelta(days=i)) for i in range(3))
    return (
        ("cat", f"gate/day/{mon}"),
        ("bob", f"gate/night/{mon}"),
        ("ann", f"gate/day/{tue}"),
        ("eve", f"gate/day/{wed}"),
        ("ann", f"gate/night/{wed}"),
    )


ASSIGNED = assigned()


def site(start: str = MON):
    people = [
        volunteer("ann", contact={"phone": "+49 30 1"}),
        volunteer("bob"),
        volunteer("cat"),
        volunteer("dan", health=[{"status": "sick", "from": start}]),
        volunteer("eve"),
        volunteer("fay", health=[{"status": "limited", "from": start}]),
        volunteer("gus"),
    ]
    # two shifts a day allowed, so that where a day shift and a night meet, only the rest rule decides
    return scenario(start=start, days=3, posts=[gate()], volunteers=people, rules={"max_shifts_per_day": 2})


def schedule_for(sc, assignments=ASSIGNED) -> Schedule:
    compiled = compile_scenario(sc)
    uncovered = solver_validate.expected_shortfalls(compiled.problem, assignments)
    solution = Solution(
        Status.FEASIBLE, assignments=tuple(assignments), uncovered=tuple(uncovered), objective=0
    )
    return Schedule.model_validate_json(build_schedule(compiled, solution).model_dump_json())


def test_a_give_away_is_offered_to_whoever_breaks_no_rule_least_loaded_first():
    sc = site()
    compiled, schedule = compile_scenario(sc), schedule_for(sc)
    found = swaps.takers(compiled, schedule, "ann", f"gate/day/{TUE}")
    # bob: his night ends 06:00, 2 h before (rest); dan: sick; fay: limited duty (light day posts only)
    assert [t.volunteer for t in found] == ["gus", "cat", "eve"]
    assert found[0].hours == 0 and found[1].hours == 8


def test_the_rest_rule_alone_excludes_bob():
    sc = site()
    compiled, schedule = compile_scenario(sc), schedule_for(sc)
    problems = swaps.change_problems(
        compiled, schedule, [("ann", f"gate/day/{TUE}")], [("bob", f"gate/day/{TUE}")]
    )
    assert [(p.rule, p.volunteer) for p in problems] == [("min_rest", "bob")]
    # without his Monday night he could take it
    lighter = schedule_for(sc, [p for p in ASSIGNED if p[0] != "bob"])
    assert "bob" in [t.volunteer for t in swaps.takers(compiled, lighter, "ann", f"gate/day/{TUE}")]


def test_a_swap_is_checked_on_both_sides():
    sc = site()
    compiled, schedule = compile_scenario(sc), schedule_for(sc)
    found = swaps.takers(compiled, schedule, "ann", f"gate/day/{TUE}", swap=True)
    pairs = {(t.volunteer, t.gives) for t in found}
    # cat's Monday day shift for ann's Tuesday: clean on both sides
    assert ("cat", f"gate/day/{MON}") in pairs
    # eve could take Tuesday, but ann taking eve's Wednesday day before her own Wednesday night breaks
    # ann's rest: not offered
    assert ("eve", f"gate/day/{WED}") not in pairs
    problems = swaps.change_problems(
        compiled,
        schedule,
        [("ann", f"gate/day/{TUE}"), ("eve", f"gate/day/{WED}")],
        [("eve", f"gate/day/{TUE}"), ("ann", f"gate/day/{WED}")],
    )
    assert [(p.rule, p.volunteer) for p in problems] == [("min_rest", "ann")]
    # bob could not take ann's Tuesday day after his Monday night, but giving that night back he can
    assert ("bob", f"gate/night/{MON}") in pairs


def test_swaps_only_give_back_shifts_after_the_given_instant():
    sc = site()
    compiled, schedule = compile_scenario(sc), schedule_for(sc)
    after = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
    found = swaps.takers(compiled, schedule, "ann", f"gate/day/{TUE}", swap=True, after=after)
    assert all(compiled.slots[t.gives].start > after for t in found)
    assert ("cat", f"gate/day/{MON}") not in {(t.volunteer, t.gives) for t in found}


def test_open_shifts_are_those_the_volunteer_can_work():
    sc = site()
    compiled, schedule = compile_scenario(sc), schedule_for(sc)
    night_tue = f"gate/night/{TUE}"
    assert night_tue in [u.shift for u in swaps.open_shifts(compiled, schedule, "cat")]
    assert night_tue in [u.shift for u in swaps.open_shifts(compiled, schedule, "bob")]
    # ann works Tuesday's day shift until 16:00: 6 h of rest before 22:00
    assert night_tue not in [u.shift for u in swaps.open_shifts(compiled, schedule, "ann")]
    problems = swaps.change_problems(compiled, schedule, [], [("ann", night_tue)])
    assert [p.rule for p in problems] == ["min_rest"]
    assert swaps.open_shifts(compiled, schedule, "dan") == []


def test_the_changed_schedule_passes_the_checker():
    sc = site()
    compiled, schedule = compile_scenario(sc), schedule_for(sc)
    assert validate(sc, schedule) == []
    given = swaps.changed_schedule(
        compiled, schedule, [("ann", f"gate/day/{TUE}")], [("cat", f"gate/day/{TUE}")]
    )
    assert validate(sc, given) == []
    assert ("cat", "gate", "day", dt.date(2026, 12, 8)) in {
        (a.volunteer, a.post, a.shift, a.date) for a in given.assignments
    }
    totals = {t.volunteer: t for t in given.volunteers}
    assert totals["cat"].shifts == 2 and totals["ann"].shifts == 1
    before = {t.volunteer: t for t in schedule.volunteers}
    hours = {a.volunteer: 0.0 for a in given.assignments}
    for a in given.assignments:
        hours[a.volunteer] += a.hours
    for who in ("ann", "cat"):  # the weekly view follows the change
        assert sum(totals[who].weekly_hours) == hours.get(who, 0.0) != sum(before[who].weekly_hours)
    assert given.weeks[0].busiest_hours == max(t.weekly_hours[0] for t in given.volunteers)
    claimed = swaps.changed_schedule(compiled, schedule, [], [("cat", f"gate/night/{TUE}")])
    assert validate(sc, claimed) == []
    assert f"gate/night/{TUE}" not in {f"{u.post}/{u.shift}/{u.date}" for u in claimed.uncovered}
    assert len(claimed.uncovered) == len(schedule.uncovered) - 1


def test_a_change_of_a_shift_the_volunteer_does_not_have_is_refused():
    sc = site()
    compiled, schedule = compile_scenario(sc), schedule_for(sc)
    problems = swaps.change_problems(
        compiled, schedule, [("gus", f"gate/day/{TUE}")], [("cat", f"gate/day/{TUE}")]
    )
    assert [p.rule for p in problems] == [swaps.NOT_IN_SCHEDULE]
    assert swaps.takers(compiled, schedule, "gus", f"gate/day/{TUE}") == []


def test_a_change_naming_an_unknown_shift_or_volunteer_is_refused_not_a_crash():
    sc = site()
    compiled, schedule = compile_scenario(sc), schedule_for(sc)
    assert [
        p.rule for p in swaps.change_problems(compiled, schedule, [], [("cat", "gate/day/2030-01-01")])
    ] == [swaps.UNKNOWN]
    assert [
        p.rule for p in swaps.change_problems(compiled, schedule, [], [("zed", f"gate/night/{TUE}")])
    ] == [swaps.UNKNOWN]
