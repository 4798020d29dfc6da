"""Staffing advice over HTTP: GET /sites/{id}/schedules/{job}/advice."""

from __future__ import annotations

from tests.api.conftest import solve
from tests.scheduler.domain.test_advice import short_site


def test_advice_for_a_short_job(client, make_site, worker):
    site = make_site(short_site().model_dump(mode="json", by_alias=True))
    queued = client.post(f"{site.url}/schedules", json={"time_limit": 2}, headers=site.headers).json()
    early = client.get(f"{site.url}/schedules/{queued['id']}/advice", headers=site.headers)
    assert early.status_code == 409 and early.headers["content-type"].startswith("application/problem+json")
    worker.run_once()
    job = client.get(f"{site.url}/schedules/{queued['id']}", headers=site.headers).json()
    assert job["state"] == "done"
    response = client.get(f"{site.url}/schedules/{job['id']}/advice?time_limit=3", headers=site.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["short_slots"] > 0 and body["still_short"] == []
    assert sum(item["count"] for item in body["items"]) == len(body["volunteers"]) >= 2
    assert "medic" in body["recruiting_text"]
    # the worker worked it out after the solve: the summary counts it, the request only read it
    assert job["result"]["advised_volunteers"] == len(body["volunteers"])
    assert job["result"]["advice_closes_slots"] == len(body["closed_slots"])


def test_the_stored_advice_is_read_not_solved(client, make_site, worker, monkeypatch):
    import api.routes.schedules as routes

    site = make_site(short_site().model_dump(mode="json", by_alias=True))
    queued = client.post(f"{site.url}/schedules", json={"time_limit": 2}, headers=site.headers).json()
    worker.run_once()

    def no_solving(*args, **kwargs):
        raise AssertionError("the request solved")

    monkeypatch.setattr(routes, "advise", no_solving)
    response = client.get(f"{site.url}/schedules/{queued['id']}/advice", headers=site.headers)
    assert response.status_code == 200 and response.json()["volunteers"]


def test_advice_when_nothing_is_short_and_bad_limits(client, site, worker):
    job = solve(client, worker, site, time_limit=2)
    url = f"{site.url}/schedules/{job['id']}/advice"
    result = client.get(f"{site.url}/schedules/{job['id']}/result", headers=site.headers).json()
    response = client.get(url, headers=site.headers)
    assert response.status_code == 200
    if not result["uncovered"]:
        assert response.json()["items"] == [] and response.json()["short_slots"] == 0
    bad = client.get(f"{url}?time_limit=60", headers=site.headers)
    assert bad.status_code == 422 and "time_limit" in bad.text
