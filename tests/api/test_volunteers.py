"""Volunteers: skills, availability, preferences, contact; their health history stays untouched."""

from __future__ import annotations

NEW = {
    "id": "v100",
    "name": "Ada Nowak",
    "contact": {"phone": "+49 30 1234567", "email": "ada@example.org"},
    "skills": ["medical", "driver"],
    "availability": [{"weekdays": ["sat", "sun"], "start": "08:00", "end": "20:00"}],
    "preferences": {"preferred_posts": ["gate"], "unwanted_weekdays": ["sun"]},
    "health": [{"status": "recovering", "from": "2027-01-01", "until": "2027-01-12", "reason": "unwell"}],
}


def test_add_read_replace_delete(client, site):
    created = client.post(f"{site.url}/volunteers", json=NEW, headers=site.headers)
    assert created.status_code == 201, created.text
    url = created.headers["Location"]
    assert url == f"{site.url}/volunteers/v100"
    got = client.get(url, headers=site.headers)
    body = got.json()
    assert body["skills"] == ["medical", "driver"] and body["contact"]["email"] == "ada@example.org"
    assert body["health"][0]["status"] == "recovering"
    # read, change, write back as read (health included, unchanged)
    body["skills"] = ["medical"]
    put = client.put(url, json=body, headers={**site.headers, "If-Match": got.headers["ETag"]})
    assert put.status_code == 200, put.text
    assert put.json()["skills"] == ["medical"] and put.json()["health"] == body["health"]
    assert (
        client.put(url, json=body, headers={**site.headers, "If-Match": got.headers["ETag"]}).status_code
        == 409
    )
    assert client.delete(url, headers=site.headers).status_code == 204
    assert client.get(url, headers=site.headers).status_code == 404


def test_health_cannot_be_rewritten_through_the_volunteer(client, site):
    url = f"{site.url}/volunteers/v010"
    body = client.get(url, headers=site.headers).json()
    body["health"] = []
    response = client.put(url, json=body, headers=site.headers)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "health"
    del body["health"]
    assert client.put(url, json=body, headers=site.headers).status_code == 200
    assert client.get(url, headers=site.headers).json()["health"]  # still there


def test_preferences_must_name_existing_posts(client, site):
    bad = NEW | {"preferences": {"preferred_posts": ["nowhere"]}}
    response = client.post(f"{site.url}/volunteers", json=bad, headers=site.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "preferences.preferred_posts"
    assert client.get(f"{site.url}/volunteers/v100", headers=site.headers).status_code == 404


def test_duplicate_id_is_a_conflict(client, site):
    response = client.post(f"{site.url}/volunteers", json=NEW | {"id": "v001"}, headers=site.headers)
    assert response.status_code == 409


def test_a_pinned_volunteer_cannot_be_deleted(client, site):
    pins = [{"volunteer": "v002", "post": "gate", "shift": "early", "date": "2027-01-12"}]
    client.put(f"{site.url}/pins", json=pins, headers=site.headers)
    assert client.delete(f"{site.url}/volunteers/v002", headers=site.headers).status_code == 409


def test_an_absence_reason_is_from_the_list_and_free_text_is_refused(client, site):
    absent = {"from": "2027-01-14", "until": "2027-01-15"}
    free = {**NEW, "unavailable": [{**absent, "reason": "travel"}, {**absent, "reason": "chemotherapy"}]}
    refused = client.post(f"{site.url}/volunteers", json=free, headers=site.headers)
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["unavailable[1].reason"]
    assert client.get(f"{site.url}/volunteers/v100", headers=site.headers).status_code == 404
    url = f"{site.url}/volunteers/v010"
    got = client.get(url, headers=site.headers)
    body = got.json()
    body["unavailable"] = [{**absent, "reason": "hospital"}]
    put = client.put(url, json=body, headers={**site.headers, "If-Match": got.headers["ETag"]})
    assert put.status_code == 422 and put.json()["errors"][0]["field"] == "unavailable[0].reason"
    body["unavailable"] = [{**absent, "reason": "appointment"}]
    put = client.put(url, json=body, headers={**site.headers, "If-Match": got.headers["ETag"]})
    assert put.status_code == 200, put.text
    assert put.json()["unavailable"] == [{**absent, "reason": "appointment"}]
    assert "hospital" not in client.get(url, headers=site.headers).text


def test_a_scenario_import_with_a_free_text_absence_reason_is_refused(client, make_site):
    from tests.api.conftest import fixture

    admin = make_site(admin=True)
    data = fixture()
    data["volunteers"][3]["unavailable"] = [{"from": "2027-01-14", "reason": "oncology"}]
    refused = client.post("/sites", json=data, headers=admin.headers)
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["volunteers[3].unavailable[0].reason"]
