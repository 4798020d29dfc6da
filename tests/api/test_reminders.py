"""Reminders before shifts: the site's setting (GET/PUT /sites/{id}/reminders, checked like every body),
VALARMs in volunteers' own feeds (parsed by icalendar and vobject), and ``shift.reminder`` webhook events
queued by the worker once per shift and offset, also across a re-solve that keeps the shift."""

from __future__ import annotations

import datetime as dt

from scheduler.store.webhooks import DeliveryRow
from tests.api.conftest import publish, solve
from tests.scheduler.domain.test_calendar import parse_feed


def _reminders(app) -> list[dict]:
    with app.state.sessions() as session:
        return [d.payload for d in session.query(DeliveryRow).order_by(DeliveryRow.id)
                if d.event == "shift.reminder"]


def test_reminder_settings_are_checked(client, site):
    assert client.get(f"{site.url}/reminders", headers=site.headers).json() == {"hours_before": []}
    for bad in ([0], [1, 1], [1, 2, 3, 4, 5], [200], [0.01], "x"):
        response = client.put(f"{site.url}/reminders", json={"hours_before": bad}, headers=site.headers)
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["field"].startswith("hours_before"), response.json()
    ok = client.put(f"{site.url}/reminders", json={"hours_before": [1, 12]}, headers=site.headers)
    assert ok.status_code == 200 and ok.json() == {"hours_before": [12, 1]}
    assert client.get(f"{site.url}/reminders", headers=site.headers).json() == {"hours_before": [12, 1]}
    assert client.get(f"{site.url}/reminders").status_code == 401


def test_feeds_carry_valarms_and_reminders_fire_once_per_shift(app, client, site, worker):
    publish(client, site, solve(client, worker, site)["id"])
    url = client.post(f"{site.url}/volunteers/v002/calendar/token", headers=site.headers).json()["url"]
    before = client.get(url.removeprefix("http://testserver")).content
    assert b"VALARM" not in before
    client.put(f"{site.url}/reminders", json={"hours_before": [12, 1]}, headers=site.headers)
    body = client.get(url.removeprefix("http://testserver")).content
    events = parse_feed(body)  # two independent parsers agree
    assert events and all([a[1] for a in e["alarms"]] == [dt.timedelta(hours=1), dt.timedelta(hours=12)]
                          for e in events if e["status"] == "CONFIRMED")
    # the site and post feeds are the coordinators' overviews: no alarms there
    assert b"VALARM" not in client.get(f"{site.url}/calendar.ics", headers=site.headers).content

    assert client.put(f"{site.url}/webhook", json={"url": "https://hooks.example.org/rota"},
                      headers=site.headers).status_code in (200, 201)
    assignments = client.get(f"{site.url}/schedule/assignments", headers=site.headers).json()
    first = min(assignments, key=lambda a: (a["start"], a["volunteer"]))
    start = dt.datetime.fromisoformat(first["start"])
    key = (first["volunteer"], first["post"], first["shift"], first["date"])

    def mine(payloads):
        return [p for p in payloads if (p["volunteer"]["id"], p["shift"]["post"], p["shift"]["shift"],
                                        p["shift"]["date"]) == key]

    assert worker.queue_reminders(now=lambda: start - dt.timedelta(hours=12, minutes=1)) == 0
    at = start - dt.timedelta(hours=12)
    queued = worker.queue_reminders(now=lambda: at)
    window = at + dt.timedelta(hours=12)
    expected = [a for a in assignments if at < dt.datetime.fromisoformat(a["start"]) <= window]
    assert queued == len(expected) >= 1
    [reminder] = mine(_reminders(app))
    assert reminder["hours_before"] == 12
    assert reminder["shift"]["start"] == start.astimezone(dt.UTC).isoformat()
    assert reminder["shift"]["post_name"] and reminder["volunteer"]["name"]
    assert "health" not in str(reminder) and "sick" not in str(reminder)
    assert worker.queue_reminders(now=lambda: at) == 0  # once

    # a re-solve that keeps the shift, published: no second reminder for it
    job = client.post(f"{site.url}/disruptions", json={"replan": True}, headers=site.headers)
    assert job.status_code == 202, job.text
    assert worker.run_once() == job.json()["id"]
    publish(client, site, job.json()["id"])
    kept = client.get(f"{site.url}/schedule/assignments", headers=site.headers).json()
    assert any((a["volunteer"], a["post"], a["shift"], a["date"]) == key for a in kept)
    worker.queue_reminders(now=lambda: at + dt.timedelta(minutes=5))
    assert len(mine(_reminders(app))) == 1

    # an hour before: the 1-hour reminder, once
    soon = start - dt.timedelta(hours=1)
    worker.queue_reminders(now=lambda: soon)
    worker.queue_reminders(now=lambda: soon + dt.timedelta(minutes=1))
    assert [p["hours_before"] for p in mine(_reminders(app))] == [12, 1]
    # after the start: nothing more
    worker.queue_reminders(now=lambda: start + dt.timedelta(minutes=1))
    assert len(mine(_reminders(app))) == 2


def test_a_shift_published_late_gets_only_the_nearest_reminder(app, client, site, worker):
    publish(client, site, solve(client, worker, site)["id"])
    client.put(f"{site.url}/reminders", json={"hours_before": [12, 1]}, headers=site.headers)
    client.put(f"{site.url}/webhook", json={"url": "https://hooks.example.org/rota"}, headers=site.headers)
    assignments = client.get(f"{site.url}/schedule/assignments", headers=site.headers).json()
    start = min(dt.datetime.fromisoformat(a["start"]) for a in assignments)
    worker.queue_reminders(now=lambda: start - dt.timedelta(minutes=30))
    firsts = [p for p in _reminders(app) if dt.datetime.fromisoformat(p["shift"]["start"]) == start]
    assert firsts and {p["hours_before"] for p in firsts} == {1}
    worker.queue_reminders(now=lambda: start - dt.timedelta(minutes=20))
    again = [p for p in _reminders(app) if dt.datetime.fromisoformat(p["shift"]["start"]) == start]
    assert len(again) == len(firsts)


def test_no_reminder_to_someone_off_sick_even_before_the_re_solve(app, client, site, worker):
    publish(client, site, solve(client, worker, site)["id"])
    client.put(f"{site.url}/reminders", json={"hours_before": [1]}, headers=site.headers)
    client.put(f"{site.url}/webhook", json={"url": "https://hooks.example.org/rota"}, headers=site.headers)
    assignments = client.get(f"{site.url}/schedule/assignments", headers=site.headers).json()
    first = min(assignments, key=lambda a: (a["start"], a["volunteer"]))
    start = dt.datetime.fromisoformat(first["start"])
    sick_one = first["volunteer"]
    same_start = [a for a in assignments if dt.datetime.fromisoformat(a["start"]) == start]
    # sick from the day before, no re-solve asked for: the published shift is still theirs
    day_before = (start - dt.timedelta(days=1)).date().isoformat()
    record = client.post(f"{site.url}/volunteers/{sick_one}/health?resolve=false",
                         json={"status": "sick", "from": day_before}, headers=site.headers)
    assert record.status_code == 201, record.text
    still = client.get(f"{site.url}/schedule/assignments", headers=site.headers).json()
    assert any(a["volunteer"] == sick_one and a["start"] == first["start"] for a in still)

    at = start - dt.timedelta(minutes=30)
    worker.queue_reminders(now=lambda: at)
    sent = [p for p in _reminders(app) if dt.datetime.fromisoformat(p["shift"]["start"]) == start]
    assert sick_one not in {p["volunteer"]["id"] for p in sent}
    others = {a["volunteer"] for a in same_start} - {sick_one}
    assert {p["volunteer"]["id"] for p in sent} == others

    # the record was a mistake, deleted before the shift: the reminder goes out after all, once
    assert client.delete(record.headers["Location"], headers=site.headers).status_code == 204
    worker.queue_reminders(now=lambda: at + dt.timedelta(minutes=1))
    worker.queue_reminders(now=lambda: at + dt.timedelta(minutes=2))
    mine = [p for p in _reminders(app) if dt.datetime.fromisoformat(p["shift"]["start"]) == start
            and p["volunteer"]["id"] == sick_one]
    assert len(mine) == 1
