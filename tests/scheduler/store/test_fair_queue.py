"""The fair queue: a site's share of the queue, round-robin claims, and several workers on one queue.

On the old code ``test_sites_are_served_round_robin_and_re_solves_first_within_a_site`` failed (the
claims went B's re-solve first, then A1, A2, A3, and B's solve last: one site's backlog delayed
another's), and the share tests could not run (no limits: any number of jobs of any length was queued)."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest

from scheduler.domain.errors import TooBusyError
from scheduler.store import jobs, sites
from scheduler.store.db import utcnow
from tests.scheduler.store.test_jobs import empty_schedule, small, state


def _site(sessions) -> int:
    with sessions() as session:
        site_id = sites.import_scenario(session, small(), utcnow()).id
        session.commit()
        return site_id


def _queue(sessions, site_id: int, kind: str = "schedule", time_limit: float = 1, limits=None) -> int:
    with sessions() as session:
        site = sites.get_site(session, site_id)
        extra = {"kind": kind, "base_version": 1} if kind == "resolve" else {}
        row = jobs.queue_job(
            session,
            site_id,
            sites.export_scenario(session, site),
            utcnow(),
            time_limit,
            1,
            0,
            limits=limits,
            **extra,
        )
        session.commit()
        return row.id


def test_a_site_over_its_share_is_refused_and_others_are_not(sessions):
    a, b = _site(sessions), _site(sessions)
    limits = jobs.SiteLimits(jobs=2, seconds=100)
    _queue(sessions, a, limits=limits)
    _queue(sessions, a, time_limit=20, limits=limits)
    with pytest.raises(TooBusyError, match="2 jobs queued or running") as caught:
        _queue(sessions, a, limits=limits)
    assert 1 <= caught.value.retry_after <= 600
    _queue(sessions, b, time_limit=60, limits=limits)  # another site is not held up by a's jobs
    with pytest.raises(TooBusyError, match="search for 60 s"):
        _queue(sessions, b, time_limit=41, limits=limits)
    _queue(sessions, b, time_limit=40, limits=limits)
    # a finished job frees its place
    with sessions() as session:
        assert jobs.claim_next(session, "w", utcnow()) is not None
        session.commit()
    first = next(j for j in _ids(sessions, a) if state(sessions, j).state == "running")
    with sessions() as session:
        assert jobs.finish_job(session, first, "w", empty_schedule(), None, utcnow())
        session.commit()
    _queue(sessions, a, limits=limits)


def _ids(sessions, site_id: int) -> list[int]:
    with sessions() as session:
        return [r.id for r in jobs.list_jobs(session, site_id)]


def test_sites_are_served_round_robin_and_re_solves_first_within_a_site(sessions):
    a, b = _site(sessions), _site(sessions)
    a1, a2, a3 = (_queue(sessions, a) for _ in range(3))
    b_solve = _queue(sessions, b)
    b_resolve = _queue(sessions, b, kind="resolve")
    start = utcnow()
    claimed = []
    for i in range(6):
        with sessions() as session:
            claimed.append(jobs.claim_next(session, "w", start + dt.timedelta(seconds=i)))
            session.commit()
    assert claimed == [a1, b_resolve, a2, b_solve, a3, None]


@pytest.mark.parametrize("workers", [4])
def test_four_workers_lose_no_job_and_run_none_twice(sessions, workers):
    """4 workers (threads, each with its own sessions) claim and finish jobs of 4 sites until the queue is
    empty: every job runs exactly once, by the worker that claimed it, and the first claims go to four
    different sites. Runs on SQLite and, with ROTA_TEST_POSTGRES_URL, on PostgreSQL (SKIP LOCKED)."""
    site_ids = [_site(sessions) for _ in range(4)]
    queued = [_queue(sessions, s, kind=k) for s in site_ids for k in ("schedule", "resolve", "schedule")]
    runs: list[tuple[str, int]] = []
    lock = threading.Lock()
    errors: list[BaseException] = []
    go = threading.Barrier(workers)

    def worker(name: str) -> None:
        try:
            go.wait(10)
            while True:
                with sessions() as session:
                    job_id = jobs.claim_next(session, name, utcnow())
                    session.commit()
                if job_id is None:
                    return
                with lock:
                    runs.append((name, job_id))
                with sessions() as session:
                    assert jobs.finish_job(session, job_id, name, empty_schedule(), None, utcnow())
                    session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)
    ran = [job_id for _, job_id in runs]
    assert sorted(ran) == sorted(queued) and not [j for j, n in Counter(ran).items() if n > 1]
    for name, job_id in runs:
        row = state(sessions, job_id)
        assert row.state == "done" and row.worker == name
