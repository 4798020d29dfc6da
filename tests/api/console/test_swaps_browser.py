"""Swaps in a real browser on a phone (375 x 812): the offer page does not list a volunteer the rest rule
keeps out; a valid swap proposed, accepted on the taker's page, approved on the console shows in both
volunteers' feeds (the shift given up CANCELLED, the one taken CONFIRMED); on a site too large to
check in a request, an approved claim shows as being published until the worker publishes it.
Screenshots in docs/screenshots/ (me-swaps-*.png, console-swaps.png, console-swaps-approving.png).
Skipped like tests/api/console/test_browser.py."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys

import httpx
import icalendar
import pytest

from scheduler.store import access
from scheduler.store.db import make_engine, make_sessions, unit_of_work, utcnow
from tests.api.console import test_browser as shared
from tests.api.console.test_browser import (
    PHONE,
    expect,
    free_port,
    shot,
    sign_in,
    wait_until_up,
)
from tests.api.test_swaps import start_day
from tests.scheduler.services.test_swaps import publish_site

browser = shared.browser  # the fixture


@pytest.fixture(scope="module")
def service(tmp_path_factory, request):
    yield from _serve(tmp_path_factory, request, {})


@pytest.fixture(scope="module")
def large_service(tmp_path_factory, request):
    """The same site, served as if it were too large to check in full inside a request."""
    yield from _serve(tmp_path_factory, request, {"ROTA_INLINE_COMPILE_PAIRS": "0"})


def _serve(tmp_path_factory, request, extra_env: dict[str, str]):
    directory = tmp_path_factory.mktemp("swaps-browser")
    shutil.copy(request.getfixturevalue("sqlite_template"), directory / "rota.db")
    url = f"sqlite:///{directory / 'rota.db'}"
    engine = make_engine(url)
    start = start_day()
    site_id, tokens = publish_site(make_sessions(engine), start.isoformat(), now=utcnow())
    with unit_of_work(make_sessions(engine)) as session:
        token = access.create_api_token(session, site_id, "browser test", utcnow())
    engine.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ROTA_DATABASE_URL": url, "ROTA_PUBLIC_URL": base, **extra_env}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=directory,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_up(base, server)
        yield {"base": base, "site": site_id, "token": token, "tokens": tokens, "start": start, "url": url}
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


def feed_status(service, volunteer: str) -> dict[tuple[str, int], str]:
    """(local date, local start hour) -> STATUS of each event in the volunteer's feed."""
    response = httpx.get(f"{service['base']}/calendar/{service['tokens'][volunteer]}.ics", timeout=30)
    assert response.status_code == 200
    out = {}
    for event in icalendar.Calendar.from_ical(response.content).walk("VEVENT"):
        start = event["DTSTART"].dt
        out[(start.date().isoformat(), start.hour)] = str(event["STATUS"])
    return out


def test_a_swap_on_a_phone_rest_rule_respected_accepted_approved_and_in_both_feeds(browser, service):
    base, tokens, start = service["base"], service["tokens"], service["start"]
    mon, tue = start.isoformat(), (start + dt.timedelta(days=1)).isoformat()
    context = browser.new_context(locale="en-GB", **PHONE)
    page = context.new_page()

    page.goto(f"{base}/me/{tokens['ann']}/swaps")
    expect(page.locator("h1")).to_have_text("Swap or give away a shift")
    shot(page, "me-swaps")
    page.locator(f'a[href*="date={tue}"]').first.click()
    give = page.locator("#give")
    expect(give).to_contain_text("Volunteer cat")
    expect(give).not_to_contain_text("Volunteer bob")  # his night ends two hours before: rest
    shot(page, "me-swaps-offer")
    option = (
        page.locator("form.swap-option")
        .filter(has_text="Volunteer cat")
        .filter(has=page.locator(f'input[name="back_date"][value="{mon}"]'))
    )
    option.locator("button").click()
    expect(page.locator(".notice")).to_contain_text("Your offer is up")
    assert feed_status(service, "ann")[(tue, 8)] == "CONFIRMED"  # until taken it stays ann's

    page.goto(f"{base}/me/{tokens['cat']}/swaps")
    offer = page.locator("#offers .offer")
    expect(offer).to_contain_text("Volunteer ann offers this shift in exchange for your shift")
    shot(page, "me-swaps-offered")
    offer.locator("button").click()
    expect(page.locator(".notice")).to_contain_text("You took the shift")
    # bob sees nothing he could take
    page.goto(f"{base}/me/{tokens['bob']}/swaps")
    expect(page.locator("#offers")).to_contain_text("Nothing is offered that you could take")

    console = context.new_page()
    sign_in(console, service)
    console.goto(f"{base}/console/swaps")
    pending = console.locator("#pending .change")
    expect(pending).to_have_count(1)
    shot(console, "console-swaps")
    pending.locator('button[value="1"]').click()
    expect(console.locator(".notice")).to_contain_text("Approved and published")
    expect(console.locator("#trail")).to_contain_text("volunteer:cat")

    ann, cat = feed_status(service, "ann"), feed_status(service, "cat")
    assert ann[(tue, 8)] == "CANCELLED" and ann[(mon, 8)] == "CONFIRMED"
    assert cat[(mon, 8)] == "CANCELLED" and cat[(tue, 8)] == "CONFIRMED"

    page.goto(f"{base}/me/{tokens['cat']}/open")
    expect(page.locator("h1")).to_have_text("Open shifts")
    shot(page, "me-swaps-open")
    context.close()


def test_an_approval_on_a_large_site_is_shown_being_published_until_the_worker_did_it(browser, large_service):
    from scheduler.settings import Settings
    from scheduler.worker.loop import Worker

    service = large_service
    base, tokens, start = service["base"], service["tokens"], service["start"]
    tue = (start + dt.timedelta(days=1)).isoformat()
    context = browser.new_context(locale="en-GB", **PHONE)
    page = context.new_page()
    page.goto(f"{base}/me/{tokens['cat']}/open")
    page.locator("form").filter(has=page.locator(f'input[name="date"][value="{tue}"]')).locator("button").click()
    expect(page.locator(".notice")).to_contain_text("You claimed the shift")

    console = context.new_page()
    sign_in(console, service)
    console.goto(f"{base}/console/swaps")
    console.locator('#pending .change button[value="1"]').click()
    expect(console.locator(".notice")).to_contain_text("The site is large")
    expect(console.locator("#approving")).to_contain_text("Volunteer cat")
    shot(console, "console-swaps-approving")
    page.goto(f"{base}/me/{tokens['cat']}/open")
    expect(page.locator("body")).to_contain_text("approved: going into the rota")
    before = feed_status(service, "cat")
    assert not [day for day, _ in before if day == tue]  # not in the rota yet

    engine = make_engine(service["url"])
    try:
        settings = Settings(database_url=service["url"], public_url=base)
        assert Worker(make_sessions(engine), settings, name="browser-test").publish_approvals() == 1
    finally:
        engine.dispose()
    console.reload()
    expect(console.locator("#approving")).to_have_count(0)
    expect(console.locator("#decided")).to_contain_text("version 2")
    page.reload()
    expect(page.locator("body")).to_contain_text("done: in the rota")
    taken = {k: v for k, v in feed_status(service, "cat").items() if k not in before}
    assert [v for (day, _), v in taken.items() if day == tue] == ["CONFIRMED"]
    context.close()
