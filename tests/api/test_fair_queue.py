"""A site's share of the job queue over HTTP: 429 problem+json with Retry-After, other sites unaffected,
and an empty disruption list refused unless ``replan`` says so.

On the old code every request here was accepted (202): no per-site limit existed, and
``{"disruptions": []}`` queued a re-solve."""

from __future__ import annotations

import pytest


@pytest.fixture
def settings(database_url):
    from tests.api.conftest import make_settings

    return make_settings(database_url).model_copy(
        update={"site_max_active_jobs": 2, "site_max_active_seconds": 20}
    )


def _queue(client, site, **body):
    return client.post(f"{site.url}/schedules", json=body, headers=site.headers)


def test_a_site_over_its_share_gets_429_and_another_site_does_not(client, make_site):
    a, b = make_site(), make_site()
    assert _queue(client, a, time_limit=1).status_code == 202
    assert _queue(client, a, time_limit=1).status_code == 202
    refused = _queue(client, a, time_limit=1)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["retry-after"] == "1"
    body = refused.json()
    assert body["type"] == "urn:rota:problem:too-many-jobs" and body["status"] == 429
    assert "2 jobs queued or running" in body["detail"]
    # the seconds of search count too
    assert _queue(client, b, time_limit=15).status_code == 202
    too_long = _queue(client, b, time_limit=6)
    assert too_long.status_code == 429 and "20 s per site" in too_long.json()["detail"]
    assert _queue(client, b, time_limit=5).status_code == 202
    # a cancelled (or finished) job frees its place
    first = client.get(f"{a.url}/schedules", headers=a.headers).json()[-1]
    assert client.delete(f"{a.url}/schedules/{first['id']}", headers=a.headers).status_code == 202
    assert _queue(client, a, time_limit=1).status_code == 202


def test_an_empty_disruption_list_needs_replan(client, site):
    empty = client.post(f"{site.url}/disruptions", json={"disruptions": []}, headers=site.headers)
    assert empty.status_code == 422
    [problem] = empty.json()["errors"]
    assert problem["field"] == "disruptions" and '"replan": true' in problem["message"]
    assert client.post(f"{site.url}/disruptions", json={}, headers=site.headers).status_code == 422
    # explicit: accepted past validation (here 409: nothing is published yet to re-plan)
    replan = client.post(f"{site.url}/disruptions", json={"replan": True}, headers=site.headers)
    assert replan.status_code == 409 and "no published schedule" in replan.json()["detail"]
