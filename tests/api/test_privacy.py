"""Health privacy: health details are for the site's coordinators only. No calendar feed carries any of
it, and a volunteer's feed token opens that feed and nothing else."""

from __future__ import annotations

import re

from tests.api.conftest import publish, solve
from tests.scheduler.domain.test_calendar import parse_feed

SECRET_NOTE = "NOTE-7f3a: night sweats, see GP"
HEALTH_WORDS = re.compile(
    rb"sick|isolat|infectious|limited|recovering|health|NOTE-7f3a|sweats", re.IGNORECASE
)


def test_feeds_carry_nothing_about_health(client, site, worker):
    for volunteer, status in (("v002", "isolating"), ("v004", "limited"), ("v006", "recovering")):
        response = client.post(
            f"{site.url}/volunteers/{volunteer}/health",
            json={
                "status": status, "from": "2027-01-15", "infectious": True, "note": SECRET_NOTE,
                "reason": "unwell",
            },
            headers=site.headers,
        )
        assert response.status_code == 201
    publish(client, site, solve(client, worker, site)["id"])
    links = [
        client.post(f"{site.url}/volunteers/{v}/calendar/token", headers=site.headers).json()["url"]
        for v in ("v001", "v002", "v004", "v006", "v010")  # v001 limited, v010 sick in the fixture
    ]
    links.append(client.post(f"{site.url}/calendar/token", headers=site.headers).json()["url"])
    links.append(client.post(f"{site.url}/posts/gate/calendar/token", headers=site.headers).json()["url"])
    bodies = [client.get(link.removeprefix("http://testserver")).content for link in links]
    bodies += [
        client.get(f"{site.url}/calendar.ics", headers=site.headers).content,
        client.get(f"{site.url}/volunteers/v002/calendar.ics", headers=site.headers).content,
    ]
    for body in bodies:
        parse_feed(body)
        assert HEALTH_WORDS.search(body) is None, HEALTH_WORDS.search(body)
    # the coordinators do see it
    history = client.get(f"{site.url}/volunteers/v002/health", headers=site.headers).json()
    assert history[-1]["reason"] == "unwell" and history[-1]["status"] == "isolating"
    # a free-text note is never kept, not even for the coordinators (it could hold a diagnosis)
    assert "NOTE-7f3a" not in client.get(f"{site.url}/volunteers/v002/health", headers=site.headers).text


def test_a_feed_token_opens_its_feed_and_nothing_else(client, app, site, make_site):
    other = make_site()
    link = client.post(f"{site.url}/volunteers/v002/calendar/token", headers=site.headers).json()["url"]
    token = link.rsplit("/", 1)[1].removesuffix(".ics")
    assert client.get(f"/calendar/{token}.ics").status_code == 200
    as_bearer = {"Authorization": f"Bearer {token}"}
    paths = [p for p in app.openapi()["paths"] if p.startswith("/sites")]
    for path in paths:
        for site_id in (site.id, other.id):
            url = (
                path.replace("{site_id}", str(site_id))
                .replace("{volunteer_id}", "v002")
                .replace("{post_id}", "gate")
                .replace("{job_id}", "1")
                .replace("{record_id}", "1")
                .replace("{number}", "1")
            )
            for method in app.openapi()["paths"][path]:
                response = client.request(method.upper(), url, headers=as_bearer)
                assert response.status_code == 401, (method, url, response.status_code)
    # nor another volunteer's feed: the token is the whole key, there is nothing to swap
    assert client.get(f"/calendar/{token}x.ics").status_code == 404
    assert client.get(f"/calendar/{token[:-1]}.ics").status_code == 404


def test_health_routes_want_the_sites_coordinator(client, site, make_site):
    other = make_site()
    url = f"{site.url}/volunteers/v010/health"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=other.headers).status_code == 404
    assert client.post(url, json={"status": "fit"}, headers=other.headers).status_code == 404
    assert client.get(url, headers=site.headers).json()[0]["status"] == "sick"


RESIDENT_NAME = "Wang Fang-7c1e"
KIN = "Wang Lei-91b0"


def test_residents_reach_only_their_visitors_feed_and_only_address_and_needs(client, make_site, worker):
    """Issue 12: a volunteer's visit events carry the resident's address and needs and nothing more; no
    other feed (another volunteer's, the site's, a post's), nor any route a feed token opens, reveals a
    resident."""
    from tests.api.conftest import fixture

    data = fixture()
    data["rules"] = {"max_shifts_per_day": 2, "min_rest_hours": 2}
    data["residents"] = [{
        "id": "r1", "name": RESIDENT_NAME, "building": "Block-Q9Z", "address": "Flat-Zx42",
        "needs": {"medicine_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "language": "wu"},
        "visits": [{"id": "medicine", "start": "10:00", "minutes": 20}],
        "kin": {"name": KIN, "phone": "+86 555 0101"}, "primary": "v003", "backup": "v005",
    }]
    site = make_site(data)
    publish(client, site, solve(client, worker, site, time_limit=5)["id"])
    assignments = client.get(f"{site.url}/schedule/assignments", headers=site.headers).json()
    visitors = {a["volunteer"] for a in assignments if a["post"] == "visit:r1"}
    assert visitors and visitors <= {"v003", "v005"}

    def feed(url: str) -> bytes:
        link = client.post(url, headers=site.headers).json()["url"]
        return client.get(link.removeprefix("http://testserver")).content

    secret = re.compile(rb"Wang|\+86 555|visit:r1|Home visit|Q9Z|Zx42")
    for vid in visitors:
        body = feed(f"{site.url}/volunteers/{vid}/calendar/token")
        events = parse_feed(body)
        visits = [e for e in events if e["summary"].startswith("Home visit")]
        assert visits, vid
        for event in visits:
            assert event["location"] == "Block-Q9Z, Flat-Zx42"
            assert "medicine" in event["description"] and "wu" in event["description"]
        assert RESIDENT_NAME.encode() not in body and KIN.encode() not in body and b"+86 555" not in body
    others = [v for v in ("v001", "v002", "v004", "v006", "v010") if v not in visitors]
    bodies = [feed(f"{site.url}/volunteers/{v}/calendar/token") for v in others]
    bodies.append(feed(f"{site.url}/calendar/token"))
    bodies.append(feed(f"{site.url}/posts/gate/calendar/token"))
    bodies.append(client.get(f"{site.url}/calendar.ics", headers=site.headers).content)
    for body in bodies:
        parse_feed(body)
        assert secret.search(body) is None, secret.search(body)
    # a visit post has no feed of its own
    assert client.post(f"{site.url}/posts/visit:r1/calendar/token", headers=site.headers).status_code == 404
    # a feed token opens none of the residents' routes
    link = client.post(f"{site.url}/volunteers/v003/calendar/token", headers=site.headers).json()["url"]
    as_bearer = {"Authorization": f"Bearer {link.rsplit('/', 1)[1].removesuffix('.ics')}"}
    for url in (f"{site.url}/residents", f"{site.url}/residents/r1", f"{site.url}/guardians",
                f"{site.url}/residents/r1/history", f"{site.url}/scenario"):
        assert client.get(url, headers=as_bearer).status_code == 401
    # the coordinators do see the register
    assert client.get(f"{site.url}/residents/r1", headers=site.headers).json()["name"] == RESIDENT_NAME
