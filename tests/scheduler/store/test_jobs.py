"""Solve jobs in the database: queueing, atomic claims, heartbeats, cancellation, stale jobs."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest
from sqlalchemy.orm import undefer

from scheduler.domain import scenario as sc
from scheduler.domain.errors import ConflictError, InputError
from scheduler.domain.schedule import Schedule, SolverReport
from scheduler.store import jobs, sites
from scheduler.store.db import utcnow

SMALL = Path(__file__).resolve().parents[3] / "fixtures" / "small.json"


def small() -> sc.Scenario:
    return sc.Scenario.model_validate(json.loads(SMALL.read_text(encoding="utf-8")))


def queue(
    sessions, request: jobs.JobRequest | None = None, scenario: sc.Scenario | None = None
) -> tuple[int, int]:
    with sessions() as session:
        site = sites.import_scenario(session, scenario or small(), utcnow())
        row = jobs.create_job(
            session,
            site.id,
            sites.export_scenario(session, site),
            request or jobs.JobRequest(),
            default_time_limit=1,
            max_time_limit=10,
            workers=1,
            now=utcnow(),
        )
        session.commit()
        return site.id, row.id


def empty_schedule(status: str = "feasible") -> Schedule:
    return Schedule(
        site="x",
        timezone="Europe/Berlin",
        start=dt.date(2027, 1, 11),
        days=7,
        status=status,
        solver=SolverReport(status=status, wall_time=0.1, time_limit=1),
    )


def state(sessions, job_id: int) -> jobs.JobRow:
    """The job row as it is now, every column loaded (the big ones are deferred)."""
    with sessions() as session:
        return session.get(jobs.JobRow, job_id, options=[undefer("*")])


def test_a_job_snapshots_the_scenario_over_its_horizon(sessions):
    data = small().model_dump(mode="json", by_alias=True)
    data["pinned"] = [
        {"volunteer": "v002", "post": "gate", "shift": "early", "date": "2027-01-12"},
        {"volunteer": "v002", "post": "gate", "shift": "early", "date": "2027-01-16"},
    ]
    request = jobs.JobRequest(horizon=sc.Horizon(start=dt.date(2027, 1, 14), days=3), time_limit=2, seed=7)
    _, job_id = queue(sessions, request, sc.Scenario.model_validate(data))
    row = state(sessions, job_id)
    assert row.state == "queued" and row.time_limit == 2 and row.seed == 7
    snapshot = jobs.scenario_of(row)
    assert snapshot.horizon == request.horizon
    assert [p.date.isoformat() for p in snapshot.pinned] == ["2027-01-16"]  # the other is outside


def test_a_time_limit_over_the_servers_maximum_is_refused(sessions):
    with sessions() as session:
        site = sites.import_scenario(session, small(), utcnow())
        with pytest.raises(InputError) as caught:
            jobs.create_job(
                session,
                site.id,
                sites.export_scenario(session, site),
                jobs.JobRequest(time_limit=60),
                default_time_limit=1,
                max_time_limit=10,
                workers=1,
                now=utcnow(),
            )
        assert [p.field for p in caught.value.problems] == ["time_limit"]


def test_claims_are_exclusive_and_in_order(sessions):
    _, first = queue(sessions)
    _, second = queue(sessions)
    with sessions() as a, sessions() as b:
        assert jobs.claim_next(a, "a", utcnow()) == first
        a.commit()
        assert jobs.claim_next(b, "b", utcnow()) == second
        b.commit()
        assert jobs.claim_next(b, "b", utcnow()) is None
    assert state(sessions, first).worker == "a" and state(sessions, second).worker == "b"


def test_concurrent_claims_never_share_a_job(sessions):
    ids = [queue(sessions)[1] for _ in range(6)]
    claimed: list[int] = []
    lock = threading.Lock()

    def claimer(name: str) -> None:
        while True:
            with sessions() as session:
                job_id = jobs.claim_next(session, name, utcnow())
                session.commit()
            if job_id is None:
                return
            with lock:
                claimed.append(job_id)

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == ids


def test_heartbeat_reports_cancellation_and_finish_ends_cancelled(sessions):
    site_id, job_id = queue(sessions)
    with sessions() as session:
        jobs.claim_next(session, "w", utcnow())
        session.commit()
        assert jobs.heartbeat(session, job_id, "w", {"elapsed": 0.5, "objective": 10}, utcnow())
        assert not jobs.heartbeat(session, job_id, "other", None, utcnow())  # not its job
        session.commit()
        jobs.cancel_job(session, jobs.get_job(session, site_id, job_id), utcnow())
        session.commit()
        assert not jobs.heartbeat(session, job_id, "w", None, utcnow())
        assert jobs.finish_job(session, job_id, "w", empty_schedule(), None, utcnow())
        session.commit()
    row = state(sessions, job_id)
    assert row.state == "cancelled" and row.result is not None and row.progress["objective"] == 10


def test_a_queued_job_is_cancelled_at_once_and_a_finished_one_not_at_all(sessions):
    site_id, job_id = queue(sessions)
    with sessions() as session:
        row = jobs.get_job(session, site_id, job_id)
        jobs.cancel_job(session, row, utcnow())
        session.commit()
        assert row.state == "cancelled" and row.finished_at is not None
        with pytest.raises(ConflictError):
            jobs.cancel_job(session, row, utcnow())
        assert jobs.claim_next(session, "w", utcnow()) is None


def test_no_schedule_found_fails_the_job_with_a_reason(sessions):
    _, job_id = queue(sessions)
    with sessions() as session:
        jobs.claim_next(session, "w", utcnow())
        jobs.finish_job(session, job_id, "w", empty_schedule("no_solution"), None, utcnow())
        session.commit()
    row = state(sessions, job_id)
    assert row.state == "failed" and "longer time limit" in row.error


def test_stale_running_jobs_are_failed_and_the_late_worker_cannot_overwrite(sessions):
    _, job_id = queue(sessions)
    start = utcnow()
    with sessions() as session:
        jobs.claim_next(session, "w", start)
        session.commit()
        assert jobs.reap_stale(session, start + dt.timedelta(seconds=5), 30) == 0
        assert jobs.reap_stale(session, start + dt.timedelta(seconds=31), 30) == 1
        session.commit()
        assert not jobs.finish_job(session, job_id, "w", empty_schedule(), None, utcnow())
        session.commit()
    row = state(sessions, job_id)
    assert row.state == "failed" and "heartbeat" in row.error and row.result is None


def test_a_stopping_worker_puts_its_job_back(sessions):
    _, job_id = queue(sessions)
    with sessions() as session:
        jobs.claim_next(session, "w", utcnow())
        assert jobs.requeue_job(session, job_id, "w", utcnow())
        session.commit()
        assert jobs.claim_next(session, "w2", utcnow()) == job_id
        session.commit()
    row = state(sessions, job_id)
    assert row.state == "running" and row.worker == "w2" and "put back" in row.error


def test_jobs_of_another_site_are_not_found(sessions):
    site_id, job_id = queue(sessions)
    other, _ = queue(sessions)
    with sessions() as session:
        from scheduler.domain.errors import NotFoundError

        with pytest.raises(NotFoundError):
            jobs.get_job(session, other, job_id)
        assert jobs.get_job(session, site_id, job_id).id == job_id
