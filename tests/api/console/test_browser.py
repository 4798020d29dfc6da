"""The console in a real browser: Playwright driving Debian's Chromium against a real uvicorn server on
127.0.0.1 (a random port) with a real ``rota worker`` process beside it, on a fresh small site.

Sign in, solve with the progress bar, publish, see the grid; mark the busiest volunteer sick, see the
change set with whom to call, publish, see their feed's shifts CANCELLED; the Chinese console; a phone
viewport (375 x 812); a post's form error, a volunteer's edit, the load chart; axe-core on every page in
both languages (no serious or critical violation). Screenshots go to docs/screenshots/.

Skipped (with the reason) without the playwright package or /usr/bin/chromium; ``.ci/run`` installs
Chromium and axe-core (npm, into .cache/axe). Never runs ``playwright install``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from scheduler.domain import scenario as sc
from scheduler.store import access, sites
from scheduler.store.db import make_engine, make_sessions, unit_of_work, utcnow

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[3]
SHOTS = ROOT / "docs" / "screenshots"
SMALL = ROOT / "fixtures" / "small.json"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
if not os.path.exists(CHROMIUM):
    pytest.skip(
        f"no Chromium at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)", allow_module_level=True
    )

expect = sync_api.expect
DESK = {"width": 1280, "height": 900}
PHONE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {process.stdout.read()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not come up")


@contextlib.contextmanager
def running_service(directory: Path, template: Path, data: dict):
    """A fresh copy of the migrated ``template`` database in ``directory`` holding the site of ``data``
    (a scenario), a coordinator token, the server on a free port and one worker process; yields
    ``{"base", "site", "token"}`` and stops both processes after."""
    shutil.copy(template, directory / "rota.db")
    url = f"sqlite:///{directory / 'rota.db'}"
    engine = make_engine(url)
    with unit_of_work(make_sessions(engine)) as session:
        site = sites.import_scenario(session, sc.Scenario.model_validate(data), utcnow())
        site_id = site.id
        token = access.create_api_token(session, site_id, "browser test", utcnow())
    engine.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "ROTA_DATABASE_URL": url,
        "ROTA_PUBLIC_URL": base,
        "ROTA_SOLVER_WORKERS": "1",
        "ROTA_DEFAULT_TIME_LIMIT": "3",
        "ROTA_RESOLVE_DEFAULT_TIME_LIMIT": "3",
        "ROTA_WORKER_POLL_INTERVAL": "0.2",
        "ROTA_HEARTBEAT_INTERVAL": "0.2",
    }
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


@pytest.fixture(scope="module")
def service(tmp_path_factory, request):
    """A fresh database with the small site (phones added), the server and one worker process."""
    data = json.loads(SMALL.read_text(encoding="utf-8"))
    for i, v in enumerate(data["volunteers"]):
        v["contact"] = {"phone": f"+86 138 0013 {i:04d}"}
    with running_service(tmp_path_factory.mktemp("browser"), request.getfixturevalue("sqlite_template"),
                         data) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def api(service, method: str, path: str, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {service['token']}"}
    return httpx.request(method, f"{service['base']}/sites/{service['site']}{path}", headers=headers,
                         timeout=30, **kwargs)


def shot(page, name: str, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def sign_in(page, service) -> None:
    page.goto(f"{service['base']}/console/today")
    expect(page).to_have_url(f"{service['base']}/console/sign-in?next=%2Fconsole%2Ftoday")
    page.locator("#token").fill(service["token"])
    page.locator("form button[type=submit]").click()
    page.wait_for_url(f"{service['base']}/console/today")


def published_once(service) -> None:
    """A published schedule, made through the API when a test runs on its own."""
    if api(service, "GET", "/schedule").status_code == 200:
        return
    job = api(service, "POST", "/schedules", json={"time_limit": 3}).json()
    for _ in range(300):
        state = api(service, "GET", f"/schedules/{job['id']}").json()["state"]
        if state == "done":
            break
        time.sleep(0.1)
    assert api(service, "POST", f"/schedules/{job['id']}/publish").status_code == 201


def test_sign_in_solve_with_progress_publish_and_see_the_grid(browser, service):
    context = browser.new_context(viewport=DESK, locale="en-GB")
    page = context.new_page()
    page.goto(f"{service['base']}/console/sign-in")
    page.locator("#token").fill("rota_not-a-real-token-at-all")
    page.locator("form button[type=submit]").click()
    expect(page.locator("#token-error")).to_have_text("this token is not valid")
    shot(page, "sign-in-error")
    sign_in(page, service)
    expect(page.locator("h1")).to_have_text("The next 72 hours")

    page.get_by_role("link", name="Solve").click()
    page.locator("#days").fill("0")
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#days-error")).to_contain_text("greater than or equal to 1")
    page.locator("#days").fill("7")
    page.locator("#time_limit").fill("3")
    page.get_by_role("button", name="Start").click()
    page.wait_for_url("**/console/jobs/*")
    # the live progress: the bar moves while the worker searches (polled by console.js)
    bar = page.locator("#bar")
    deadline = time.monotonic() + 20
    while float(bar.get_attribute("value") or 0) <= 0:  # (wait_for_function would need 'unsafe-eval')
        assert time.monotonic() < deadline, "the progress bar never moved"
        page.wait_for_timeout(100)
    assert float(bar.get_attribute("value")) < 100
    shot(page, "solve-progress")
    publish = page.locator("#publish")
    expect(publish).to_be_visible(timeout=30_000)  # the page reloads itself when the job is done
    expect(page.locator("#coverage")).to_contain_text("%")
    shot(page, "solve-review")
    publish.click()
    page.wait_for_url("**/console/rota?week=*")
    expect(page.locator(".notice")).to_contain_text("Published.")
    expect(page.locator("table.posts-grid tbody tr")).to_have_count(2)
    assert page.locator("table.people-grid .chip").count() > 10
    shot(page, "rota-grid")
    page.get_by_role("link", name="Today").click()
    assert page.locator("a.tel[href^='tel:+86138']").count() > 0
    shot(page, "today")
    context.close()


def test_mark_sick_see_whom_to_call_publish_and_the_feed_cancels(browser, service):
    published_once(service)
    version = api(service, "GET", "/schedule").json()["number"]
    assignments = api(service, "GET", "/schedule/assignments").json()
    ill = Counter(a["volunteer"] for a in assignments).most_common(1)[0][0]
    feed = api(service, "POST", f"/volunteers/{ill}/calendar/token").json()["url"]
    before = httpx.get(feed, timeout=10).text
    assert "CANCELLED" not in before

    context = browser.new_context(viewport=DESK, locale="en-GB")
    page = context.new_page()
    sign_in(page, service)
    page.get_by_role("link", name="People").click()
    shot(page, "people")
    page.locator(f"a.name[href='/console/people/{ill}']").click()
    page.locator("input[name=status][value=sick]").check()
    page.locator("#from").fill("2027-01-11")
    page.locator("#until").fill("2027-01-17")
    page.get_by_role("button", name="Save and re-plan").click()
    page.wait_for_url("**/console/jobs/*")
    expect(page.get_by_role("heading", name="Whom to call")).to_be_visible(timeout=30_000)
    changes = page.locator("#changes")
    assert changes.locator("a.tel[href^='tel:']").count() > 0
    expect(changes.locator(".removed").first).to_be_visible()
    shot(page, "mark-sick-changes")
    page.locator("#publish").click()
    page.wait_for_url("**/console/rota?week=*")
    assert api(service, "GET", "/schedule").json()["number"] == version + 1
    assert page.locator(f"table.people-grid a[href='/console/people/{ill}']").count() == 1
    after = httpx.get(feed, timeout=10).text
    assert "STATUS:CANCELLED" in after
    sequences = [int(line.split(":")[1]) for line in after.splitlines() if line.startswith("SEQUENCE:")]
    assert max(sequences) > 0
    page.get_by_role("link", name="People").click()
    row = page.locator(f"li.person-row:has(a[href='/console/people/{ill}'])")
    expect(row.locator(".status-sick").first).to_be_visible()
    context.close()


def test_the_chinese_console(browser, service):
    published_once(service)
    context = browser.new_context(
        viewport=DESK, locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN"}
    )
    page = context.new_page()
    page.goto(f"{service['base']}/console/sign-in")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text("登录")
    page.locator("#token").fill(service["token"])
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/console/today")
    expect(page.locator("h1")).to_have_text("未来 72 小时")
    shot(page, "zh-today")
    page.get_by_role("link", name="排班表").click()
    expect(page.locator("h2").first).to_have_text("各岗位每日安排")
    shot(page, "zh-rota-grid")
    page.get_by_role("link", name="人员").click()
    shot(page, "zh-people")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("People")
    page.get_by_role("link", name="中文").click()
    expect(page.locator("h1")).to_have_text("人员")
    context.close()


def test_a_phone_viewport(browser, service):
    published_once(service)
    context = browser.new_context(**PHONE, locale="en-GB")
    page = context.new_page()
    sign_in(page, service)
    for name, path in [("phone-today", "/console/today"), ("phone-rota", "/console/rota"),
                       ("phone-people", "/console/people"), ("phone-person", "/console/people/v002"),
                       ("phone-solve", "/console/solve")]:
        page.goto(f"{service['base']}{path}")
        # nothing wider than the screen: the grid scrolls inside its own box, the page never sideways
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, (path, width)
        for link in page.locator("nav.main a").all():
            box = link.bounding_box()
            assert box["height"] >= 40, (path, box)  # big enough to tap
        shot(page, name, full_page=False)
    page.goto(f"{service['base']}/console/people/v002")
    reason = page.locator("select#reason")
    reason.scroll_into_view_if_needed()
    expect(reason).to_be_visible()
    assert reason.locator("option").count() == 7  # 'not given' and the six reasons: no free text
    reason.select_option("caring_for_someone")
    box = reason.bounding_box()
    assert box["x"] + box["width"] <= 375 and box["height"] >= 40
    shot(page, "phone-health-form", full_page=False)
    page.get_by_role("button", name="Make a new link (with a QR code)").click()
    qr = page.locator("#calendar figure.qr svg")
    expect(qr).to_be_visible()
    feed = page.locator("#feed-url").input_value()
    assert httpx.get(feed, timeout=10).text.startswith("BEGIN:VCALENDAR")
    page.locator("#calendar").scroll_into_view_if_needed()
    shot(page, "phone-calendar-qr", full_page=False)
    context.close()


AXE = Path(
    os.environ.get("ROTA_AXE_JS", ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js")
)


def test_posts_people_editing_and_the_load_chart(browser, service):
    published_once(service)
    context = browser.new_context(viewport=DESK, locale="en-GB")
    page = context.new_page()
    sign_in(page, service)
    page.get_by_role("link", name="Posts").click()
    page.get_by_role("link", name="Edit").first.click()
    page.locator("#t0-end").fill(page.locator("#t0-start").input_value())  # start == end: refused
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#t0-end-error")).to_contain_text("must differ from start")
    shot(page, "post-edit-error")
    page.goto(f"{service['base']}/console/people/v003/edit")
    page.locator("#max_hours_per_week").fill("12")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".notice")).to_contain_text("Saved.")
    assert api(service, "GET", "/volunteers/v003").json()["max_hours_per_week"] == 12
    page.goto(f"{service['base']}/console/load")
    assert page.locator("svg rect").count() > 10
    shot(page, "load-chart")
    # the printable week: one A4 page per post
    page.goto(f"{service['base']}/console/print?week=2027-01-11")
    pdf = page.pdf(format="A4", print_background=True)
    posts = len(api(service, "GET", "/posts").json())
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == posts
    page.emulate_media(media="print")
    shot(page, "print-week")
    context.close()


@pytest.mark.skipif(
    not AXE.exists(), reason=f"no axe-core at {AXE} (npm install --prefix .cache/axe axe-core@4)"
)
def test_no_serious_or_critical_accessibility_violations(browser, service):
    published_once(service)
    jobs = api(service, "GET", "/schedules").json()
    # axe is injected as a script, which the pages' CSP (script-src 'self') would refuse: bypassed here only
    context = browser.new_context(viewport=DESK, locale="en-GB", bypass_csp=True)
    page = context.new_page()
    page.goto(f"{service['base']}/console/sign-in")
    found = {"/console/sign-in": _axe(page)}
    sign_in(page, service)
    pages = ["/console/today", "/console/rota", "/console/people", "/console/people/v002",
             "/console/people/v002/edit", "/console/posts", "/console/posts/gate", "/console/solve",
             "/console/load", "/console/people/import", "/console/people/new", "/console/posts/new",
             "/console/print", f"/console/jobs/{jobs[0]['id']}", "/console/jobs/999999", "/console/scenario"]
    for lang in ("en", "zh_CN"):
        page.goto(f"{service['base']}/console/lang/{lang}?next=/console/today")
        for path in pages:
            page.goto(f"{service['base']}{path}")
            found[f"{lang} {path}"] = _axe(page)
    bad = {path: v for path, v in found.items() if v}
    assert not bad, json.dumps(bad, indent=1, ensure_ascii=False)[:4000]
    assert len(found) == 1 + 2 * len(pages)
    context.close()


def _axe(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"][:3]]}
        for v in result["violations"] if v["impact"] in ("serious", "critical")
    ]


def test_import_a_spreadsheet_with_one_bad_row(browser, service, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    for row in [("id", "name", "phone", "skills", "max_hours_per_week"),
                ("v201", "Zhao Lei", "+86 138 0000 0201", "driver", 20),
                ("v202", "Sun Mei", "", "medical", "twenty")]:
        workbook.active.append(list(row))
    path = tmp_path / "volunteers.xlsx"
    workbook.save(path)
    context = browser.new_context(viewport=DESK, locale="en-GB")
    page = context.new_page()
    sign_in(page, service)
    page.goto(f"{service['base']}/console/people")
    page.get_by_role("link", name="Import volunteers").click()
    page.locator("#file").set_input_files(str(path))
    page.get_by_role("button", name="Import").click()
    row = page.locator("#problems tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(1)).to_have_text("E3")
    expect(row.locator("td").nth(2)).to_contain_text("expected a number of hours")
    shot(page, "import-bad-row")
    assert api(service, "GET", "/volunteers/v201").status_code == 404  # nothing imported
    context.close()


def test_upload_a_scenario_file_with_an_invalid_field(browser, service, tmp_path):
    path = tmp_path / "site.json"
    path.write_text(json.dumps({"site": {"name": "X", "timezone": "Nowhere/Atlantis"}, "posts": [],
                                "horizon": {"start": "2027-01-11", "days": 7}, "volunteers": []}))
    context = browser.new_context(viewport=DESK, locale="en-GB")
    page = context.new_page()
    sign_in(page, service)
    page.get_by_role("link", name="Posts").click()
    page.get_by_role("link", name="Upload a scenario file").click()
    page.locator("#file").set_input_files(str(path))
    page.locator("#admin_token").fill("not-a-token")
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#file-error")).to_contain_text("site.timezone")
    expect(page.locator("#admin_token-error")).to_contain_text("not a valid token of this site")
    shot(page, "scenario-upload-error")
    context.close()


def test_residents_page_on_a_phone_and_in_chinese(browser, service):
    """Issue 12: residents added through the API, matched from the page; at risk first; the form."""
    for i, building in enumerate(("B1", "B2", "B3")):
        body = {"id": f"r{i}", "name": f"Resident {i}", "building": building, "address": f"{i + 1}F",
                "needs": {"daily_check_in": True, "medical_care": i == 2,
                          "language": "wu" if i == 1 else None},
                "visits": [{"id": "check", "start": "10:00", "minutes": 30}]}
        assert api(service, "POST", "/residents", json=body).status_code in (201, 409)
    context = browser.new_context(**PHONE, locale="en-GB")
    page = context.new_page()
    sign_in(page, service)
    page.goto(f"{service['base']}/console/residents")
    expect(page.locator("h1")).to_have_text("Residents")
    expect(page.locator(".warning").first).to_be_visible()  # nobody matched yet: all at risk
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "phone-residents-unmatched", full_page=False)
    page.get_by_role("button", name="Match guardians").click()
    expect(page.locator(".notice")).to_contain_text("Matched")
    # nobody speaks wu in the small site: that resident stays at risk, and comes first
    first = page.locator("li.person-row").first
    expect(first).to_contain_text("Resident 1")
    expect(first.locator(".warning").first).to_contain_text("No named volunteer")
    shot(page, "phone-residents")
    page.goto(f"{service['base']}/console/residents/r0")
    page.locator("#v0-minutes").fill("2")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#v0-minutes-error")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "phone-resident-form-error")
    page.goto(f"{service['base']}/console/lang/zh_CN?next=/console/residents")
    expect(page.locator("h1")).to_have_text("居民")
    shot(page, "phone-residents-zh", full_page=False)
    context.close()
