"""Posts and shift templates edited from the console: the same checks as the API's, each message beside
its field, and another site's posts out of reach."""

from __future__ import annotations

import re

from tests.api.conftest import fixture
from tests.api.console.conftest import sign_in


def beside(html: str, field: str) -> str | None:
    match = re.search(rf'<p class="field-error" id="{re.escape(field)}-error" role="alert">([^<]*)</p>', html)
    return match.group(1) if match else None


def gate_form(**changes) -> dict[str, str]:
    """The edit form of the small fixture's gate, as the page posts it (two templates, a blank row)."""
    form = {
        "name": "Courtyard gate", "kind": "gate", "intensity": "normal", "location": "Lindenhof",
        "instructions": "", "templates": "3",
        "t0-id": "early", "t0-start": "06:00", "t0-end": "14:00", "t0-required": "2",
        "t0-skills": "medical:1",
        "t0-intensity": "",
        "t1-id": "late", "t1-start": "14:00", "t1-end": "22:00", "t1-required": "1", "t1-skills": "",
        "t1-intensity": "",
        "t2-id": "", "t2-start": "", "t2-end": "", "t2-required": "1", "t2-skills": "", "t2-intensity": "",
    }
    for i in range(3):
        for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
            form[f"t{i}-wd-{d}"] = "on"
    form.update(changes)
    return form


def test_the_posts_pages_render(console, site):
    sign_in(console, site)
    page = console.get("/console/posts")
    assert page.status_code == 200 and "Courtyard gate" in page.text
    edit = console.get("/console/posts/gate")
    assert edit.status_code == 200 and 'value="early"' in edit.text and 'value="06:00"' in edit.text
    assert console.get("/console/posts/new").status_code == 200
    zh = console.get("/console/posts/gate", headers={"Accept-Language": "zh-CN"})
    assert "编辑岗位" in zh.text and "周一" in zh.text


def test_editing_a_post_changes_it_as_the_api_would(console, client, site):
    csrf = sign_in(console, site)
    form = gate_form(**{"csrf": csrf, "name": "Front gate", "t1-required": "2", "t2-id": "night",
                        "t2-start": "22:00", "t2-end": "06:00", "t2-intensity": "heavy"})
    form.pop("t2-wd-sun")
    response = console.post("/console/posts/gate", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    post = client.get(f"{site.url}/posts/gate", headers=site.headers).json()
    assert post["name"] == "Front gate"
    assert [(s["id"], s["required"]) for s in post["shifts"]] == [("early", 2), ("late", 2), ("night", 1)]
    assert post["shifts"][2]["intensity"] == "heavy" and "sun" not in post["shifts"][2]["weekdays"]
    assert post["shifts"][0]["skills"] == {"medical": 1}
    # and removing a template
    form = gate_form(**{"csrf": csrf, "t1-remove": "on"})
    assert console.post("/console/posts/gate", data=form, follow_redirects=False).status_code == 303
    assert [s["id"] for s in client.get(f"{site.url}/posts/gate", headers=site.headers).json()["shifts"]] == [
        "early"
    ]


def test_bad_values_are_shown_beside_their_field(console, client, site):
    csrf = sign_in(console, site)
    cases = [
        ({"name": ""}, "name", "at least 1 character"),
        ({"t1-end": "14:00"}, "t1-end", "must differ from start"),
        ({"t0-start": "25:00"}, "t0-start", "time"),
        ({"t0-skills": "medical:3"}, "t0-skills", "only 2 are required"),
        ({"t0-skills": "medical one"}, "t0-skills", "name:count"),
        ({"t1-required": "lots"}, "t1-required", "whole number"),
        ({"t1-id": "early"}, "t1-id", "another shift of this post has this id"),
        ({"t1-id": "bad id!"}, "t1-id", "pattern"),
        ({"intensity": "extreme"}, "intensity", "light"),
    ]
    for change, field, message in cases:
        response = console.post("/console/posts/gate", data=gate_form(csrf=csrf, **change))
        assert response.status_code == 422, (change, response.status_code)
        shown = beside(response.text, field)
        assert shown and message.lower() in shown.lower(), (change, shown, response.text[-2500:])
    assert client.get(f"{site.url}/posts/gate", headers=site.headers).json()["name"] == "Courtyard gate"


def test_a_new_post_and_one_that_cannot_be_deleted(console, client, make_site):
    data = fixture()
    data["pinned"] = [{"volunteer": "v002", "post": "gate", "shift": "early", "date": "2027-01-12"}]
    site = make_site(data)
    csrf = sign_in(console, site)
    form = {"csrf": csrf, "id": "patrol", "name": "Night patrol", "kind": "patrol", "intensity": "heavy",
            "templates": "1", "t0-id": "round", "t0-start": "22:00", "t0-end": "02:00", "t0-required": "1",
            "t0-wd-fri": "on", "t0-wd-sat": "on"}
    assert console.post("/console/posts/new", data=form, follow_redirects=False).status_code == 303
    assert client.get(f"{site.url}/posts/patrol", headers=site.headers).json()["shifts"][0]["weekdays"] == [
        "fri", "sat"
    ]
    again = console.post("/console/posts/new", data=form)
    assert again.status_code == 409 and beside(again.text, "id") == "already taken"
    refused = console.post("/console/posts/gate/delete", data={"csrf": csrf})
    assert refused.status_code == 409 and "inconsistent" in refused.text
    assert client.get(f"{site.url}/posts/gate", headers=site.headers).status_code == 200
    assert console.post("/console/posts/patrol/delete", data={"csrf": csrf}).status_code == 200
    assert client.get(f"{site.url}/posts/patrol", headers=site.headers).status_code == 404
    assert console.post("/console/posts/delivery/delete", data={}).status_code == 403  # no CSRF token


def test_another_sites_posts_are_out_of_reach(console, client, make_site):
    a = make_site()
    data = fixture()
    data["posts"].append({"id": "b-only", "name": "B only", "shifts": [{"id": "s", "start": "08:00",
                                                                        "end": "12:00"}]})
    b = make_site(data)
    csrf = sign_in(console, a)
    assert console.get("/console/posts/b-only").status_code == 404
    form = gate_form(csrf=csrf, name="Hijacked")
    assert console.post("/console/posts/b-only", data=form).status_code == 404
    assert console.post("/console/posts/b-only/delete", data={"csrf": csrf}).status_code == 404
    assert "B only" not in console.get("/console/posts").text
    assert client.get(f"{b.url}/posts/b-only", headers=b.headers).json()["name"] == "B only"
