"""Volunteers added and edited from the console: the API's checks, messages beside their fields, what
the form does not show kept as it was, another site's volunteers out of reach."""

from __future__ import annotations

import re

from tests.api.conftest import fixture
from tests.api.console.conftest import sign_in


def beside(html: str, field: str) -> str | None:
    match = re.search(rf'<p class="field-error" id="{re.escape(field)}-error" role="alert">([^<]*)</p>', html)
    return match.group(1) if match else None


def test_editing_a_volunteer_keeps_what_the_form_does_not_show(console, client, site):
    csrf = sign_in(console, site)
    before = client.get(f"{site.url}/volunteers/v004", headers=site.headers).json()
    page = console.get("/console/people/v004/edit")
    assert page.status_code == 200 and 'value="Marta Papadopoulos"' in page.text
    form = {
        "csrf": csrf, "name": "Marta P.", "phone": "+30 210 000 0000", "email": "",
        "skills": "medical, driver",
        "max_hours_per_week": "20", "windows": "2", "w0-wd-mon": "on", "w0-wd-tue": "on", "w0-start": "06:00",
        "w0-end": "14:00", "absences": "1", "u0-from": "2027-01-14", "u0-until": "2027-01-15",
        "u0-reason": "family",
    }
    response = console.post("/console/people/v004/edit", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    after = client.get(f"{site.url}/volunteers/v004", headers=site.headers).json()
    assert after["name"] == "Marta P." and after["contact"]["phone"] == "+30 210 000 0000"
    assert after["skills"] == ["medical", "driver"] and after["max_hours_per_week"] == 20
    assert after["availability"] == [{"weekdays": ["mon", "tue"], "start": "06:00:00", "end": "14:00:00"}]
    assert after["unavailable"] == [{"from": "2027-01-14", "until": "2027-01-15", "reason": "family"}]
    assert after["preferences"] == before["preferences"] and after["history"] == before["history"]
    assert "Saved." in console.get(response.headers["location"]).text


def test_bad_values_are_shown_beside_their_field(console, client, site):
    csrf = sign_in(console, site)
    base = {"csrf": csrf, "name": "Shirin Demir", "windows": "1", "absences": "1"}
    cases = [
        ({"name": ""}, "name", "at least 1 character"),
        ({"max_hours_per_week": "lots"}, "max_hours_per_week", "number of hours"),
        ({"max_hours_per_week": "500"}, "max_hours_per_week", "less than or equal to 168"),
        ({"skills": "medical, bad skill!"}, "skills", "pattern"),
        ({"w0-start": "26:00", "w0-wd-mon": "on"}, "w0-start", "time"),
        ({"u0-from": "2027-01-15", "u0-until": "2027-01-14"}, "u0-until", "must not be before from"),
        ({"u0-from": "soon"}, "u0-from", "expected a date"),
    ]
    for change, field, message in cases:
        response = console.post("/console/people/v002/edit", data={**base, **change})
        assert response.status_code == 422, (change, response.status_code)
        shown = beside(response.text, field)
        assert shown and message.lower() in shown.lower(), (change, shown, response.text[-2500:])
    assert client.get(f"{site.url}/volunteers/v002", headers=site.headers).json()["max_hours_per_week"] == 24


def test_adding_a_volunteer(console, client, site):
    csrf = sign_in(console, site)
    assert console.get("/console/people/new").status_code == 200
    form = {"csrf": csrf, "id": "v100", "name": "Li Wei", "phone": "+86 139 0000 0000", "skills": "driver",
            "windows": "1", "absences": "1"}
    response = console.post("/console/people/new", data=form, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/console/people/v100?saved=1"
    assert client.get(f"{site.url}/volunteers/v100", headers=site.headers).json()["skills"] == ["driver"]
    again = console.post("/console/people/new", data=form)
    assert again.status_code == 409 and beside(again.text, "id") == "already taken"
    bad = console.post("/console/people/new", data={**form, "id": ""})
    assert bad.status_code == 422 and beside(bad.text, "id")


def test_another_sites_volunteers_are_out_of_reach(console, client, make_site):
    a = make_site()
    data = fixture()
    data["volunteers"].append({"id": "vb99", "name": "Only In B"})
    b = make_site(data)
    csrf = sign_in(console, a)
    assert console.get("/console/people/vb99/edit").status_code == 404
    response = console.post("/console/people/vb99/edit", data={"csrf": csrf, "name": "Hijacked"})
    assert response.status_code == 404
    assert client.get(f"{b.url}/volunteers/vb99", headers=b.headers).json()["name"] == "Only In B"
    assert console.post("/console/people/new", data={"name": "x", "id": "x1"}).status_code == 403


def test_the_guardian_fields_of_a_volunteer(console, client, site):
    """Issue 12: languages, building, zone and risk group, read by the residents' matching."""
    csrf = sign_in(console, site)
    form = {"csrf": csrf, "name": "Marta P.", "phone": "", "email": "", "skills": "medical",
            "max_hours_per_week": "", "languages": "mandarin， shanghainese", "building": "B7",
            "zone": "north", "risk_group": "on", "windows": "0", "absences": "0"}
    response = console.post("/console/people/v004/edit", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    after = client.get(f"{site.url}/volunteers/v004", headers=site.headers).json()
    assert after["languages"] == ["mandarin", "shanghainese"] and after["risk_group"] is True
    assert (after["building"], after["zone"]) == ("B7", "north")
    page = console.get("/console/people/v004/edit").text
    assert 'value="B7"' in page and 'name="risk_group" checked' in page
    form.pop("risk_group")
    console.post("/console/people/v004/edit", data=form, follow_redirects=False)
    assert client.get(f"{site.url}/volunteers/v004", headers=site.headers).json()["risk_group"] is False


def test_an_absence_reason_is_chosen_from_a_list_and_free_text_is_refused(console, client, site):
    csrf = sign_in(console, site)
    page = console.get("/console/people/v004/edit")
    assert re.search(r'<select id="u0-reason" name="u0-reason"', page.text)
    assert '<option value="appointment"' in page.text and '<input id="u0-reason"' not in page.text
    form = {"csrf": csrf, "name": "Marta P.", "windows": "1", "absences": "1", "u0-from": "2027-01-14",
            "u0-until": "2027-01-15", "u0-reason": "chemotherapy"}
    refused = console.post("/console/people/v004/edit", data=form)
    assert refused.status_code == 422
    assert beside(refused.text, "u0-reason") == "choose one of the reasons"
    assert "chemotherapy" not in refused.text
    assert client.get(f"{site.url}/volunteers/v004", headers=site.headers).json()["unavailable"] == []
    form["u0-reason"] = "study"
    assert console.post("/console/people/v004/edit", data=form, follow_redirects=False).status_code == 303
    assert client.get(f"{site.url}/volunteers/v004", headers=site.headers).json()["unavailable"] == [
        {"from": "2027-01-14", "until": "2027-01-15", "reason": "study"}]
    again = console.get("/console/people/v004/edit").text
    assert '<option value="study" selected>' in again
