"""Swaps through the HTTP API and the volunteer's pages: offer, the people listed (the rest rule keeps
one out), accept, the coordinator approves, both feeds change; tenant isolation; tokens that are not a
volunteer's own feed open nothing."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import pytest

from scheduler.store import access
from scheduler.store.db import utcnow
from tests.api.conftest import SiteHandle, seed_site
from tests.scheduler.services.test_swaps import publish_site


def start_day() -> dt.date:
    """The first day of the swap scenario: the day after tomorrow in Berlin, so every shift is ahead."""
    return dt.datetime.now(ZoneInfo("Europe/Berlin")).date() + dt.timedelta(days=2)


@pytest.fixture
def swap_site(app) -> tuple[SiteHandle, dict[str, str], dt.date]:
    start = start_day()
    site_id, tokens = publish_site(app.state.sessions, start.isoformat(), now=utcnow())
    with app.state.sessions() as session:
        token = access.create_api_token(session, site_id, "coordinator ann", utcnow())
        session.commit()
    return SiteHandle(site_id, token), tokens, start


def feed(client, token: str) -> dict[str, icalendar.Event]:
    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200
    events = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    return {e["DTSTART"].dt.astimezone(dt.UTC).isoformat(): e for e in events}


def test_the_policy_is_validated_and_another_sites_token_sees_nothing(client, app, swap_site):
    site, tokens, _ = swap_site
    bad = client.put(f"{site.url}/swaps/policy", json={"deadline_hours": 500}, headers=site.headers)
    assert bad.status_code == 422 and "deadline_hours" in bad.text
    ok = client.put(
        f"{site.url}/swaps/policy", json={"approval": "auto", "deadline_hours": 6}, headers=site.headers
    )
    assert ok.json() == {"approval": "auto", "deadline_hours": 6}
    other = seed_site(app)
    assert client.get(f"{site.url}/swaps", headers=other.headers).status_code == 404
    assert client.get(f"{other.url}/swaps/1", headers=other.headers).status_code == 404


def test_an_approval_over_the_inline_compile_limit_is_published_by_the_worker(database_url):
    """ROTA_INLINE_COMPILE_PAIRS=0: the decision answers ``approving`` at once (checked on the change's
    slice), the worker publishes it, and the API then shows it approved in the new version."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from scheduler.services import swaps as service
    from scheduler.store.db import unit_of_work
    from scheduler.worker.loop import Worker
    from tests.api.conftest import make_settings

    settings = make_settings(database_url).model_copy(update={"inline_compile_pairs": 0})
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            start = start_day()
            now = utcnow()
            site_id, tokens = publish_site(app.state.sessions, start.isoformat(), now=now)
            with unit_of_work(app.state.sessions) as session:
                token = access.create_api_token(session, site_id, "coordinator ann", now)
                key = service.ShiftKey(post="gate", shift="day", date=start + dt.timedelta(days=1))
                ann = service.me(session, tokens["ann"])
                offer = service.offer(session, ann, service.OfferRequest(**key.model_dump()), now)
                cat = service.me(session, tokens["cat"])
                service.accept(session, cat, offer.id, now, dt.timedelta(days=14))
                change_id = offer.id
            site = SiteHandle(site_id, token)
            decided = client.post(f"{site.url}/swaps/{change_id}/decision", json={"approve": True},
                                  headers=site.headers)
            assert decided.status_code == 200, decided.text
            assert decided.json()["state"] == "approving" and decided.json()["published_version"] is None
            assert client.get(f"{site.url}/schedule", headers=site.headers).json()["number"] == 1
            assert Worker(app.state.sessions, settings, name="test").publish_approvals() == 1
            shown = client.get(f"{site.url}/swaps/{change_id}", headers=site.headers).json()
            assert shown["state"] == "approved" and shown["published_version"] == 2
            assert client.get(f"{site.url}/schedule", headers=site.headers).json()["number"] == 2
    finally:
        app.state.engine.dispose()
