"""Worked hours on the pages: check in and out on a volunteer's own page (the server's clock, a window
around the shift, a second check-in a no-op with a message, CSRF), the hours this week counting what was
worked; the coordinator's /console/worked (confirm, confirm all of yesterday, no-show, corrected times
with messages beside the field, an extra shift)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.api.conftest import publish, solve
from tests.api.console.conftest import csrf_of, sign_in
from tests.api.console.test_me import feed_token

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
H = dt.timedelta(hours=1)


@pytest.fixture
def first(client, site, worker):
    publish(client, site, solve(client, worker, site)["id"])
    assignments = client.get(f"{site.url}/schedule/assignments", headers=site.headers).json()
    return min(assignments, key=lambda a: (a["start"], a["volunteer"])), assignments


def clock(monkeypatch, module: str, at: dt.datetime) -> None:
    monkeypatch.setattr(f"api.console.{module}.utcnow", lambda: at.astimezone(dt.UTC))


def _hours(html: str) -> str:
    return re.search(r'id="week-hours">([^<]*)', html).group(1)


def test_check_in_and_out_on_my_page(client, site, first, monkeypatch):
    a, _ = first
    start, end = dt.datetime.fromisoformat(a["start"]), dt.datetime.fromisoformat(a["end"])
    token = feed_token(client, site, a["volunteer"])
    en = {"Accept-Language": "en"}
    clock(monkeypatch, "me", start - 2 * H)
    page = client.get(f"/me/{token}", headers=en).text
    assert 'id="check-in"' not in page  # too early: no button
    csrf = csrf_of(page)
    early = client.post(f"/me/{token}/check-in", data={"csrf": csrf}, headers=en)
    assert early.status_code == 422 and "an hour before your shift" in early.text
    assert client.post(f"/me/{token}/check-in", data={"csrf": "forged"}).status_code == 403

    clock(monkeypatch, "me", start - dt.timedelta(minutes=20))
    page = client.get(f"/me/{token}", headers=en).text
    assert 'id="check-in"' in page and "Check in" in page
    done = client.post(f"/me/{token}/check-in", data={"csrf": csrf}, headers=en)
    assert done.status_code == 200 and "Checked in. Have a good shift." in done.text
    local_in = (start - dt.timedelta(minutes=20)).strftime("%H:%M")
    assert f"Checked in at {local_in}" in done.text and 'id="check-out"' in done.text
    again = client.post(f"/me/{token}/check-in", data={"csrf": csrf}, headers=en)
    assert "already checked in: nothing changed" in again.text and f"Checked in at {local_in}" in again.text

    clock(monkeypatch, "me", end + 3 * H)  # stayed three hours longer
    before = _hours(client.get(f"/me/{token}", headers=en).text)
    out = client.post(f"/me/{token}/check-out", data={"csrf": csrf}, headers=en)
    assert "Checked out. Thank you" in out.text
    assert f"checked out at {(end + 3 * H).strftime('%H:%M')}" in out.text
    after = _hours(out.text)
    assert before != after  # the hours this week count the 3 h 20 min more
    hours = client.get(f"{site.url}/worked?from={a['date']}&to={a['date']}", headers=site.headers)
    # (the API's clock is the real one: the shift lies in the future for it, so it lists nothing yet)
    assert hours.status_code == 200
    # Chinese
    zh = client.get(f"/me/{token}", headers={"Accept-Language": "zh-CN"}).text
    assert "签到" in zh


def test_coordinator_confirms_corrects_and_adds(client, console, site, first, monkeypatch):
    a, assignments = first
    day = a["date"]
    of_day = [x for x in assignments if x["date"] == day]
    after = max(dt.datetime.fromisoformat(x["end"]) for x in of_day) + H
    next_day = after + dt.timedelta(days=1)  # "yesterday" is the shifts' day
    clock(monkeypatch, "worked", next_day)
    csrf = sign_in(console, site)
    page = console.get(f"/console/worked?day={day}", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and page.text.count("not recorded") == len(of_day)
    key = f"{a['volunteer']}/{a['post']}/{a['shift']}/{day}"

    begin = dt.datetime.fromisoformat(a["start"])
    start_local = begin.strftime("%Y-%m-%dT%H:%M")
    for start, end, message in (
        (start_local, start_local, "must be after the start"),
        (start_local, (begin + 25 * H).strftime("%Y-%m-%dT%H:%M"), "at most 24 hours"),
        (start_local, (next_day + 5 * H).astimezone(begin.tzinfo).strftime("%Y-%m-%dT%H:%M"),
         "must not be in the future"),
        (start_local, "tomorrow-ish", "expected a date and time"),
    ):
        response = console.post("/console/worked/correct", data={"csrf": csrf, "shift": key, "start": start,
                                                                 "end": end, "day": day},
                                headers={"Accept-Language": "en"})
        assert response.status_code == 422, (end, response.text[:300])
        assert message in response.text and 'aria-invalid="true"' in response.text
        assert re.search(r'<details open>', response.text)
    late = (dt.datetime.fromisoformat(a["end"]) + 2 * H).strftime("%Y-%m-%dT%H:%M")
    ok = console.post("/console/worked/correct", headers={"Accept-Language": "en"},
                      data={"csrf": csrf, "shift": key, "start": start_local, "end": late, "day": day})
    assert ok.status_code == 200 and "Times corrected." in ok.text
    other = next(x for x in of_day if x is not a)
    other_key = f"{other['volunteer']}/{other['post']}/{other['shift']}/{day}"
    console.post("/console/worked/no-show", data={"csrf": csrf, "shift": other_key, "day": day})
    done = console.post("/console/worked/confirm-day", data={"csrf": csrf, "date": day},
                        headers={"Accept-Language": "en"})
    assert f"Confirmed {len(of_day) - 2} shifts." in done.text
    page = console.get(f"/console/worked?day={day}", headers={"Accept-Language": "en"}).text
    assert "not recorded" not in page and page.count("no-show</span>") == 1
    assert page.count('tag-confirmed') == len(of_day)
    # an extra shift: checked, then added
    bad = console.post("/console/worked/extra", data={"csrf": csrf, "volunteer": "", "post": "gate",
                                                       "start": start_local, "end": late},
                       headers={"Accept-Language": "en"})
    assert bad.status_code == 422 and "choose one" in bad.text
    added = console.post("/console/worked/extra", data={"csrf": csrf, "volunteer": a["volunteer"],
                                                         "post": "gate", "start": start_local, "end": late},
                         headers={"Accept-Language": "en"})
    assert "Extra shift added." in added.text
    listed = client.get(f"{site.url}/worked?from={day}&to={day}", headers=site.headers).json()
    assert [w["state"] for w in listed].count("extra") == 1
    forged = console.post("/console/worked/confirm-day", data={"csrf": "forged", "date": day})
    assert forged.status_code == 403


def test_the_pages_before_anything_is_published(client, console, site):
    sign_in(console, site)
    page = console.get("/console/worked", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "No shifts." in page.text
    token = feed_token(client, site, "v002")
    mine = client.get(f"/me/{token}", headers={"Accept-Language": "en"})
    assert mine.status_code == 200 and 'id="duty"' not in mine.text
    csrf = csrf_of(mine.text)
    refused = client.post(f"/me/{token}/check-out", data={"csrf": csrf}, headers={"Accept-Language": "en"})
    assert refused.status_code == 422 and "Check in first." in refused.text
