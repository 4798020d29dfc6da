"""Calendar feeds over HTTP: every feed is parsed back with icalendar and vobject (``parse_feed``) and
checked against the published schedule."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.api.conftest import publish, solve, statements
from tests.scheduler.domain.test_calendar import parse_feed

UTC = dt.UTC


def feed_url(client, site, volunteer: str = "v002") -> str:
    response = client.post(f"{site.url}/volunteers/{volunteer}/calendar/token", headers=site.headers)
    assert response.status_code == 201, response.text
    link = response.json()
    assert link["url"].startswith("http://testserver/calendar/") and link["url"].endswith(".ics")
    assert link["webcal"] == "webcal://" + link["url"].removeprefix("http://")
    return link["url"].removeprefix("http://testserver")


def instant(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value).astimezone(UTC)


def test_a_volunteer_without_shifts_gets_a_valid_calendar(client, site):
    response = client.get(feed_url(client, site))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["content-disposition"].startswith("inline")
    assert parse_feed(response.content) == []
    assert b"X-WR-CALNAME:Lindenhof housing co-operative" in response.content
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in response.content


def busiest(client, site, post: str | None = None) -> str:
    """The volunteer with the most shifts in the published schedule (at ``post``)."""
    params = {"post": post} if post else {}
    assignments = client.get(f"{site.url}/schedule/assignments", params=params, headers=site.headers).json()
    counts: dict[str, int] = {}
    for a in assignments:
        counts[a["volunteer"]] = counts.get(a["volunteer"], 0) + 1
    return max(sorted(counts), key=counts.get)


def test_the_feed_follows_publications(client, site, worker):
    first = solve(client, worker, site)
    publish(client, site, first["id"])
    volunteer = busiest(client, site)
    url = feed_url(client, site, volunteer)
    response = client.get(url)
    events = parse_feed(response.content)
    mine = client.get(
        f"{site.url}/schedule/assignments", params={"volunteer": volunteer}, headers=site.headers
    ).json()
    assert len(mine) >= 2
    assert [(e["start"], e["end"]) for e in events] == [
        (instant(a["start"]), instant(a["end"])) for a in mine
    ]
    assert all(e["sequence"] == 0 and e["status"] == "CONFIRMED" for e in events)
    gate = next(e for e in events if e["summary"].startswith("Courtyard gate"))
    assert gate["location"] == "Lindenhof, gate on the street side"
    assert "Bring: mask, gloves, charged phone." in gate["description"]
    assert b"BEGIN:VTIMEZONE" in response.content and b"TZID=Europe/Berlin" in response.content

    # unchanged: byte-identical, and the conditional request is answered 304
    again = client.get(url)
    assert again.content == response.content and again.headers["ETag"] == response.headers["ETag"]
    not_modified = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
    assert not_modified.status_code == 304 and not_modified.content == b""
    head = client.head(url)
    assert (
        head.status_code == 200 and head.content == b"" and head.headers["ETag"] == response.headers["ETag"]
    )

    # they fall ill on the day of their last shift: the re-published schedule drops the shifts from then
    # on, and the feed cancels them
    ill_from = mine[-1]["date"]
    client.post(
        f"{site.url}/volunteers/{volunteer}/health",
        json={"status": "sick", "from": ill_from},
        headers=site.headers,
    )
    second = solve(client, worker, site)
    publish(client, site, second["id"])
    changed = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != response.headers["ETag"]
    after = {e["uid"]: e for e in parse_feed(changed.content)}
    before = {e["uid"]: e for e in events}
    cut = dt.datetime.fromisoformat(ill_from).replace(tzinfo=ZoneInfo("Europe/Berlin"))
    late = [uid for uid, e in before.items() if e["start"] >= cut]
    assert late
    for uid in late:  # removed shifts stay, cancelled, with a higher SEQUENCE
        assert after[uid]["status"] == "CANCELLED" and after[uid]["sequence"] == 1
        assert after[uid]["dtstamp"] >= before[uid]["dtstamp"]  # (to the second)
    for uid, event in after.items():
        if event["status"] == "CONFIRMED":
            assert event["start"] < cut
            if uid in before:  # a kept shift keeps its UID; SEQUENCE and DTSTAMP move only if it shows
                old = before[uid]  # something new (e.g. other teammates)
                if event["description"] == old["description"]:
                    assert (event["sequence"], event["dtstamp"]) == (0, old["dtstamp"])
                else:
                    assert event["sequence"] == 1 and event["start"] == old["start"]


def test_renaming_a_post_updates_published_events(client, site, worker):
    publish(client, site, solve(client, worker, site)["id"])
    url = feed_url(client, site, busiest(client, site, post="delivery"))
    before = parse_feed(client.get(url).content)
    assert any(e["summary"].startswith("Grocery") for e in before)
    post = client.get(f"{site.url}/posts/delivery", headers=site.headers).json()
    client.put(f"{site.url}/posts/delivery", json=post | {"name": "Deliveries"}, headers=site.headers)
    after = parse_feed(client.get(url).content)
    for old, new in zip(before, after, strict=True):
        assert old["uid"] == new["uid"]
        if old["summary"].startswith("Grocery"):
            assert new["summary"].startswith("Deliveries") and new["sequence"] == old["sequence"] + 1
        else:
            assert new == old


def test_post_and_site_feeds_for_coordinators(client, site, worker):
    publish(client, site, solve(client, worker, site)["id"])
    schedule = client.get(f"{site.url}/schedule", headers=site.headers).json()["schedule"]
    everything = client.get(f"{site.url}/calendar.ics", headers=site.headers)
    assert everything.status_code == 200
    events = parse_feed(everything.content)
    assert len(events) == len(schedule["assignments"])
    assert any("(Shirin Demir)" in e["summary"] for e in events)  # coordinators see who is on each shift
    gate = parse_feed(client.get(f"{site.url}/posts/gate/calendar.ics", headers=site.headers).content)
    assert len(gate) == sum(1 for a in schedule["assignments"] if a["post"] == "gate")
    mine = parse_feed(client.get(f"{site.url}/volunteers/v002/calendar.ics", headers=site.headers).content)
    assert len(mine) == sum(1 for a in schedule["assignments"] if a["volunteer"] == "v002")
    # the same feeds by secret URL, for calendar apps
    site_link = client.post(f"{site.url}/calendar/token", headers=site.headers).json()["url"]
    assert client.get(site_link.removeprefix("http://testserver")).content == everything.content
    post_link = client.post(f"{site.url}/posts/gate/calendar/token", headers=site.headers).json()["url"]
    assert len(parse_feed(client.get(post_link.removeprefix("http://testserver")).content)) == len(gate)
    # coordinator feeds want the coordinator token
    assert client.get(f"{site.url}/calendar.ics").status_code == 401


def test_rotating_and_revoking_feed_urls(client, site):
    old = feed_url(client, site)
    new = feed_url(client, site)
    assert old != new
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert (
        client.delete(f"{site.url}/volunteers/v002/calendar/token", headers=site.headers).status_code == 204
    )
    assert client.get(new).status_code == 404
    assert (
        client.delete(f"{site.url}/volunteers/v002/calendar/token", headers=site.headers).status_code == 404
    )


@pytest.mark.parametrize(
    "path",
    [
        "/calendar/nope.ics",
        "/calendar/" + "a" * 43 + ".ics",
        "/calendar/%00%00.ics",
        "/calendar/.ics",
        "/calendar/" + "x" * 5000 + ".ics",
    ],
)
def test_unknown_feed_tokens_are_not_found(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_feed_tokens_are_stored_hashed(client, site, app):
    from sqlalchemy import select

    from scheduler.store.access import FeedTokenRow

    token = feed_url(client, site).removeprefix("/calendar/").removesuffix(".ics")
    with app.state.sessions() as session:
        stored = session.scalars(select(FeedTokenRow.token_hash)).all()
    assert stored and token not in stored and all(len(h) == 64 for h in stored)


def test_a_cached_volunteer_feed_is_one_query_and_every_change_shows(client, site, worker, app):
    publish(client, site, solve(client, worker, site)["id"])
    who = busiest(client, site)
    url = feed_url(client, site, who)
    first = _cached_read_is_one_select(client, app, url)

    # the volunteer's name (in the calendar's name) and the site's reminders (VALARMs) change it
    _rename(client, site, who, "Renamed Person")
    named = client.get(url)
    assert b"Renamed Person" in named.content and named.headers["etag"] != first.headers["etag"]
    assert client.get(url, headers={"If-None-Match": first.headers["etag"]}).status_code == 200

    # an edit of a post they work at changes their events (the site's calendar version moves)
    assignments = client.get(f"{site.url}/schedule/assignments", headers=site.headers).json()
    post = next(a["post"] for a in assignments if a["volunteer"] == who)
    body = client.get(f"{site.url}/posts/{post}", headers=site.headers).json()
    assert client.put(f"{site.url}/posts/{post}", json=body | {"name": "Brand New Name"},
                      headers=site.headers).status_code == 200
    moved = client.get(url)
    assert b"Brand New Name" in moved.content
    assert moved.headers["etag"] != named.headers["etag"]

    # a new publication that takes them off a shift cancels it in the feed at once
    _falls_ill_and_the_re_solve_is_published(client, worker, site, who)
    after = parse_feed(client.get(url).content)
    assert any(e["status"] == "CANCELLED" for e in after)


def _cached_read_is_one_select(client, app, url: str):
    """Read a feed (rendering it if needed), then read it again: the second read, from the cache, is one
    SELECT (on PostgreSQL the only statement: one round trip) and byte-identical, and its ETag gets a 304.
    The first response."""
    first = client.get(url)
    assert first.status_code == 200 and parse_feed(first.content)
    seen, stop = statements(app)
    try:
        again = client.get(url)
    finally:
        stop()
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    selects = [i for i, s in enumerate(seen) if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1, seen
    if seen.in_transaction:  # PostgreSQL: in autocommit, no BEGIN and COMMIT around it, and no ping
        assert not seen.in_transaction[selects[0]] and len(seen) == 1, seen
    assert client.get(url, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    return first


def _falls_ill_and_the_re_solve_is_published(client, worker, site, who: str) -> None:
    cut = client.post(f"{site.url}/volunteers/{who}/health", json={"status": "sick", "from": "2027-01-13"},
                      params={"resolve": "true", "cutoff": "2027-01-13T00:00"}, headers=site.headers)
    assert cut.status_code == 201, cut.text
    job = cut.json()["job"]
    assert worker.run_once() == job["id"]
    publish(client, site, job["id"])


def _rename(client, site, who: str, name: str) -> None:
    person = client.get(f"{site.url}/volunteers/{who}", headers=site.headers)
    assert client.put(f"{site.url}/volunteers/{who}", json=person.json() | {"name": name},
                      headers={**site.headers, "If-Match": person.headers["ETag"]}).status_code == 200


@pytest.mark.parametrize("scope", ["site", "post"])
def test_a_cached_post_or_site_feed_is_one_query_and_every_change_shows(client, site, worker, app, scope):
    publish(client, site, solve(client, worker, site)["id"])
    who = busiest(client, site, "gate")
    path = f"{site.url}/calendar/token" if scope == "site" else f"{site.url}/posts/gate/calendar/token"
    url = client.post(path, headers=site.headers).json()["url"].removeprefix("http://testserver")
    first = _cached_read_is_one_select(client, app, url)

    # a volunteer's name is in every summary of theirs (rendered, not stored with the event)
    _rename(client, site, who, "Renamed Person")
    named = client.get(url)
    assert b"(Renamed Person)" in named.content and named.headers["etag"] != first.headers["etag"]

    # the post's name: in the post feed's own name and in the summaries of both
    body = client.get(f"{site.url}/posts/gate", headers=site.headers).json()
    assert client.put(f"{site.url}/posts/gate", json=body | {"name": "Brand New Gate"},
                      headers=site.headers).status_code == 200
    moved = client.get(url)
    assert b"Brand New Gate" in moved.content and moved.headers["etag"] != named.headers["etag"]

    # the site's name (the calendar's name) and a new publication that cancels shifts
    current = client.get(site.url, headers=site.headers)
    now = current.json()
    settings = {"site": now["site"] | {"name": "Another Name"}, "horizon": now["horizon"]}
    assert client.put(site.url, json=settings,
                      headers={**site.headers, "If-Match": current.headers["ETag"]}).status_code == 200
    assert b"Another Name" in client.get(url).content
    _falls_ill_and_the_re_solve_is_published(client, worker, site, who)
    assert any(e["status"] == "CANCELLED" for e in parse_feed(client.get(url).content))


def test_a_deleted_volunteer_leaves_the_cached_site_feed(client, site, worker, app):
    publish(client, site, solve(client, worker, site)["id"])
    url = client.post(f"{site.url}/calendar/token", headers=site.headers).json()["url"]
    url = url.removeprefix("http://testserver")
    shown = client.get(url).content
    people = client.get(f"{site.url}/volunteers", headers=site.headers).json()
    assignments = client.get(f"{site.url}/schedule/assignments", headers=site.headers).json()
    working = {a["volunteer"] for a in assignments}
    pins = {p["volunteer"] for p in client.get(f"{site.url}/pins", headers=site.headers).json()}
    gone = next(p for p in people if p["id"] in working and p["id"] not in pins)
    assert f"({gone['name']})".encode() in shown
    row = client.get(f"{site.url}/volunteers/{gone['id']}", headers=site.headers)
    deleted = client.delete(f"{site.url}/volunteers/{gone['id']}",
                            headers={**site.headers, "If-Match": row.headers["ETag"]})
    assert deleted.status_code == 204, deleted.text
    assert f"({gone['name']})".encode() not in client.get(url).content


def test_a_feed_poll_is_answered_in_front_of_the_router_exactly_as_the_route_would(
    client, site, worker, app, monkeypatch
):
    """A calendar app's poll (GET, HEAD, a conditional GET) is answered by ``SubscribedFeeds`` before
    FastAPI's routing: the route's own read is never called, and the answer (status, headers, body) is
    the one the route gives when the fast path is not there. An unknown token still gets the route's
    404 problem."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.routes import calendar as routes

    publish(client, site, solve(client, worker, site)["id"])
    url = feed_url(client, site, busiest(client, site))
    etag = client.get(url).headers["etag"]
    polls = [("GET", {}), ("HEAD", {}), ("GET", {"If-None-Match": etag}), ("GET", {"If-None-Match": '"x"'})]

    routed = []
    original = routes._subscribed
    monkeypatch.setattr(routes, "_subscribed", lambda *a: routed.append(a) or original(*a))
    fast = [client.request(method, url, headers=headers) for method, headers in polls]
    assert routed == []
    missing = client.get("/calendar/" + "b" * 43 + ".ics")
    assert len(routed) == 1 and missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"

    general_app = create_app(app.state.settings)
    general_app.feeds = None
    with TestClient(general_app) as general:
        slow = [general.request(method, url, headers=headers) for method, headers in polls]
    general_app.state.engine.dispose()
    assert len(routed) == 1 + len(polls)
    assert [r.status_code for r in fast] == [200, 200, 304, 200]
    for mine, theirs in zip(fast, slow, strict=True):
        assert (mine.status_code, mine.content) == (theirs.status_code, theirs.content)
        assert {k: v for k, v in mine.headers.items() if k != "date"} == {
            k: v for k, v in theirs.headers.items() if k != "date"
        }


@pytest.mark.parametrize("scope", ["site", "post", "volunteer"])
def test_a_coordinators_cached_feed_read_does_not_read_the_events(client, site, worker, app, scope):
    """A coordinator's download of a feed (their token, not the feed's): while nothing in it changed it
    is served from the rendered feed, reading only the token, the site and the post or volunteer the
    path names (no event row, no list of volunteers); every change still shows."""
    publish(client, site, solve(client, worker, site)["id"])
    who = busiest(client, site, "gate")
    url = {"site": f"{site.url}/calendar.ics", "post": f"{site.url}/posts/gate/calendar.ics",
           "volunteer": f"{site.url}/volunteers/{who}/calendar.ics"}[scope]
    first = client.get(url, headers=site.headers)
    assert first.status_code == 200 and parse_feed(first.content)
    seen, stop = statements(app)
    try:
        again = client.get(url, headers=site.headers)
    finally:
        stop()
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    selects = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert not [s for s in selects if "calendar_events" in s], selects
    # the token, the site, and the post (with its shift templates) or the volunteer of the path
    assert len(selects) == {"site": 2, "post": 4, "volunteer": 3}[scope], selects
    assert scope == "volunteer" or not [s for s in selects if "FROM volunteers" in s], selects
    revalidated = client.get(url, headers={**site.headers, "If-None-Match": first.headers["etag"]})
    assert revalidated.status_code == 304

    _rename(client, site, who, "Renamed Person")
    named = client.get(url, headers=site.headers)
    assert b"Renamed Person" in named.content and named.headers["etag"] != first.headers["etag"]
    _falls_ill_and_the_re_solve_is_published(client, worker, site, who)
    after = client.get(url, headers=site.headers)
    assert after.headers["etag"] != named.headers["etag"]
    assert any(e["status"] == "CANCELLED" for e in parse_feed(after.content))


def test_a_poll_whose_connection_died_is_answered_and_the_next_one_reconnects(client, site, worker, app):
    """The polls' own pool does not ping a connection before using it (PostgreSQL): one the server has
    closed (a restart, an idle timeout) fails the poll's query, is dropped, and the poll is answered by
    the general path (whose pool pings); the polls after it get new connections."""
    from sqlalchemy import text

    if app.state.engine.dialect.name != "postgresql":
        pytest.skip("the polls' own pool is PostgreSQL's")
    publish(client, site, solve(client, worker, site)["id"])
    url = feed_url(client, site, busiest(client, site))
    first = client.get(url)
    assert first.status_code == 200 and client.get(url).content == first.content  # cached
    with app.state.engine.connect() as connection:
        ended = connection.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )).scalar_one()
    assert ended >= 1
    for _ in range(3):
        again = client.get(url)
        assert again.status_code == 200 and again.content == first.content, again.text
    seen, stop = statements(app)
    try:
        assert client.get(url).content == first.content
    finally:
        stop()
    assert len(seen) == 1, seen  # the polls' pool works again: one statement, no fallback
