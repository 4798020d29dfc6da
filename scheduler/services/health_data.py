"""Health data as a whole: erasing it everywhere it was copied, and the audit of who touched it.

* :func:`delete_record` deletes one (mistaken) health record and removes it from every stored copy of
  the site (job snapshots, re-solve disruptions and change sets, see :mod:`scheduler.domain.erasure`).
* :func:`delete_volunteer` deletes a volunteer with their health history (the table cascades) and
  scrubs their health data, name and contact from every snapshot, change set, schedule (job results and
  published versions) and webhook payload of the site; the assignments keep their id.
* :func:`without_late_erasures`: a job that was running while a record or a volunteer was erased drops
  what was erased from the result it stores (its snapshot was read before the erasure).
* Both write the audit log (:mod:`scheduler.store.health_audit`), as :func:`audit` does for reads.

Nothing here commits: the caller's unit of work does, so the deletion and the scrubbing are one step.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from scheduler.domain import erasure
from scheduler.domain.errors import NotFoundError
from scheduler.domain.scenario import HealthRecord, Scenario
from scheduler.store import calendars as calendar_store
from scheduler.store import health_audit, health_records, sites, volunteers
from scheduler.store.health_audit import Actor, AuditAction
from scheduler.store.jobs import JobRow
from scheduler.store.schedules import ScheduleVersionRow
from scheduler.store.webhooks import DeliveryRow


def audit(
    session: Session,
    site_id: int,
    actor: Actor,
    action: AuditAction,
    what: str,
    now: dt.datetime,
    *,
    volunteer: str | None = None,
    record_id: int | None = None,
) -> None:
    health_audit.log(session, site_id, actor, action, what, now, volunteer=volunteer, record_id=record_id)


def audit_import(
    session: Session, site_id: int, actor: Actor, scenario: Scenario, where: str, now: dt.datetime
) -> int:
    """A scenario imported as site ``site_id`` (API, console upload, CLI): one ``create`` entry for each
    volunteer it brought with health records (``where``: ``API``, ``console``...). How many."""
    count = 0
    for v in scenario.volunteers:
        if v.health:
            audit(session, site_id, actor, AuditAction.create, f"{where}: site imported with health records",
                  now, volunteer=v.id)
            count += 1
    return count


def _rewrite(row: Any, column: str, change: Callable[[Any], bool]) -> bool:
    """Apply ``change`` to a copy of the row's JSON column and store it if it changed (a new object,
    so the ORM sees the change)."""
    value = getattr(row, column)
    if value is None:
        return False
    new = copy.deepcopy(value)
    if not change(new):
        return False
    setattr(row, column, new)
    return True


def scrub_site(session: Session, site_id: int, volunteer: str, record: HealthRecord | None) -> int:
    """Remove ``record`` of ``volunteer`` (or, with ``None``, all their health data, name and contact)
    from every stored copy of the site. Returns how many stored documents changed."""
    return scrub_site_of(session, site_id, [(volunteer, record)])


def scrub_site_of(
    session: Session, site_id: int, erasures: list[tuple[str, HealthRecord | None]]
) -> int:
    """:func:`scrub_site` for several records or volunteers at once (the site's copies read once)."""
    if not erasures:
        return 0
    changed = 0
    jobs = list(session.scalars(
        select(JobRow)
        .where(JobRow.site_id == site_id)
        .options(undefer(JobRow.scenario), undefer(JobRow.result), undefer(JobRow.changes))
    ))
    for volunteer, record in erasures:
        changed += _scrub_jobs(jobs, volunteer, record)
    people = [volunteer for volunteer, record in erasures if record is None]
    if people:
        versions = session.scalars(select(ScheduleVersionRow).where(ScheduleVersionRow.site_id == site_id))
        for version in versions:
            changed += _rewrite(version, "schedule", lambda s: any([erasure.anonymise(s, v) for v in people]))
        deliveries = session.scalars(
            select(DeliveryRow).where(DeliveryRow.site_id == site_id).options(undefer(DeliveryRow.payload))
        )
        for delivery in deliveries:
            changed += _rewrite(delivery, "payload", lambda p: any([erasure.anonymise(p, v) for v in people]))
    session.flush()
    return changed


def _scrub_jobs(jobs: list[JobRow], volunteer: str, record: HealthRecord | None) -> int:
    changed = 0
    for job in jobs:
        if record is not None:
            changed += _rewrite(
                job, "scenario", lambda s: erasure.erase_record_from_scenario(s, volunteer, record)
            )
            if _rewrite(job, "disruptions", lambda d: erasure.erase_from_disruptions(d, volunteer, record)):
                changed += 1
                changed += _rewrite(job, "changes", lambda c: erasure.erase_health_from_changes(c, volunteer))
            continue
        changed += _rewrite(job, "scenario", lambda s: erasure.erase_volunteer_from_scenario(s, volunteer))
        changed += _rewrite(job, "disruptions", lambda d: erasure.erase_from_disruptions(d, volunteer, None))
        changed += _rewrite(
            job,
            "changes",
            lambda c: erasure.erase_health_from_changes(c, volunteer) | erasure.anonymise(c, volunteer),
        )
        changed += _rewrite(job, "result", lambda r: erasure.anonymise(r, volunteer))
    return changed


def without_late_erasures(
    session: Session,
    site_id: int,
    job_id: int,
    snapshot: Any,
    disruptions: Any,
    documents: list[Any],
) -> int:
    """Before a job stores its result: with the site locked (as every erasure locks it, so none runs
    between this check and the job's write), erase from ``documents`` (its schedule, change set and
    advice as JSON, changed in place; the change set first) what was erased from the job's stored
    snapshot and disruptions since the worker read them (``snapshot``, ``disruptions``) for the search.
    Returns how many erasures were applied."""
    try:
        sites.lock_site(session, site_id)
    except NotFoundError:  # the site was deleted meanwhile, with its jobs: nothing will be stored
        return 0
    stored = session.execute(
        select(JobRow.scenario, JobRow.disruptions).where(JobRow.id == job_id)
    ).one_or_none()
    if stored is None:
        return 0
    erasures = erasure.erased_between(snapshot, stored.scenario, disruptions, stored.disruptions)
    if erasures:
        erasure.erase_late(erasures, *documents)
    return len(erasures)


def delete_record(
    session: Session,
    site: sites.SiteRow,
    volunteer: volunteers.VolunteerRow,
    record_id: int,
    actor: Actor,
    now: dt.datetime,
) -> int:
    """Delete the volunteer's health record ``record_id`` and its copies; returns the copies changed.
    The site is locked first: a job finishing meanwhile stores its result before or after, never from
    a snapshot read before the erasure (see :func:`without_late_erasures`)."""
    sites.lock_site(session, site.id)
    row = health_records.get_record(session, volunteer.id, record_id)
    model = health_records.to_model(row)
    health_records.delete_record(session, row)
    changed = scrub_site(session, site.id, volunteer.key, model)
    audit(session, site.id, actor, AuditAction.delete, "health record deleted", now,
          volunteer=volunteer.key, record_id=record_id)
    return changed


def delete_volunteer(
    session: Session, site: sites.SiteRow, volunteer: volunteers.VolunteerRow, actor: Actor, now: dt.datetime
) -> int:
    """Delete the volunteer (their health history goes with them) and erase them from every copy (the
    site locked first, as in :func:`delete_record`)."""
    sites.lock_site(session, site.id)
    key = volunteer.key
    volunteers.delete_volunteer(session, volunteer)
    calendar_store.bump_calendar_version(session, site.id)  # cached post and site feeds showed the name
    changed = scrub_site(session, site.id, key, None)
    audit(
        session, site.id, actor, AuditAction.erase, "volunteer deleted, health erased", now, volunteer=key
    )
    return changed
