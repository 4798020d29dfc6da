"""Worked hours in a real browser (Chromium): a volunteer on a phone (390 x 844) checks in to the shift
that is on now and checks out; the coordinator sees it on /console/worked, checked in and out by the
volunteer, and confirms it. Against a real server and worker on a site whose rota is planned around the
real clock (a shift from an hour before now). Screenshots go to docs/screenshots/ (worked-*.png)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from zoneinfo import ZoneInfo

import httpx
import pytest

from scheduler.domain import scenario as sc
from scheduler.store import access, sites
from scheduler.store.db import make_engine, make_sessions, unit_of_work, utcnow
from tests.api.console.test_browser import (  # noqa: F401  (fixtures)
    DESK,
    ROOT,
    browser,
    expect,
    free_port,
    shot,
    wait_until_up,
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
    shutil.copy(request.getfixturevalue("sqlite_template"), directory / "rota.db")
    url = f"sqlite:///{directory / 'rota.db'}"
    engine = make_engine(url)
    with unit_of_work(make_sessions(engine)) as session:
        site = sites.import_scenario(session, sc.Scenario.model_validate(_scenario_around_now()), utcnow())
        site_id = site.id
        token = access.create_api_token(session, site_id, "browser test", utcnow())
    engine.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ROTA_DATABASE_URL": url, "ROTA_PUBLIC_URL": base, "ROTA_SOLVER_WORKERS": "1",
           "ROTA_DEFAULT_TIME_LIMIT": "3", "ROTA_WORKER_POLL_INTERVAL": "0.2",
           "ROTA_HEARTBEAT_INTERVAL": "0.2"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        cwd=directory, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", "from scheduler.cli.main import app; app()", "worker"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(base, server)
        yield {"base": base, "site": site_id, "token": token}
    finally:
        for process in (worker, server):
            process.terminate()
        for process in (worker, server):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def api(service, method: str, path: str, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {service['token']}"}
    return httpx.request(method, f"{service['base']}/sites/{service['site']}{path}", headers=headers,
                         timeout=30, **kwargs)


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
