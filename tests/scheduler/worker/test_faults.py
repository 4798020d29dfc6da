"""Faults: a worker killed with SIGKILL in the middle of a search, and a process killed in the middle of
a publication. Nothing is half-written: the killed job ends failed with a reason (no job stays running),
the published schedule and its calendar events are exactly as before, and the queue goes on."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import textwrap

from sqlalchemy import func, select

from scheduler.store import calendars, jobs, sites
from scheduler.store.db import make_engine, make_sessions, unit_of_work, utcnow
from scheduler.store.schedules import ScheduleVersionRow
from scheduler.worker.loop import Worker
from tests.scheduler.store.test_jobs import queue, state
from tests.scheduler.worker.test_worker import ROOT, settings, wait_for

KEEP = dt.timedelta(days=14)


def _database(sqlite_template, tmp_path):
    path = tmp_path / "rota.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    return url, engine, make_sessions(engine)


def _published(sessions, site_id: int):
    """(published version, number of versions, calendar event states): what a publication changes."""
    with sessions() as session:
        site = sites.get_site(session, site_id)
        count = session.scalar(
            select(func.count()).select_from(ScheduleVersionRow).where(ScheduleVersionRow.site_id == site_id)
        )
        events = sorted(repr(state) for state in calendars.states(session, site_id))
        return site.published_version, count, events


def _publish_first(sessions) -> tuple[int, int]:
    """A site with a solved and published schedule: (site id, job id)."""
    site_id, job_id = queue(sessions)
    assert Worker(sessions, settings()).run_once() == job_id
    from scheduler.services.publishing import publish

    with unit_of_work(sessions) as session:
        site = sites.get_site(session, site_id, lock=True)
        publish(session, site, session.get(jobs.JobRow, job_id), utcnow(), KEEP)
    return site_id, job_id


def _worker(url: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "ROTA_DATABASE_URL": url,
        "ROTA_WORKER_POLL_INTERVAL": "0.1",
        "ROTA_HEARTBEAT_INTERVAL": "0.2",
        "ROTA_SOLVER_WORKERS": "1",
        "ROTA_JOB_STALE_AFTER": "2",
    }
    return subprocess.Popen(
        [sys.executable, "-c", "from scheduler.cli.main import app; app()", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_worker_killed_mid_solve_leaves_a_failed_job_and_the_published_schedule_intact(
    sqlite_template, tmp_path
):
    url, engine, sessions = _database(sqlite_template, tmp_path)
    site_id, _ = _publish_first(sessions)
    before = _published(sessions, site_id)
    assert before[0] == 1 and before[2]  # a published version with calendar events
    with unit_of_work(sessions) as session:
        slow = jobs.create_job(
            session, site_id, sites.export_scenario(session, sites.get_site(session, site_id)),
            jobs.JobRequest(time_limit=20), default_time_limit=1, max_time_limit=30, workers=1, now=utcnow(),
        ).id
    process = _worker(url)
    try:
        wait_for(lambda: (state(sessions, slow).progress or {}).get("elapsed"), timeout=60)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    assert state(sessions, slow).state == "running"  # nobody could say otherwise: the worker is gone

    # the next worker (or the service at start-up) marks it failed once its heartbeat is stale
    survivor = _worker(url)
    try:
        row = wait_for(lambda: (r := state(sessions, slow)).state != "running" and r, timeout=60)
        assert row.state == "failed" and "no heartbeat" in row.error
        _, quick = queue(sessions)  # and the queue goes on
        wait_for(lambda: state(sessions, quick).state == "done", timeout=60)
    finally:
        survivor.terminate()
        survivor.wait(timeout=15)
    assert _published(sessions, site_id) == before
    with sessions() as session:
        assert not session.scalars(select(jobs.JobRow).where(jobs.JobRow.state == "running")).all()
    engine.dispose()


def test_a_process_killed_mid_publication_changes_nothing(sqlite_template, tmp_path):
    url, engine, sessions = _database(sqlite_template, tmp_path)
    site_id, _ = _publish_first(sessions)
    with unit_of_work(sessions) as session:
        site = sites.get_site(session, site_id)
        second = jobs.create_job(
            session, site_id, sites.export_scenario(session, site), jobs.JobRequest(seed=3),
            default_time_limit=1, max_time_limit=10, workers=1, now=utcnow(),
        ).id
    assert Worker(sessions, settings()).run_once() == second
    before = _published(sessions, site_id)
    assert before[0] == 1 and before[2]
    script = textwrap.dedent(
        f"""
        import datetime as dt, sys, time
        from scheduler.services.publishing import publish
        from scheduler.store import jobs, sites
        from scheduler.store.db import make_engine, make_sessions, unit_of_work, utcnow
        sessions = make_sessions(make_engine({url!r}))
        with unit_of_work(sessions) as session:
            site = sites.get_site(session, {site_id}, lock=True)
            publish(session, site, session.get(jobs.JobRow, {second}), utcnow(), dt.timedelta(days=14))
            session.flush()
            print("published, not committed", flush=True)
            time.sleep(60)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert process.stdout.readline().strip() == "published, not committed"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert _published(sessions, site_id) == before
    # and the same publication, done properly now, goes through
    from scheduler.services.publishing import publish

    with unit_of_work(sessions) as session:
        site = sites.get_site(session, site_id, lock=True)
        publish(session, site, session.get(jobs.JobRow, second), utcnow(), KEEP)
    version, count, _ = _published(sessions, site_id)
    assert (version, count) == (before[0] + 1, before[1] + 1)
    engine.dispose()
