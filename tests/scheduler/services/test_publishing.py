"""Publishing under concurrency: the site row lock really serialises publications.

Before the fix, ``get_site(lock=True)`` returned the copy of the site the request had already loaded
(unlocked) without refreshing it: the lock was granted only after the other publication committed, but
the guard then read ``published_version`` from before it. Both tests below failed on that code
(``test_the_locked_read_sees_the_committed_row``: the stale value 1 instead of 2;
``test_a_stale_resolve_cannot_undo_a_concurrent_publication``: the re-solve was published as version 3,
undoing version 2)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select, update

from scheduler.domain.errors import ConflictError
from scheduler.services import publishing
from scheduler.store import jobs, sites
from scheduler.store.db import utcnow
from scheduler.store.schedules import ScheduleVersionRow
from tests.conftest import POSTGRES_URL
from tests.scheduler.store.test_jobs import empty_schedule, small

KEEP = dt.timedelta(days=14)


def _done_job(sessions, site_id: int, **extra) -> int:
    """A finished job of the site with a (feasible, empty) schedule."""
    with sessions() as session:
        site = sites.get_site(session, site_id)
        row = jobs.queue_job(
            session, site_id, sites.export_scenario(session, site), utcnow(), 1, 1, 0, **extra
        )
        session.commit()
        job_id = row.id
    with sessions() as session:
        worker = f"w{job_id}"
        session.execute(
            update(jobs.JobRow)
            .where(jobs.JobRow.id == job_id)
            .values(state="running", worker=worker, started_at=utcnow(), heartbeat_at=utcnow())
        )
        assert jobs.finish_job(session, job_id, worker, empty_schedule(), None, utcnow())
        session.commit()
    return job_id


def _published_site(sessions) -> int:
    with sessions() as session:
        site_id = sites.import_scenario(session, small(), utcnow()).id
        session.commit()
    first = _done_job(sessions, site_id)
    with sessions() as session:
        site = sites.get_site(session, site_id, lock=True)
        publishing.publish(session, site, jobs.get_job(session, site_id, first), utcnow(), KEEP)
        session.commit()
    return site_id


def test_the_locked_read_sees_the_committed_row(sessions):
    """A session that loaded the site before someone else changed it gets the new row when it locks."""
    site_id = _published_site(sessions)
    with sessions() as reader:
        loaded = sites.get_site(reader, site_id)  # kept, as a request keeps its Site dependency
        assert loaded.published_version == 1
        with sessions() as writer:
            sites.get_site(writer, site_id, lock=True).published_version = 2
            writer.commit()
        assert sites.get_site(reader, site_id, lock=True).published_version == 2
        assert loaded.published_version == 2  # the same object, refreshed


def _race(sessions, site_id: int, first_job: int, second_job: int):
    """Publish ``first_job`` and ``second_job`` in two threads with two sessions: the second request has
    loaded the site (as ``api.deps.coordinator_site`` does) before the first commits, then waits for the
    lock. Returns what each publication gave (a version number or the exception)."""
    first_locked, second_read = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def first() -> None:
        try:
            with sessions() as session:
                site = sites.get_site(session, site_id, lock=True)
                version = publishing.publish(
                    session, site, jobs.get_job(session, site_id, first_job), utcnow(), KEEP
                )
                session.flush()
                first_locked.set()
                assert second_read.wait(20)
                session.commit()
                outcome["first"] = version.number
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            first_locked.set()
            outcome["first"] = exc

    def second() -> None:
        try:
            assert first_locked.wait(20)
            with sessions() as session:
                loaded = sites.get_site(session, site_id)  # the request's own (unlocked) read, kept
                second_read.set()
                site = sites.get_site(session, site_id, lock=True)  # waits for the first to commit
                assert site is loaded
                job = jobs.get_job(session, site_id, second_job)
                version = publishing.publish(session, site, job, utcnow(), KEEP)
                session.commit()
                outcome["second"] = version.number
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            second_read.set()
            outcome["second"] = exc

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    return outcome


def _versions(sessions, site_id: int) -> list[tuple[int, int | None]]:
    with sessions() as session:
        rows = session.scalars(
            select(ScheduleVersionRow)
            .where(ScheduleVersionRow.site_id == site_id)
            .order_by(ScheduleVersionRow.number)
        )
        return [(r.number, r.job_id) for r in rows]


postgres_only = pytest.mark.skipif(
    not POSTGRES_URL, reason="row locks need PostgreSQL (ROTA_TEST_POSTGRES_URL)"
)


@postgres_only
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_stale_resolve_cannot_undo_a_concurrent_publication(sessions):
    site_id = _published_site(sessions)
    full = _done_job(sessions, site_id)
    resolve = _done_job(sessions, site_id, kind=jobs.JobKind.resolve.value, base_version=1)
    outcome = _race(sessions, site_id, full, resolve)
    assert outcome["first"] == 2
    assert isinstance(outcome["second"], ConflictError), outcome["second"]
    assert "stale re-solve" in str(outcome["second"])
    assert _versions(sessions, site_id)[1:] == [(2, full)]
    with sessions() as session:
        assert sites.get_site(session, site_id).published_version == 2


@postgres_only
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_concurrent_publications_make_one_version_each(sessions):
    site_id = _published_site(sessions)
    a, b = _done_job(sessions, site_id), _done_job(sessions, site_id)
    outcome = _race(sessions, site_id, a, b)
    assert (outcome["first"], outcome["second"]) == (2, 3), outcome
    assert _versions(sessions, site_id)[1:] == [(2, a), (3, b)]
    with sessions() as session:
        assert sites.get_site(session, site_id).published_version == 3
