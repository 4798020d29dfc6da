"""Editing one volunteer or one post re-syncs only the calendar events that show it (issue 14), and
leaves the events exactly as a full sync would."""

from __future__ import annotations

import datetime as dt

from scheduler.domain import calendar as cal
from scheduler.store import calendars, sites
from scheduler.store.db import utcnow
from scheduler.store.schedules import published as published_version
from tests.api.test_resolve_api import busiest_in_window, published  # noqa: F401


def events(app, site_id: int) -> dict[str, cal.EventState]:
    with app.state.sessions() as session:
        return {s.uid: s for s in calendars.states(session, site_id)}


def full_sync(app, site_id: int) -> list[cal.EventState]:
    """What a full sync of the site would make of its events now."""
    with app.state.sessions() as session:
        site = sites.get_site(session, site_id)
        inputs = cal.event_inputs(str(site_id), sites.export_scenario(session, site),
                                  published_version(session, site).model)
        return cal.sync_events(calendars.states(session, site_id), inputs, utcnow(), dt.timedelta(days=14))


def test_renaming_a_volunteer_changes_their_events_and_their_teammates_only(client, published, app):  # noqa: F811
    site, assignments = published
    who = busiest_in_window(assignments)
    crews = {(a["post"], a["shift"], a["date"]) for a in assignments if a["volunteer"] == who}
    before = events(app, site.id)
    body = client.get(f"{site.url}/volunteers/{who}", headers=site.headers).json()
    body["name"] = "Renamed Person"
    assert client.put(f"{site.url}/volunteers/{who}", json=body, headers=site.headers).status_code == 200
    after = events(app, site.id)
    changed = {uid for uid, state in after.items() if before.get(uid) != state}
    assert changed and set(after) == set(before)
    assert all((after[u].post, after[u].shift, after[u].date.isoformat()) in crews for u in changed)
    assert any(after[u].volunteer != who for u in changed)  # a teammate sees the new name
    assert all("Renamed Person" in after[u].description or after[u].volunteer == who for u in changed)
    assert full_sync(app, site.id) == sorted(after.values(), key=lambda s: (s.start, s.end, s.uid))


def test_renaming_a_post_changes_its_events_only(client, published, app):  # noqa: F811
    site, _ = published
    before = events(app, site.id)
    body = client.get(f"{site.url}/posts/gate", headers=site.headers).json()
    body["name"] = "North gate"
    assert client.put(f"{site.url}/posts/gate", json=body, headers=site.headers).status_code == 200
    after = events(app, site.id)
    changed = {uid for uid, state in after.items() if before.get(uid) != state}
    assert changed and all(after[u].post == "gate" and "North gate" in after[u].summary for u in changed)
    assert full_sync(app, site.id) == sorted(after.values(), key=lambda s: (s.start, s.end, s.uid))
