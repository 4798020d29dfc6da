"""The retention purge (issue 14): old health records (and their copies), old finished jobs with their
snapshots, old audit entries; what still holds is kept."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update

from scheduler.domain.retention import ended_before
from scheduler.domain.scenario import HealthRecord
from scheduler.services import retention
from scheduler.store import health_audit, health_records, jobs, sites, volunteers
from scheduler.store.health_audit import SYSTEM, AuditAction
from scheduler.store.schedules import ScheduleVersionRow
from tests.scheduler.services.test_publishing import _done_job, _published_site

UTC = dt.UTC
NOW = dt.datetime(2027, 3, 1, tzinfo=UTC)
DAYS = 60  # the cut-off: 2026-12-31
LONG_AGO = dt.datetime(2026, 1, 1, tzinfo=UTC)


def record(**data) -> HealthRecord:
    return HealthRecord.model_validate(data)


def test_which_records_have_ended():
    records = [
        record(status="sick", **{"from": "2026-01-01"}, until="2026-01-10"),  # over
        record(status="sick", **{"from": "2026-02-01"}),  # open-ended, replaced by the next one
        record(status="fit", **{"from": "2026-02-05"}),  # open-ended and last: still holds
        record(status="limited", **{"from": "2026-12-20"}, until="2027-01-05"),  # ends after the cut-off
        record(status="sick", **{"from": "2026-03-01"}, until="2026-03-05"),
    ]
    assert ended_before(records, dt.date(2026, 12, 31)) == [0, 1, 4]
    # a later record that starts after the cut-off day has not replaced anything yet
    assert ended_before([record(status="sick"), record(status="fit", **{"from": "2027-01-02"})],
                        dt.date(2026, 12, 31)) == []


def test_the_purge_removes_old_health_data_and_keeps_what_holds(sessions):
    site_id = _published_site(sessions)  # its published job stays, whatever its age
    with sessions() as session:
        v = volunteers.get_volunteer(session, site_id, "v002")
        for data in ({"status": "sick", "from": "2026-01-01", "until": "2026-01-10"},
                     {"status": "sick", "from": "2026-02-01"},
                     {"status": "fit", "from": "2026-02-05"}):
            health_records.add_record(session, v.id, record(**data), LONG_AGO)
        # a late entry of an old illness, recorded after the cut-off: kept for now
        health_records.add_record(session, v.id, record(status="sick", until="2026-02-01"), NOW)
        health_audit.log(session, site_id, SYSTEM, AuditAction.read, "old", LONG_AGO, volunteer="v002")
        session.commit()
    old_job = _done_job(sessions, site_id)  # snapshots with the records
    recent_job = _done_job(sessions, site_id)
    with sessions() as session:
        session.execute(update(jobs.JobRow).values(finished_at=LONG_AGO))
        session.execute(update(jobs.JobRow).where(jobs.JobRow.id == recent_job).values(finished_at=NOW))
        published_job = session.scalar(select(ScheduleVersionRow.job_id))
        session.commit()

    with sessions() as session:
        purged = retention.purge(session, NOW, DAYS, 365)
        session.commit()
    assert (purged.health_records, purged.jobs, purged.audit_entries) == (2, 1, 1)

    with sessions() as session:
        v = volunteers.get_volunteer(session, site_id, "v002")
        left = [(r.status, r.starts, r.until) for r in health_records.records_of(session, v.id)]
        assert left == [("fit", "2026-02-05", None), ("sick", None, "2026-02-01")]
        assert session.get(jobs.JobRow, old_job) is None
        recent = jobs.scenario_of(jobs.get_job(session, site_id, recent_job))
        health = next(x for x in recent.volunteers if x.id == "v002").health
        assert [h.status.value for h in health] == ["fit", "sick"]
        kept = jobs.get_job(session, site_id, published_job)
        assert all(not x.get("health") for x in kept.scenario["volunteers"])
        assert sites.get_site(session, site_id).published_version == 1
        entries = health_audit.entries(session, site_id)
        assert [e.action for e in entries] == ["purge", "purge"] and {e.actor for e in entries} == {"system"}
        assert session.scalar(select(func.count()).select_from(ScheduleVersionRow)) == 1


def test_a_retention_of_zero_keeps_everything(sessions):
    site_id = _published_site(sessions)
    with sessions() as session:
        session.execute(update(jobs.JobRow).values(finished_at=LONG_AGO))
        session.commit()
    with sessions() as session:
        assert str(retention.purge(session, NOW, 0, 0)).startswith("0 health records, 0 finished jobs")
        session.commit()
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(jobs.JobRow)) == 1
        assert session.scalar(select(func.count()).select_from(ScheduleVersionRow)) == 1
        assert sites.get_site(session, site_id)
