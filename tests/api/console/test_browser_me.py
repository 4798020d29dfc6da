"""A volunteer's own page in a real browser (Chromium, a phone's 390 x 844 viewport), against the real
server and worker of :mod:`tests.api.console.test_browser`: the volunteer taps "I'm unwell", the
coordinator sees the report on Today and re-plans, publishes; the volunteer's page then names the shifts
released. In English and in Chinese. Screenshots go to docs/screenshots/ (me-*.png)."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.api.console.test_browser import (  # noqa: F401  (fixtures)
    AXE,
    DESK,
    _axe,
    api,
    browser,
    expect,
    published_once,
    service,
    shot,
    sign_in,
)

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}


def _volunteer_link(service, volunteer: str) -> str:  # noqa: F811
    url = api(service, "POST", f"/volunteers/{volunteer}/calendar/token").json()["url"]
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    return f"{service['base']}/me/{token}"


def _coordinator_replans_and_publishes(browser, service, name: str) -> None:  # noqa: F811
    context = browser.new_context(viewport=DESK, locale="en-GB")
    page = context.new_page()
    sign_in(page, service)
    reports = page.locator("#unwell-reports")
    expect(reports).to_contain_text(name)
    shot(page, "me-coordinator-today-report")
    reports.locator("li", has_text=name).first.get_by_role("button", name="Re-plan now").click()
    page.wait_for_url("**/console/jobs/*")
    publish = page.locator("#publish")
    expect(publish).to_be_visible(timeout=60_000)
    publish.click()
    page.wait_for_url("**/console/rota?week=*")
    context.close()


def _unwell_on_the_phone(browser, service, volunteer: str, locale: str, header: str, button: str,  # noqa: F811
                         released_text: str, prefix: str) -> None:
    link = _volunteer_link(service, volunteer)
    name = api(service, "GET", f"/volunteers/{volunteer}").json()["name"]
    mine = [a for a in api(service, "GET", "/schedule/assignments").json() if a["volunteer"] == volunteer]
    to_release = [a for a in mine if a["date"] <= "2027-01-13"]
    assert to_release, "the busiest volunteer has shifts in the first three days"
    context = browser.new_context(**PHONE, locale=locale, extra_http_headers={"Accept-Language": header})
    page = context.new_page()
    page.goto(link)
    assert page.locator("li.my-shift").count() == len(mine)
    expect(page.locator("#calendar figure.qr svg")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width  # nothing wider than the phone
    box = page.locator("#unwell-button").bounding_box()
    assert box["height"] >= 44  # big enough to tap
    shot(page, f"{prefix}-page", full_page=False)
    page.locator("#unwell").scroll_into_view_if_needed()
    page.locator("#until").fill("2027-01-13")
    page.locator("input[name=infectious]").check()
    shot(page, f"{prefix}-unwell-form", full_page=False)
    page.get_by_role("button", name=button).click()
    expect(page.locator(".notice")).to_be_visible()
    expect(page.locator(".report-held")).to_be_visible()
    shot(page, f"{prefix}-unwell-reported", full_page=False)

    _coordinator_replans_and_publishes(browser, service, name)

    page.reload()
    done = page.locator(".report-published")
    expect(done).to_contain_text(released_text)
    expect(done.locator("ul.released li")).to_have_count(len(to_release))
    # what the page names as released is what the published schedule no longer gives them
    now_mine = [a for a in api(service, "GET", "/schedule/assignments").json() if a["volunteer"] == volunteer]
    assert not [a for a in now_mine if a["date"] <= "2027-01-13"]
    assert page.locator("li.my-shift").count() == len(now_mine)
    done.scroll_into_view_if_needed()
    shot(page, f"{prefix}-released", full_page=False)
    shot(page, f"{prefix}-released-full")
    context.close()


def _by_load(service) -> list[str]:  # noqa: F811
    assignments = api(service, "GET", "/schedule/assignments").json()
    early = Counter(a["volunteer"] for a in assignments if a["date"] <= "2027-01-13")
    return [v for v, _ in early.most_common()]


def test_unwell_replanned_published_and_the_released_shifts_shown(browser, service):  # noqa: F811
    published_once(service)
    _unwell_on_the_phone(browser, service, _by_load(service)[0], "en-GB", "en-GB,en;q=0.9",
                         "I'm unwell", "no longer yours", "me")


def test_the_same_in_chinese(browser, service):  # noqa: F811
    published_once(service)
    candidates = _by_load(service)  # the English test's volunteer is sick by now: someone else
    health = {v: api(service, "GET", f"/volunteers/{v}/health").json() for v in candidates[:4]}
    volunteer = next(v for v in candidates[:4] if not any(r["status"] == "sick" for r in health[v]))
    _unwell_on_the_phone(browser, service, volunteer, "zh-CN", "zh-CN,zh;q=0.9", "我身体不适",
                         "不再由你负责", "me-zh")


@pytest.mark.skipif(
    not AXE.exists(), reason=f"no axe-core at {AXE} (npm install --prefix .cache/axe axe-core@4)"
)
def test_no_serious_or_critical_accessibility_violations_on_the_own_page(browser, service):  # noqa: F811
    published_once(service)
    link = _volunteer_link(service, "v002")
    context = browser.new_context(**PHONE, locale="en-GB", bypass_csp=True)
    page = context.new_page()
    found = {}
    for lang in ("en", "zh_CN"):
        page.goto(f"{link}/lang/{lang}")
        found[lang] = _axe(page)
    page.goto(f"{service['base']}/me/not-a-token-at-all-000000")
    found["missing"] = _axe(page)
    assert not any(found.values()), found
    context.close()


def test_an_absence_with_a_reason_from_the_list_on_the_phone_in_chinese(browser, service):  # noqa: F811
    published_once(service)
    link = _volunteer_link(service, "v006")
    context = browser.new_context(**PHONE, locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN"})
    page = context.new_page()
    page.goto(f"{link}/lang/zh_CN")
    reason = page.locator("select#absence_reason")
    reason.scroll_into_view_if_needed()
    expect(reason).to_be_visible()
    assert reason.locator("option").count() == 12  # 'not given' and the eleven reasons: no free text
    expect(reason.locator("option[value=study]")).to_have_text("上课或考试")
    page.fill("#absence_from", "2027-01-20")
    page.fill("#absence_until", "2027-01-21")
    reason.select_option("study")
    box = reason.bounding_box()
    assert box["x"] + box["width"] <= 390 and box["height"] >= 40
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "me-zh-absence-form", full_page=False)
    page.locator("#absences").get_by_role("button", name="添加").click()
    expect(page.locator("ul.absences")).to_contain_text("上课或考试")
    shot(page, "me-zh-absence-saved", full_page=False)
    stored = api(service, "GET", "/volunteers/v006").json()["unavailable"]
    assert {"from": "2027-01-20", "until": "2027-01-21", "reason": "study"} in stored
    context.close()
