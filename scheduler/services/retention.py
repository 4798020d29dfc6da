"""The retention purge (issue 14): health data is kept only as long as it is needed.

:func:`purge`, run by ``rota admin purge`` and by the workers about once an hour:

* health records that ended more than ``health_retention_days`` ago (see
  :func:`scheduler.domain.retention.ended_before`) are deleted, with their copies in the job snapshots
  and re-solve records still kept (:func:`scheduler.services.health_data.scrub_site_of`), each audited
  as ``purge`` by ``system``;
* finished jobs (done, failed, cancelled) that finished longer ago than that are deleted with their
  scenario snapshots, except the job of each site's published schedule, whose snapshot keeps no health
  data (the published versions keep their schedules; their ``job`` link is cleared);
* health audit entries older than ``health_audit_retention_days`` are deleted.

A retention of 0 days keeps everything. Nothing here commits: the caller's unit of work does.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, undefer

from scheduler.domain.retention import ended_before
from scheduler.domain.scenario import HealthRecord
from scheduler.services import health_data
from scheduler.store import health_audit, health_records
from scheduler.store.health_audit import SYSTEM, AuditAction
from scheduler.store.jobs import FINISHED, JobRow
from scheduler.store.schedules import ScheduleVersionRow
from scheduler.store.sites import SiteRow
from scheduler.store.volunteers import VolunteerRow


@dataclass
class Purged:
    health_records: int = 0
    jobs: int = 0
    snapshots_cleared: int = 0
    audit_entries: int = 0

    def __str__(self) -> str:
        return (
            f"{self.health_records} health records, {self.jobs} finished jobs, "
            f"{self.snapshots_cleared} published jobs' health snapshots, {self.audit_entries} audit entries"
        )


def purge(
    session: Session, now: dt.datetime, retention_days: int, audit_retention_days: int = 0
) -> Purged:
    out = Purged()
    if retention_days > 0:
        cutoff = now - dt.timedelta(days=retention_days)
        out.health_records = _purge_records(session, cutoff, now)
        out.jobs, out.snapshots_cleared = _purge_jobs(session, cutoff)
    if audit_retention_days > 0:
        out.audit_entries = health_audit.purge_before(session, now - dt.timedelta(days=audit_retention_days))
    session.flush()
    return out


def _purge_records(session: Session, cutoff: dt.datetime, now: dt.datetime) -> int:
    day = cutoff.date()
    people = session.execute(select(VolunteerRow.id, VolunteerRow.site_id, VolunteerRow.key)).all()
    records = health_records.records_by_volunteer(session, select(VolunteerRow.id))
    by_site: dict[int, list[tuple[str, HealthRecord]]] = {}
    count = 0
    for volunteer_id, site_id, key in people:
        rows = records.get(volunteer_id, [])
        models = [health_records.to_model(r) for r in rows]
        for i in ended_before(models, day):
            row = rows[i]
            if row.recorded_at >= cutoff:
                continue  # recorded recently (e.g. a late entry of an old illness): kept for now
            by_site.setdefault(site_id, []).append((key, models[i]))
            health_data.audit(session, site_id, SYSTEM, AuditAction.purge, "retention purge", now,
                              volunteer=key, record_id=row.id)
            session.delete(row)
            count += 1
    session.flush()
    for site_id, erasures in by_site.items():
        health_data.scrub_site_of(session, site_id, list(erasures))
    return count


def _purge_jobs(session: Session, cutoff: dt.datetime) -> tuple[int, int]:
    published = select(ScheduleVersionRow.job_id).join(
        SiteRow,
        (SiteRow.id == ScheduleVersionRow.site_id) & (SiteRow.published_version == ScheduleVersionRow.number),
    ).where(ScheduleVersionRow.job_id.is_not(None))
    keep = set(session.scalars(published))
    old = (JobRow.state.in_([s.value for s in FINISHED])) & (JobRow.finished_at < cutoff)
    doomed = [i for i in session.scalars(select(JobRow.id).where(old)) if i not in keep]
    for i in range(0, len(doomed), 500):
        session.execute(delete(JobRow).where(JobRow.id.in_(doomed[i : i + 500])))
    cleared = 0
    kept = select(JobRow).where(old, JobRow.id.in_(keep)).options(undefer(JobRow.scenario))
    for job in session.scalars(kept):
        scenario = copy.deepcopy(job.scenario)
        people = scenario.get("volunteers", []) if isinstance(scenario, dict) else []
        if any(v.get("health") for v in people):
            for v in people:
                v["health"] = []
            job.scenario = scenario
            cleared += 1
    return len(doomed), cleared
