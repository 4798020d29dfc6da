"""Health records in the database: a record reads back exactly as it was given (what lets adding one
skip validating the whole site again, see ``health_records.add_record``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scheduler.domain import scenario as sc
from scheduler.store import health_records, sites, volunteers
from scheduler.store.db import utcnow

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"

RECORDS = [
    {"status": "sick"},
    {"status": "sick", "from": "2027-01-11", "infectious": True, "reason": "contact_of_a_case"},
    {"status": "isolating", "from": "2027-01-11", "until": "2027-01-14"},
    {"status": "limited", "from": "2027-01-11T06:30", "until": "2027-01-11T18:00"},
    {"status": "recovering", "from": "2027-01-11T06:30:00+02:00", "until": "2027-01-12T00:00:00Z"},
    {"status": "fit", "until": "2027-01-20", "reason": "other"},
]


@pytest.mark.parametrize("data", RECORDS, ids=[json.dumps(r) for r in RECORDS])
def test_a_stored_record_reads_back_as_given(sessions, data):
    scenario = sc.Scenario.model_validate(json.loads((FIXTURES / "small.json").read_text(encoding="utf-8")))
    record = sc.HealthRecord.model_validate(data)
    with sessions() as session:
        site = sites.import_scenario(session, scenario, utcnow())
        volunteer = volunteers.list_volunteers(session, site.id)[0]
        row = health_records.add_record(session, volunteer.id, record, utcnow())
        session.commit()
        row_id, site_id = row.id, site.id
    with sessions() as session:  # read back from the database, as the scenario reads it
        stored = session.get(health_records.HealthRecordRow, row_id)
        assert health_records.to_model(stored) == record
        exported = sites.export_scenario(session, sites.get_site(session, site_id))
    assert record in next(v for v in exported.volunteers if v.id == volunteer.key).health
