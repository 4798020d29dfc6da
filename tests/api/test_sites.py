"""Sites: import, export (lossless), settings, rules, pins, optimistic concurrency."""

from __future__ import annotations

import pytest

from scheduler.domain import scenario as sc
from tests.api.conftest import fixture


@pytest.mark.parametrize("name", ["small", "shelter-dst", "lockdown-community"])
def test_import_then_export_round_trips(client, make_site, name):
    site = make_site(admin=True)  # creating a site needs an admin token (tests/api/test_tokens.py)
    data = fixture(name)
    created = client.post("/sites", json=data, headers=site.headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["Location"] == f"/sites/{body['id']}"
    assert body["site"] == data["site"] and body["coordinator_token"].startswith("rota_")
    new = {"Authorization": f"Bearer {body['coordinator_token']}"}
    exported = client.get(f"/sites/{body['id']}/scenario", headers=new)
    assert exported.status_code == 200
    assert sc.Scenario.model_validate(exported.json()) == sc.Scenario.model_validate(data)
    # the token that created it does not open it: each token is scoped to one site
    assert client.get(f"/sites/{body['id']}", headers=site.headers).status_code == 404


def test_list_and_read_the_tokens_site(client, site):
    listed = client.get("/sites", headers=site.headers).json()
    assert [s["id"] for s in listed] == [site.id]
    got = client.get(site.url, headers=site.headers)
    assert got.status_code == 200 and got.headers["ETag"]
    assert got.json()["site"]["timezone"] == "Europe/Berlin" and got.json()["published_version"] is None


def test_change_settings_with_if_match(client, site):
    etag = client.get(site.url, headers=site.headers).headers["ETag"]
    body = {
        "site": {"name": "Lindenhof", "timezone": "Europe/Berlin"},
        "horizon": {"start": "2027-01-11", "days": 14},
    }
    changed = client.put(site.url, json=body, headers={**site.headers, "If-Match": etag})
    assert changed.status_code == 200, changed.text
    assert changed.json()["horizon"]["days"] == 14 and changed.headers["ETag"] != etag
    stale = client.put(site.url, json=body, headers={**site.headers, "If-Match": etag})
    assert stale.status_code == 409
    assert stale.headers["content-type"] == "application/problem+json"


def test_rules_round_trip_and_bad_references_name_the_field(client, site):
    rules = client.get(f"{site.url}/rules", headers=site.headers)
    assert rules.status_code == 200
    data = rules.json() | {"max_consecutive_days": 5, "forbidden_successions": [["late", "early"]]}
    put = client.put(
        f"{site.url}/rules", json=data, headers={**site.headers, "If-Match": rules.headers["ETag"]}
    )
    assert put.status_code == 200 and put.json()["max_consecutive_days"] == 5
    bad = client.put(
        f"{site.url}/rules", json=data | {"forbidden_successions": [["late", "nope"]]}, headers=site.headers
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "forbidden_successions[0]"
    exported = client.get(f"{site.url}/scenario", headers=site.headers).json()
    assert exported["rules"]["max_consecutive_days"] == 5


def test_pins(client, site):
    pins = [{"volunteer": "v002", "post": "gate", "shift": "early", "date": "2027-01-12"}]
    put = client.put(f"{site.url}/pins", json=pins, headers=site.headers)
    assert put.status_code == 200 and put.json() == pins
    bad = client.put(f"{site.url}/pins", json=[pins[0] | {"volunteer": "v999"}], headers=site.headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "[0].volunteer"
    outside = client.put(f"{site.url}/pins", json=[pins[0] | {"date": "2030-01-01"}], headers=site.headers)
    assert outside.status_code == 422 and outside.json()["errors"][0]["field"] == "[0].date"
    # shortening the horizon would leave the pin outside it: a conflict with the rest of the site
    body = {"site": {"name": "x", "timezone": "Europe/Berlin"}, "horizon": {"start": "2027-01-13", "days": 2}}
    conflict = client.put(site.url, json=body, headers=site.headers)
    assert conflict.status_code == 409 and conflict.json()["errors"][0]["field"] == "pinned[0].date"


def test_delete_site(client, make_site):
    site = make_site(admin=True)
    tag = client.get(site.url, headers=site.headers).headers["ETag"]
    assert client.delete(site.url, headers={**site.headers, "If-Match": tag}).status_code == 204
    # the token went with the site
    assert client.get(site.url, headers=site.headers).status_code == 401
