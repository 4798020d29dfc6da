"""The console's pages: each renders in English and Chinese, bad form values are shown beside their
field, the solve -> publish and mark ill -> re-plan -> publish flows, and tenant isolation."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tests.api.conftest import fixture, publish, solve
from tests.api.console.conftest import csrf_of, sign_in


def beside_field(html: str, field: str):
    return re.search(rf'<p class="field-error" id="{field}-error" role="alert">([^<]*)</p>', html)


def published_site(client, worker, site):
    job = solve(client, worker, site, time_limit=1.5)
    publish(client, site, job["id"])
    return job


def busiest(client, site) -> str:
    """The volunteer with the most shifts in the published schedule."""
    assignments = client.get(f"{site.url}/schedule/assignments", headers=site.headers).json()
    return Counter(a["volunteer"] for a in assignments).most_common(1)[0][0]


PAGES = ["/console/today", "/console/rota", "/console/people", "/console/people/v002", "/console/solve"]
# a string of each page, in each language
EXPECTED = {
    "en": {"/console/today": "The next 72 hours", "/console/rota": "Posts by day",
           "/console/people": "People",
           "/console/people/v002": "Record health status", "/console/solve": "Make a schedule"},
    "zh_CN": {"/console/today": "未来 72 小时", "/console/rota": "各岗位每日安排", "/console/people": "人员",
              "/console/people/v002": "记录健康状况", "/console/solve": "生成排班"},
}


@pytest.mark.parametrize(
    "locale, how",
    [("en", {"headers": {"Accept-Language": "en-GB,en;q=0.9"}}),
     ("zh_CN", {"headers": {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}}),
     ("zh_CN", {"cookie": "zh_CN", "headers": {"Accept-Language": "en-US"}}),
     ("en", {"cookie": "en", "headers": {"Accept-Language": "zh-CN"}})],
)
def test_every_page_renders_in_english_and_chinese(console, client, site, worker, locale, how):
    job = published_site(client, worker, site)
    sign_in(console, site)
    if "cookie" in how:
        switched = console.get(f"/console/lang/{how['cookie']}?next=/console/people", follow_redirects=False)
        assert switched.status_code == 303 and switched.headers["location"] == "/console/people"
    lang = locale.replace("_", "-")
    for path in [*PAGES, f"/console/jobs/{job['id']}", f"/console/rota?job={job['id']}"]:
        response = console.get(path, headers=how["headers"])
        assert response.status_code == 200, (path, response.text[:500])
        assert f'<html lang="{lang}">' in response.text
        if path in EXPECTED[locale]:
            assert EXPECTED[locale][path] in response.text, path
        nav = re.search(r'<nav class="main".*?</nav>', response.text, re.S).group(0)
        if locale == "zh_CN":
            assert "今日" in nav and "Today" not in nav and "People" not in nav
        else:
            assert "Today" in nav and "今日" not in nav


def test_pages_before_anything_is_published(console, site):
    sign_in(console, site)
    for path in ["/console/today", "/console/rota"]:
        page = console.get(path)
        assert page.status_code == 200 and "No schedule has been published yet." in page.text
    assert "No schedule is published yet" in console.get("/console/people/v002").text


def test_today_shows_who_is_on_with_phone_links_and_gaps_in_red(console, client, make_site, worker):
    data = fixture()
    data["volunteers"][1]["contact"] = {"phone": "+49 30 1234-5678"}
    data["posts"][1]["shifts"][0]["required"] = 9  # more than can be found: a gap every morning
    data["posts"][1]["shifts"][0]["skills"] = {}
    site = make_site(data)
    published_site(client, worker, site)
    sign_in(console, site)
    page = console.get("/console/today").text
    assert "these are its first 72 hours" in page  # the fixture's schedule starts in 2027
    assert re.search(r'<li class="slot short[^"]*">', page)
    assert "people missing" in page and "Why:" in page
    assignments = client.get(f"{site.url}/schedule/assignments?volunteer=v002", headers=site.headers).json()
    if assignments:
        assert 'href="tel:+493012345678"' in page
    people = console.get("/console/people/v002").text
    assert 'href="tel:+493012345678"' in people
    assert 'class="tag tag-next"' in page  # the next shift of each post is marked


def test_the_rota_grid_goes_week_by_week_and_marks_gaps(console, client, make_site, worker):
    data = fixture()
    data["horizon"]["days"] = 10
    data["posts"][1]["shifts"][0]["required"] = 9
    data["posts"][1]["shifts"][0]["skills"] = {}
    site = make_site(data)
    published_site(client, worker, site)
    sign_in(console, site)
    first = console.get("/console/rota").text
    assert "Next week" in first and "Previous week" not in first
    assert '<td class="short">' in first and "Gaps this week" in first
    assert first.count('<tr class="post-') == 2  # one row per post, coloured by post
    nxt = re.search(r'href="(/console/rota\?week=[0-9-]+)"', first).group(1)
    second = console.get(nxt).text
    assert "Previous week" in second and "Next week" not in second
    assert console.get("/console/rota?week=not-a-date").status_code == 200
    assert console.get("/console/rota?job=abc").status_code == 404


def test_people_shows_status_hours_and_warnings(console, client, site, worker):
    published_site(client, worker, site)
    sign_in(console, site)
    page = console.get("/console/people").text
    assert page.count('class="card person-row') == len(fixture()["volunteers"])
    assert "limited" in page  # v001 is on limited duty in the fixture
    assert re.search(r'<meter class="hours-bar" min="0" max="[0-9.]+"', page)
    assert " of " in page and "hours" in page


def test_solve_form_errors_are_shown_beside_their_fields(console, client, site):
    csrf = sign_in(console, site)
    cases = [
        ({"start": "2027-13-01", "days": "7", "time_limit": "1"}, "start", "expected a date (YYYY-MM-DD)"),
        ({"start": "", "days": "7", "time_limit": "1"}, "start", "enter the first day"),
        ({"start": "2027-01-11", "days": "seven", "time_limit": "1"}, "days",
         "expected a whole number of days"),
        ({"start": "2027-01-11", "days": "0", "time_limit": "1"}, "days", "greater than or equal to 1"),
        ({"start": "2027-01-11", "days": "7", "time_limit": "100"}, "time_limit",
         "must be at most 30 seconds"),
        ({"start": "2027-01-11", "days": "7", "time_limit": "-1"}, "time_limit", "greater than 0"),
        ({"start": "2027-01-11", "days": "7", "time_limit": "x"}, "time_limit",
         "expected a number of seconds"),
    ]
    for form, field, message in cases:
        response = console.post("/console/solve", data={"csrf": csrf, **form})
        assert response.status_code == 422, (form, response.status_code)
        beside = beside_field(response.text, field)
        assert beside and message in beside.group(1), (form, response.text[-3000:])
        assert f'aria-describedby="{field}-error"' in response.text
        assert f'value="{form[field]}"' in response.text  # what was typed is kept
    assert client.get(f"{site.url}/schedules", headers=site.headers).json() == []  # nothing queued


def test_health_form_errors_are_shown_beside_their_fields(console, client, site, worker):
    published_site(client, worker, site)
    csrf = sign_in(console, site)
    cases = [
        ({"status": "cured", "from": "2027-01-12"}, "status", "choose one of the statuses"),
        ({"status": "sick", "from": "12/01/2027"}, "from", "expected a date (YYYY-MM-DD)"),
        ({"status": "sick", "from": "2027-01-12", "until": "2027-01-10"}, "until", "must not be before from"),
        ({"status": "sick", "from": "2027-01-12\x00"}, "from", "must not contain a NUL character"),
    ]
    for form, field, message in cases:
        response = console.post("/console/people/v002/health", data={"csrf": csrf, **form})
        assert response.status_code == 422, response.status_code
        beside = beside_field(response.text, field)
        assert beside and message in beside.group(1), (form, response.text[-3000:])
        assert f'aria-describedby="{field}-error"' in response.text
    assert client.get(f"{site.url}/volunteers/v002/health", headers=site.headers).json() == []
    assert len(client.get(f"{site.url}/schedules", headers=site.headers).json()) == 1  # no re-solve queued


def test_solve_watch_publish_and_see_the_grid(console, client, site, worker):
    csrf = sign_in(console, site)
    response = console.post(
        "/console/solve", data={"csrf": csrf, "start": "2027-01-11", "days": "7", "time_limit": "2"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    job_url = response.headers["location"]
    job_id = int(job_url.rsplit("/", 1)[1])
    status = console.get(f"{job_url}/status.json").json()
    assert status["state"] == "queued" and status["finished"] is False
    page = console.get(job_url).text
    assert 'data-status-url="/console/jobs/' in page and "/console/static/console.js" in page
    assert worker.run_once() == job_id
    status = console.get(f"{job_url}/status.json").json()
    assert status["state"] == "done" and status["finished"] and 0 < status["coverage"] <= 1
    page = console.get(job_url).text
    assert 'id="publish"' in page and "console.js" not in page
    published = console.post(f"{job_url}/publish", data={"csrf": csrf}, follow_redirects=False)
    assert published.status_code == 303 and published.headers["location"].startswith("/console/rota?week=")
    grid = console.get(published.headers["location"]).text
    assert "Published." in grid and "Posts by day" in grid
    assert client.get(f"{site.url}/schedule", headers=site.headers).json()["job_id"] == job_id
    # publishing it again: the API's 409, as a page saying why
    again = console.post(f"{job_url}/publish", data={"csrf": csrf})
    assert again.status_code == 409 and "already the published schedule" in again.text


def test_a_running_job_can_be_cancelled(console, client, site):
    csrf = sign_in(console, site)
    response = console.post(
        "/console/solve", data={"csrf": csrf, "start": "2027-01-11", "days": "7", "time_limit": "5"},
        follow_redirects=False,
    )
    job_url = response.headers["location"]
    cancelled = console.post(f"{job_url}/cancel", data={"csrf": csrf}, follow_redirects=False)
    assert cancelled.status_code == 303
    assert console.get(f"{job_url}/status.json").json()["state"] == "cancelled"
    again = console.post(f"{job_url}/cancel", data={"csrf": csrf})
    assert again.status_code == 409


def test_mark_ill_re_plans_shows_whom_to_call_and_publishes(console, client, make_site, worker):
    data = fixture()
    for i, v in enumerate(data["volunteers"]):
        v["contact"] = {"phone": f"+86 138 0000 {i:04d}"}
    site = make_site(data)
    published_site(client, worker, site)
    ill = busiest(client, site)
    csrf = sign_in(console, site)
    response = console.post(
        f"/console/people/{ill}/health",
        data={"csrf": csrf, "status": "sick", "from": "2027-01-11", "until": "2027-01-17"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    job_url = response.headers["location"]
    records = client.get(f"{site.url}/volunteers/{ill}/health", headers=site.headers).json()
    assert [r["status"] for r in records][-1:] == ["sick"]  # recorded with the same service as the API
    job_id = int(job_url.rsplit("/", 1)[1])
    assert worker.run_once() == job_id
    page = console.get(job_url).text
    assert "Whom to call" in page
    changes = client.get(f"{site.url}/schedules/{job_id}", headers=site.headers).json()["changes"]
    assert changes["volunteers"], changes
    for v in changes["volunteers"]:
        assert v["name"] in page
        assert f'href="tel:{v["phone"].replace(" ", "")}"' in page
    assert "− " in page  # the sick person's shifts removed
    published = console.post(f"{job_url}/publish", data={"csrf": csrf}, follow_redirects=False)
    assert published.status_code == 303
    assert client.get(f"{site.url}/schedule", headers=site.headers).json()["number"] == 2
    people = console.get("/console/people").text
    assert "sick" in people
    person = console.get(f"/console/people/{ill}").text
    assert "Health history" in person and "sick" in person


def test_health_without_a_published_schedule_is_only_recorded(console, client, site):
    csrf = sign_in(console, site)
    response = console.post(
        "/console/people/v003/health", data={"csrf": csrf, "status": "isolating", "from": "2027-01-12"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/console/people/v003?recorded=1"
    assert client.get(f"{site.url}/schedules", headers=site.headers).json() == []
    records = client.get(f"{site.url}/volunteers/v003/health", headers=site.headers).json()
    assert records[0]["status"] == "isolating"
    assert "Recorded." in console.get(response.headers["location"]).text


def test_a_coordinator_of_one_site_reaches_nothing_of_another(console, client, make_site, worker):
    a = make_site()
    data = fixture()
    data["site"]["name"] = "Site B only"
    data["volunteers"].append({"id": "vb99", "name": "Only In B", "contact": {"phone": "+1 555 0199"}})
    b = make_site(data)
    job_b = published_site(client, worker, b)
    done_b = solve(client, worker, b, time_limit=1.5)
    queued_b = client.post(f"{b.url}/schedules", json={}, headers=b.headers).json()
    csrf = sign_in(console, a)
    gets = [f"/console/jobs/{job_b['id']}", f"/console/jobs/{done_b['id']}/status.json",
            f"/console/rota?job={done_b['id']}", "/console/people/vb99", f"/console/jobs/{queued_b['id']}"]
    for path in gets:
        response = console.get(path)
        assert response.status_code == 404, (path, response.status_code)
        assert "Only In B" not in response.text and "Site B only" not in response.text
    posts = [(f"/console/jobs/{done_b['id']}/publish", {}), (f"/console/jobs/{queued_b['id']}/cancel", {}),
             ("/console/people/vb99/health", {"status": "sick", "from": "2027-01-12"})]
    for path, form in posts:
        response = console.post(path, data={"csrf": csrf, **form})
        assert response.status_code == 404, (path, response.status_code)
    for path in PAGES:
        page = console.get(path).text
        assert "Only In B" not in page and "Site B only" not in page and "555 0199" not in page
    # B is untouched: still version 1, the queued job still queued, no health record for vb99
    assert client.get(f"{b.url}/schedule", headers=b.headers).json()["number"] == 1
    assert client.get(f"{b.url}/schedules/{queued_b['id']}", headers=b.headers).json()["state"] == "queued"
    assert client.get(f"{b.url}/volunteers/vb99/health", headers=b.headers).json() == []
    # and the console's session is not an API token of any site
    cookie = console.cookies["rota_console"]
    assert client.get(f"{a.url}", headers={"Authorization": f"Bearer {cookie}"}).status_code == 401


def test_unknown_ids_are_404_pages_not_problems(console, site):
    sign_in(console, site)
    for path in ["/console/jobs/999999", "/console/jobs/abc", "/console/jobs/99999999999999999999",
                 "/console/people/nobody", "/console/people/bad%20id", "/console/jobs/1/status.json"]:
        response = console.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html")


def test_the_load_chart_page(console, client, site, worker):
    sign_in(console, site)
    assert "No schedule has been published yet, and no past shifts" in console.get("/console/load").text
    published_site(client, worker, site)
    page = console.get("/console/load")
    assert page.status_code == 200 and "<svg" in page.text
    assert page.text.count("<title>") >= len(fixture()["volunteers"])  # a tooltip per bar
    zh = console.get("/console/load", headers={"Accept-Language": "zh-CN"}).text
    assert "每周负荷" in zh


def test_a_calendar_link_with_a_qr_code_and_rotation(console, client, site, worker):
    import httpx

    published_site(client, worker, site)
    csrf = sign_in(console, site)
    first = console.post("/console/people/v002/calendar", data={"csrf": csrf})
    assert first.status_code == 200 and "<svg" in first.text and 'class="segno"' in first.text
    url = re.search(r'id="feed-url" type="text" readonly value="([^"]+)"', first.text).group(1)
    path = httpx.URL(url).path
    feed = client.get(path)
    assert feed.status_code == 200 and "BEGIN:VCALENDAR" in feed.text
    assert 'href="webcal://' in first.text
    second = console.post("/console/people/v002/calendar", data={"csrf": csrf})
    new_path = httpx.URL(
        re.search(r'id="feed-url" type="text" readonly value="([^"]+)"', second.text).group(1)
    ).path
    assert new_path != path
    assert client.get(path).status_code == 404  # the previous link stopped working
    assert client.get(new_path).status_code == 200
    assert "feed-url" not in console.get("/console/people/v002").text  # shown only once
    assert console.post("/console/people/v002/calendar", data={}).status_code == 403


def test_the_printable_week_has_a_section_per_post(console, client, make_site, worker):
    data = fixture()
    data["volunteers"][1]["contact"] = {"phone": "+49 30 1234-5678"}
    site = make_site(data)
    sign_in(console, site)
    assert "No schedule has been published yet." in console.get("/console/print").text
    published_site(client, worker, site)
    page = console.get("/console/print?week=2027-01-11").text
    assert page.count('<section class="print-post') == len(data["posts"])
    assert "Check passes, register visitors." in page  # the post's instructions
    assignments = client.get(f"{site.url}/schedule/assignments?volunteer=v002", headers=site.headers).json()
    assert ("(+49 30 1234-5678)" in page) == bool(assignments)
    assert 'href="/console/print?week=' in console.get("/console/rota").text


def test_a_draft_grid_shows_its_differences_from_the_published_one(console, client, site, worker):
    published_site(client, worker, site)
    draft = solve(client, worker, site, seed=7, time_limit=1.5)
    sign_in(console, site)
    page = console.get(f"/console/rota?job={draft['id']}").text
    assert re.search(r"\d+ changes? against the published schedule", page)
    published = client.get(f"{site.url}/schedule", headers=site.headers).json()
    own = console.get(f"/console/rota?job={published['job_id']}").text
    assert "against the published schedule" not in own  # the published job itself: nothing to compare


def test_people_show_nights_and_heavy_shifts_of_the_last_14_days_as_bars(console, make_site):
    import datetime as dt

    from scheduler.store.db import utcnow

    data = fixture()
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    nights = [{"start": (now - dt.timedelta(days=d, hours=2)).isoformat(),
               "end": (now - dt.timedelta(days=d) + dt.timedelta(hours=6)).isoformat(), "night": True}
              for d in range(1, 7)]
    data["volunteers"][1]["history"] = {"recent_shifts": nights}
    site = make_site(data)
    sign_in(console, site)
    page = console.get("/console/people").text
    assert page.count('<svg class="minibar night') == len(data["volunteers"])
    assert page.count('<svg class="minibar heavy') == len(data["volunteers"])
    assert "style=" not in page  # the CSP (style-src 'self') would drop inline styles
    name = re.escape(data["volunteers"][1]["name"])
    row = re.search(rf'{name}</a>.*?</li>', page, re.S).group(0)
    assert 'class="minibar night high"' in row and '<span class="recent-num">6</span>' in row
    assert '<rect class="fill" width="6" height="1"/>' in row
    assert "Many nights in the last 14 days" in row
    assert "recent shifts recorded with each volunteer" in page
    other = re.search(rf'{re.escape(data["volunteers"][2]["name"])}</a>.*?</li>', page, re.S).group(0)
    assert "Many nights" not in other and '<rect class="fill" width="0" height="1"/>' in other


def test_the_load_chart_shows_4_weeks_worked_and_the_planned_weeks(console, client, make_site, worker):
    import datetime as dt

    from scheduler.store.db import utcnow

    data = fixture()
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    # 60 hours in one week, three weeks ago: over anyone's cap
    start = now - dt.timedelta(days=now.weekday() + 14)
    shifts = [{"start": (start + dt.timedelta(days=d)).isoformat(),
               "end": (start + dt.timedelta(days=d, hours=12)).isoformat(), "night": False} for d in range(5)]
    data["volunteers"][3]["history"] = {"recent_shifts": shifts}
    site = make_site(data)
    sign_in(console, site)
    page = console.get("/console/load").text  # nothing published: the past alone is shown
    assert "<svg" in page and page.count(">worked</text>") == 4 and ">planned</text>" not in page
    assert "Where the past comes from" in page
    name = data["volunteers"][3]["name"]
    assert page.index(name) < min(page.index(v["name"]) for v in data["volunteers"][4:])  # most loaded first
    assert "#b3261e" in page  # over the cap: a red bar
    published_site(client, worker, site)
    page = console.get("/console/load").text
    assert page.count(">worked</text>") == 4 and page.count(">planned</text>") >= 1
    assert 'stroke-dasharray="4 3"' in page  # the line between the past and the plan


def test_a_short_job_says_whom_to_recruit(console, client, make_site, worker):
    from tests.scheduler.domain.test_advice import short_site

    site = make_site(short_site().model_dump(mode="json", by_alias=True))
    job = solve(client, worker, site, time_limit=2)
    sign_in(console, site)
    page = console.get(f"/console/jobs/{job['id']}", headers={"Accept-Language": "en"}).text
    assert 'id="recruit"' in page and "Whom to recruit" in page
    assert '<span class="tag">medic</span>' in page and "Mon" in page
    assert "medic" in page[page.index('id="recruiting"'):]  # the text to post
    zh = console.get(f"/console/jobs/{job['id']}", headers={"Accept-Language": "zh-CN"}).text
    assert "需要招募" in zh and "周一" in zh


def test_a_fully_staffed_job_recruits_nobody(console, client, site, worker):
    job = solve(client, worker, site, time_limit=2)
    result = client.get(f"{site.url}/schedules/{job['id']}/result", headers=site.headers).json()
    sign_in(console, site)
    page = console.get(f"/console/jobs/{job['id']}").text
    assert ('id="recruit"' in page) == bool(result["uncovered"])


def test_console_pages_that_show_or_change_health_are_audited(console, client, site):
    sign_in(console, site)
    assert console.get("/console/people").status_code == 200
    assert console.get("/console/people/v003").status_code == 200
    csrf = csrf_of(console.get("/console/people/v003").text)
    form = {"csrf": csrf, "status": "isolating", "from": "2027-01-12"}
    console.post("/console/people/v003/health", data=form)
    entries = client.get(f"{site.url}/health-audit", headers=site.headers).json()
    console_entries = [e for e in entries if e["actor"] == "console"]
    assert [(e["action"], e["volunteer"]) for e in reversed(console_entries)][:4] == [
        ("read", None), ("read", "v003"), ("read", "v003"), ("create", "v003")
    ]
    assert len({e["actor_id"] for e in console_entries}) == 1 and console_entries[0]["actor_id"]


def test_the_health_form_takes_a_reason_from_the_list_only(console, client, site):
    sign_in(console, site)
    csrf = csrf_of(console.get("/console/people/v004").text)
    page = console.get("/console/people/v004").text
    assert 'name="reason"' in page and 'value="caring_for_someone"' in page and 'name="note"' not in page
    free = {"csrf": csrf, "status": "sick", "from": "2027-01-12", "reason": "a chest infection"}
    refused = console.post("/console/people/v004/health", data=free)
    assert refused.status_code == 422 and 'id="reason-error"' in refused.text
    assert client.get(f"{site.url}/volunteers/v004/health", headers=site.headers).json() == []
    given = {"csrf": csrf, "status": "sick", "from": "2027-01-12", "reason": "caring_for_someone"}
    assert console.post("/console/people/v004/health", data=given).status_code == 200
    records = client.get(f"{site.url}/volunteers/v004/health", headers=site.headers).json()
    assert [r["reason"] for r in records] == ["caring_for_someone"]
    assert "caring for someone" in console.get("/console/people/v004").text


def test_a_long_plan_shows_its_weeks_the_later_ones_as_a_forecast(console, client, make_site, worker):
    data = fixture()
    data["horizon"]["days"] = 21
    site = make_site(data)
    job = solve(client, worker, site, time_limit=3)
    result = client.get(f"{site.url}/schedules/{job['id']}/result", headers=site.headers).json()
    assert [w["forecast"] for w in result["weeks"]] == [False, False, True]
    sign_in(console, site)
    page = console.get(f"/console/jobs/{job['id']}", headers={"Accept-Language": "en"}).text
    weeks = page[page.index('id="weeks"'):]
    assert "Week by week" in weeks and weeks.count('<tr') == 4  # the header and three weeks
    assert weeks.count('<span class="tag">forecast</span>') == 1
    busiest = max(w["busiest_hours"] for w in result["weeks"])
    assert f"{busiest:.0f} / " in weeks
    zh = console.get(f"/console/jobs/{job['id']}", headers={"Accept-Language": "zh-CN"}).text
    assert "逐周概览" in zh and "预测" in zh


def test_a_one_week_plan_has_no_week_table(console, client, site, worker):
    job = solve(client, worker, site, time_limit=2)
    sign_in(console, site)
    assert 'id="weeks"' not in console.get(f"/console/jobs/{job['id']}").text
