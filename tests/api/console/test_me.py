"""A volunteer's own page (/me/{token}): their shifts, hours, calendar link, "I'm unwell" (the record, the
re-solve the site's policy asks for, the coordinator told, the shifts released once published), absences
and wishes checked like the API; the CSRF guard and the 404 that reveals nothing."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from scheduler.store import sites
from scheduler.store.db import utcnow
from scheduler.store.unwell_reports import UnwellReportRow
from scheduler.store.webhooks import DeliveryRow
from tests.api.conftest import publish, solve
from tests.api.console.conftest import csrf_of, sign_in

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def feed_token(client, site, volunteer: str) -> str:
    url = client.post(f"{site.url}/volunteers/{volunteer}/calendar/token", headers=site.headers).json()["url"]
    return url.rsplit("/", 1)[1].removesuffix(".ics")


def busiest(client, site) -> str:
    assignments = client.get(f"{site.url}/schedule/assignments", headers=site.headers).json()
    return Counter(a["volunteer"] for a in assignments).most_common(1)[0][0]


@pytest.fixture
def published(client, site, worker):
    publish(client, site, solve(client, worker, site)["id"])
    return site


def set_auto_resolve(app, site_id: int, value: bool) -> None:
    with app.state.sessions() as session:
        row = sites.get_site(session, site_id)
        row.auto_resolve = value
        session.commit()


def test_my_shifts_with_post_place_teammates_hours_and_calendar(client, published):
    site = published
    who = busiest(client, site)
    token = feed_token(client, site, who)
    page = client.get(f"/me/{token}", headers={"Accept-Language": "en"})
    assert page.status_code == 200, page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    html = page.text
    mine = [a for a in client.get(f"{site.url}/schedule/assignments", headers=site.headers).json()
            if a["volunteer"] == who]
    assert html.count('class="slot my-shift') == len(mine)
    assert "Courtyard gate" in html or "Grocery and medicine deliveries" in html
    assert "Lindenhof" in html  # the place
    assert "webcal://testserver/calendar/" + token + ".ics" in html
    assert "<svg" in html  # the QR code, rendered server-side
    assert "of 24 hours" in html or re.search(r"of \d+ hours", html)
    # teammates by name
    everyone = {v["id"]: v["name"] for v in client.get(f"{site.url}/volunteers", headers=site.headers).json()}
    first = mine[0]
    mates = [everyone[a["volunteer"]] for a in
             client.get(f"{site.url}/schedule/assignments", headers=site.headers).json()
             if (a["post"], a["shift"], a["date"]) == (first["post"], first["shift"], first["date"])
             and a["volunteer"] != who]
    for name in mates:
        assert name in html
    assert f"/me/{token}/swaps" in html and f"/me/{token}/open" in html


def test_chinese_by_accept_language_and_the_switch(client, published):
    token = feed_token(client, published, "v002")
    page = client.get(f"/me/{token}", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert 'lang="zh-CN"' in page.text
    assert "我的班次" in page.text
    switched = client.get(
        f"/me/{token}/lang/en", headers={"Accept-Language": "zh-CN"}, follow_redirects=False
    )
    assert switched.status_code == 303
    page = client.get(f"/me/{token}", headers={"Accept-Language": "zh-CN"})
    assert 'lang="en"' in page.text and "My shifts" in page.text


def test_links_that_open_no_page_are_the_same_404(client, published):
    site = published
    post = client.post(f"{site.url}/posts/gate/calendar/token", headers=site.headers).json()["url"]
    whole = client.post(f"{site.url}/calendar/token", headers=site.headers).json()["url"]
    old = feed_token(client, site, "v003")
    feed_token(client, site, "v003")  # rotated: the old one ends
    bodies = set()
    for token in (post.rsplit("/", 1)[1][:-4], whole.rsplit("/", 1)[1][:-4], old, "x" * 43, "bad"):
        response = client.get(f"/me/{token}")
        assert response.status_code == 404
        bodies.add(response.text)
        assert client.post(f"/me/{token}/unwell", data={"status": "sick"}).status_code == 404
    assert len(bodies) == 1
    assert site.url not in next(iter(bodies))


def test_unwell_needs_the_pages_csrf_token(client, published):
    token = feed_token(client, published, "v002")
    client.get(f"/me/{token}")
    response = client.post(f"/me/{token}/unwell", data={"status": "sick", "until": "2027-01-13",
                                                        "csrf": "forged"})
    assert response.status_code == 403
    csrf = csrf_of(client.get(f"/me/{token}").text)
    response = client.post(f"/me/{token}/unwell", headers={"Sec-Fetch-Site": "cross-site"},
                           data={"status": "sick", "until": "2027-01-13", "csrf": csrf})
    assert response.status_code == 403
    history = client.get(f"{published.url}/volunteers/v002/health", headers=published.headers).json()
    assert history == []


def test_unwell_auto_resolve_records_queues_notifies_and_shows_released(app, client, published, worker):
    site = published
    set_auto_resolve(app, site.id, True)
    client.put(f"{site.url}/webhook", json={"url": "https://hooks.example.org/rota"}, headers=site.headers)
    who = busiest(client, site)
    token = feed_token(client, site, who)
    page = client.get(f"/me/{token}")
    response = client.post(f"/me/{token}/unwell", data={
        "csrf": csrf_of(page.text), "status": "sick", "until": "2027-01-13", "infectious": "on",
        "note": "should be ignored"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    history = client.get(f"{site.url}/volunteers/{who}/health", headers=site.headers).json()
    assert history[-1]["status"] == "sick" and history[-1]["until"] == "2027-01-13"
    assert history[-1]["infectious"] is True and "note" not in history[-1]
    assert history[-1]["reason"] == "unwell"
    jobs = client.get(f"{site.url}/schedules", headers=site.headers).json()
    resolve = [j for j in (jobs["items"] if isinstance(jobs, dict) else jobs) if j["kind"] == "resolve"]
    assert len(resolve) == 1
    with app.state.sessions() as session:
        report = session.query(UnwellReportRow).one()
        assert report.job_id == resolve[0]["id"]
        assert report.shifts_before
        events = [d for d in session.query(DeliveryRow).all() if d.event == "volunteer.unwell"]
        assert len(events) == 1
        payload = events[0].payload
    assert payload["volunteer"]["id"] == who and payload["resolve"] == "queued"
    assert "sick" not in str(payload) and "infectious" not in str(payload)
    page = client.get(f"/me/{token}").text
    assert "being re-planned" in page
    # the coordinator sees it on Today
    console_csrf = sign_in(client, site)
    assert console_csrf
    today = client.get("/console/today").text
    assert 'id="unwell-reports"' in today
    # re-solve and publish: the page names the shifts released
    assert worker.run_once() == resolve[0]["id"]
    publish(client, site, resolve[0]["id"])
    page = client.get(f"/me/{token}").text
    assert "no longer yours" in page
    released = re.findall(r'<ul class="released">(.*?)</ul>', page, re.S)
    assert released and released[0].count("<li>") >= 1
    mine_now = [a for a in client.get(f"{site.url}/schedule/assignments", headers=site.headers).json()
                if a["volunteer"] == who and a["date"] <= "2027-01-13"]
    assert mine_now == []


def test_unwell_held_for_the_coordinator(app, client, published):
    site = published
    who = busiest(client, site)
    token = feed_token(client, site, who)
    page = client.get(f"/me/{token}")
    response = client.post(f"/me/{token}/unwell", data={
        "csrf": csrf_of(page.text), "status": "isolating", "until": "2027-01-12"}, follow_redirects=False)
    assert response.status_code == 303
    jobs = client.get(f"{site.url}/schedules", headers=site.headers).json()
    items = jobs["items"] if isinstance(jobs, dict) else jobs
    assert not [j for j in items if j["kind"] == "resolve"]
    assert "will re-plan" in client.get(f"/me/{token}").text
    csrf = sign_in(client, site)
    today = client.get("/console/today").text
    assert 'id="unwell-reports"' in today and "Re-plan now" in today
    report = re.search(r'action="/console/unwell/(\d+)/resolve"', today).group(1)
    response = client.post(f"/console/unwell/{report}/resolve", data={"csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303 and "/console/jobs/" in response.headers["location"]


@pytest.mark.parametrize("until, field_message", [
    ("", "pick the last day"), ("2020-01-01", "must not be before today"), ("not-a-date", "expected a date"),
    ("2099-01-01", "at most 60 days"),
])
def test_unwell_bad_until_is_a_message_beside_the_field(client, published, until, field_message):
    token = feed_token(client, published, "v002")
    page = client.get(f"/me/{token}")
    response = client.post(f"/me/{token}/unwell", data={"csrf": csrf_of(page.text), "status": "sick",
                                                        "until": until})
    assert response.status_code == 422
    error = re.search(r'id="until-error"[^>]*>([^<]*)<', response.text)
    assert error and field_message in error.group(1)
    assert client.get(f"{published.url}/volunteers/v002/health", headers=published.headers).json() == []


def test_absences_and_wishes_checked_like_the_api(client, published):
    site = published
    token = feed_token(client, site, "v002")
    csrf = csrf_of(client.get(f"/me/{token}").text)
    bad = client.post(f"/me/{token}/absences", data={"csrf": csrf, "absence_from": "2027-01-15",
                                                     "absence_until": "2027-01-14"})
    assert bad.status_code == 422
    assert re.search(r'id="absence_(from|until)-error"', bad.text), bad.text[-3000:]
    assert client.get(f"{site.url}/volunteers/v002", headers=site.headers).json()["unavailable"] == []
    ok = client.post(f"/me/{token}/absences", data={"csrf": csrf, "absence_from": "2027-01-15",
                                                    "absence_until": "2027-01-16"}, follow_redirects=False)
    assert ok.status_code == 303
    stored = client.get(f"{site.url}/volunteers/v002", headers=site.headers).json()
    assert stored["unavailable"] == [{"from": "2027-01-15", "until": "2027-01-16", "reason": None}]
    assert client.post(f"/me/{token}/absences/0/delete", data={"csrf": csrf},
                       follow_redirects=False).status_code == 303
    assert client.get(f"{site.url}/volunteers/v002", headers=site.headers).json()["unavailable"] == []


def test_an_absence_on_the_own_page_has_a_reason_from_the_list(client, published):
    site = published
    token = feed_token(client, site, "v002")
    page = client.get(f"/me/{token}").text
    assert '<select id="absence_reason" name="absence_reason"' in page and '<option value="travel"' in page
    csrf = csrf_of(page)
    days = {"csrf": csrf, "absence_from": "2027-01-15", "absence_until": "2027-01-16"}
    free = client.post(f"/me/{token}/absences", data={**days, "absence_reason": "hospital"})
    assert free.status_code == 422
    assert re.search(r'id="absence_reason-error"[^>]*>[^<]*reasons', free.text)
    assert client.get(f"{site.url}/volunteers/v002", headers=site.headers).json()["unavailable"] == []
    ok = client.post(f"/me/{token}/absences", data={**days, "absence_reason": "travel"},
                     follow_redirects=False)
    assert ok.status_code == 303
    stored = client.get(f"{site.url}/volunteers/v002", headers=site.headers).json()
    assert stored["unavailable"] == [{"from": "2027-01-15", "until": "2027-01-16", "reason": "travel"}]
    assert "travel" in client.get(f"/me/{token}").text.split('id="absences"')[1].split("</ul>")[0]

    both = client.post(f"/me/{token}/wishes", data={"csrf": csrf, "preferred_posts": "gate",
                                                    "unwanted_posts": "gate"})
    assert both.status_code == 422 and 'id="unwanted_posts-error"' in both.text
    unknown = client.post(f"/me/{token}/wishes", data={"csrf": csrf, "preferred_shifts": "nope"})
    assert unknown.status_code == 422 and 'id="preferred_shifts-error"' in unknown.text, unknown.text[-3000:]
    fine = client.post(f"/me/{token}/wishes", data={
        "csrf": csrf, "preferred_posts": "delivery", "unwanted_shifts": "late",
        "unwanted_weekdays": ["sat", "sun"]}, follow_redirects=False)
    assert fine.status_code == 303
    prefs = client.get(f"{site.url}/volunteers/v002", headers=site.headers).json()["preferences"]
    assert prefs["preferred_posts"] == ["delivery"] and prefs["unwanted_shifts"] == ["late"]
    assert prefs["unwanted_weekdays"] == ["sat", "sun"]
    assert utcnow()


def test_a_full_queue_never_loses_the_report_it_is_held(app, client, published, settings):
    """With auto_resolve on but the site's share of the queue taken, the report is still recorded (and
    held for the coordinator) instead of an error."""
    site = published
    set_auto_resolve(app, site.id, True)
    settings.site_max_active_jobs = 1
    queued = client.post(f"{site.url}/schedules", json={"time_limit": 1}, headers=site.headers)
    assert queued.status_code == 202
    who = busiest(client, site)
    token = feed_token(client, site, who)
    response = client.post(f"/me/{token}/unwell", data={
        "csrf": csrf_of(client.get(f"/me/{token}").text), "status": "sick", "until": "2027-01-12"},
        follow_redirects=False)
    assert response.status_code == 303
    history = client.get(f"{site.url}/volunteers/{who}/health", headers=site.headers).json()
    assert history[-1]["status"] == "sick"
    assert "will re-plan" in client.get(f"/me/{token}").text


def test_no_shift_in_the_time_off_nothing_to_replan(app, client, published):
    site = published
    set_auto_resolve(app, site.id, True)
    assignments = client.get(f"{site.url}/schedule/assignments", headers=site.headers).json()
    busy = {a["volunteer"] for a in assignments if a["date"] <= "2027-01-12"}
    everyone = [v["id"] for v in client.get(f"{site.url}/volunteers", headers=site.headers).json()]
    free = next(v for v in everyone if v not in busy)
    token = feed_token(client, site, free)
    client.post(f"/me/{token}/unwell", data={
        "csrf": csrf_of(client.get(f"/me/{token}").text), "status": "sick", "until": "2027-01-12"})
    jobs = client.get(f"{site.url}/schedules", headers=site.headers).json()
    items = jobs["items"] if isinstance(jobs, dict) else jobs
    assert not [j for j in items if j["kind"] == "resolve"]
    assert "nothing needs to change" in client.get(f"/me/{token}").text


def test_the_page_says_when_the_calendar_reminds(client, published):
    token = feed_token(client, published, "v002")
    assert 'id="reminders"' not in client.get(f"/me/{token}").text
    client.put(f"{published.url}/reminders", json={"hours_before": [1, 12]}, headers=published.headers)
    page = client.get(f"/me/{token}", headers={"Accept-Language": "en"}).text
    assert "reminds you 12, 1 hours before each shift" in page
