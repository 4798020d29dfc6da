"""The committed scenario fixtures: valid, what their README says they are, and up to date."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scheduler.domain.generate import dumps, measure, scenario_json
from scheduler.domain.scenario import HealthStatus, Scenario

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NAMES = ["lockdown-community", "small", "shelter-dst"]


def load(name: str) -> Scenario:
    return Scenario.model_validate(json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8")))


def test_every_fixture_is_listed() -> None:
    assert sorted(p.stem for p in FIXTURES.glob("*.json")) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_fixture_is_a_valid_scenario(name: str) -> None:
    s = load(name)
    assert s.posts and s.volunteers


@pytest.mark.parametrize("name", NAMES)
def test_fixture_is_regenerated_by_make_fixtures(name: str) -> None:
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    expected = dumps(scenario_json(module.FIXTURES[name]())) + "\n"
    assert (FIXTURES / f"{name}.json").read_text(encoding="utf-8") == expected, (
        "run .venv/bin/python fixtures/make_fixtures.py"
    )


@pytest.mark.parametrize("name", NAMES)
def test_health_and_absences_fall_in_the_horizon(name: str) -> None:
    s = load(name)
    first, last = s.horizon.start, s.horizon.end - dt.timedelta(days=1)

    def day(value: dt.date | dt.datetime | None, default: dt.date) -> dt.date:
        if value is None:
            return default
        return value.date() if isinstance(value, dt.datetime) else value

    for v in s.volunteers:
        for record in [*v.health, *v.unavailable]:
            assert day(record.start, first) <= last and day(record.until, last) >= first, f"{v.id}: {record}"


@pytest.mark.parametrize("name", NAMES)
def test_demand_is_coverable_on_paper(name: str) -> None:
    load_ = measure(load(name))
    assert 0.6 <= load_.hours_ratio <= 0.8
    assert load_.shifts_ratio <= 0.8


def test_lockdown_community_is_the_demo() -> None:
    s = load("lockdown-community")
    assert s.site.timezone == "Asia/Shanghai"
    assert (s.horizon.start, s.horizon.days) == (dt.date(2026, 12, 7), 14)
    kinds = [p.kind for p in s.posts]
    assert kinds.count("gate") == 4 and kinds.count("patrol") == 2 and kinds.count("hotline") == 1
    assert {p.id for p in s.posts} >= {"delivery-groceries", "delivery-medicine", "care-visits-a"}
    for gate in (p for p in s.posts if p.kind == "gate"):
        assert [(t.id, t.required) for t in gate.shifts] == [("early", 2), ("late", 2), ("night", 2)]
        assert gate.shifts[2].intensity == "heavy"
    assert 65 <= len(s.volunteers) <= 75
    skills = {k for v in s.volunteers for k in v.skills}
    assert skills == {"medical", "social_work", "psych_support", "driver"}
    first = s.horizon.start
    sick_now = [v.id for v in s.volunteers for h in v.health
                if h.status == HealthStatus.sick and h.start <= first <= h.until]
    isolating_later = [v.id for v in s.volunteers for h in v.health
                       if h.status == HealthStatus.isolating and h.start > first]
    limited = [v.id for v in s.volunteers for h in v.health if h.status == HealthStatus.limited]
    assert sick_now and isolating_later and len(limited) >= 2
    assert 1 <= len(s.pinned) <= 2
    assert sum(v.availability is not None for v in s.volunteers) >= 10


def test_small_is_small() -> None:
    s = load("small")
    assert s.site.timezone == "Europe/Berlin" and s.horizon.days == 7
    assert len(s.volunteers) == 10 and len(s.posts) == 2
    assert len((FIXTURES / "small.json").read_text(encoding="utf-8").splitlines()) <= 100


def test_shelter_spans_the_spring_forward_night() -> None:
    s = load("shelter-dst")
    zone = ZoneInfo(s.site.timezone)
    assert 30 <= len(s.volunteers) <= 40
    days = [s.horizon.start + dt.timedelta(days=i) for i in range(s.horizon.days)]
    offsets = {zone.utcoffset(dt.datetime.combine(d, dt.time(12))) for d in days}
    assert len(offsets) == 2, "the horizon should cross a DST change"
    night_lengths = set()
    for d in days:
        start = dt.datetime.combine(d, dt.time(22), zone)
        end = dt.datetime.combine(d + dt.timedelta(days=1), dt.time(6), zone)
        night_lengths.add((end.astimezone(dt.UTC) - start.astimezone(dt.UTC)).total_seconds() / 3600)
    assert night_lengths == {8.0, 7.0}
    nights = [p for p in s.posts if any(t.id == "night" and t.start == dt.time(22) for t in p.shifts)]
    assert {p.kind for p in nights} >= {"reception", "night_watch"}
    assert {p.kind for p in s.posts} >= {"meals", "medical", "child_care"}
