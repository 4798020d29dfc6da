"""Vulnerable residents (issue 12): the scenario format, the matching from a scenario, visits on the rota
(only the primary, the backup when the primary cannot), the independent checker's ``guardian`` rule."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from scheduler.domain.check import validate
from scheduler.domain.compile import REASON_NOT_GUARDIAN, compile_scenario
from scheduler.domain.planning import plan
from scheduler.domain.residents import current_pairs, guardian_problem, match, register
from scheduler.domain.scenario import Scenario
from scheduler.domain.visits import visit_posts
from solver.guardians_check import check
from tests.scheduler._build import gate, scenario, volunteer


def resident(id: str, **extra) -> dict:
    return {"id": id, "name": f"Resident {id}", "building": "B1", "zone": "north", **extra}


def visit(id: str = "check", start: str = "10:00", minutes: int = 30, **extra) -> dict:
    return {"id": id, "start": start, "minutes": minutes, **extra}


def site(residents: list[dict], volunteers: list[dict], days: int = 3, **kw) -> Scenario:
    base = scenario(days=days, volunteers=volunteers, **kw)
    data = base.model_dump(mode="json", by_alias=True)
    data["residents"] = residents
    return Scenario.model_validate(data)


VOLUNTEERS = [
    volunteer("a", building="B1", zone="north", languages=["wu"]),
    volunteer("b", building="B2", zone="north", languages=["wu"]),
    volunteer("c", building="B9", zone="south", skills=["medical"]),
    volunteer("d", building="B1", zone="north"),
]


def test_scenario_round_trip_is_lossless():
    s = site(
        [resident("r1", address="3F east", needs={"daily_check_in": True, "medicine_days": ["mon", "thu"],
                                                   "language": "wu", "notes": "knock twice"},
                  visits=[visit(weekdays=["mon", "wed"])], kin={"name": "Li Wei", "phone": "+86 1"},
                  close_contact=True, primary="a", backup="b")],
        VOLUNTEERS,
        rules={"guardians": {"shield_risk_group": False, "max_primary": 2, "max_backup": 1}},
    )
    again = Scenario.model_validate_json(s.model_dump_json(by_alias=True))
    assert again == s
    assert again.residents[0].kin.name == "Li Wei"
    assert again.volunteers[0].languages == ["wu"]
    assert again.rules.guardians.max_backup == 1


def test_old_scenarios_stay_valid_without_residents():
    s = scenario(volunteers=[volunteer("a")])
    assert s.residents == [] and s.volunteers[0].languages == [] and not s.volunteers[0].risk_group


@pytest.mark.parametrize("bad, field", [
    ({"primary": "zz"}, "residents[0].primary"),
    ({"primary": "a", "backup": "a"}, "backup"),
    ({"visits": [visit("day")]}, "residents[0].visits[0].id"),  # 'day' is a gate template
])
def test_bad_residents_are_refused_naming_the_field(bad, field):
    with pytest.raises(ValidationError) as exc:
        site([resident("r1", **bad)], VOLUNTEERS)
    assert field in str(exc.value)


def test_matching_from_a_scenario_is_eligible_distinct_and_near():
    s = site([resident("r1", needs={"language": "wu"}), resident("r2", needs={"medical_care": True})],
             VOLUNTEERS)
    m = match(s)
    assert m.violations == []
    pairs = {r.id: (r.primary, r.backup) for r in m.scenario.residents}
    assert pairs["r1"] == ("a", "b")  # both speak wu; a lives in the same building
    assert pairs["r2"][0] == "c" and pairs["r2"][1] is None  # only c has the medical skill
    assert {c.resident for c in m.changes} == {"r1", "r2"}
    assert all(c.reason == "first match" for c in m.changes)


def test_a_sick_volunteer_answers_for_nobody_and_the_backup_takes_over():
    vols = [dict(v) for v in VOLUNTEERS]
    vols[0]["health"] = [{"status": "sick", "from": "2026-12-08", "until": "2026-12-09"}]
    s = site([resident("r1", needs={"language": "wu"}, primary="a", backup="b",
                       kin={"name": "Kin", "phone": "123"})], vols)
    problem = guardian_problem(s)
    assert not next(g for g in problem.guardians if g.id == "a").available
    m = match(s)
    r = m.scenario.residents[0]
    assert (r.primary, r.backup) == ("b", None)  # only a and b speak wu
    [change] = m.changes
    assert change.changed_hands and "sick" in change.reason
    assert {n.role for n in change.notify} == {"new_primary", "kin"}
    assert check(m.problem, m.solution.pairs) == []


def test_continuity_nothing_changed_keeps_every_pair():
    s = site([resident(f"r{i}") for i in range(4)], VOLUNTEERS, rules={"guardians": {"max_primary": 1}})
    first = match(s).scenario
    again = match(first)
    assert again.changes == []
    assert [(r.primary, r.backup) for r in again.scenario.residents] == [
        (r.primary, r.backup) for r in first.residents
    ]


def test_risk_group_is_shielded_from_close_contact_only_where_the_site_says_so():
    vols = [volunteer("a", building="B1", risk_group=True), volunteer("b", building="B5")]
    residents = [resident("r1", needs={"mobility_help": True})]
    assert match(site(residents, vols)).scenario.residents[0].primary == "b"
    loose = site(residents, vols, rules={"guardians": {"shield_risk_group": False}})
    assert match(loose).scenario.residents[0].primary == "a"


def test_visits_compile_to_shifts_only_the_guardians_may_work():
    s = site([resident("r1", address="3F", visits=[visit()], primary="a", backup="b")], VOLUNTEERS)
    [post] = visit_posts(s)
    assert post.location == "B1, 3F" and "Resident" not in (post.name + (post.instructions or ""))
    compiled = compile_scenario(s)
    visits = [sh for sh in compiled.problem.shifts if sh.post == "visit:r1"]
    assert len(visits) == 3 and all(sh.end - sh.start == 30 for sh in visits)
    people = {p.id: p for p in compiled.problem.people}
    for sh in visits:
        assert people["a"].may_work(sh.id) and people["b"].may_work(sh.id)
        assert people["c"].unavailable[sh.id] == REASON_NOT_GUARDIAN
        assert people["b"].avoids[sh.id] > 0 and sh.id not in people["a"].avoids


def _visitors(schedule) -> dict[dt.date, str]:
    return {a.date: a.volunteer for a in schedule.assignments if a.post == "visit:r1"}


def test_the_primary_makes_the_visits_and_the_backup_when_the_primary_cannot():
    vols = [dict(v) for v in VOLUNTEERS]
    vols[0]["unavailable"] = [{"from": "2026-12-08", "until": "2026-12-08"}]
    s = site([resident("r1", visits=[visit()], primary="a", backup="b")], vols,
             posts=[gate(shifts=[{"id": "day", "start": "08:00", "end": "16:00"}])])
    schedule = plan(compile_scenario(s), time_limit=5, workers=1, seed=0)
    assert schedule.status in ("optimal", "feasible")
    assert validate(s, schedule) == []
    day = dt.date(2026, 12, 7)
    assert _visitors(schedule) == {day: "a", day + dt.timedelta(1): "b", day + dt.timedelta(2): "a"}
    # the visits count in the volunteer's load
    totals = {t.volunteer: t for t in schedule.volunteers}
    assert totals["a"].shifts == sum(1 for a in schedule.assignments if a.volunteer == "a")


def _gate_then_visit(start: str, minutes: int = 30) -> Scenario:
    """``a`` is pinned to the gate 08:00-16:00 on the one day; r1's visit at ``start`` needs a or b."""
    return site([resident("r1", visits=[visit(start=start, minutes=minutes)], primary="a", backup="b")],
                [volunteer("a"), volunteer("b")], days=1,
                posts=[gate(shifts=[{"id": "day", "start": "08:00", "end": "16:00"}])],
                pinned=[{"volunteer": "a", "post": "gate", "shift": "day", "date": "2026-12-07"}])


def test_a_guardian_with_a_gate_shift_also_makes_the_short_visit():
    """A 30-minute visit is not the day's one shift and needs no 11 h of rest: the primary who works
    the gate until 16:00 makes the 18:00 visit (it was the backup's before the short-visit rule)."""
    s = _gate_then_visit("18:00")
    compiled = compile_scenario(s)
    assert all(sh.visit for sh in compiled.problem.shifts if sh.post == "visit:r1")
    schedule = plan(compiled, time_limit=5, workers=1, seed=0)
    assert schedule.status in ("optimal", "feasible")
    assert validate(s, schedule) == []
    assert schedule.uncovered == []
    assert _visitors(schedule) == {dt.date(2026, 12, 7): "a"}


def test_a_visit_overlapping_or_too_close_to_the_gate_shift_goes_to_the_backup():
    for start in ("15:30", "16:05"):  # overlapping; inside the 15-minute travel gap
        s = _gate_then_visit(start)
        schedule = plan(compile_scenario(s), time_limit=5, workers=1, seed=0)
        assert validate(s, schedule) == []
        assert _visitors(schedule) == {dt.date(2026, 12, 7): "b"}, start


def test_rest_rules_bind_long_visits():
    """A visit longer than two hours is a shift like any other: one shift a day, 11 h of rest."""
    s = _gate_then_visit("18:00", minutes=180)
    compiled = compile_scenario(s)
    assert not any(sh.visit for sh in compiled.problem.shifts if sh.post == "visit:r1")
    schedule = plan(compiled, time_limit=5, workers=1, seed=0)
    assert validate(s, schedule) == []
    assert _visitors(schedule) == {dt.date(2026, 12, 7): "b"}


def test_checker_names_a_visit_made_by_someone_else():
    s = site([resident("r1", visits=[visit()], primary="a", backup="b")], VOLUNTEERS, days=1,
             posts=[gate(shifts=[{"id": "day", "start": "08:00", "end": "16:00"}])])
    schedule = plan(compile_scenario(s), time_limit=5, workers=1, seed=0)
    for a in schedule.assignments:
        if a.post == "visit:r1":
            a.volunteer = "c"
    assert "guardian" in {v.rule for v in validate(s, schedule)}


def test_register_puts_residents_at_risk_first():
    vols = [dict(v) for v in VOLUNTEERS]
    for v in vols[:2]:  # a and b away on the first day: r1's visit that day is uncovered
        v["unavailable"] = [{"from": "2026-12-07", "until": "2026-12-07"}]
    s = site([resident("r1", visits=[visit()], primary="a", backup="b"),
              resident("r2", needs={"medical_care": True}, primary="c"),
              resident("r3", visits=[visit(start="15:00")], primary="d", backup="a")], vols,
             posts=[gate(shifts=[{"id": "day", "start": "08:00", "end": "09:00"}])])
    schedule = plan(compile_scenario(s), time_limit=5, workers=1, seed=0)
    now = dt.datetime(2026, 12, 7, 8, tzinfo=s.site.zone)
    rows = register(s, schedule, now)
    by = {r.resident: r for r in rows}
    assert "uncovered_visit" in by["r1"].risks and by["r1"].next_visit.date() == now.date()
    assert by["r1"].next_visitor is None
    assert {"no_backup", "no_eligible_backup"} <= set(by["r2"].risks)
    assert by["r3"].risks == [] and by["r3"].next_visitor == "d"
    assert [r.resident for r in rows][-1] == "r3"  # the one not at risk comes last
    # a guardian near a limit: their hours in the coming week at their weekly cap
    vols[3]["max_hours_per_week"] = 1
    tight = site([resident("r3", visits=[visit(start="15:00", minutes=60)], primary="d", backup="a")], vols,
                 posts=[gate(shifts=[{"id": "day", "start": "08:00", "end": "09:00"}])])
    schedule = plan(compile_scenario(tight), time_limit=5, workers=1, seed=0)
    assert "guardian_near_limit" in register(tight, schedule, now)[0].risks
    assert register(s, None, now)[0].next_visit is None  # nothing published yet


def test_a_primary_falling_ill_hands_every_visit_to_the_backup_and_a_new_backup_is_found():
    from scheduler.domain.disruptions import SickCall
    from scheduler.domain.replan import check as check_resolve
    from scheduler.domain.replan import resolve

    vols = [volunteer("a", building="B1"), volunteer("b", building="B1"), volunteer("c", building="B2"),
            volunteer("d", zone="south")]
    residents = [resident("r1", visits=[visit()], primary="a", backup="b", kin={"name": "Kin", "phone": "9"}),
                 resident("r2", visits=[visit(start="15:00")], primary="a", backup="c"),
                 resident("r3", visits=[visit(start="12:00")], primary="c", backup="d")]
    s = site(residents, vols, days=4, posts=[gate(shifts=[{"id": "day", "start": "08:00", "end": "09:00"}])],
             rules={"max_shifts_per_day": 3, "min_rest_hours": 1})
    previous = plan(compile_scenario(s), time_limit=5, workers=1, seed=0)
    assert validate(s, previous) == []
    assert {a.volunteer for a in previous.assignments if a.post in ("visit:r1", "visit:r2")} == {"a"}
    cutoff = dt.datetime(2026, 12, 8, 6, 40, tzinfo=s.site.zone)
    sick = SickCall(volunteer="a", start=cutoff.replace(tzinfo=None), until=dt.date(2026, 12, 10))
    result = resolve(s, previous, [sick], cutoff=cutoff, time_limit=5, workers=1, patience=1)
    new = {r.id: r for r in result.scenario.residents}
    assert new["r1"].primary == "b" and new["r2"].primary == "c"  # the backups took over
    assert new["r1"].backup not in (None, "a", "b") and new["r2"].backup not in (None, "a", "c")
    assert (new["r3"].primary, new["r3"].backup) == ("c", "d")  # nothing relevant changed: kept
    assert check(guardian_problem(result.scenario, cutoff), current_pairs(result.scenario)) == []
    after = [a for a in result.schedule.assignments if a.start >= cutoff]
    for rid, backup in (("r1", "b"), ("r2", "c")):
        visits = [a for a in after if a.post == f"visit:{rid}"]
        assert visits and all(a.volunteer == backup for a in visits)
    assert check_resolve(result.scenario, result.schedule, previous, cutoff) == []
    changed = {c.resident: c for c in result.changes.residents}
    assert set(changed) == {"r1", "r2"} and all(c.changed_hands for c in changed.values())
    assert "kin" in {n.role for n in changed["r1"].notify}
    assert {"new_primary", "new_backup"} <= {n.role for n in changed["r1"].notify}


def test_a_short_visit_in_the_history_owes_no_rest_and_makes_no_working_day():
    """A visit made the evening before the horizon (from the published schedule: its post is the visit
    post) counts its minutes but no working day and no rest: the 08:00 gate shift stays open to a."""
    past = [{"start": "2026-12-06T21:00:00", "end": "2026-12-06T21:30:00", "post": "visit:r1",
             "shift": "check"}]
    s = site([resident("r1", visits=[visit()], primary="a", backup="b")],
             [volunteer("a", history={"recent_shifts": past}), volunteer("b")], days=1,
             posts=[gate(shifts=[{"id": "day", "start": "08:00", "end": "16:00"}])],
             pinned=[{"volunteer": "a", "post": "gate", "shift": "day", "date": "2026-12-07"}])
    compiled = compile_scenario(s)
    history = {p.id: p for p in compiled.problem.people}["a"].history
    assert history.last_shift_end is None
    assert history.day(-1).minutes == 30 and not history.day(-1).worked
    schedule = plan(compiled, time_limit=5, workers=1, seed=0)
    assert schedule.status in ("optimal", "feasible")
    assert validate(s, schedule) == []
    # the same past shift on a gate is a working day with 11 h of rest owed after it
    past[0]["post"] = "gate"
    gate_history = {p.id: p for p in compile_scenario(
        site([], [volunteer("a", history={"recent_shifts": past})], days=1)
    ).problem.people}["a"].history
    assert gate_history.day(-1).worked and gate_history.last_shift_end is not None


def test_the_site_sets_the_travel_gap_of_short_visits():
    s = _gate_then_visit("16:05")
    data = s.model_dump(mode="json", by_alias=True)
    data["rules"]["visit_travel_minutes"] = 0  # the resident lives at the gate
    s = Scenario.model_validate(data)
    assert {p.rules.visit_gap_minutes for p in compile_scenario(s).problem.people} == {0}
    schedule = plan(compile_scenario(s), time_limit=5, workers=1, seed=0)
    assert validate(s, schedule) == []
    assert _visitors(schedule) == {dt.date(2026, 12, 7): "a"}
    data["rules"]["visit_travel_minutes"] = -5
    with pytest.raises(ValidationError, match="visit_travel_minutes"):
        Scenario.model_validate(data)


def test_a_visit_fits_a_volunteers_weekly_window_including_one_past_midnight():
    import datetime as _dt

    from scheduler.domain.residents import visit_fits
    from scheduler.domain.scenario import AvailabilityWindow, Weekday

    days = [Weekday("mon"), Weekday("wed")]
    mornings = [AvailabilityWindow(weekdays=days, start=_dt.time(8), end=_dt.time(12))]
    assert visit_fits(mornings, Weekday("mon"), _dt.time(9), 30)
    assert not visit_fits(mornings, Weekday("mon"), _dt.time(11, 45), 30)  # runs past the window's end
    assert not visit_fits(mornings, Weekday("tue"), _dt.time(9), 30)
    nights = [AvailabilityWindow(weekdays=[Weekday("sun")], start=_dt.time(22), end=_dt.time(6))]
    assert visit_fits(nights, Weekday("mon"), _dt.time(1), 60)  # Sunday night's window runs into Monday
    assert not visit_fits(nights, Weekday("sun"), _dt.time(1), 60)
    assert visit_fits(None, Weekday("tue"), _dt.time(3), 30)  # no windows: any time


def test_the_matching_prefers_the_guardian_who_is_free_at_the_visit_time():
    from scheduler.domain.residents import misfits

    every_day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    evenings = [{"weekdays": every_day, "start": "17:00", "end": "22:00"}]
    volunteers = [
        volunteer("near", building="B1", zone="north", availability=evenings),  # same building, busy mornings
        volunteer("free", building="B2", zone="north"),
        volunteer("other", building="B3", zone="north"),
    ]
    sc = site([resident("r1", visits=[visit(start="10:00", weekdays=["mon", "wed", "fri"])])], volunteers)
    assert misfits(sc) == {("r1", "near"): 3}
    pairs = {p.ward: p for p in match(sc).solution.pairs}
    assert pairs["r1"].primary == "free"  # nearer would be "near", who cannot make a 10:00 visit
    assert check(guardian_problem(sc), list(pairs.values())) == []


@pytest.mark.parametrize("needs, visitor", [
    ({"daily_check_in": True}, "a"),  # a check-in is light work: the primary on limited duty makes it
    ({"mobility_help": True}, "b"),  # close-contact care is not: the backup goes
])
def test_a_guardian_on_limited_duty_makes_check_ins_but_not_close_contact_care(needs, visitor):
    limited = [{"status": "limited", "from": "2026-12-07", "reason": "injury"}]
    s = site([resident("r1", needs=needs, visits=[visit()], primary="a", backup="b")],
             [volunteer("a", health=limited), volunteer("b")], days=1,
             posts=[gate(shifts=[{"id": "day", "start": "08:00", "end": "16:00", "required": 0}])])
    schedule = plan(compile_scenario(s), time_limit=5, workers=1, seed=0)
    assert schedule.status in ("optimal", "feasible")
    assert validate(s, schedule) == []
    assert _visitors(schedule) == {dt.date(2026, 12, 7): visitor}
