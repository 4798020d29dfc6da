"""The job worker: in-process runs (``run_once``), cancellation of a running search, and one real worker
process against a SQLite file."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from scheduler.settings import Settings
from scheduler.store import jobs
from scheduler.store.db import utcnow
from scheduler.worker.loop import Worker
from tests.scheduler.store.test_jobs import queue, state

ROOT = Path(__file__).resolve().parents[3]


def settings(**extra) -> Settings:
    return Settings(heartbeat_interval=0.1, solver_workers=1, **extra)


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out waiting")


def test_run_once_solves_the_oldest_job(sessions):
    _, job_id = queue(sessions)
    worker = Worker(sessions, settings())
    assert worker.run_once() == job_id
    assert worker.run_once() is None
    row = state(sessions, job_id)
    assert row.state == "done", row.error
    schedule = jobs.result_of(row)
    assert schedule.status in ("optimal", "feasible") and schedule.assignments
    assert row.progress["elapsed"] > 0 and row.progress["objective"] is not None
    assert row.started_at <= row.finished_at and row.worker == worker.name


def test_cancelling_a_running_job_stops_the_search(sessions):
    site_id, job_id = queue(sessions, jobs.JobRequest(time_limit=10))
    worker = Worker(sessions, settings())
    runner = threading.Thread(target=worker.run_once)
    runner.start()
    wait_for(lambda: (state(sessions, job_id).progress or {}).get("elapsed"))
    started = time.monotonic()
    with sessions() as session:
        jobs.cancel_job(session, jobs.get_job(session, site_id, job_id), utcnow())
        session.commit()
    runner.join(timeout=8)
    assert not runner.is_alive()
    assert time.monotonic() - started < 5
    row = state(sessions, job_id)
    assert row.state == "cancelled" and row.cancel_requested


def test_a_job_that_breaks_fails_with_the_reason_and_the_worker_goes_on(sessions):
    _, broken = queue(sessions)
    _, fine = queue(sessions)
    with sessions() as session:
        row = session.get(jobs.JobRow, broken)
        row.scenario = {**row.scenario, "posts": []}
        session.commit()
    worker = Worker(sessions, settings())
    worker.run_once()
    worker.run_once()
    failed = state(sessions, broken)
    assert failed.state == "failed" and "ValidationError" in failed.error
    assert state(sessions, fine).state == "done"


def test_a_real_worker_process(sqlite_template, tmp_path):
    """`rota worker` in its own process: it picks up a queued job and finishes it; stopped with SIGTERM in
    the middle of a search, it puts that job back in the queue and exits."""
    path = tmp_path / "rota.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    from scheduler.store.db import make_engine, make_sessions

    engine = make_engine(url)
    sessions = make_sessions(engine)
    _, quick = queue(sessions)
    env = {
        **os.environ,
        "ROTA_DATABASE_URL": url,
        "ROTA_WORKER_POLL_INTERVAL": "0.1",
        "ROTA_HEARTBEAT_INTERVAL": "0.2",
        "ROTA_SOLVER_WORKERS": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-c", "from scheduler.cli.main import app; app()", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(lambda: state(sessions, quick).state == "done", timeout=60)
        _, slow = queue(sessions, jobs.JobRequest(time_limit=10))
        wait_for(lambda: (state(sessions, slow).progress or {}).get("elapsed"), timeout=30)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    output = process.stdout.read()
    assert process.returncode == 0, output
    row = state(sessions, slow)
    assert row.state == "queued" and "put back in the queue" in row.error, output
    assert "stopped" in output
    engine.dispose()


@pytest.mark.parametrize("interval", [0.1])
def test_reap_is_throttled(sessions, interval):
    worker = Worker(sessions, settings(job_stale_after=30))
    assert worker.reap(throttled=True) == 0
    _, job_id = queue(sessions)
    with sessions() as session:
        jobs.claim_next(session, "ghost", utcnow())
        row = session.get(jobs.JobRow, job_id)
        import datetime as dt

        row.heartbeat_at = utcnow() - dt.timedelta(minutes=5)
        session.commit()
    assert worker.reap(throttled=True) == 0  # too soon after the last one
    assert worker.reap() == 1
    assert state(sessions, job_id).state == "failed"


def test_four_workers_share_one_queue_fairly(sessions):
    """Four real ``Worker`` instances (threads, each its own sessions; on PostgreSQL too when
    ROTA_TEST_POSTGRES_URL is set) drain a queue of 8 small solves of 4 sites: every job is run once, by
    the worker that claimed it, and ends finished (done; on a loaded machine a 1 s search may end failed,
    with its reason); none is left queued or running."""
    queued = [queue(sessions, jobs.JobRequest(time_limit=1))[1] for _ in range(4)]
    with sessions() as session:  # a second job for each site
        for job_id in list(queued):
            row = session.get(jobs.JobRow, job_id)
            again = jobs.queue_job(session, row.site_id, jobs.scenario_of(row), utcnow(), 1, 1, 0)
            queued.append(again.id)
        session.commit()
    ran: dict[str, list[int]] = {}
    lock = threading.Lock()

    def drain(worker: Worker) -> None:
        while (job_id := worker.run_once()) is not None:
            with lock:
                ran.setdefault(worker.name, []).append(job_id)

    workers = [Worker(sessions, settings(), name=f"w{i}") for i in range(4)]
    threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    every = [job_id for ids in ran.values() for job_id in ids]
    assert sorted(every) == sorted(queued) and len(every) == len(set(every))
    for name, ids in ran.items():
        for job_id in ids:
            row = state(sessions, job_id)
            assert row.worker == name and row.finished_at is not None
            assert row.state == "done" or (row.state == "failed" and row.error), (row.state, row.error)


def test_the_worker_publishes_approved_changes_and_fails_one_that_breaks(sessions, monkeypatch):
    """Approved changes of a large site wait in ``approving``: the worker's side thread publishes them;
    one whose publishing raises is failed with a generic reason (not retried at every poll)."""
    from scheduler.services import swaps as service
    from scheduler.store import swaps as swap_store
    from scheduler.store.db import unit_of_work
    from tests.scheduler.services.test_swaps import KEEP, NOW, TUE_NIGHT, publish_site

    site_id, tokens = publish_site(sessions)
    yes = service.Decision(approve=True)
    with unit_of_work(sessions) as session:
        claim = service.claim(session, service.me(session, tokens["cat"]), TUE_NIGHT, NOW, KEEP).id
        other = service.claim(session, service.me(session, tokens["bob"]), TUE_NIGHT, NOW, KEEP).id
        for change in (claim, other):
            service.decide(session, site_id, change, yes, "coordinator:t", NOW, KEEP, inline_pairs=0)
    worker = Worker(sessions, settings())
    assert worker.publish_approvals(now=lambda: NOW, limit=1) == 1

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(service, "_approve", broken)
    assert worker.publish_approvals(now=lambda: NOW) == 1
    assert worker.publish_approvals(now=lambda: NOW) == 0
    with unit_of_work(sessions) as session:
        assert swap_store.get_change(session, site_id, claim).state == "approved"
        failed = swap_store.get_change(session, site_id, other)
        assert failed.state == "failed" and "internal error" in failed.reason


def test_a_worker_that_fails_mid_publish_loses_nothing(sessions, monkeypatch):
    """The database goes away while an approved change is being published: its unit of work is rolled
    back, the change stays ``approving`` and the published schedule as it was; the next try publishes."""
    from sqlalchemy.exc import OperationalError

    from scheduler.services import publishing
    from scheduler.services import swaps as service
    from scheduler.store import sites
    from scheduler.store import swaps as swap_store
    from scheduler.store.db import unit_of_work
    from tests.scheduler.services.test_swaps import KEEP, NOW, TUE_NIGHT, publish_site

    site_id, tokens = publish_site(sessions)
    with unit_of_work(sessions) as session:
        claim = service.claim(session, service.me(session, tokens["cat"]), TUE_NIGHT, NOW, KEEP).id
        service.decide(session, site_id, claim, service.Decision(approve=True), "coordinator:t", NOW, KEEP,
                       inline_pairs=0)
    real = publishing.publish_schedule

    def lost(*args, **kwargs):
        real(*args, **kwargs)  # written, then the connection drops before the commit
        raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(publishing, "publish_schedule", lost)
    worker = Worker(sessions, settings())
    with pytest.raises(OperationalError):
        worker.publish_approvals(now=lambda: NOW)
    with unit_of_work(sessions) as session:
        assert swap_store.get_change(session, site_id, claim).state == "approving"
        assert sites.get_site(session, site_id).published_version == 1
    monkeypatch.setattr(publishing, "publish_schedule", real)
    assert worker.publish_approvals(now=lambda: NOW) == 1
    with unit_of_work(sessions) as session:
        row = swap_store.get_change(session, site_id, claim)
        assert row.state == "approved" and row.published_version == 2
