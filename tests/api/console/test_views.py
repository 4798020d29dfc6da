"""What the pages show, from a schedule: health status at an instant, tap-to-call links, Today's
now/next/gaps, and the people's hours against their cap."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from api.console import views
from scheduler.domain import scenario as sc
from scheduler.domain.schedule import Assignment, Schedule, SolverReport, Uncovered, VolunteerTotals

Z = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(2027, 1, day, hour, tzinfo=Z)


def record(status, start=None, until=None) -> sc.HealthRecord:
    return sc.HealthRecord.model_validate({"status": status, "from": start, "until": until})


def test_status_at_follows_the_later_start_and_inclusive_dates():
    records = [record("sick", "2027-01-05"), record("fit", "2027-01-09")]
    assert views.status_at(records, at(4, 23), Z).status == "fit"
    assert views.status_at(records, at(5), Z).status == "sick"
    assert views.status_at(records, at(8, 23), Z).status == "sick"
    assert views.status_at(records, at(9), Z).status == "fit"
    until = [record("isolating", "2027-01-05", "2027-01-06")]
    assert views.status_at(until, at(6, 23), Z).status == "isolating"  # a date until is the whole day
    assert views.status_at(until, at(7), Z).status == "fit"
    assert views.status_at([], at(7), Z).status == "fit"
    later = views.next_status([record("limited", "2027-01-20"), record("sick", "2027-01-10")], at(1), Z)
    assert later.status == "sick"


def test_tel_links():
    assert views.tel("+86 138-0000 1234") == "tel:+8613800001234"
    assert views.tel("(030) 12 34") == "tel:0301234"
    assert views.tel("call the office") is None
    assert views.tel(None) is None
    assert views.tel("+1 +2 3") == "tel:+123"


def _assignment(volunteer, post, day, start, end, night=False) -> Assignment:
    s, e = at(day, start), at(day, end) if end > start else at(day + 1, end)
    return Assignment(volunteer=volunteer, post=post, shift=f"{post}-{start}", date=s.date(), start=s, end=e,
                      hours=(e - s).total_seconds() / 3600, night=night)


def schedule(assignments, uncovered=(), totals=()) -> Schedule:
    return Schedule(site="x", timezone="Asia/Shanghai", start=dt.date(2027, 1, 4), days=14, status="optimal",
                    solver=SolverReport(status="optimal", wall_time=1), assignments=list(assignments),
                    uncovered=list(uncovered), volunteers=list(totals))


POSTS = [sc.Post.model_validate({"id": p, "name": p.title(), "shifts": [{"id": "s", "start": "08:00",
                                                                        "end": "16:00"}]})
         for p in ("gate", "patrol")]
PEOPLE = [sc.Volunteer(id=v, name=v.upper(), contact=sc.Contact(phone="+86 1")) for v in ("a", "b", "c")]


def test_today_marks_who_is_on_now_next_and_the_gaps():
    gap = Uncovered(post="gate", shift="gate-16", date=dt.date(2027, 1, 5), start=at(5, 16), end=at(6, 0),
                    required=2, assigned=1, missing=1, reason="nobody else is available")
    s = schedule(
        [_assignment("a", "gate", 5, 8, 16), _assignment("b", "gate", 5, 16, 0),
         _assignment("c", "patrol", 7, 8, 16), _assignment("c", "gate", 4, 8, 16),
         _assignment("a", "gate", 9, 8, 16)],
        [gap],
    )
    view = views.today(s, POSTS, PEOPLE, at(5, 10))
    gate = view.posts[0]
    assert [x.start.day for x in gate.slots] == [5, 5]  # ended and beyond 72 hours left out
    now, nxt = gate.slots
    assert now.now and not now.next and [p.name for p in now.people] == ["A"]
    assert nxt.next and nxt.short and nxt.missing == 1 and nxt.reason == "nobody else is available"
    assert view.gaps == 1 and not view.not_started
    assert view.posts[1].slots[0].next  # patrol: its next shift, two days on
    before = views.today(s, POSTS, PEOPLE, at(1))
    assert before.not_started and before.start == at(4)


def test_people_hours_against_the_cap_and_warnings():
    rules = sc.Rules(max_hours_per_7_days=40)
    people = [sc.Volunteer(id="a", name="A", max_hours_per_week=16), sc.Volunteer(id="b", name="B"),
              sc.Volunteer(id="c", name="C", health=[record("sick", "2027-01-04")])]
    s = schedule(
        [_assignment("a", "gate", 4, 8, 16), _assignment("a", "gate", 5, 8, 16),  # 16 of 16: near (at) cap
         _assignment("b", "gate", 6, 8, 16),  # 8 of 40
         _assignment("c", "gate", 7, 8, 16),  # sick but on a shift
         _assignment("b", "gate", 12, 8, 16)],  # next week: not counted
        totals=[VolunteerTotals(volunteer="b", name="B", shifts=2, hours=16, nights=0, heavy_shifts=0,
                                weekend_shifts=0, load=950)],
    )
    week, rows = views.people_loads(s, people, rules, "Asia/Shanghai", at(1))
    assert week == (dt.date(2027, 1, 4), dt.date(2027, 1, 10))
    by = {r.person.id: r for r in rows}
    assert (by["a"].hours, by["a"].cap, by["a"].warnings) == (16, 16, ["near_cap"])
    assert (by["b"].hours, by["b"].cap, by["b"].warnings) == (8, 40, ["high_load"])
    assert "assigned_while_off" in by["c"].warnings
    assert by["c"].status.status == "fit"  # not sick yet on the 1st
    assert by["c"].upcoming.status == "sick"


def test_the_grid_stays_inside_the_schedule():
    s = schedule([_assignment("a", "gate", 4, 8, 16), _assignment("b", "patrol", 12, 8, 16)])
    first = views.week_start(s, None, dt.date(2026, 12, 1))
    assert first == dt.date(2027, 1, 4)
    g = views.grid(s, POSTS, PEOPLE, first)
    assert g.previous is None and g.following == dt.date(2027, 1, 11) and len(g.days) == 7
    last = views.grid(s, POSTS, PEOPLE, views.week_start(s, dt.date(2027, 1, 11), dt.date(2026, 12, 1)))
    assert last.previous == dt.date(2027, 1, 4) and last.following is None
    assert views.week_start(s, dt.date(2030, 1, 1), dt.date(2026, 12, 1)) == dt.date(2027, 1, 17)
    cells = {p.id: cells for p, _, cells in last.posts}
    assert [len(c.slots) for c in cells["patrol"]][:2] == [0, 1]


def test_the_load_chart_puts_the_most_loaded_first():
    rules = sc.Rules(max_hours_per_7_days=40)
    people = [sc.Volunteer(id="a", name="A", max_hours_per_week=8), sc.Volunteer(id="b", name="B")]
    s = schedule([_assignment("b", "gate", 4, 8, 16), _assignment("a", "gate", 12, 22, 6, night=True),
                  _assignment("a", "gate", 13, 8, 12)])
    chart = views.load_chart(s, people, rules)
    assert chart.weeks == [dt.date(2027, 1, 4), dt.date(2027, 1, 11)]
    assert [r.person.id for r in chart.rows] == ["a", "b"]  # 12 of 8 hours beats 8 of 40
    a = chart.rows[0]
    assert a.weeks == [(0, 0), (12, 1)] and a.cap == 8 and a.worst == 1.5
    assert chart.top == 40


def test_a_draft_beside_the_published_schedule_marks_who_is_new_and_who_is_gone():
    published = schedule([_assignment("a", "gate", 4, 8, 16), _assignment("b", "patrol", 5, 8, 16)])
    draft = schedule([_assignment("c", "gate", 4, 8, 16), _assignment("a", "gate", 6, 8, 16)])
    g = views.grid(draft, POSTS, PEOPLE, dt.date(2027, 1, 4), baseline=published)
    cells = {p.id: cells for p, _, cells in g.posts}
    monday = cells["gate"][0].slots[0]
    assert monday.added == {"c"} and [p.id for p in monday.removed] == ["a"]
    tuesday_patrol = cells["patrol"][1].slots[0]  # the draft has nobody there: only who is gone
    assert tuesday_patrol.people == [] and [p.id for p in tuesday_patrol.removed] == ["b"]
    assert g.changes == 4  # c in, a out on Monday; b out on Tuesday; a in on Wednesday
    chips = {person.id: cells for person, cells, _ in g.people}
    assert chips["a"][2].shifts[0][2] is True and chips["c"][0].shifts[0][2] is True
    assert views.grid(draft, POSTS, PEOPLE, dt.date(2027, 1, 4)).changes is None


def test_the_known_reasons_are_the_solvers_and_are_translated():
    from api.console import i18n, texts
    from solver import explain

    reasons = (explain.NO_ONE_AVAILABLE, explain.SKILL_MISSING, explain.AT_A_LIMIT, explain.STOPPED_EARLY)
    for reason in reasons:
        assert reason in texts.KNOWN
    zh = i18n.translator("zh_CN").gettext
    assert texts.known(explain.AT_A_LIMIT, zh) == "所有符合条件的人都已达到上限"
    assert texts.known("unavailable: study", zh) == "没空: 上课或考试"  # an absence's reason too
    assert texts.known("unavailable: something", zh) == "没空: something"
    from scheduler.domain.scenario import AbsenceReason

    assert set(texts.ABSENCE_REASONS) == {r.value for r in AbsenceReason}
    assert texts.known("something else", zh) == "something else"


def _heavy(a: Assignment) -> Assignment:
    return a.model_copy(update={"intensity": "heavy"})


def test_past_work_takes_each_shift_from_the_version_in_force_when_it_started():
    v1 = views.Version(1, at(1), schedule([_assignment("a", "gate", 4, 22, 6, night=True),
                                           _assignment("a", "gate", 6, 8, 16)]))
    # version 2, published on the 5th, re-planned the 6th: b instead of a
    v2 = views.Version(2, at(5, 12), schedule([_assignment("a", "gate", 4, 22, 6, night=True),
                                               _heavy(_assignment("b", "gate", 6, 8, 16))]))
    history = sc.Volunteer(id="c", name="C", history=sc.History(recent_shifts=[
        sc.PastShift(start=at(2, 8), end=at(2, 14), night=False),
        sc.PastShift(start=at(5, 8), end=at(5, 14)),  # inside the published span: the versions know it
    ]))
    worked = views.past_work([v2, v1], [history], at(1), at(7), Z)
    got = sorted((w.volunteer, w.date.day, w.hours, w.night, w.heavy) for w in worked)
    assert got == [("a", 4, 8.0, True, False), ("b", 6, 8.0, False, True), ("c", 2, 6.0, False, False)]
    assert views.past_work([v1, v2], [], at(5), at(7), Z)[0].volunteer == "b"  # the window cuts the 4th
    # shifts of a version published after they started count when no earlier version covers them
    late = views.Version(3, at(9), schedule([_assignment("a", "gate", 4, 8, 16)]))
    assert [w.volunteer for w in views.past_work([late], [], at(1), at(9), Z)] == ["a"]
    # a naive recent shift is a wall clock in the site's zone (not an error comparing it with instants)
    naive = sc.Volunteer(id="d", name="D", history=sc.History(recent_shifts=[
        sc.PastShift(start=dt.datetime(2027, 1, 2, 23), end=dt.datetime(2027, 1, 3, 7), night=True)]))
    (w,) = views.past_work([], [naive], at(2), at(3), Z)
    assert w.start == at(2, 23) and w.date == dt.date(2027, 1, 2) and w.hours == 8 and w.night
    assert views.past_work([], [naive], at(3), at(4), Z) == []


def test_people_count_nights_and_heavy_shifts_of_the_last_14_days_and_warn():
    rules = sc.Rules(max_heavy_share_28_days=0.5)
    people = [sc.Volunteer(id="a", name="A"), sc.Volunteer(id="b", name="B"), sc.Volunteer(id="c", name="C")]
    recent = [views.Worked("a", dt.date(2027, 1, d), at(d, 22), 8, True, False) for d in range(1, 8)]
    recent += [views.Worked("b", dt.date(2027, 1, d), at(d, 8), 8, False, d % 2 == 0) for d in range(1, 5)]
    recent += [views.Worked("c", dt.date(2027, 1, d), at(d, 8), 8, False, d == 1) for d in range(1, 5)]
    _, rows = views.people_loads(None, people, rules, "Asia/Shanghai", at(14), recent)
    a, b, c = rows
    assert (a.recent_nights, a.recent_heavy) == (7, 0) and "many_nights" in a.warnings
    assert abs(a.nights_share - 0.5) < 1e-9 and "many_heavy" not in a.warnings
    assert (b.recent_nights, b.recent_heavy) == (0, 2) and "many_heavy" in b.warnings  # 2 of 4 days: the rule
    assert c.recent_heavy == 1 and c.warnings == []  # 1 of 4 days is under half
    _, quiet = views.people_loads(None, people, sc.Rules(), "Asia/Shanghai", at(14))
    assert all(r.recent_nights == r.recent_heavy == 0 and r.warnings == [] for r in quiet)


def test_the_load_chart_shows_past_weeks_worked_then_the_planned_weeks():
    rules = sc.Rules(max_hours_per_7_days=40)
    people = [sc.Volunteer(id="a", name="A"), sc.Volunteer(id="b", name="B")]
    # today is Wednesday 13 January 2027: the past weeks are those of 14, 21, 28 December and 4 January
    past = [views.Worked("b", dt.date(2026, 12, 15), at(1), 50, True, False),
            views.Worked("a", dt.date(2027, 1, 5), at(5), 8, False, False),
            views.Worked("a", dt.date(2026, 11, 30), at(1), 99, False, False)]  # before the 4 weeks: left out
    s = schedule([_assignment("a", "gate", 4, 8, 16), _assignment("a", "gate", 12, 8, 16)])
    chart = views.load_chart(s, people, rules, past, dt.date(2027, 1, 13))
    assert chart.weeks == [dt.date(2026, 12, 14), dt.date(2026, 12, 21), dt.date(2026, 12, 28),
                           dt.date(2027, 1, 4), dt.date(2027, 1, 11)]  # the plan's 2nd week is this one
    assert chart.worked == [True, True, True, True, False] and chart.past_weeks == 4
    b, a = chart.rows  # 50 of 40 hours worked stands out first
    assert b.person.id == "b" and b.weeks[0] == (50, 1) and b.worst == 1.25
    # the past week of 4 January counts the work, not the plan that started then
    assert a.weeks == [(0, 0), (0, 0), (0, 0), (8, 0), (8, 0)]
    only_past = views.load_chart(None, people, rules, past, dt.date(2027, 1, 13))
    assert only_past.worked == [True] * 4
