"""Sites in the database: the scenario round trip and the site-is-always-a-scenario rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scheduler.domain import scenario as sc
from scheduler.domain.errors import ConflictError, InputError
from scheduler.store import posts, residents, sites, volunteers
from scheduler.store.db import utcnow

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"


def load(name: str) -> sc.Scenario:
    return sc.Scenario.model_validate(json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8")))


@pytest.mark.parametrize("name", sorted(p.stem for p in FIXTURES.glob("*.json")))
def test_import_then_export_gives_the_same_scenario(sessions, name):
    scenario = load(name)
    with sessions() as session:
        site_id = sites.import_scenario(session, scenario, utcnow()).id
        session.commit()
    with sessions() as session:  # a fresh session: everything is read back from the database
        exported = sites.export_scenario(session, sites.get_site(session, site_id))
    assert exported == scenario
    assert exported.model_dump(mode="json", by_alias=True) == scenario.model_dump(mode="json", by_alias=True)


def test_humane_rules_and_wishes_survive_the_round_trip(sessions):
    data = load("small").model_dump(mode="json", by_alias=True)
    data["rules"].update(rest_after_nights={"min_nights": 2, "hours": 48}, max_consecutive_heavy_days=3,
                         max_heavy_share_28_days=0.5, load_measure="capacity",
                         rest_after_heavy={"min_days": 3, "hours": 36})
    data["volunteers"][0]["preferences"]["target_hours_per_week"] = 30
    data["volunteers"][0]["history"]["consecutive_heavy_days"] = 2
    data["posts"][0]["shifts"][0].update(required=2, pairs=True, skills={})
    scenario = sc.Scenario.model_validate(data)
    with sessions() as session:
        site_id = sites.import_scenario(session, scenario, utcnow()).id
        session.commit()
    with sessions() as session:
        exported = sites.export_scenario(session, sites.get_site(session, site_id))
    assert exported == scenario
    assert exported.volunteers[0].preferences.target_hours_per_week == 30
    assert exported.rules.rest_after_nights == sc.RestAfterNights(min_nights=2, hours=48)
    assert exported.rules.rest_after_heavy == sc.RestAfterHeavy(min_days=3, hours=36)
    assert exported.posts[0].shifts[0].pairs is True


def test_every_scenario_field_has_a_home():
    """A field added to the scenario's Volunteer must be stored, or the round trip would lose it."""
    stored = set(volunteers.JSON_FIELDS) | set(volunteers.COLUMN_FIELDS) | {"health"}
    assert set(sc.Volunteer.model_fields) == stored
    assert set(sc.Scenario.model_fields) == {
        "version",
        "site",
        "horizon",
        "rules",
        "posts",
        "volunteers",
        "pinned",
        "residents",
    }
    assert set(sc.Resident.model_fields) == set(residents.JSON_FIELDS) | set(residents.COLUMN_FIELDS)


def test_date_and_datetime_forms_survive(sessions):
    scenario = load("small")
    data = scenario.model_dump(mode="json", by_alias=True)
    data["volunteers"][0]["health"] = [
        {"status": "sick", "from": "2027-01-12", "until": "2027-01-13T12:30:00"},
        {"status": "fit", "from": "2027-01-13T12:30:00+01:00", "infectious": False},
    ]
    data["volunteers"][0]["unavailable"] = [
        {"from": "2027-01-14T18:00", "until": "2027-01-15", "reason": "travel"}
    ]
    scenario = sc.Scenario.model_validate(data)
    with sessions() as session:
        site_id = sites.import_scenario(session, scenario, utcnow()).id
        session.commit()
    with sessions() as session:
        exported = sites.export_scenario(session, sites.get_site(session, site_id))
    health = exported.volunteers[0].health
    assert type(health[0].start).__name__ == "date" and type(health[0].until).__name__ == "datetime"
    assert health[1].start.utcoffset() is not None
    assert exported == scenario


def _site(sessions, name="small") -> int:
    with sessions() as session:
        site_id = sites.import_scenario(session, load(name), utcnow()).id
        session.commit()
    return site_id


def test_a_pin_naming_a_missing_volunteer_is_the_requests_fault(sessions):
    site_id = _site(sessions)
    with sessions() as session:
        row = sites.get_site(session, site_id)
        pin = sc.Pin(volunteer="nobody", post="gate", shift="early", date="2027-01-12")
        sites.set_pins(row, [pin])
        with pytest.raises(InputError) as caught:
            sites.validate_site(session, row, blame="pinned")
        assert [p.field for p in caught.value.problems] == ["[0].volunteer"]


def test_deleting_a_post_that_a_pin_names_is_a_conflict(sessions):
    site_id = _site(sessions)
    with sessions() as session:
        row = sites.get_site(session, site_id)
        sites.set_pins(row, [sc.Pin(volunteer="v002", post="delivery", shift="morning", date="2027-01-12")])
        sites.validate_site(session, row, blame="pinned")
        session.commit()
        posts.delete_post(session, posts.get_post(session, site_id, "delivery"))
        with pytest.raises(ConflictError) as caught:
            sites.validate_site(session, row)
        assert "pinned[0].post" in [p.field for p in caught.value.problems]


def test_the_last_post_cannot_go(sessions):
    site_id = _site(sessions)
    with sessions() as session:
        row = sites.get_site(session, site_id)
        for post in posts.list_posts(session, site_id):
            posts.delete_post(session, post)
        with pytest.raises(ConflictError):
            sites.validate_site(session, row)


def test_replacing_a_post_keeps_template_rows_and_order(sessions):
    site_id = _site(sessions)
    with sessions() as session:
        row = posts.get_post(session, site_id, "gate")
        ids = {t.key: t.id for t in row.templates}
        update = posts.PostUpdate.model_validate(
            {
                "name": "Gate",
                "shifts": [
                    {"id": "late", "start": "14:00", "end": "22:00"},
                    {"id": "night", "start": "22:00", "end": "06:00"},
                    {"id": "early", "start": "06:00", "end": "14:00", "required": 1},
                ],
            }
        )
        posts.replace_post(session, row, update)
        session.commit()
    with sessions() as session:
        row = posts.get_post(session, site_id, "gate")
        assert [t.key for t in row.templates] == ["late", "night", "early"]
        assert {t.key: t.id for t in row.templates if t.key in ids} == ids
        assert row.version == 2
        assert posts.to_model(row).shifts[2].required == 1


def test_residents_and_guardian_fields_survive_the_round_trip(sessions):
    data = load("small").model_dump(mode="json", by_alias=True)
    first, second = data["volunteers"][0]["id"], data["volunteers"][1]["id"]
    data["volunteers"][0].update(languages=["wu", "mandarin"], building="B1", zone="north", risk_group=True)
    data["rules"]["guardians"] = {"shield_risk_group": False, "max_primary": 2, "max_backup": 4}
    data["residents"] = [
        {"id": "r1", "name": "Wang Fang", "building": "B1", "address": "3F", "zone": "north",
         "needs": {"daily_check_in": True, "medicine_days": ["tue"], "language": "wu", "notes": "deaf"},
         "visits": [{"id": "check", "start": "09:30", "minutes": 20, "weekdays": ["mon", "thu"]}],
         "kin": {"name": "Wang Lei", "relation": "son", "phone": "+86 2"}, "close_contact": False,
         "primary": first, "backup": second},
        {"id": "r2", "name": "Zhao Min"},
    ]
    scenario = sc.Scenario.model_validate(data)
    with sessions() as session:
        site_id = sites.import_scenario(session, scenario, utcnow()).id
        session.commit()
    with sessions() as session:
        exported = sites.export_scenario(session, sites.get_site(session, site_id))
        history = residents.pair_history(session, site_id)
    assert exported == scenario
    assert [(h.resident, h.primary, h.backup) for h in history] == [("r1", first, second)]


def test_a_slice_read_from_the_rows_is_the_slice_of_the_whole_scenario(sessions):
    """export_slice (only some volunteers' rows read) gives what scheduler.domain.swaps.slice_of makes of
    the whole exported scenario: their rows and health, their pins, guardians outside the slice left out."""
    from scheduler.domain.swaps import slice_of

    data = load("small").model_dump(mode="json", by_alias=True)
    ids = [v["id"] for v in data["volunteers"]]
    data["residents"] = [
        {"id": "r1", "name": "Wang Fang", "primary": ids[0], "backup": ids[1],
         "visits": [{"id": "check", "start": "09:30", "minutes": 20, "weekdays": ["mon", "thu"]}]},
        {"id": "r2", "name": "Zhao Min", "primary": ids[2], "backup": ids[0]},
    ]
    data["pinned"] = [{"volunteer": ids[1], "post": "gate", "shift": "early", "date": "2027-01-12"},
                      {"volunteer": ids[3], "post": "gate", "shift": "late", "date": "2027-01-13"}]
    scenario = sc.Scenario.model_validate(data)
    with sessions() as session:
        site_id = sites.import_scenario(session, scenario, utcnow()).id
        session.commit()
    keys = {ids[0], ids[3], "v999"}  # an unknown key is simply not there
    with sessions() as session:
        row = sites.get_site(session, site_id)
        whole = sites.export_scenario(session, row)
        part = sites.export_slice(session, row, keys)
    expected, _ = slice_of(whole, _empty_schedule(), keys)
    assert part == expected
    assert [v.id for v in part.volunteers] == [ids[0], ids[3]]
    assert [p.volunteer for p in part.pinned] == [ids[3]]
    assert [(r.primary, r.backup) for r in part.residents] == [(ids[0], None), (None, ids[0])]
    assert any(v.health for v in whole.volunteers if v.id in keys) == any(v.health for v in part.volunteers)


def _empty_schedule():
    from scheduler.domain.schedule import Schedule

    return Schedule.model_construct(assignments=[], uncovered=[])
