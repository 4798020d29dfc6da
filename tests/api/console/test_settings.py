"""The site's policy on /console/settings: reminder offsets and auto_resolve, the same settings as the
API's (GET /sites/{id}/reminders, /resolve-settings); bad offsets are a message beside the field and
nothing is saved."""

from __future__ import annotations

import pytest

from tests.api.console.conftest import sign_in

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
EN = {"Accept-Language": "en"}


def test_reminders_and_auto_resolve_are_saved_and_checked(client, console, site):
    csrf = sign_in(console, site)
    page = console.get("/console/settings", headers=EN)
    assert page.status_code == 200 and 'id="reminder_hours"' in page.text
    saved = console.post("/console/settings", data={"csrf": csrf, "reminder_hours": "1， 12",
                                                    "auto_resolve": "1"}, headers=EN)
    assert saved.status_code == 200 and "Saved." in saved.text and 'value="12, 1"' in saved.text
    assert client.get(f"{site.url}/reminders", headers=site.headers).json() == {"hours_before": [12, 1]}
    assert client.get(f"{site.url}/resolve-settings", headers=site.headers).json()["auto_resolve"] is True
    for bad, message in (("12, x", "expected hours separated by commas"), ("0", "between 0 and 168"),
                         ("200", "between 0 and 168"), ("1, 1", "at most once"), ("1,2,3,4,5", "at most 4"),
                         ("0.001", "whole minutes")):
        response = console.post("/console/settings", data={"csrf": csrf, "reminder_hours": bad}, headers=EN)
        assert response.status_code == 422, bad
        assert message in response.text and 'aria-describedby="reminder_hours-error"' in response.text
        assert f'value="{bad}"' in response.text  # what was typed stays
    # nothing of that was saved; unchecking auto_resolve and emptying the reminders is
    assert client.get(f"{site.url}/reminders", headers=site.headers).json() == {"hours_before": [12, 1]}
    console.post("/console/settings", data={"csrf": csrf, "reminder_hours": ""})
    assert client.get(f"{site.url}/reminders", headers=site.headers).json() == {"hours_before": []}
    assert client.get(f"{site.url}/resolve-settings", headers=site.headers).json()["auto_resolve"] is False
    forged = console.post("/console/settings", data={"csrf": "forged", "reminder_hours": "3"})
    assert forged.status_code == 403
    zh = console.get("/console/settings", headers={"Accept-Language": "zh-CN"}).text
    assert "提醒" in zh
