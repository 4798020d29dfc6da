"""Uploading a scenario file from the console: a new site through the same step as POST /sites, with
bad JSON, an invalid scenario (naming the field path) and a refused token shown beside their field."""

from __future__ import annotations

import json
import re

from scheduler.store import access
from scheduler.store.db import utcnow
from tests.api.conftest import fixture
from tests.api.console.conftest import csrf_of, sign_in


def beside(html: str, field: str) -> str:
    match = re.search(rf'<p class="field-error" id="{field}-error" role="alert">([^<]*)</p>', html)
    assert match, html[-3000:]
    return match.group(1)


def admin_token(app, site_id: int) -> str:
    with app.state.sessions() as session:
        token = access.create_api_token(session, site_id, "admin", utcnow(), admin=True)
        session.commit()
        return token


def post(console, csrf, content: bytes | None, token: str):
    files = {"file": ("site.json", content, "application/json")} if content is not None else None
    return console.post("/console/scenario", data={"csrf": csrf, "admin_token": token}, files=files)


def test_upload_a_scenario_makes_a_new_site_like_post_sites(console, client, app, site):
    csrf = sign_in(console, site)
    page = console.get("/console/scenario")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    data = fixture()
    data["site"]["name"] = "Uploaded site"
    response = post(console, csrf, json.dumps(data).encode(), admin_token(app, site.id))
    assert response.status_code == 201, response.text
    token = re.search(r'<code class="token">([^<]+)</code>', response.text).group(1)
    sites = client.get("/sites", headers={"Authorization": f"Bearer {token}"}).json()
    assert [s["site"]["name"] for s in sites] == ["Uploaded site"]
    new_id = sites[0]["id"]
    assert new_id != site.id
    exported = client.get(f"/sites/{new_id}/scenario", headers={"Authorization": f"Bearer {token}"}).json()
    assert len(exported["volunteers"]) == len(data["volunteers"])
    # the signed-in site is unchanged
    assert client.get(f"{site.url}", headers=site.headers).json()["site"]["name"] == fixture()["site"]["name"]


def test_bad_uploads_are_shown_beside_their_field_never_a_500(console, app, site):
    csrf = sign_in(console, site)
    admin = admin_token(app, site.id)
    bad_json = post(console, csrf, b'{"site": {', admin)
    assert bad_json.status_code == 422 and "not valid JSON: line 1" in beside(bad_json.text, "file")
    data = fixture()
    data["volunteers"][2]["max_hours_per_week"] = -5
    invalid = post(console, csrf, json.dumps(data).encode(), admin)
    assert invalid.status_code == 422
    assert "volunteers[2].max_hours_per_week" in beside(invalid.text, "file").replace("&#39;", "'")
    assert 'aria-invalid="true" aria-describedby="file-error"' in invalid.text
    assert post(console, csrf, None, admin).status_code == 422
    assert "choose a scenario file" in beside(post(console, csrf, None, admin).text, "file")
    assert "not UTF-8" in beside(post(console, csrf, b"\xff\xfe\x00", admin).text, "file")
    assert "not valid JSON" in beside(post(console, csrf, b"[1, 2", admin).text, "file")
    not_object = post(console, csrf, b"[1, 2]", admin)
    assert not_object.status_code == 422 and beside(not_object.text, "file")


def test_the_upload_needs_an_admin_token_of_this_site_and_the_csrf_token(console, app, make_site):
    site, other = make_site(), make_site()
    csrf = sign_in(console, site)
    body = json.dumps(fixture()).encode()
    assert "admin token" in beside(post(console, csrf, body, "").text, "admin_token")
    assert "coordinator token" in beside(post(console, csrf, body, site.token).text, "admin_token")
    elsewhere = post(console, csrf, body, admin_token(app, other.id))
    assert elsewhere.status_code == 422
    assert "not a valid token of this site" in beside(elsewhere.text, "admin_token")
    refused = console.post("/console/scenario", data={"admin_token": admin_token(app, site.id)},
                           files={"file": ("s.json", body, "application/json")})
    assert refused.status_code == 403
    assert csrf_of(console.get("/console/scenario").text) == csrf


def test_the_upload_page_in_chinese(console, site):
    sign_in(console, site)
    page = console.get("/console/scenario", headers={"Accept-Language": "zh-CN"}).text
    assert "上传场景文件" in page


def test_an_upload_with_health_records_is_in_the_new_sites_health_audit_log(console, client, app, site):
    csrf = sign_in(console, site)
    data = fixture()
    data["site"]["name"] = "Uploaded with health"
    data["volunteers"][0]["health"] = [{"status": "sick", "from": "2027-01-12", "reason": "unwell"}]
    data["volunteers"][1]["health"] = [{"status": "limited", "from": "2027-01-10", "reason": "injury"}]
    ill = {v["id"] for v in data["volunteers"] if v.get("health")}
    # an old file's free-text absence reason is dropped on the way in, as for any old file
    data["volunteers"][2]["unavailable"] = [{"from": "2027-01-14", "reason": "surgery"}]
    response = post(console, csrf, json.dumps(data).encode(), admin_token(app, site.id))
    assert response.status_code == 201, response.text
    token = re.search(r'<code class="token">([^<]+)</code>', response.text).group(1)
    headers = {"Authorization": f"Bearer {token}"}
    new_id = client.get("/sites", headers=headers).json()[0]["id"]
    log = client.get(f"/sites/{new_id}/health-audit", headers=headers).json()
    created = [e for e in log if e["action"] == "create"]
    assert {e["volunteer"] for e in created} == ill
    assert all(e["actor"].startswith("console") and "console" in e["what"] for e in created)
    assert "surgery" not in client.get(f"/sites/{new_id}/scenario", headers=headers).text
