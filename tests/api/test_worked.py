"""Worked hours over the API: GET/POST /sites/{id}/worked, PUT .../worked/{record}, POST .../confirm; bad
input is problem+json naming the field, and nothing is written."""

from __future__ import annotations

import datetime as dt

from tests.api.conftest import publish, solve


def _past(client, site, worker):
    publish(client, site, solve(client, worker, site)["id"])
    return client.get(f"{site.url}/schedule/assignments", headers=site.headers).json()


def test_record_list_correct_and_confirm(client, site, worker):
    assignments = _past(client, site, worker)
    a = min(assignments, key=lambda x: (x["start"], x["volunteer"]))
    day = a["date"]
    url = f"{site.url}/worked"
    # the published rota is in the future (2027): nothing has started yet
    assert client.get(f"{url}?from={day}&to={day}", headers=site.headers).json() == []
    start = dt.datetime.fromisoformat(a["start"])
    future = {"volunteer": a["volunteer"], "post": a["post"], "shift": a["shift"], "date": day,
              "status": "worked", "start": a["start"], "end": a["end"]}
    refused = client.post(url, json=future, headers=site.headers)
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
    assert {e["field"] for e in refused.json()["errors"]} == {"start", "end"}

    # an extra shift in the past: listed on its day
    extra = {"volunteer": a["volunteer"], "post": a["post"], "status": "extra",
             "start": "2026-11-30T08:00:00+01:00", "end": "2026-11-30T12:30:00+01:00"}
    made = client.post(url, json=extra, headers=site.headers)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["state"] == "extra" and body["hours"] == 4.5 and body["confirmed"]
    assert body["start"] == "2026-11-30T07:00:00Z" and body["recorded_by"].startswith("token:")
    listed = client.get(f"{url}?from=2026-11-30&to=2026-11-30", headers=site.headers).json()
    assert [w["id"] for w in listed] == [body["id"]]
    assert client.get(f"{url}?from=2026-11-29&to=2026-11-29", headers=site.headers).json() == []

    fixed = client.put(f"{url}/{body['id']}", json={"status": "extra", "start": "2026-11-30T08:00:00+01:00",
                                                    "end": "2026-11-30T10:00:00+01:00"}, headers=site.headers)
    assert fixed.status_code == 200 and fixed.json()["hours"] == 2
    for bad, field in (
        ({"status": "extra", "start": "2026-11-30T10:00:00+01:00", "end": "2026-11-30T09:00:00+01:00"},
         "end"),
        ({"status": "extra", "start": "2026-11-30T10:00:00+01:00", "end": "2026-12-01T11:00:00+01:00"},
         "end"),
        ({"status": "extra", "start": "2026-11-30T10:00:00", "end": "2026-11-30T11:00:00+01:00"}, "start"),
        ({"status": "late"}, "status"),
        ({"status": "worked"}, "status"),  # an extra shift stays extra
    ):
        response = client.put(f"{url}/{body['id']}", json=bad, headers=site.headers)
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["errors"][0]["field"] == field, response.json()
    assert client.get(f"{url}?from=2026-11-30&to=2026-11-30", headers=site.headers).json()[0]["hours"] == 2
    assert client.put(f"{url}/999999", json={"status": "no_show"}, headers=site.headers).status_code == 404
    for query, field in (("from=2026-12-01&to=2026-11-01", "to"), ("from=2026-01-01&to=2026-12-01", "to"),
                         ("from=yesterday", "from")):
        response = client.get(f"{url}?{query}", headers=site.headers)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field, query
    half = {"volunteer": a["volunteer"], "post": a["post"], "shift": a["shift"], "status": "no_show"}
    response = client.post(url, json=half, headers=site.headers)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "date"
    unknown = {**half, "date": day, "volunteer": "nobody"}
    response = client.post(url, json=unknown, headers=site.headers)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "volunteer"
    confirmed = client.post(f"{url}/confirm", json={"date": day}, headers=site.headers)
    assert confirmed.status_code == 200 and confirmed.json() == {"confirmed": 0}  # nothing has ended
    assert start > dt.datetime.now(dt.UTC)
    assert client.get(url).status_code == 401


def test_past_published_shifts_are_listed_pending_then_recorded(client, site, worker, monkeypatch):
    assignments = _past(client, site, worker)
    a = min(assignments, key=lambda x: (x["start"], x["volunteer"]))
    day = a["date"]
    of_day = [x for x in assignments if x["date"] == day]
    after = max(dt.datetime.fromisoformat(x["end"]) for x in of_day) + dt.timedelta(hours=1)
    monkeypatch.setattr("api.routes.worked.utcnow", lambda: after.astimezone(dt.UTC))
    url = f"{site.url}/worked"
    listed = client.get(f"{url}?from={day}&to={day}", headers=site.headers).json()
    assert len(listed) == len(of_day) and {w["state"] for w in listed} == {"pending"}
    assert all(w["id"] is None and not w["confirmed"] for w in listed)
    late_end = dt.datetime.fromisoformat(a["end"]) + dt.timedelta(hours=2)
    body = {"volunteer": a["volunteer"], "post": a["post"], "shift": a["shift"], "date": day,
            "status": "worked", "start": a["start"], "end": late_end.isoformat()}
    made = client.post(url, json=body, headers=site.headers)
    assert made.status_code == 201, made.text
    assert made.json()["state"] == "worked" and made.json()["hours"] == a["hours"] + 2
    gone = client.put(f"{url}/{made.json()['id']}", json={"status": "no_show"}, headers=site.headers)
    assert gone.status_code == 200 and gone.json()["hours"] == 0 and gone.json()["start"] is None
    confirmed = client.post(f"{url}/confirm", json={"date": day}, headers=site.headers).json()
    assert confirmed == {"confirmed": len(of_day) - 1}
    states = [w["state"] for w in client.get(f"{url}?from={day}&to={day}", headers=site.headers).json()]
    assert sorted(states) == sorted(["no_show"] + ["worked"] * (len(of_day) - 1))
