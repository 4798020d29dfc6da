"""The volunteer's swap pages (/me/{token}/swaps, /me/{token}/open) and the coordinator's /console/swaps,
through TestClient: offer, the people listed (the rest rule keeps one out), accept, approve, both feeds
change; the Chinese page; tokens that are not a volunteer's own feed open nothing."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from scheduler.store import access
from scheduler.store.db import utcnow
from tests.api import test_swaps as api_swaps
from tests.api.console.conftest import csrf_of, sign_in
from tests.api.test_swaps import feed

swap_site = api_swaps.swap_site  # the fixture


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


def test_the_coordinator_approves_on_the_console_and_the_trail_says_who(client, console, swap_site):
    site, tokens, start = swap_site
    tue = (start + dt.timedelta(days=1)).isoformat()
    client.post(f"/me/{tokens['cat']}/open/claim", data={"post": "gate", "shift": "night", "date": tue})
    sign_in(console, site)
    page = console.get("/console/swaps")
    assert page.status_code == 200 and "Volunteer cat" in page.text
    change_id = int(re.search(r"/console/swaps/(\d+)/decide", page.text).group(1))
    refused = console.post(f"/console/swaps/{change_id}/decide", data={"approve": "1"})
    assert refused.status_code == 403  # no CSRF token
    done = console.post(
        f"/console/swaps/{change_id}/decide",
        data={"approve": "1", "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/console/swaps?done=approved"
    after = console.get("/console/swaps").text
    assert "coordinator:console" in after and "volunteer:cat" in after
    bad = console.post(
        "/console/swaps/policy", data={"approval": "auto", "deadline_hours": "x", "csrf": csrf_of(after)}
    )
    assert bad.status_code == 422 and "whole number" in bad.text


def test_the_volunteer_pages_in_chinese(client, swap_site):
    _, tokens, _ = swap_site
    page = client.get(f"/me/{tokens['ann']}/swaps", params={"lang": "zh_CN"})
    assert page.status_code == 200 and "换班或让出班次" in page.text and 'lang="zh-CN"' in page.text
    zh = client.get(f"/me/{tokens['cat']}/open", headers={"Accept-Language": "zh-CN"})
    assert "空缺班次" in zh.text


def test_an_approval_on_a_large_site_shows_as_being_published_until_the_worker_did(
    app, client, console, swap_site
):
    from scheduler.worker.loop import Worker

    app.state.settings = app.state.settings.model_copy(update={"inline_compile_pairs": 0})
    site, tokens, start = swap_site
    tue = (start + dt.timedelta(days=1)).isoformat()
    client.post(f"/me/{tokens['cat']}/open/claim", data={"post": "gate", "shift": "night", "date": tue})
    sign_in(console, site)
    page = console.get("/console/swaps")
    change_id = int(re.search(r"/console/swaps/(\d+)/decide", page.text).group(1))
    done = console.post(
        f"/console/swaps/{change_id}/decide",
        data={"approve": "1", "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/console/swaps?done=approving"
    shown = console.get(done.headers["location"]).text
    assert "The site is large" in shown and 'id="approving"' in shown and "Being published" in shown
    assert "approved: going into the rota" in client.get(f"/me/{tokens['cat']}/open").text
    assert Worker(app.state.sessions, app.state.settings, name="test").publish_approvals() == 1
    after = console.get("/console/swaps").text
    assert 'id="approving"' not in after and "version 2" in after
    assert "done: in the rota" in client.get(f"/me/{tokens['cat']}/open").text
