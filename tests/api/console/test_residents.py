"""Residents in the console (issue 12): the guardians page, at-risk residents first, the matching, the
register's form (a bad value beside its field), zh_CN, another site's residents out of reach."""

from __future__ import annotations

from tests.api.conftest import fixture
from tests.api.console.conftest import sign_in
from tests.api.console.test_posts import beside


def _site(make_site):
    data = fixture()
    data["residents"] = [
        {"id": "r1", "name": "Wang Fang", "building": "B1", "primary": "v001", "backup": "v002",
         "visits": [{"id": "check", "start": "10:00", "minutes": 30}], "kin": {"name": "Wang Lei"}},
        {"id": "r2", "name": "Zhao Min", "building": "B2", "needs": {"medical_care": True}},
    ]
    return make_site(data)


def _form(csrf: str, **changes) -> dict[str, str]:
    form = {"csrf": csrf, "id": "r3", "name": "Li Na", "building": "B3", "address": "2F", "zone": "west",
            "language": "", "notes": "", "close_contact": "", "kin_name": "", "kin_relation": "",
            "kin_phone": "", "primary": "", "backup": "", "visits": "1", "v0-id": "walk",
            "v0-start": "09:00", "v0-minutes": "40", "v0-purpose": "", "v0-wd-mon": "on", "v0-wd-thu": "on",
            "mobility_help": "on", "m-wd-tue": "on"}
    form.update(changes)
    return form


def test_the_residents_page_puts_the_residents_at_risk_first(console, make_site):
    site = _site(make_site)
    sign_in(console, site)
    page = console.get("/console/residents")
    assert page.status_code == 200
    text = page.text
    assert text.index("Zhao Min") < text.index("Wang Fang")  # no primary, no backup: at risk, first
    assert "No named volunteer" in text and "No backup volunteer" in text
    zh = console.get("/console/residents", headers={"Accept-Language": "zh-CN"})
    assert "居民" in zh.text and "No named volunteer" not in zh.text


def test_matching_from_the_console(console, client, make_site):
    site = _site(make_site)
    csrf = sign_in(console, site)
    response = console.post("/console/residents/match", data={"csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303, response.text
    r2 = client.get(f"{site.url}/residents/r2", headers=site.headers).json()
    assert r2["primary"] in {"v002", "v004", "v007", "v008", "v009"} and r2["backup"]
    r1 = client.get(f"{site.url}/residents/r1", headers=site.headers).json()
    assert (r1["primary"], r1["backup"]) == ("v001", "v002")  # kept
    assert console.post("/console/residents/match", data={"csrf": "x"}).status_code == 403


def test_adding_and_editing_a_resident(console, client, make_site):
    site = _site(make_site)
    csrf = sign_in(console, site)
    assert console.get("/console/residents/new").status_code == 200
    response = console.post("/console/residents/new", data=_form(csrf), follow_redirects=False)
    assert response.status_code == 303, response.text
    r3 = client.get(f"{site.url}/residents/r3", headers=site.headers).json()
    assert r3["needs"]["mobility_help"] and r3["needs"]["medicine_days"] == ["tue"]
    assert r3["visits"] == [{"id": "walk", "weekdays": ["mon", "thu"], "start": "09:00:00", "minutes": 40,
                             "purpose": None}]
    bad = console.post("/console/residents/r3", data=_form(csrf, **{"v0-start": "9 am", "backup": "v001",
                                                                     "primary": "v001"}))
    assert bad.status_code == 422
    assert beside(bad.text, "v0-start") or beside(bad.text, "backup")
    assert client.get(f"{site.url}/residents/r3", headers=site.headers).json() == r3  # nothing lost
    ok = console.post("/console/residents/r3", data=_form(csrf, primary="v001", backup="v003"),
                      follow_redirects=False)
    assert ok.status_code == 303, ok.text
    edit = console.get("/console/residents/r3")
    assert "v001" in edit.text and "set by a coordinator" in edit.text  # the history of guardians
    assert console.post("/console/residents/r3/delete", data={"csrf": csrf},
                        follow_redirects=False).status_code == 303
    assert client.get(f"{site.url}/residents/r3", headers=site.headers).status_code == 404


def test_another_sites_residents_are_out_of_reach(console, make_site):
    site, other = make_site(), _site(make_site)
    sign_in(console, site)
    assert console.get("/console/residents/r1").status_code == 404
    assert "Wang Fang" not in console.get("/console/residents").text
    assert other.id != site.id
