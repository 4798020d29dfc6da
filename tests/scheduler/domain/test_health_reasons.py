"""Health records and health-related disruptions hold a reason from a fixed list, never free text."""

from __future__ import annotations

import logging

import pytest
from pydantic import TypeAdapter, ValidationError

from scheduler.domain.disruptions import Disruption, MarkIsolating, SickCall, Withdrawal, apply
from scheduler.domain.scenario import HealthReason, HealthRecord
from tests.scheduler._build import scenario, volunteer

DISRUPTIONS = TypeAdapter(list[Disruption])


def test_a_health_record_has_a_reason_from_the_list_and_no_note():
    record = HealthRecord.model_validate({"status": "sick", "reason": "injury"})
    assert record.reason is HealthReason.injury
    assert "note" not in HealthRecord.model_fields
    assert "note" not in HealthRecord.model_json_schema()["properties"]
    with pytest.raises(ValidationError) as error:
        HealthRecord.model_validate({"status": "sick", "reason": "fever and a cough"})
    assert error.value.errors()[0]["loc"] == ("reason",)


def test_an_old_scenario_with_a_note_still_loads_and_the_note_is_dropped(caplog):
    with caplog.at_level(logging.WARNING):
        s = scenario(volunteers=[
            volunteer("a", health=[{"status": "limited", "from": "2026-12-07", "note": "after chemo"}]),
            volunteer("b", health=[{"status": "sick", "note": ""}]),
        ])
    a, b = s.volunteers
    assert a.health[0].reason is HealthReason.other
    assert b.health[0].reason is None
    assert "chemo" not in s.model_dump_json()
    assert "free text" in caplog.text and "chemo" not in caplog.text


def test_disruptions_carry_reasons_not_notes():
    sick = SickCall.model_validate({"volunteer": "a", "from": "2026-12-08", "note": "migraine"})
    assert sick.reason is HealthReason.other and "migraine" not in sick.model_dump_json()
    assert MarkIsolating(volunteers=["a"], start="2026-12-08").reason is HealthReason.contact_of_a_case
    with pytest.raises(ValidationError):
        Withdrawal.model_validate({"volunteer": "a", "from": "2026-12-08", "reason": "hospital: surgery"})
    s = scenario(volunteers=[volunteer("a"), volunteer("b")])
    new = apply(s, DISRUPTIONS.validate_python([
        {"kind": "sick_call", "volunteer": "a", "from": "2026-12-08", "reason": "unwell"},
        {"kind": "withdrawal", "volunteer": "b", "from": "2026-12-09", "reason": "caring_for_someone"},
    ]))
    assert new.volunteers[0].health[-1].reason is HealthReason.unwell
    assert new.volunteers[1].unavailable[-1].reason == "caring_for_someone"


def test_an_absence_has_a_reason_from_the_list_and_free_text_is_refused():
    from scheduler.domain.scenario import AbsenceReason, Period, Volunteer, WithdrawalReason

    assert Period.model_validate({"from": "2026-12-08", "reason": "study"}).reason is AbsenceReason.study
    assert {r.value for r in WithdrawalReason} <= {r.value for r in AbsenceReason}  # a withdrawal is one
    with pytest.raises(ValidationError) as error:
        Volunteer.model_validate({"id": "a", "name": "A", "unavailable": [
            {"from": "2026-12-08", "reason": "study"}, {"from": "2026-12-09", "reason": "chemotherapy"}]})
    assert [e["loc"] for e in error.value.errors()] == [("unavailable", 1, "reason")]


def test_an_old_scenario_with_a_free_text_absence_reason_still_loads_as_other(caplog, tmp_path):
    import json

    from scheduler.domain.errors import load_model
    from scheduler.domain.scenario import OLD_DATA, AbsenceReason, Scenario

    data = scenario(volunteers=[volunteer("a"), volunteer("b")]).model_dump(mode="json", by_alias=True)
    data["volunteers"][0]["unavailable"] = [
        {"from": "2026-12-08", "until": "2026-12-08", "reason": "hospital: chemotherapy"},
        {"from": "2026-12-09", "until": "2026-12-09", "reason": "family"},
    ]
    data["volunteers"][1]["unavailable"] = [{"from": "2026-12-10", "reason": "  "}]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        for s in (Scenario.model_validate(data, context=OLD_DATA), load_model(Scenario, path, OLD_DATA)):
            a, b = s.volunteers
            assert [p.reason for p in a.unavailable] == [AbsenceReason.other, AbsenceReason.family]
            assert b.unavailable[0].reason is None
            assert "chemo" not in s.model_dump_json()
    assert "free text" in caplog.text and "chemo" not in caplog.text
    with pytest.raises(ValidationError):  # without the context (a request body) it is refused
        Scenario.model_validate(data)
