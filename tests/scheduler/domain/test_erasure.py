"""The pure erasure functions on stored JSON (scheduler.domain.erasure)."""

from __future__ import annotations

from scheduler.domain import erasure
from scheduler.domain.scenario import HealthRecord

RECORD = HealthRecord.model_validate({"status": "sick", "from": "2027-01-13", "infectious": True})


def test_one_record_goes_from_a_snapshot_and_the_rest_stays():
    scenario = {"volunteers": [
        {"id": "a", "health": [{"status": "sick", "from": "2027-01-13", "until": None, "infectious": True},
                               {"status": "fit", "from": "2027-01-20"}]},
        {"id": "b", "health": [{"status": "sick", "from": "2027-01-13", "infectious": True}]},
    ]}
    assert erasure.erase_record_from_scenario(scenario, "a", RECORD)
    assert scenario["volunteers"][0]["health"] == [{"status": "fit", "from": "2027-01-20"}]
    assert len(scenario["volunteers"][1]["health"]) == 1
    assert not erasure.erase_record_from_scenario(scenario, "a", RECORD)  # nothing left to change


def test_a_volunteer_leaves_sick_calls_and_isolation_lists():
    disruptions = [
        {"kind": "sick_call", "volunteer": "a", "status": "sick", "from": "2027-01-13", "infectious": True},
        {"kind": "mark_isolating", "volunteers": ["a", "b"], "from": "2027-01-13"},
        {"kind": "mark_isolating", "volunteers": ["a"], "from": "2027-01-13"},
        {"kind": "demand_change", "post": "gate", "shift": "day", "dates": ["2027-01-14"], "required": 2},
    ]
    assert erasure.erase_from_disruptions(disruptions, "a", None)
    assert [d["kind"] for d in disruptions] == ["mark_isolating", "demand_change"]
    assert disruptions[0]["volunteers"] == ["b"]
    # one record: only the matching sick call goes
    other = [{"kind": "sick_call", "volunteer": "a", "status": "limited", "from": "2027-01-13"}]
    assert not erasure.erase_from_disruptions(other, "a", RECORD) and len(other) == 1


def test_change_sets_and_payloads_forget_the_person():
    changes = {
        "disruptions": [
            "a sick from 2027-01-13 (infectious)", "b, a isolating from 2027-01-13", "gate needs 2"
        ],
        "volunteers": [
            {"volunteer": "a", "name": "Ann Lee", "phone": "+49 1", "email": "a@x", "subject": "sick",
             "removed": [{"post": "gate", "reason": "sick"}], "added": []},
            {"volunteer": "c", "name": "Cy", "phone": "+49 3", "subject": None, "removed": [], "added": []},
        ],
        "under_way": [{"volunteer": "a", "name": "Ann Lee", "shift": {"post": "gate", "reason": "sick"}}],
        "contacts": [
            {"volunteer": "b", "of": "a"}, {"volunteer": "a", "of": "z"}, {"volunteer": "c", "of": "z"}
        ],
    }
    assert erasure.erase_health_from_changes(changes, "a") and erasure.anonymise(changes, "a")
    assert changes["disruptions"] == ["a: erased", "a: erased", "gate needs 2"]
    ann = changes["volunteers"][0]
    assert ann["subject"] is None and ann["removed"][0]["reason"] is None
    assert (ann["name"], ann["phone"], ann["email"]) == ("a", None, None)
    assert changes["volunteers"][1]["name"] == "Cy"
    assert changes["under_way"][0]["shift"]["reason"] is None and changes["under_way"][0]["name"] == "a"
    assert changes["contacts"] == [{"volunteer": "c", "of": "z"}]


def test_what_was_erased_while_a_job_ran_is_found_and_erased_from_its_result():
    import copy

    from scheduler.domain.erasure import (
        erase_from_disruptions,
        erase_late,
        erase_record_from_scenario,
        erase_volunteer_from_scenario,
        erased_between,
    )
    from scheduler.domain.scenario import HealthRecord

    sick = {"status": "sick", "from": "2027-01-13", "infectious": True, "reason": "unwell"}
    before = {"volunteers": [
        {"id": "a", "name": "Ann", "contact": {"phone": "1"}, "health": [sick, {"status": "limited"}]},
        {"id": "b", "name": "Bo", "contact": {"phone": "2"}, "health": []},
        {"id": "c", "name": "Cy", "contact": {}, "health": [sick]},
    ]}
    disruptions = [{"kind": "sick_call", "volunteer": "a", **sick}]
    after, after_d = copy.deepcopy(before), copy.deepcopy(disruptions)
    assert erased_between(before, after, disruptions, after_d) == []
    record = HealthRecord.model_validate(sick)
    erase_record_from_scenario(after, "a", record)
    erase_from_disruptions(after_d, "a", record)
    erase_volunteer_from_scenario(after, "b")
    found = erased_between(before, after, disruptions, after_d)
    assert ("b", None) in found and ("a", record) in found and not [e for e in found if e[0] == "c"]
    changes = {"disruptions": ["a sick from 2027-01-13 (infectious)"], "contacts": [],
               "volunteers": [{"volunteer": "a", "name": "Ann", "subject": "sick", "removed": []},
                              {"volunteer": "b", "name": "Bo", "subject": None, "removed": []}]}
    schedule = {"assignments": [{"volunteer": "b", "name": "Bo", "phone": "2"}]}
    assert erase_late(found, changes, schedule)
    assert changes["volunteers"][0]["subject"] is None and "sick" not in changes["disruptions"][0]
    assert "Bo" not in str(changes) + str(schedule) and schedule["assignments"][0]["volunteer"] == "b"
