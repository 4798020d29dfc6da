"""The scenario generator: deterministic, valid, scaled, and with demand the volunteers can cover."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from scheduler.domain.generate import DEFAULT_START, generate, measure, scenario_json, write_scenario
from scheduler.domain.scenario import HealthStatus, Scenario


def shift_hours(start: dt.time, end: dt.time) -> float:
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    return (minutes if minutes > 0 else minutes + 24 * 60) / 60


def demand_hours(s: Scenario) -> float:
    """Person-hours the posts ask for over the horizon (wall-clock lengths)."""
    total = 0.0
    for day in (s.horizon.start + dt.timedelta(days=i) for i in range(s.horizon.days)):
        for post in s.posts:
            for t in post.shifts:
                if day.weekday() in [w.index for w in t.weekdays] and (t.dates is None or day in t.dates):
                    total += t.required * shift_hours(t.start, t.end)
    return total


def capacity_hours(s: Scenario) -> float:
    """What the volunteers can sustainably give: min(40, own weekly cap) per 7 days each."""
    weekly = sum(min(40.0, v.max_hours_per_week if v.max_hours_per_week is not None else 40.0)
                 for v in s.volunteers)
    return weekly * s.horizon.days / 7


@pytest.mark.parametrize("volunteers", [50, 100, 200, 400])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_demand_is_about_three_quarters_of_capacity(volunteers: int, seed: int) -> None:
    s = generate(volunteers, 28, seed)
    ratio = demand_hours(s) / capacity_hours(s)
    assert 0.70 <= ratio <= 0.80, f"{volunteers} volunteers, seed {seed}: demand/capacity {ratio:.3f}"
    load = measure(s)
    assert load.hours_ratio == pytest.approx(ratio)
    assert load.shifts_ratio <= 0.80  # one shift a day, six in 7 days: short shifts must not crowd days out


def test_same_seed_same_scenario_other_seed_other_scenario() -> None:
    a, b, c = generate(60, 14, 7), generate(60, 14, 7), generate(60, 14, 8)
    assert a == b
    assert json.dumps(scenario_json(a)) == json.dumps(scenario_json(b))
    assert a != c
    assert [v.name for v in a.volunteers] != [v.name for v in c.volunteers]


def test_generation_does_not_touch_global_random() -> None:
    import random

    random.seed(123)
    expected = random.random()
    random.seed(123)
    generate(30, 7, 1)
    assert random.random() == expected


@pytest.mark.parametrize("volunteers", [1, 5, 10, 25, 70, 130, 131, 500])
def test_any_size_is_a_valid_scenario(volunteers: int) -> None:
    s = generate(volunteers, 10, volunteers)
    assert len(s.volunteers) == volunteers
    assert [v.id for v in s.volunteers][:2] == ["v001", "v002"][: min(2, volunteers)]
    assert s.horizon.start == DEFAULT_START and DEFAULT_START.weekday() == 0
    Scenario.model_validate(scenario_json(s))


def test_posts_scale_with_volunteers() -> None:
    counts = [len(generate(n, 14, 0).posts) for n in (20, 50, 100, 200, 400)]
    assert counts == sorted(counts) and counts[0] < counts[-1]
    gates = [sum(p.kind == "gate" for p in generate(n, 14, 0).posts) for n in (50, 100, 200, 400)]
    for n, g in zip((50, 100, 200, 400), gates, strict=True):
        assert 16 <= n / g <= 21, f"{n} volunteers have {g} gates"


def test_big_sizes_split_into_compounds() -> None:
    s = generate(400, 7, 0)
    names = {p.location.split(",")[0].split(":")[0] for p in s.posts if p.kind == "gate"}
    assert len(names) >= 3
    assert len({p.id for p in s.posts}) == len(s.posts)
    assert sum(p.kind == "hotline" for p in s.posts) == 1


def test_compound_posts_are_shaped_as_intended() -> None:
    s = generate(72, 14, 1, timezone="Asia/Shanghai")
    by_kind: dict[str, list] = {}
    for p in s.posts:
        by_kind.setdefault(p.kind, []).append(p)
    assert set(by_kind) >= {"gate", "patrol", "delivery", "care_visit", "hotline"}
    main, *others = by_kind["gate"]
    for gate in by_kind["gate"]:
        shifts = {t.id: t for t in gate.shifts}
        assert set(shifts) == {"early", "late", "night"}
        assert all(t.required == 2 for t in gate.shifts)
        assert shifts["night"].intensity == "heavy" and shifts["night"].skills == {}
    medical = {"medical": 1}
    assert {t.id: t.skills for t in main.shifts} == {"early": medical, "late": medical, "night": {}}
    assert all(t.skills == {} for gate in others for t in gate.shifts)
    assert all(p.instructions and p.location for p in s.posts)
    assert all("driver" in t.skills for p in by_kind["delivery"] for t in p.shifts)
    assert all(p.intensity == "light" and all("social_work" in t.skills for t in p.shifts)
               for p in by_kind["care_visit"])
    assert by_kind["hotline"][0].shifts[0].skills == {"psych_support": 1}
    assert s.rules.forbidden_successions == [("night", "early")]


def test_volunteers_look_real() -> None:
    s = generate(400, 28, 5)
    n = len(s.volunteers)
    assert len({v.name for v in s.volunteers}) > 0.9 * n
    assert len({v.contact.email for v in s.volunteers}) == n
    assert all(v.contact.phone and v.contact.phone.startswith("+86 ") for v in s.volunteers)
    share = {skill: sum(skill in v.skills for v in s.volunteers) / n
             for skill in ("medical", "social_work", "psych_support", "driver")}
    assert 0.10 <= share["medical"] <= 0.25 and 0.10 <= share["social_work"] <= 0.25
    assert 0.05 <= share["psych_support"] <= 0.15 and 0.18 <= share["driver"] <= 0.35
    assert sum(not v.skills for v in s.volunteers) > 0.3 * n
    assert 0.2 <= sum(v.availability is not None for v in s.volunteers) / n <= 0.4
    assert 0.2 <= sum(v.max_hours_per_week is not None for v in s.volunteers) / n <= 0.5
    statuses = [h.status for v in s.volunteers for h in v.health]
    assert statuses.count(HealthStatus.sick) + statuses.count(HealthStatus.isolating) == round(0.05 * n)
    assert statuses.count(HealthStatus.limited) == round(0.05 * n)
    assert statuses.count(HealthStatus.recovering) >= 1
    assert sum(bool(v.unavailable) for v in s.volunteers) >= 1
    assert sum(bool(v.preferences.unwanted_shifts) for v in s.volunteers) >= 1
    assert sum(bool(v.preferences.preferred_posts) for v in s.volunteers) >= 1
    assert sum(v.rules.model_dump(exclude_defaults=True) != {} for v in s.volunteers) >= 1
    assert sum(bool(v.history.recent_shifts) for v in s.volunteers) >= 1
    assert sum(v.history.last_shift_end is not None for v in s.volunteers) > n / 2


def test_health_and_absences_touch_the_horizon() -> None:
    s = generate(200, 14, 3)
    first, last = s.horizon.start, s.horizon.end - dt.timedelta(days=1)
    for v in s.volunteers:
        for record in [*v.health, *v.unavailable]:
            begins = record.start if record.start is not None else first
            ends = record.until if record.until is not None else last
            begins = begins.date() if isinstance(begins, dt.datetime) else begins
            ends = ends.date() if isinstance(ends, dt.datetime) else ends
            assert begins <= last and ends >= first, f"{v.id}: {record}"
    sick_now = [v for v in s.volunteers for h in v.health if h.status == "sick" and h.start < first]
    isolating_later = [v for v in s.volunteers for h in v.health
                       if h.status == "isolating" and h.start > first]
    assert sick_now and isolating_later


def test_history_is_consistent() -> None:
    s = generate(300, 14, 2)
    for v in s.volunteers:
        h = v.history
        cap = min(40.0, v.max_hours_per_week or 40.0)
        if h.recent_shifts:
            assert h.consecutive_days_worked == 0 and h.hours_last_7_days == 0
            assert sum((p.end - p.start).total_seconds() / 3600 for p in h.recent_shifts) <= cap
            assert all(p.end.date() <= s.horizon.start for p in h.recent_shifts)
            continue
        assert h.consecutive_nights <= h.consecutive_days_worked <= 5
        assert h.hours_last_7_days <= cap
        if h.consecutive_days_worked:
            assert h.last_shift_end is not None
            assert h.hours_last_7_days >= 2 * h.consecutive_days_worked
            expected = s.horizon.start if h.consecutive_nights else s.horizon.start - dt.timedelta(days=1)
            assert h.last_shift_end.date() == expected
        if h.last_shift_end is not None:
            assert h.last_shift_end.date() < s.horizon.start or h.last_shift_end.time() <= dt.time(6)
            assert h.hours_last_7_days > 0


def test_preferences_refer_to_existing_posts_and_templates() -> None:
    s = generate(150, 14, 4)
    templates = {t.id for p in s.posts for t in p.shifts}
    posts = {p.id for p in s.posts}
    for v in s.volunteers:
        assert set(v.preferences.preferred_shifts) | set(v.preferences.unwanted_shifts) <= templates
        assert not set(v.preferences.preferred_posts) & set(v.preferences.unwanted_posts)
        for past in v.history.recent_shifts:
            assert past.post in posts and past.shift in templates


def test_options_are_used() -> None:
    s = generate(30, 10, 1, start=dt.date(2027, 3, 22), timezone="Europe/Berlin", site_name="Test site")
    assert s.site.name == "Test site" and s.site.timezone == "Europe/Berlin"
    assert s.horizon.start == dt.date(2027, 3, 22) and s.horizon.days == 10
    assert all(v.contact.phone.startswith("+49 ") for v in s.volunteers)


def test_shelter_site() -> None:
    s = generate(35, 14, 0, start=dt.date(2027, 3, 22), timezone="Europe/Berlin", site="shelter")
    kinds = {p.kind for p in s.posts}
    assert kinds >= {"reception", "night_watch", "meals", "medical", "child_care"}
    assert 0.65 <= measure(s).hours_ratio <= 0.80
    assert any("childcare" in v.skills for v in s.volunteers)


def test_write_read_round_trip(tmp_path) -> None:
    s = generate(120, 14, 11)
    path = tmp_path / "scenario.json"
    write_scenario(s, path)
    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    assert Scenario.model_validate(data) == s
    assert "version" not in data and "weights" not in text  # defaults left out
    assert '"start": "06:00"' in text  # times without seconds
    assert max(len(line) for line in text.splitlines() if '"instructions"' not in line) <= 110


def test_big_scenario_serialises() -> None:
    s = generate(400, 28, 0)  # its speed is measured by `make bench`, not here
    assert Scenario.model_validate(scenario_json(s)) == s
