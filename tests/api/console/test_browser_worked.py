"""Worked hours in a real browser (Chromium): a volunteer on a phone (390 x 844) checks in to the shift
that is on now and checks out; the coordinator sees it on /console/worked, checked in and out by the
volunteer, and confirms it. Against a real server and worker on a site whose rota is planned around the
real clock (a shift from an hour before now). Screenshots go to docs/screenshots/ (worked-*.png)."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest

from tests.api.console.test_browser import (  # noqa: F401  (fixtures)
    DESK,
    api,
    browser,
    expect,
    running_service,
    shot,
)

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}
ZONE = ZoneInfo("Europe/Berlin")


def _scenario_around_now() -> dict:
    """A gate staffed by one of two people in a six-hour shift that started an hour ago (local)."""
    start = (dt.datetime.now(ZONE) - dt.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    end = start + dt.timedelta(hours=6)
    return {
        "site": {"name": "Worked hours test", "timezone": "Europe/Berlin"},
        "horizon": {"start": start.date().isoformat(), "days": 2},
        "posts": [{"id": "gate", "name": "North gate", "shifts": [
            {"id": "watch", "start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}]}],
        "volunteers": [{"id": "v1", "name": "Li Wei"}, {"id": "v2", "name": "Anna Berg"}],
    }


@pytest.fixture(scope="module")
def service(tmp_path_factory, request):
    directory = tmp_path_factory.mktemp("browser-worked")
    template = request.getfixturevalue("sqlite_template")
    with running_service(directory, template, _scenario_around_now()) as running:
        yield running


def _publish(service) -> None:
    job = api(service, "POST", "/schedules", json={"time_limit": 3})
    assert job.status_code == 202, job.text
    for _ in range(300):
        if api(service, "GET", f"/schedules/{job.json()['id']}").json()["state"] == "done":
            break
        time.sleep(0.1)
    assert api(service, "POST", f"/schedules/{job.json()['id']}/publish").status_code == 201


def test_check_in_check_out_and_the_coordinator_confirms(browser, service):  # noqa: F811
    _publish(service)
    now = dt.datetime.now(dt.UTC)
    on_now = [a for a in api(service, "GET", "/schedule/assignments").json()
              if dt.datetime.fromisoformat(a["start"]) <= now < dt.datetime.fromisoformat(a["end"])]
    assert len(on_now) == 1, on_now
    shift = on_now[0]
    url = api(service, "POST", f"/volunteers/{shift['volunteer']}/calendar/token").json()["url"]
    link = f"{service['base']}/me/{url.rsplit('/', 1)[1].removesuffix('.ics')}"

    phone = browser.new_context(**PHONE, locale="en-GB", extra_http_headers={"Accept-Language": "en"})
    page = phone.new_page()
    page.goto(link)
    expect(page.locator("#duty")).to_contain_text("North gate")
    check_in = page.locator("#check-in")
    expect(check_in).to_be_visible()
    assert check_in.bounding_box()["height"] >= 44  # big enough to tap
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "worked-me-before", full_page=False)
    check_in.click()
    expect(page.locator(".notice")).to_contain_text("Checked in")
    expect(page.locator("#duty-state")).to_contain_text("Checked in at")
    shot(page, "worked-me-checked-in", full_page=False)
    assert page.locator("#check-in").count() == 0  # a second check-in is not offered
    page.locator("#check-out").click()
    expect(page.locator(".notice")).to_contain_text("Checked out")
    expect(page.locator("#duty-state")).to_contain_text("checked out at")
    shot(page, "worked-me-checked-out", full_page=False)
    # Chinese: the same state
    page.goto(f"{link}/lang/zh_CN")
    expect(page.locator("#duty")).to_contain_text("签到")
    shot(page, "worked-me-checked-out-zh", full_page=False)
    phone.close()

    desk = browser.new_context(**PHONE, locale="en-GB", extra_http_headers={"Accept-Language": "en"})
    page = desk.new_page()
    page.goto(f"{service['base']}/console/worked")
    page.locator("#token").fill(service["token"])
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/console/worked")
    line = page.locator("li.worked-line", has_text="North gate").first
    expect(line).to_contain_text("checked in and out by the volunteer")
    expect(line).not_to_contain_text("confirmed")
    shot(page, "worked-console-before", full_page=False)
    line.get_by_role("button", name="Confirm worked").click()
    expect(page.locator(".notice")).to_contain_text("Confirmed as worked")
    line = page.locator("li.worked-line", has_text="North gate").first
    expect(line.locator(".tag-confirmed")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "worked-console-confirmed", full_page=False)
    desk.close()
    [record] = [w for w in api(service, "GET", "/worked").json() if w["id"] is not None]
    assert record["confirmed"] and record["source"] == "volunteer" and record["state"] == "partly"
    assert record["volunteer"] == shift["volunteer"]
