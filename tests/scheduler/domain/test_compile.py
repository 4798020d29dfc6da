from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from scheduler.domain.compile import (
    NOT_PREFERRED_PENALTY,
    UNWANTED_PENALTY,
    ScenarioError,
    compile_scenario,
    shift_id,
)
from solver.problem import HistoryDay, Intensity, LoadMeasure
from tests.scheduler._build import gate, post, scenario, template, volunteer

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def unavailable(compiled, person: str) -> dict[str, str]:
    return dict(compiled.problem.person(person).unavailable)


# --------------------------------------------------------------------------------------------------
# time


@pytest.mark.parametrize(
    ("tz", "date", "hours", "start", "end"),
    [
        ("Europe/Berlin", "2026-03-28", 7, "2026-03-28T22:00:00+01:00", "2026-03-29T06:00:00+02:00"),
        ("Europe/Berlin", "2026-10-24", 9, "2026-10-24T22:00:00+02:00", "2026-10-25T06:00:00+01:00"),
        ("Europe/Berlin", "2026-03-27", 8, "2026-03-27T22:00:00+01:00", "2026-03-28T06:00:00+01:00"),
        ("America/New_York", "2026-03-07", 7, "2026-03-07T22:00:00-05:00", "2026-03-08T06:00:00-04:00"),
        ("America/New_York", "2026-10-31", 9, "2026-10-31T22:00:00-04:00", "2026-11-01T06:00:00-05:00"),
    ],
)
def test_night_shift_over_dst_has_exact_length(tz, date, hours, start, end):
    c = compile_scenario(scenario(tz=tz, start=date, days=1))
    sid = f"gate/night/{date}"
    shift, slot = c.problem.shift(sid), c.slots[sid]
    assert shift.minutes == hours * 60
    assert slot.hours == hours
    assert slot.start.isoformat() == start
    assert slot.end.isoformat() == end
    assert slot.start.tzinfo is not None and slot.date == dt.date.fromisoformat(date)


def test_epoch_and_minutes_across_spring_forward():
    c = compile_scenario(scenario(start="2026-03-28", days=3))
    assert c.epoch == dt.datetime(2026, 3, 27, 23, 0, tzinfo=dt.UTC)
    day = {s.day: s for s in c.problem.shifts if s.type == "day"}
    assert day[0].start == 8 * 60
    assert day[1].start == 24 * 60 + 7 * 60  # 2026-03-29 has 23 hours
    assert day[2].start == 23 * 60 + 24 * 60 + 8 * 60
    assert c.minutes(dt.datetime(2026, 3, 29, 8, 0, tzinfo=BERLIN)) == day[1].start
    assert c.minutes(dt.datetime(2026, 3, 29, 8, 0)) == day[1].start  # naive = site-local
    assert c.minutes(dt.datetime(2026, 3, 29, 6, 0, tzinfo=dt.UTC)) == day[1].start
    back = c.instant(day[1].start)
    assert back.isoformat() == "2026-03-29T08:00:00+02:00"
    assert c.minutes(back) == day[1].start


def test_minutes_across_fall_back_new_york():
    c = compile_scenario(scenario(tz="America/New_York", start="2026-10-31", days=2))
    day = {s.day: s for s in c.problem.shifts if s.type == "day"}
    assert day[1].start - day[0].start == 25 * 60
    assert c.instant(day[1].start).isoformat() == "2026-11-01T08:00:00-05:00"


def test_shift_crossing_midnight_belongs_to_its_start_day():
    c = compile_scenario(scenario(posts=[post("p", template("late", "20:00", "02:00"))], days=2))
    s = c.problem.shift("p/late/2026-12-07")
    assert (s.day, s.start, s.end, s.minutes) == (0, 20 * 60, 26 * 60, 360)
    assert c.slots[s.id].end.isoformat() == "2026-12-08T02:00:00+01:00"
    assert c.problem.shift("p/late/2026-12-08").day == 1


def test_shift_ids_fields_and_template_over_post_intensity():
    p = post("p", template("a", "08:00", "12:00", required=2, skills={"medical": 1}, intensity="light"),
             template("b", "12:00", "16:00"), intensity="heavy")
    c = compile_scenario(scenario(posts=[p], days=1))
    a, b = c.problem.shift("p/a/2026-12-07"), c.problem.shift("p/b/2026-12-07")
    assert (a.type, a.required, a.max_staff, dict(a.skills), a.intensity) == (
        "a", 2, 2, {"medical": 1}, Intensity.LIGHT)
    assert b.intensity == Intensity.HEAVY and b.required == b.max_staff == 1
    assert c.slots[a.id].post == "p" and c.slots[a.id].template == "a"


def test_weekdays_and_dates_filter():
    p = post("p", template("we", "08:00", "16:00", weekdays=["sat", "sun"]),
             template("once", "08:00", "16:00", dates=["2026-12-08", "2026-12-12", "2026-12-30"],
                      weekdays=["mon", "tue", "wed", "thu", "fri"]))
    c = compile_scenario(scenario(posts=[p], days=7))
    assert sorted(c.slots) == ["p/once/2026-12-08", "p/we/2026-12-12", "p/we/2026-12-13"]


def test_dst_gap_shift_is_skipped_with_a_warning():
    c = compile_scenario(scenario(start="2026-03-28", days=2,
                                  posts=[post("p", template("gap", "02:00", "03:00"))]))
    assert list(c.slots) == ["p/gap/2026-03-28"]
    assert len(c.warnings) == 1 and "p/gap/2026-03-29" in c.warnings[0]


def test_night_detection():
    p = post("p", template("eve", "18:00", "23:00"), template("late", "20:00", "02:00"),
             template("early", "04:00", "12:00"), template("night", "22:00", "06:00"))
    c = compile_scenario(scenario(posts=[p], days=1))
    night = {s.type: s.night for s in c.problem.shifts}
    assert night == {"eve": False, "late": True, "early": False, "night": True}
    rules = {"night": {"start": "00:00", "end": "05:00", "min_hours": 2}}
    c = compile_scenario(scenario(posts=[p], days=1, rules=rules))
    night = {s.type: s.night for s in c.problem.shifts}
    assert night == {"eve": False, "late": True, "early": False, "night": True}
    rules = {"night": {"min_hours": 2}}
    c = compile_scenario(scenario(posts=[p], days=1, rules=rules))
    assert {s.type: s.night for s in c.problem.shifts}["early"] is True


def test_night_over_dst_counts_exact_minutes():
    # 00:00-04:00 on the spring-forward night is 3 hours long, all of it inside 22:00-06:00
    p = post("p", template("small", "00:00", "04:00"))
    c = compile_scenario(scenario(start="2026-03-29", days=1, posts=[p], rules={"night": {"min_hours": 3.5}}))
    s = c.problem.shift("p/small/2026-03-29")
    assert s.minutes == 180 and s.night is False
    c = compile_scenario(scenario(start="2026-03-29", days=1, posts=[p], rules={"night": {"min_hours": 3}}))
    assert c.problem.shift("p/small/2026-03-29").night is True


# --------------------------------------------------------------------------------------------------
# health, absences, availability


def test_health_later_from_wins_and_open_ends():
    v = volunteer("v", health=[
        {"status": "fit", "from": "2026-12-09"},
        {"status": "sick", "from": "2026-12-08"},  # open-ended, ended by the later 'fit'
    ])
    c = compile_scenario(scenario(volunteers=[v]))
    u = unavailable(c, "v")
    assert u == {
        "gate/night/2026-12-07": "sick", "gate/day/2026-12-08": "sick", "gate/night/2026-12-08": "sick"
    }


def test_health_missing_from_is_the_beginning_of_time_and_later_limited_wins_inside_sick():
    v = volunteer("v", health=[
        {"status": "isolating", "until": "2026-12-10"},
        {"status": "limited", "from": "2026-12-08", "until": "2026-12-08"},
    ])
    light = post("desk", template("day", "09:00", "12:00"), intensity="light")
    c = compile_scenario(scenario(posts=[gate(), light], volunteers=[v]))
    u = unavailable(c, "v")
    assert u["gate/day/2026-12-07"] == "isolating"
    assert u["gate/day/2026-12-08"] == "limited duty: light day posts only"
    assert "desk/day/2026-12-08" not in u
    assert u["desk/day/2026-12-09"] == "isolating"
    assert u["gate/night/2026-12-07"] == "isolating"  # partly isolating beats limited
    assert u["gate/night/2026-12-10"] == "isolating"  # until a date: through its last minute
    assert "gate/day/2026-12-11" not in u and "gate/night/2026-12-11" not in u


def test_health_date_until_is_inclusive_datetime_until_exclusive():
    inclusive = volunteer("a", health=[{"status": "sick", "from": "2026-12-07", "until": "2026-12-08"}])
    exclusive = volunteer("b", health=[{"status": "sick", "from": "2026-12-07", "until": "2026-12-08T08:00"}])
    aware = volunteer("c", health=[{"status": "sick", "until": "2026-12-08T07:00:00+00:00"}])  # 08:00 local
    c = compile_scenario(scenario(volunteers=[inclusive, exclusive, aware]))
    a, b, cc = unavailable(c, "a"), unavailable(c, "b"), unavailable(c, "c")
    assert set(a) == {"gate/day/2026-12-07", "gate/night/2026-12-07", "gate/day/2026-12-08",
                      "gate/night/2026-12-08"}
    assert set(b) == {"gate/day/2026-12-07", "gate/night/2026-12-07"}
    assert cc == b


def test_limited_duty_only_light_day_posts():
    v = volunteer("v", health=[{"status": "recovering", "from": "2026-12-07"}])
    light = post("desk", template("day", "09:00", "17:00"), template("night", "22:00", "06:00"),
                 template("busy", "12:00", "14:00", intensity="normal"), intensity="light")
    c = compile_scenario(scenario(posts=[gate(), light], volunteers=[v], days=1))
    assert unavailable(c, "v") == {
        "gate/day/2026-12-07": "limited duty: light day posts only",
        "gate/night/2026-12-07": "limited duty: light day posts only",
        "desk/night/2026-12-07": "limited duty: light day posts only",
        "desk/busy/2026-12-07": "limited duty: light day posts only",
    }


def test_dated_unavailability():
    v = volunteer("v", unavailable=[
        {"from": "2026-12-08", "until": "2026-12-08", "reason": "study"},
        {"from": "2026-12-10T12:00", "until": "2026-12-10T20:00"},
    ])
    c = compile_scenario(scenario(volunteers=[v]))
    assert unavailable(c, "v") == {
        "gate/night/2026-12-07": "unavailable: study",  # runs into the 8th
        "gate/day/2026-12-08": "unavailable: study",
        "gate/night/2026-12-08": "unavailable: study",
        "gate/day/2026-12-10": "unavailable",
    }


def test_availability_windows():
    day_only = volunteer("day", availability=[{"weekdays": ["mon", "tue"], "start": "08:00", "end": "18:00"}])
    overnight = volunteer("ovn", availability=[{"weekdays": ["mon"], "start": "20:00", "end": "08:00"}])
    fri_sat = volunteer("fs", availability=[{"weekdays": ["fri", "sat"]}])  # whole days, merged
    friday = volunteer("fri", availability=[{"weekdays": ["fri"]}])
    never = volunteer("never", availability=[])
    c = compile_scenario(scenario(volunteers=[day_only, overnight, fri_sat, friday, never]))
    free = {
        p.id: sorted(s.id for s in c.problem.shifts if s.id not in p.unavailable) for p in c.problem.people
    }
    assert free["day"] == ["gate/day/2026-12-07", "gate/day/2026-12-08"]
    assert free["ovn"] == ["gate/night/2026-12-07"]
    assert free["fs"] == ["gate/day/2026-12-11", "gate/day/2026-12-12", "gate/night/2026-12-11"]
    assert free["fri"] == ["gate/day/2026-12-11"]
    assert free["never"] == []
    assert unavailable(c, "day")["gate/night/2026-12-07"] == "outside availability"


def test_availability_window_over_dst_night():
    v = volunteer("v", availability=[{"weekdays": ["sat"], "start": "21:00", "end": "07:00"}])
    c = compile_scenario(scenario(start="2026-03-28", days=2, volunteers=[v]))
    assert "gate/night/2026-03-28" not in unavailable(c, "v")


def test_lacking_a_skill_is_not_unavailability():
    p = post("clinic", template("day", "08:00", "16:00", skills={"medical": 1}))
    c = compile_scenario(scenario(posts=[p], volunteers=[volunteer("v")], days=1))
    assert unavailable(c, "v") == {}


# --------------------------------------------------------------------------------------------------
# rules, history, preferences, capacity


def test_person_rules_from_site_and_overrides():
    rules = {"min_rest_hours": 12, "max_hours_per_7_days": 48, "max_weekends": 2, "min_days_off_per_7": 0}
    a = volunteer("a")
    b = volunteer("b", max_hours_per_week=20,
                  rules={"min_rest_hours": 10.5, "max_consecutive_days": 4, "max_hours_per_7_days": 30,
                         "max_consecutive_nights": 0, "max_shifts_per_day": 2, "max_weekends": 1,
                         "min_days_off_per_7": 2})
    c = compile_scenario(scenario(volunteers=[a, b], rules=rules))
    ra, rb = c.problem.person("a").rules, c.problem.person("b").rules
    assert (ra.min_rest_minutes, ra.max_shifts_per_day, ra.max_consecutive_days, ra.min_days_off_per_7,
            ra.max_minutes_per_7_days, ra.max_consecutive_nights, ra.max_weekends) == (
        720, 1, 6, None, 48 * 60, 3, 2)
    assert (rb.min_rest_minutes, rb.max_shifts_per_day, rb.max_consecutive_days, rb.min_days_off_per_7,
            rb.max_minutes_per_7_days, rb.max_consecutive_nights, rb.max_weekends) == (
        630, 2, 4, 2, 20 * 60, 0, 1)
    assert ra.min_total_minutes is None and ra.max_total_minutes is None and not ra.max_shifts_by_type


def test_rest_and_rotation_rules():
    rules = {"rest_after_nights": {"min_nights": 2, "hours": 48}, "max_consecutive_heavy_days": 3,
             "max_heavy_share_28_days": 0.5, "rest_after_heavy": {"min_days": 3, "hours": 36}}
    c = compile_scenario(scenario(volunteers=[volunteer("a")], rules=rules))
    r = c.problem.person("a").rules
    assert (r.rest_after_nights, r.rest_after_nights_minutes) == (2, 48 * 60)
    assert (r.max_consecutive_heavy_days, r.max_heavy_per_mille_28_days) == (3, 500)
    assert (r.rest_after_heavy, r.rest_after_heavy_minutes) == (3, 36 * 60)
    off = compile_scenario(scenario(volunteers=[volunteer("a")])).problem.person("a").rules
    assert off.rest_after_nights is None and off.max_consecutive_heavy_days is None  # off by default
    assert off.max_heavy_per_mille_28_days is None and off.rest_after_heavy is None
    with pytest.raises(ValueError, match="max_heavy_share_28_days"):
        scenario(rules={"max_heavy_share_28_days": 1.5})
    with pytest.raises(ValueError, match="min_nights"):
        scenario(rules={"rest_after_nights": {"min_nights": 0, "hours": 48}})
    from scheduler.domain.scenario import json_schema

    schema = json_schema()["$defs"]  # what `rota schema` prints
    assert {"rest_after_nights", "rest_after_heavy", "max_consecutive_heavy_days", "max_heavy_share_28_days",
            "load_measure"} <= set(schema["Rules"]["properties"])
    assert "target_hours_per_week" in schema["Preferences"]["properties"]
    assert "consecutive_heavy_days" in schema["History"]["properties"]


def test_history_marks_heavy_days():
    heavy = post("ward", template("day", "08:00", "16:00"), intensity="heavy")
    v = volunteer("v", history={"recent_shifts": [
        {"start": "2026-12-06T08:00", "end": "2026-12-06T16:00", "post": "ward", "shift": "day"},
        {"start": "2026-12-05T08:00", "end": "2026-12-05T16:00", "post": "gate", "shift": "day"},
    ]})
    w = volunteer("w", history={"consecutive_heavy_days": 2})
    c = compile_scenario(scenario(posts=[gate(), heavy], volunteers=[v, w]))
    h = c.problem.person("v").history
    assert h.day(-1).heavy and not h.day(-2).heavy
    assert h.heavy_end(-1) == -8 * 60  # 16:00 the day before the horizon: the rest after it starts there
    hw = c.problem.person("w").history
    assert hw.day(-1).heavy and hw.day(-2).heavy and hw.day(-2).worked and not hw.day(-3).heavy


def test_history_from_recent_shifts():
    v = volunteer("v", history={"recent_shifts": [
        {"start": "2026-12-06T22:00", "end": "2026-12-07T06:00", "shift": "night"},
        {"start": "2026-12-05T08:00", "end": "2026-12-05T16:00", "post": "gate", "shift": "day"},
        {"start": "2026-12-05T17:00", "end": "2026-12-05T19:00", "night": True},
        {"start": "2026-11-01T08:00", "end": "2026-11-01T16:00"},  # older than 28 days
        {"start": "2026-11-09T23:00:00+00:00", "end": "2026-11-10T03:00:00+00:00"},  # 10th local
    ]})
    c = compile_scenario(scenario(volunteers=[v]))
    h = c.problem.person("v").history
    assert h.last_shift_end == 6 * 60
    assert len(h.days) == 27
    # night_end: when the latest night of the day ended (for compensatory rest)
    assert h.day(-1) == HistoryDay(480, True, frozenset({"night"}), night_end=6 * 60)
    assert h.day(-2) == HistoryDay(600, True, frozenset({"day"}), night_end=-2 * 24 * 60 + 19 * 60)
    assert h.day(-3) == HistoryDay()
    assert h.day(-27) == HistoryDay(240, True, frozenset(), night_end=-27 * 24 * 60 + 4 * 60)
    assert h.day(-40) == HistoryDay()


def test_history_in_the_horizon_is_an_error():
    v = volunteer("v", history={"recent_shifts": [{"start": "2026-12-07T08:00", "end": "2026-12-07T10:00"}]})
    with pytest.raises(ScenarioError) as err:
        compile_scenario(scenario(volunteers=[v]))
    assert err.value.problems == [
        "volunteers[v].history.recent_shifts[0]: starts on 2026-12-07, inside the horizon "
        "(history must end before 2026-12-07)"
    ]


def test_history_from_the_summary():
    v = volunteer("v", history={"consecutive_days_worked": 3, "consecutive_nights": 2,
                                "hours_last_7_days": 30, "last_shift_end": "2026-12-07T06:30"})
    rested = volunteer("r", history={"hours_last_7_days": 10})
    nights = volunteer("n", history={"consecutive_nights": 2})
    c = compile_scenario(scenario(volunteers=[v, rested, nights]))
    h = c.problem.person("v").history
    assert h.days == (HistoryDay(1), HistoryDay(1, True), HistoryDay(1800, True))
    assert h.last_shift_end == 390
    r = c.problem.person("r").history
    assert r.days == (HistoryDay(600), HistoryDay())
    assert r.last_shift_end is None
    n = c.problem.person("n").history
    assert n.days == (HistoryDay(1, True), HistoryDay(1, True))


def test_history_explicit_last_shift_end_wins_only_if_later():
    shifts = [{"start": "2026-12-06T22:00", "end": "2026-12-07T06:00"}]
    earlier = volunteer("e", history={"recent_shifts": shifts, "last_shift_end": "2026-12-06T20:00"})
    later = volunteer("l", history={"recent_shifts": shifts, "last_shift_end": "2026-12-07T07:00+01:00"})
    c = compile_scenario(scenario(volunteers=[earlier, later]))
    assert c.problem.person("e").history.last_shift_end == 360
    assert c.problem.person("l").history.last_shift_end == 420


def test_preferences_become_avoid_penalties():
    posts = [gate(), post("desk", template("day", "09:00", "17:00"))]
    v = volunteer("v", preferences={"unwanted_posts": ["gate"], "unwanted_shifts": ["night"],
                                    "unwanted_weekdays": ["sat"]})
    w = volunteer("w", preferences={"preferred_posts": ["desk"], "preferred_shifts": ["day"]})
    sick = volunteer("s", preferences={"unwanted_posts": ["gate"]},
                     health=[{"status": "sick", "until": "2026-12-07"}])
    c = compile_scenario(scenario(posts=posts, volunteers=[v, w, sick]))
    av, aw = c.problem.person("v").avoids, c.problem.person("w").avoids
    assert UNWANTED_PENALTY == 20 and NOT_PREFERRED_PENALTY == 5
    assert av["gate/night/2026-12-12"] == 3 * UNWANTED_PENALTY
    assert av["gate/day/2026-12-07"] == UNWANTED_PENALTY
    assert av["desk/day/2026-12-12"] == UNWANTED_PENALTY
    assert "desk/day/2026-12-07" not in av
    assert aw["gate/night/2026-12-07"] == 2 * NOT_PREFERRED_PENALTY
    assert aw["gate/day/2026-12-07"] == NOT_PREFERRED_PENALTY
    assert "desk/day/2026-12-07" not in aw
    assert "gate/day/2026-12-07" not in c.problem.person("s").avoids  # may not work it anyway
    assert c.problem.person("s").avoids["gate/day/2026-12-08"] == UNWANTED_PENALTY


def test_unknown_template_in_preferences_is_an_error():
    v = volunteer("v", preferences={"unwanted_shifts": ["nite"]})
    expected = r"volunteers\[0\]\.preferences\.unwanted_shifts: no shift template 'nite'"
    with pytest.raises(ValueError, match=expected):  # the scenario format itself refuses it
        scenario(volunteers=[v])


def test_capacity():
    full = volunteer("full")
    own = volunteer("own", max_hours_per_week=20)
    sick = volunteer("sick", health=[{"status": "sick", "until": "2026-12-09"}])  # free from the 10th: 4 days
    never = volunteer("never", availability=[])
    c = compile_scenario(scenario(volunteers=[full, own, sick, never]))
    cap = {p.id: p.capacity_minutes for p in c.problem.people}
    assert cap == {"full": 2400 * 14 // 7, "own": 1200 * 2, "sick": round(2400 * 11 / 7), "never": 0}


def test_load_measure_and_target_hours():
    keen = volunteer("keen", preferences={"target_hours_per_week": 30}, max_hours_per_week=36)
    capped = volunteer("capped", preferences={"target_hours_per_week": 30}, max_hours_per_week=20)
    plain = volunteer("plain")
    c = compile_scenario(scenario(volunteers=[keen, capped, plain]))
    assert c.problem.load_measure is LoadMeasure.HOURS  # the default: hours, not capacity
    target = {p.id: p.target_minutes for p in c.problem.people}
    assert target == {"keen": 1800 * 14 // 7, "capped": 1200 * 14 // 7, "plain": 0}
    c = compile_scenario(scenario(volunteers=[plain], rules={"load_measure": "capacity"}))
    assert c.problem.load_measure is LoadMeasure.CAPACITY
    with pytest.raises(ValueError, match="load_measure"):
        scenario(rules={"load_measure": "percent"})


# --------------------------------------------------------------------------------------------------
# pins and the rest of the problem


def test_pins():
    vs = [volunteer("v017", health=[{"status": "sick", "from": "2026-12-04"}]), volunteer("ok"),
          volunteer("away", availability=[{"weekdays": ["mon"], "start": "08:00", "end": "12:00"}])]
    p = post("desk", template("wk", "09:00", "17:00", weekdays=["mon", "tue", "wed", "thu", "fri"]))
    pins = [
        {"volunteer": "ok", "post": "gate", "shift": "day", "date": "2026-12-07"},
        {"volunteer": "ok", "post": "desk", "shift": "wk", "date": "2026-12-12"},
        {"volunteer": "v017", "post": "gate", "shift": "night", "date": "2026-12-08"},
        {"volunteer": "away", "post": "gate", "shift": "day", "date": "2026-12-07"},
    ]
    with pytest.raises(ScenarioError) as err:
        compile_scenario(scenario(posts=[gate(), p], volunteers=vs, pinned=pins))
    assert err.value.problems == [
        "pinned[1]: shift 'wk' at post 'desk' does not run on 2026-12-12 (a Saturday)",
        "pinned[2]: v017 is sick on 2026-12-08 (sick from 2026-12-04)",
        "pinned[3]: away is outside their availability for gate/day/2026-12-07 (Mon 08:00-Mon 16:00)",
    ]
    assert isinstance(err.value, ValueError)
    c = compile_scenario(scenario(posts=[gate(), p], volunteers=vs, pinned=pins[:1]))
    assert c.problem.pinned == frozenset({("ok", "gate/day/2026-12-07")})


def test_pin_on_limited_duty_names_the_reason():
    vs = [volunteer("v", health=[{"status": "limited", "from": "2026-12-01", "until": "2026-12-31"}])]
    pins = [{"volunteer": "v", "post": "gate", "shift": "night", "date": "2026-12-08"}]
    with pytest.raises(ScenarioError) as err:
        compile_scenario(scenario(volunteers=vs, pinned=pins))
    assert err.value.problems == [
        "pinned[0]: v is on limited duty on 2026-12-08 (limited from 2026-12-01 until 2026-12-31): "
        "light day posts only, gate/night/2026-12-08 is a normal night shift"
    ]


def test_problem_level_fields():
    rules = {"forbidden_successions": [["night", "day"]],
             "weights": {"uncovered": 7, "load_max": 3, "change": 11, "preference": 2, "partners": 30}}
    c = compile_scenario(scenario(start="2026-12-09", days=3, rules=rules, volunteers=[volunteer("v")]))
    p = c.problem
    assert p.days == 3 and p.first_weekday == 2 and p.name == "Test site"
    assert p.forbidden_successions == frozenset({("night", "day")})
    assert (p.weights.uncovered, p.weights.load_max, p.weights.change, p.weights.preference) == (7, 3, 11, 2)
    assert p.weights.skill_shortfall == 100_000 and p.weights.partners == 30
    assert [s.id for s in p.shifts] == sorted((s.id for s in p.shifts), key=lambda i: c.slots[i].start)
    assert shift_id("gate", "day", dt.date(2026, 12, 9)) in c.slots
    assert c.zone == BERLIN and c.scenario.site.name == "Test site"


def test_every_scenario_weight_reaches_the_solver():
    import dataclasses

    from scheduler.domain.scenario import Weights as ScenarioWeights
    from solver.problem import Weights as SolverWeights

    assert set(ScenarioWeights.model_fields) <= {f.name for f in dataclasses.fields(SolverWeights)}


def test_compiles_a_large_site_quickly():
    templates = [template(f"t{i}", f"{(i * 3) % 24:02d}:00", f"{(i * 3 + 8) % 24:02d}:00") for i in range(6)]
    posts = [post(f"p{j}", *templates, intensity=("light", "normal", "heavy")[j % 3]) for j in range(5)]
    vs = []
    for k in range(400):
        extra: dict = {}
        if k % 5 == 0:
            extra["health"] = [{"status": "sick", "from": "2026-12-10", "until": "2026-12-14"},
                               {"status": "limited", "from": "2026-12-15"}]
        if k % 7 == 0:
            extra["availability"] = [{"weekdays": ["mon", "wed", "fri"], "start": "06:00", "end": "22:00"},
                                     {"weekdays": ["sat"], "start": "20:00", "end": "08:00"}]
        if k % 3 == 0:
            extra["preferences"] = {"unwanted_posts": ["p1"], "preferred_shifts": ["t0", "t1"]}
        if k % 4 == 0:
            extra["unavailable"] = [{"from": "2026-12-20", "until": "2026-12-22"}]
        vs.append(volunteer(f"v{k:03d}", **extra))
    sc = scenario(days=28, posts=posts, volunteers=vs)
    c = compile_scenario(sc)  # its speed is measured by `make bench`, not here
    assert len(c.problem.shifts) == 28 * 30 and len(c.problem.people) == 400


def test_pairs_reach_the_solver_and_need_two():
    posts = [post("outreach", template("walk", "10:00", "14:00", required=2, pairs=True),
                  template("desk", "10:00", "14:00"))]
    compiled = compile_scenario(scenario(days=1, posts=posts, volunteers=[volunteer("ann")]))
    assert {s.type: s.pair for s in compiled.problem.shifts} == {"walk": True, "desk": False}
    with pytest.raises(ValidationError, match="pairs"):
        scenario(days=1, posts=[post("outreach", template("walk", "10:00", "14:00", pairs=True))])
