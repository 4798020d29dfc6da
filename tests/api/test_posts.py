"""Posts with their shift templates."""

from __future__ import annotations

CLINIC = {
    "id": "clinic",
    "name": "Field clinic",
    "kind": "care",
    "intensity": "light",
    "location": "Hall B",
    "shifts": [{"id": "day", "start": "08:00", "end": "16:00", "weekdays": ["mon", "tue"], "skills": {}}],
}


def test_add_read_replace_delete(client, site):
    created = client.post(f"{site.url}/posts", json=CLINIC, headers=site.headers)
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"{site.url}/posts/clinic"
    etag = created.headers["ETag"]
    got = client.get(f"{site.url}/posts/clinic", headers=site.headers)
    assert got.json()["shifts"][0]["weekdays"] == ["mon", "tue"] and got.headers["ETag"] == etag
    assert [p["id"] for p in client.get(f"{site.url}/posts", headers=site.headers).json()] == [
        "gate",
        "delivery",
        "clinic",
    ]
    # GET, change, PUT back (the id may stay in the body)
    body = got.json() | {"name": "Clinic", "instructions": "Bring: gloves"}
    put = client.put(f"{site.url}/posts/clinic", json=body, headers={**site.headers, "If-Match": etag})
    assert put.status_code == 200 and put.json()["name"] == "Clinic"
    again = client.put(f"{site.url}/posts/clinic", json=body, headers={**site.headers, "If-Match": etag})
    assert again.status_code == 409
    assert client.delete(f"{site.url}/posts/clinic", headers=site.headers).status_code == 204
    assert client.get(f"{site.url}/posts/clinic", headers=site.headers).status_code == 404


def test_duplicate_post_id_is_a_conflict(client, site):
    response = client.post(f"{site.url}/posts", json=CLINIC | {"id": "gate"}, headers=site.headers)
    assert response.status_code == 409 and response.json()["errors"][0]["field"] == "id"


def test_the_path_names_the_post(client, site):
    response = client.put(f"{site.url}/posts/gate", json=CLINIC, headers=site.headers)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "id"


def test_a_referenced_template_or_post_cannot_go(client, site):
    pins = [{"volunteer": "v002", "post": "gate", "shift": "early", "date": "2027-01-12"}]
    assert client.put(f"{site.url}/pins", json=pins, headers=site.headers).status_code == 200
    gate = client.get(f"{site.url}/posts/gate", headers=site.headers).json()
    gate["shifts"] = [s for s in gate["shifts"] if s["id"] != "early"]
    refused = client.put(f"{site.url}/posts/gate", json=gate, headers=site.headers)
    assert refused.status_code == 409 and refused.json()["errors"][0]["field"] == "pinned[0].shift"
    assert client.delete(f"{site.url}/posts/gate", headers=site.headers).status_code == 409
    assert client.get(f"{site.url}/posts/gate", headers=site.headers).json()["shifts"][0]["id"] == "early"


def test_the_last_post_stays(client, site):
    assert client.delete(f"{site.url}/posts/delivery", headers=site.headers).status_code == 204
    last = client.delete(f"{site.url}/posts/gate", headers=site.headers)
    assert last.status_code == 409 and last.json()["errors"][0]["field"] == "posts"
