"""Size caps (issue 14): volunteers, posts, shift templates, days and volunteers x days are checked
before anything is compiled, on import, edits, solves and re-solves: 413 problem+json naming the field,
nothing written."""

from __future__ import annotations

import pytest

from scheduler.store import jobs
from tests.api.conftest import fixture, make_settings

NEW_VOLUNTEER = {"id": "v099", "name": "Extra Person"}
NEW_POST = {"id": "desk", "name": "Desk", "shifts": [{"id": "day", "start": "08:00", "end": "16:00"}]}


@pytest.fixture
def settings(database_url):
    # the small fixture: 10 volunteers, 2 posts with 3 templates, 7 days = 70 volunteer-days
    return make_settings(database_url).model_copy(
        update={"max_volunteers": 10, "max_posts": 2, "max_templates": 4, "max_volunteer_days": 140}
    )


@pytest.fixture
def no_compile(monkeypatch):
    """Fail the test if a scenario is compiled (the caps come first)."""
    def refuse(*args, **kwargs):
        raise AssertionError("compiled before the size check")

    monkeypatch.setattr(jobs, "compile_scenario", refuse)


def problem(response, status: int = 413) -> list[str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return [e["field"] for e in response.json()["errors"]]


def test_an_import_beyond_the_caps_is_refused_and_nothing_is_written(client, make_site):
    admin = make_site(admin=True)
    data = fixture()
    data["volunteers"].append(NEW_VOLUNTEER)
    data["posts"].append(NEW_POST)
    data["posts"][0]["shifts"].append({"id": "late2", "start": "16:00", "end": "22:00"})
    fields = problem(client.post("/sites", json=data, headers=admin.headers))
    assert fields == ["volunteers", "posts", "posts"]
    assert len(client.get("/sites", headers=admin.headers).json()) == 1
    # within the caps it is fine
    assert client.post("/sites", json=fixture(), headers=admin.headers).status_code == 201


def test_edits_that_grow_the_site_beyond_a_cap_are_refused(client, site):
    assert problem(client.post(f"{site.url}/volunteers", json=NEW_VOLUNTEER, headers=site.headers)) == [
        "volunteers"
    ]
    assert len(client.get(f"{site.url}/volunteers", headers=site.headers).json()) == 10
    assert problem(client.post(f"{site.url}/posts", json=NEW_POST, headers=site.headers)) == ["posts"]
    current = client.get(f"{site.url}", headers=site.headers).json()
    longer = {"site": current["site"], "horizon": {"start": current["horizon"]["start"], "days": 15}}
    response = client.put(f"{site.url}", json=longer, headers=site.headers)
    assert problem(response) == ["volunteers"] and "10 x 15" in response.json()["errors"][0]["message"]
    assert client.get(f"{site.url}", headers=site.headers).json()["horizon"]["days"] == 7


def test_a_solve_over_too_many_volunteer_days_is_refused_before_any_compile(client, site, no_compile):
    response = client.post(
        f"{site.url}/schedules", json={"horizon": {"start": "2027-01-11", "days": 20}}, headers=site.headers
    )
    assert problem(response) == ["volunteers"]
    assert client.get(f"{site.url}/schedules", headers=site.headers).json() == []


def test_a_re_solve_that_adds_beyond_a_cap_is_refused(client, site, worker):
    from tests.api.conftest import publish, solve

    publish(client, site, solve(client, worker, site, time_limit=1)["id"])
    body = {
        "disruptions": [{"kind": "new_volunteer", "volunteer": NEW_VOLUNTEER}], "cutoff": "2027-01-13T06:40"
    }
    assert problem(client.post(f"{site.url}/disruptions", json=body, headers=site.headers)) == ["volunteers"]
    assert len(client.get(f"{site.url}/volunteers", headers=site.headers).json()) == 10
