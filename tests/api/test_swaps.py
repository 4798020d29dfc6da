"""Swaps through the HTTP API and the volunteer's pages: offer, the people listed (the rest rule keeps
one out), accept, the coordinator approves, both feeds change; tenant isolation; tokens that are not a
volunteer's own feed open nothing."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import icalendar
import pytest

from scheduler.store import access
from scheduler.store.db import utcnow
from tests.api.conftest import SiteHandle, seed_site
from tests.scheduler.services.test_swaps import publish_site


def start_day() -> dt.date:
    """The first day of the swap scenario: the day after tomorrow in Berlin, so every shift is ahead."""
    return dt.datetime.now(ZoneInfo("Europe/Berlin")).date() + dt.timedelta(days=2)


@pytest.fixture
def swap_site(app) -> tuple[SiteHandle, dict[str, str], dt.date]:
    start = start_day()
    site_id, tokens = publish_site(app.state.sessions, start.isoformat(), now=utcnow())
    with app.state.sessions() as session:
        token = access.create_api_token(session, site_id, "coordinator ann", utcnow())
        session.commit()
    return SiteHandle(site_id, token), tokens, start


def feed(client, token: str) -> dict[str, icalendar.Event]:
    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200
    events = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    return {e["DTSTART"].dt.astimezone(dt.UTC).isoformat(): e for e in events}


def test_a_give_away_through_the_pages_and_the_api(client, swap_site):
    site, tokens, start = swap_site
    tue = (start + dt.timedelta(days=1)).isoformat()
    page = client.get(f"/me/{tokens['ann']}/swaps")
    assert page.status_code == 200 and "Volunteer ann" in page.text
    offer = client.get(
        f"/me/{tokens['ann']}/swaps/offer", params={"post": "gate", "shift": "day", "date": tue}
    )
    assert offer.status_code == 200
    give = offer.text.split('id="give"')[1].split('id="swap"')[0]
    assert "Volunteer cat" in give and "Volunteer gus" in give
    assert "Volunteer bob" not in give  # his night ends 2 h before: the rest rule
    assert "Volunteer dan" not in give  # sick
    made = client.post(
        f"/me/{tokens['ann']}/swaps/offer",
        data={"post": "gate", "shift": "day", "date": tue, "kind": "give"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    before_ann = feed(client, tokens["ann"])
    cat_page = client.get(f"/me/{tokens['cat']}/swaps").text
    change_id = int(re.search(r"/swaps/(\d+)/accept", cat_page).group(1))
    assert "/accept" not in client.get(f"/me/{tokens['bob']}/swaps").text
    taken = client.post(f"/me/{tokens['cat']}/swaps/{change_id}/accept", follow_redirects=False)
    assert taken.status_code == 303

    pending = client.get(f"{site.url}/swaps", params={"state": "pending"}, headers=site.headers).json()
    assert [(c["id"], c["offerer"], c["taker"]) for c in pending] == [(change_id, "ann", "cat")]
    decided = client.post(
        f"{site.url}/swaps/{change_id}/decision", json={"approve": True}, headers=site.headers
    )
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert body["state"] == "approved" and body["published_version"] == 2
    assert [e["action"] for e in body["events"]] == ["offered", "accepted", "approved"]
    assert body["events"][-1]["actor"] == "coordinator:coordinator ann"

    after_ann, after_cat = feed(client, tokens["ann"]), feed(client, tokens["cat"])
    [when] = [
        k
        for k, e in before_ann.items()
        if str(e["STATUS"]) == "CONFIRMED"
        and k.startswith(tue[:8])
        and e["DTSTART"].dt.astimezone(ZoneInfo("Europe/Berlin")).date().isoformat() == tue
        and e["DTSTART"].dt.astimezone(ZoneInfo("Europe/Berlin")).hour == 8
    ]
    assert str(after_ann[when]["STATUS"]) == "CANCELLED"
    assert int(after_ann[when]["SEQUENCE"]) > int(before_ann[when]["SEQUENCE"])
    assert str(after_cat[when]["STATUS"]) == "CONFIRMED"
    again = client.post(
        f"{site.url}/swaps/{change_id}/decision", json={"approve": True}, headers=site.headers
    )
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"


def test_the_policy_is_validated_and_another_sites_token_sees_nothing(client, app, swap_site):
    site, tokens, _ = swap_site
    bad = client.put(f"{site.url}/swaps/policy", json={"deadline_hours": 500}, headers=site.headers)
    assert bad.status_code == 422 and "deadline_hours" in bad.text
    ok = client.put(
        f"{site.url}/swaps/policy", json={"approval": "auto", "deadline_hours": 6}, headers=site.headers
    )
    assert ok.json() == {"approval": "auto", "deadline_hours": 6}
    other = seed_site(app)
    assert client.get(f"{site.url}/swaps", headers=other.headers).status_code == 404
    assert client.get(f"{other.url}/swaps/1", headers=other.headers).status_code == 404


def test_only_a_volunteers_own_feed_token_opens_their_pages(client, app, swap_site):
    site, tokens, _ = swap_site
    with app.state.sessions() as session:
        site_feed = access.rotate_feed_token(session, access.Feed(site.id), utcnow())
        session.commit()
    for token in (site_feed, "not-a-token", "x" * 43):
        for path in ("swaps", "open", "swaps/offer?post=gate&shift=day&date=2030-01-01"):
            response = client.get(f"/me/{token}/{path}")
            assert response.status_code == 404 and "Volunteer" not in response.text
        assert (
            client.post(
                f"/me/{token}/open/claim", data={"post": "gate", "shift": "night", "date": "2030-01-01"}
            ).status_code
            == 404
        )


def test_the_open_shifts_page_lists_and_claims(client, swap_site):
    site, tokens, start = swap_site
    tue = (start + dt.timedelta(days=1)).isoformat()
    page = client.get(f"/me/{tokens['cat']}/open")
    assert page.status_code == 200 and f'value="{tue}"' in page.text
    assert f'value="{tue}"' not in client.get(f"/me/{tokens['ann']}/open").text  # 6 h after her day shift
    claimed = client.post(
        f"/me/{tokens['cat']}/open/claim",
        data={"post": "gate", "shift": "night", "date": tue},
        follow_redirects=False,
    )
    assert claimed.status_code == 303
    again = client.post(
        f"/me/{tokens['cat']}/open/claim", data={"post": "gate", "shift": "night", "date": tue}
    )
    assert again.status_code == 409 and "already claimed" in again.text
    assert [c["kind"] for c in client.get(f"{site.url}/swaps", headers=site.headers).json()] == ["claim"]
