"""Planning the next period: the published shifts before it become the exact history of the job."""

from __future__ import annotations

import datetime as dt

from scheduler.domain.compile import compile_scenario
from scheduler.store import jobs
from tests.api.conftest import publish, solve


def snapshot(app, job_id):
    with app.state.sessions() as session:
        return jobs.scenario_of(session.get(jobs.JobRow, job_id))


def test_next_period_starts_from_the_published_shifts(app, client, site, worker):
    first = solve(client, worker, site, time_limit=2)
    publish(client, site, first["id"])
    plan = client.get(f"{site.url}/schedule/assignments", headers=site.headers).json()
    assert plan
    # the same horizon again: no history taken from the schedule it replans
    again = client.post(f"{site.url}/schedules", json={"time_limit": 1}, headers=site.headers).json()
    assert all(not v.history.recent_shifts for v in snapshot(app, again["id"]).volunteers)

    nxt = {"time_limit": 1, "horizon": {"start": "2027-01-18", "days": 7}}
    created = client.post(f"{site.url}/schedules", json=nxt, headers=site.headers)
    assert created.status_code == 202, created.text
    scenario = snapshot(app, created.json()["id"])
    for v in scenario.volunteers:
        when = dt.datetime.fromisoformat
        mine = sorted(
            (when(a["start"]), when(a["end"]), a["post"], a["shift"])
            for a in plan
            if a["volunteer"] == v.id
        )
        got = sorted((s.start, s.end, s.post, s.shift) for s in v.history.recent_shifts)
        assert got == mine, v.id
        if mine:
            assert v.history.consecutive_days_worked == 0 and v.history.hours_last_7_days == 0
    compile_scenario(scenario)  # the snapshot plans
    assert worker.run_once() == again["id"]  # oldest first
    assert worker.run_once() == created.json()["id"]
    done = client.get(created.headers["Location"], headers=site.headers).json()
    assert done["state"] == "done", done
