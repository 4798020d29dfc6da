"""Staffing advice: the advised volunteers, added as real ones, close the gaps the advice names."""

from __future__ import annotations

from scheduler.domain.advice import advice_text, advise
from scheduler.domain.compile import compile_scenario
from solver import validate
from solver.advice import coverage_solve
from solver.options import SolveOptions
from solver.solve import solve
from tests.scheduler._build import post, scenario, template, volunteer

DAY = [{"start": "08:00", "end": "16:00"}]


def short_site(extra=()):
    posts = [
        post("gate", template("day", "08:00", "16:00"), template("night", "22:00", "06:00")),
        post("clinic", template("morning", "07:00", "15:00", weekdays=["mon", "tue", "wed", "thu", "fri"],
                                skills={"medic": 1})),
    ]
    people = [volunteer("ann", availability=DAY), volunteer("bob", availability=DAY), volunteer("cid")]
    return scenario(days=7, posts=posts, volunteers=[*people, *extra])


def test_advised_volunteers_close_the_gaps_they_are_said_to_close():
    site = short_site()
    advice = advise(site, time_limit=10, seed=0)
    assert advice.short_slots > 0 and advice.missing_people > 0
    assert advice.items and advice.volunteers and advice.count == len(advice.volunteers)
    assert advice.closed_slots, "the advice closes something"
    assert not advice.still_short  # every gap here has an archetype that can close it
    assert any(item.skills == ["medic"] for item in advice.items)  # the clinic needs a medic
    assert "medic" in advice.recruiting_text and "Test site" in advice.recruiting_text
    assert "Recruit" in advice_text(advice)

    # added as real volunteers (the same entries), the full planner staffs every slot they close
    staffed = compile_scenario(short_site([v.model_dump(by_alias=True) for v in advice.volunteers]))
    solution = solve(staffed.problem, SolveOptions(time_limit=10, workers=1, seed=0))
    assert solution.has_schedule
    assert validate.validate(staffed.problem, solution.assignments, solution.uncovered) == []
    left = {sf.shift for sf in solution.uncovered}
    assert not left & set(advice.closed_slots)
    assert left <= set(advice.still_short)


def test_advice_is_minimal_one_fewer_leaves_a_gap():
    advice = advise(short_site(), time_limit=10, seed=0)
    assert advice.count >= 2
    for dropped in advice.volunteers:
        rest = [v.model_dump(by_alias=True) for v in advice.volunteers if v.id != dropped.id]
        problem = compile_scenario(short_site(rest)).problem
        status, _, short = coverage_solve(problem, time_limit=5, seed=0)
        assert status.value == "optimal"
        assert short, f"without {dropped.id} every slot is still staffed: the advice was not minimal"


def test_no_advice_when_nothing_is_short():
    posts = [post("gate", template("day", "08:00", "16:00"))]
    site = scenario(days=3, posts=posts, volunteers=[volunteer("ann"), volunteer("bob")])
    advice = advise(site, time_limit=5)
    assert advice.short_slots == 0 and advice.items == [] and advice.volunteers == []
    assert "no one more is needed" in advice_text(advice)
