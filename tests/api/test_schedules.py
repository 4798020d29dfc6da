"""Schedule jobs over HTTP: queue (202), watch, cancel, publish; reading the published schedule."""

from __future__ import annotations

import threading
import time

from tests.api.conftest import fixture, publish, solve


def test_job_lifecycle(client, site, worker):
    created = client.post(f"{site.url}/schedules", json={"time_limit": 1, "seed": 3}, headers=site.headers)
    assert created.status_code == 202, created.text
    assert created.headers["Location"] == f"{site.url}/schedules/{created.json()['id']}"
    assert int(created.headers["Retry-After"]) >= 1
    job = created.json()
    assert (
        job["state"] == "queued"
        and job["progress"] is None
        and job["horizon"] == {"start": "2027-01-11", "days": 7}
    )
    listed = client.get(f"{site.url}/schedules", headers=site.headers).json()
    assert [j["id"] for j in listed] == [job["id"]]
    not_yet = client.get(f"{site.url}/schedules/{job['id']}/result", headers=site.headers)
    assert not_yet.status_code == 409
    assert client.post(f"{site.url}/schedules/{job['id']}/publish", headers=site.headers).status_code == 409

    worker.run_once()
    done = client.get(created.headers["Location"], headers=site.headers)
    assert "Retry-After" not in done.headers
    job = done.json()
    assert job["state"] == "done" and job["seed"] == 3
    assert job["progress"]["elapsed"] > 0 and job["progress"]["objective"] is not None
    assert job["result"]["status"] in ("optimal", "feasible") and job["result"]["assignments"] > 0
    result = client.get(job["links"]["result"], headers=site.headers).json()
    assert len(result["assignments"]) == job["result"]["assignments"]
    assert client.delete(created.headers["Location"], headers=site.headers).status_code == 409  # finished


def test_default_body_and_horizon(client, site, worker):
    created = client.post(f"{site.url}/schedules", headers=site.headers)  # no body at all: the defaults
    assert created.status_code == 202, created.text
    assert created.json()["time_limit"] == 0.5  # the server's default
    other = client.post(
        f"{site.url}/schedules", json={"horizon": {"start": "2027-01-13", "days": 2}}, headers=site.headers
    )
    assert other.status_code == 202 and other.json()["horizon"]["days"] == 2


def test_cancel_a_queued_job(client, site, worker):
    created = client.post(f"{site.url}/schedules", json={}, headers=site.headers).json()
    cancelled = client.delete(f"{site.url}/schedules/{created['id']}", headers=site.headers)
    assert cancelled.status_code == 202 and cancelled.json()["state"] == "cancelled"
    assert worker.run_once() is None


def test_cancel_a_running_job_stops_the_worker(client, site, worker):
    created = client.post(f"{site.url}/schedules", json={"time_limit": 20}, headers=site.headers).json()
    url = f"{site.url}/schedules/{created['id']}"
    runner = threading.Thread(target=worker.run_once)
    runner.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        job = client.get(url, headers=site.headers).json()
        if job["state"] == "running" and job["progress"]:
            break
        time.sleep(0.05)
    assert job["state"] == "running" and job["progress"]["elapsed"] >= 0
    asked = client.delete(url, headers=site.headers)
    assert asked.status_code == 202 and asked.json()["cancel_requested"]
    runner.join(timeout=10)
    assert not runner.is_alive()
    final = client.get(url, headers=site.headers).json()
    assert final["state"] == "cancelled" and final["progress"]["elapsed"] < 15
    assert client.post(f"{url}/publish", headers=site.headers).status_code == 409


def test_a_scenario_that_cannot_be_planned_is_refused_with_the_field(client, site):
    # v010 is sick until the 15th: pinning them on the 12th cannot be planned
    pins = [{"volunteer": "v010", "post": "gate", "shift": "late", "date": "2027-01-12"}]
    assert client.put(f"{site.url}/pins", json=pins, headers=site.headers).status_code == 200
    response = client.post(f"{site.url}/schedules", json={}, headers=site.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "pinned[0]"
    assert "sick" in response.json()["errors"][0]["message"]
    too_long = client.post(f"{site.url}/schedules", json={"time_limit": 31}, headers=site.headers)
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "time_limit"


def test_publish_and_read(client, site, worker):
    job = solve(client, worker, site)
    assert (
        client.get(f"{site.url}/schedule", headers=site.headers).status_code == 404
    )  # nothing published yet
    version = publish(client, site, job["id"])
    assert version["number"] == 1 and version["current"] and version["job_id"] == job["id"]
    again = client.post(f"{site.url}/schedules/{job['id']}/publish", headers=site.headers)
    assert again.status_code == 409

    published = client.get(f"{site.url}/schedule", headers=site.headers).json()
    schedule = published["schedule"]
    assert published["number"] == 1 and schedule["assignments"]
    assert client.get(site.url, headers=site.headers).json()["published_version"] == 1

    everything = client.get(f"{site.url}/schedule/assignments", headers=site.headers).json()
    assert everything == schedule["assignments"]
    mine = client.get(
        f"{site.url}/schedule/assignments", params={"volunteer": "v002"}, headers=site.headers
    ).json()
    assert mine and all(a["volunteer"] == "v002" for a in mine)
    window = client.get(
        f"{site.url}/schedule/assignments",
        params={"post": "gate", "from": "2027-01-12", "until": "2027-01-13"},
        headers=site.headers,
    ).json()
    assert window and {a["date"] for a in window} <= {"2027-01-12", "2027-01-13"}
    assert all(a["post"] == "gate" for a in window)
    load = client.get(f"{site.url}/schedule/load", headers=site.headers).json()
    assert {t["volunteer"] for t in load} == {f"v{i:03d}" for i in range(1, 11)}
    v002 = client.get(f"{site.url}/schedule/load", params={"volunteer": "v002"}, headers=site.headers).json()
    assert v002[0]["shifts"] == len(mine)

    # a second publication keeps the first as a version
    second = solve(client, worker, site, seed=1)
    assert publish(client, site, second["id"])["number"] == 2
    versions = client.get(f"{site.url}/schedule/versions", headers=site.headers).json()
    assert [(v["number"], v["current"]) for v in versions] == [(2, True), (1, False)]
    old = client.get(f"{site.url}/schedule/versions/1", headers=site.headers).json()
    assert old["schedule"] == schedule and not old["current"]
    old_mine = client.get(
        f"{site.url}/schedule/assignments", params={"volunteer": "v002", "version": 1}, headers=site.headers
    ).json()
    assert old_mine == mine
    assert client.get(f"{site.url}/schedule/versions/3", headers=site.headers).status_code == 404


def test_uncovered_demand_is_not_an_error(client, make_site, worker):
    data = fixture()
    # a post that needs a skill nobody has: the job still finishes, listing the slots and why
    data["posts"].append(
        {
            "id": "surgery",
            "name": "Surgery",
            "shifts": [
                {
                    "id": "day",
                    "start": "10:00",
                    "end": "12:00",
                    "weekdays": ["mon"],
                    "skills": {"surgeon": 1},
                },
            ],
        }
    )
    site = make_site(data)
    job = solve(client, worker, site)
    assert job["result"]["uncovered_slots"] >= 1
    publish(client, site, job["id"])
    uncovered = client.get(f"{site.url}/schedule/uncovered", headers=site.headers).json()
    surgery = [u for u in uncovered if u["post"] == "surgery"]
    assert surgery and surgery[0]["missing_skills"] == {"surgeon": 1} and surgery[0]["reason"]
    assert client.get(
        f"{site.url}/schedule/uncovered", params={"post": "gate"}, headers=site.headers
    ).json() == [u for u in uncovered if u["post"] == "gate"]


def test_a_stale_running_job_is_reported_failed(client, site, app):
    from scheduler.store import jobs
    from scheduler.store.db import utcnow

    created = client.post(f"{site.url}/schedules", json={}, headers=site.headers).json()
    with app.state.sessions() as session:
        jobs.claim_next(session, "a worker that died", utcnow())
        row = session.get(jobs.JobRow, created["id"])
        import datetime as dt

        row.heartbeat_at = utcnow() - dt.timedelta(minutes=10)
        session.commit()
    job = client.get(f"{site.url}/schedules/{created['id']}", headers=site.headers).json()
    assert job["state"] == "failed" and "heartbeat" in job["error"]


def test_a_large_job_is_checked_by_the_worker_and_fails_naming_the_field(app, client, site, worker):
    """Over ``inline_compile_pairs`` the request does not compile (it would hold the web process): the
    job is queued, and the worker's compile fails it with the same problem the 422 names."""
    from scheduler.store import jobs as job_store

    pins = [{"volunteer": "v010", "post": "gate", "shift": "late", "date": "2027-01-12"}]
    assert client.put(f"{site.url}/pins", json=pins, headers=site.headers).status_code == 200
    compiled = []
    real = job_store.compile_scenario
    app.state.settings.inline_compile_pairs = 0
    try:
        job_store.compile_scenario = lambda s: compiled.append(s) or real(s)
        response = client.post(f"{site.url}/schedules", json={}, headers=site.headers)
    finally:
        job_store.compile_scenario = real
    assert response.status_code == 202, response.text
    assert compiled == []  # nothing compiled in the request
    assert worker.run_once() == response.json()["id"]
    job = client.get(response.headers["Location"], headers=site.headers).json()
    assert job["state"] == "failed"
    assert job["error"].startswith("the scenario cannot be planned: pinned[0]") and "sick" in job["error"]
