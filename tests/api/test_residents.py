"""Residents over HTTP (issue 12): CRUD with ETags and problem+json naming the field, the matching, the
guardians report, the pair history, and a sick call through the re-solve handing the resident over."""

from __future__ import annotations

from tests.api.conftest import fixture, publish, solve


def _site_with_residents(make_site):
    data = fixture()
    for v in data["volunteers"]:
        v.setdefault("building", "B1" if v["id"] in ("v001", "v002", "v003") else "B2")
    data["rules"] = {"max_shifts_per_day": 2, "min_rest_hours": 2}
    data["residents"] = [
        {"id": "r1", "name": "Wang Fang", "building": "B1", "address": "3F east",
         "needs": {"daily_check_in": True, "notes": "knock twice"},
         "visits": [{"id": "check", "start": "10:00", "minutes": 30}],
         "kin": {"name": "Wang Lei", "phone": "+86 100"}},
        {"id": "r2", "name": "Zhao Min", "building": "B2", "needs": {"medical_care": True},
         "visits": [{"id": "care", "start": "17:00", "minutes": 45, "weekdays": ["mon", "wed", "fri"]}]},
    ]
    return make_site(data)


RESIDENT = {"id": "r9", "name": "Li Na", "building": "B1", "address": "1F",
            "needs": {"mobility_help": True}, "visits": [{"id": "walk", "start": "09:00", "minutes": 30}]}


def test_crud_with_etags_and_named_fields(client, site):
    url = f"{site.url}/residents"
    created = client.post(url, json=RESIDENT, headers=site.headers)
    assert created.status_code == 201, created.text
    assert created.headers["Location"].endswith("/residents/r9")
    etag = created.headers["ETag"]
    assert client.get(url, headers=site.headers).json()[0]["name"] == "Li Na"
    again = client.post(url, json=RESIDENT, headers=site.headers)
    assert again.status_code == 409
    bad = client.post(url, json={**RESIDENT, "id": "r8", "primary": "nobody"}, headers=site.headers)
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert "primary" in bad.text
    bad = client.post(url, json={**RESIDENT, "id": "r8", "visits": [{"id": "w", "start": "9am"}]},
                      headers=site.headers)
    assert bad.status_code == 422 and "visits" in bad.text
    changed = {**RESIDENT, "primary": "v001", "backup": "v002"}
    put = client.put(f"{url}/r9", json=changed, headers={**site.headers, "If-Match": etag})
    assert put.status_code == 200, put.text
    stale = client.put(f"{url}/r9", json=changed, headers={**site.headers, "If-Match": etag})
    assert stale.status_code == 409
    same = client.put(f"{url}/r9", json={**changed, "backup": "v001"}, headers=site.headers)
    assert same.status_code == 422 and "backup" in same.text
    history = client.get(f"{url}/r9/history", headers=site.headers).json()
    assert [(h["primary"], h["backup"]) for h in history] == [("v001", "v002")]
    # a guardian cannot be deleted from under the resident
    assert client.delete(f"{site.url}/volunteers/v001", headers=site.headers).status_code == 409
    assert client.delete(f"{url}/r9", headers=site.headers).status_code == 204
    assert client.get(f"{url}/r9", headers=site.headers).status_code == 404
    scenario = client.get(f"{site.url}/scenario", headers=site.headers).json()
    assert scenario.get("residents", []) == []


def test_match_report_and_sick_call_hand_over(client, make_site, worker):
    site = _site_with_residents(make_site)
    report = client.post(f"{site.url}/guardians/match", headers=site.headers)
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["violations"] == [] and body["unguarded"] == 0 and body["no_backup"] == 0
    assert {c["resident"] for c in body["changes"]} == {"r1", "r2"}
    pairs = {r["id"]: r for r in client.get(f"{site.url}/residents", headers=site.headers).json()}
    assert pairs["r1"]["primary"] != pairs["r1"]["backup"]
    assert pairs["r2"]["primary"] in {"v002", "v004", "v007", "v008", "v009"}  # medical
    again = client.post(f"{site.url}/guardians/match", headers=site.headers).json()
    assert again["changes"] == []  # continuity: nothing relevant changed

    publish(client, site, solve(client, worker, site, time_limit=5)["id"])
    rows = client.get(f"{site.url}/guardians", headers=site.headers).json()
    assert {r["resident"] for r in rows} == {"r1", "r2"}
    assert all(r["next_visit"] for r in rows)

    primary, backup = pairs["r1"]["primary"], pairs["r1"]["backup"]
    sick = client.post(
        f"{site.url}/volunteers/{primary}/health?resolve=true",
        json={"status": "sick", "from": "2027-01-12T06:00"}, headers=site.headers,
    )
    assert sick.status_code in (200, 201, 202), sick.text
    now = {r["id"]: r for r in client.get(f"{site.url}/residents", headers=site.headers).json()}
    assert now["r1"]["primary"] == backup and now["r1"]["backup"] not in (None, primary, backup)
    history = client.get(f"{site.url}/residents/r1/history", headers=site.headers).json()
    assert history[-1]["old_primary"] == primary and "sick" in history[-1]["reason"]
    rows = {r["resident"]: r for r in client.get(f"{site.url}/guardians", headers=site.headers).json()}
    assert rows["r1"]["primary"] == backup
    job = sick.json()["job"]
    assert worker.run_once() == job["id"]
    done = client.get(f"{site.url}/schedules/{job['id']}", headers=site.headers).json()
    assert done["state"] == "done", done
    handed = {c["resident"]: c for c in done["changes"]["residents"]}
    assert handed["r1"]["primary"] == backup and handed["r1"]["old_primary"] == primary
    assert {"kin", "new_primary", "new_backup"} <= {n["role"] for n in handed["r1"]["notify"]}
    result = client.get(f"{site.url}/schedules/{job['id']}/result", headers=site.headers).json()
    after = [a for a in result["assignments"] if a["post"] == "visit:r1" and a["start"] >= "2027-01-12T06"]
    assert after and all(a["volunteer"] in (backup, now["r1"]["backup"]) for a in after)


def test_a_full_solve_re_matches_a_sick_guardian_first(client, make_site, worker):
    """A guardian reported sick without a re-solve: the next full solve hands their residents over
    first (stored with the reason in the pair history) and plans the visits with the new pair."""
    site = _site_with_residents(make_site)
    assert client.post(f"{site.url}/guardians/match", headers=site.headers).status_code == 200
    pairs = {r["id"]: r for r in client.get(f"{site.url}/residents", headers=site.headers).json()}
    primary, backup = pairs["r1"]["primary"], pairs["r1"]["backup"]
    sick = client.post(f"{site.url}/volunteers/{primary}/health",
                       json={"status": "sick", "from": "2027-01-12T06:00"}, headers=site.headers)
    assert sick.status_code in (200, 201), sick.text
    unchanged = {r["id"]: r for r in client.get(f"{site.url}/residents", headers=site.headers).json()}
    assert unchanged["r1"]["primary"] == primary  # nothing re-planned yet

    job = solve(client, worker, site, time_limit=5)
    now = {r["id"]: r for r in client.get(f"{site.url}/residents", headers=site.headers).json()}
    assert now["r1"]["primary"] == backup and now["r1"]["backup"] not in (None, primary, backup)
    if primary not in (pairs["r2"]["primary"], pairs["r2"]["backup"]):  # only theirs change
        assert (now["r2"]["primary"], now["r2"]["backup"]) == (pairs["r2"]["primary"], pairs["r2"]["backup"])
    history = client.get(f"{site.url}/residents/r1/history", headers=site.headers).json()
    assert history[-1]["old_primary"] == primary and "sick" in history[-1]["reason"]
    result = client.get(f"{site.url}/schedules/{job['id']}/result", headers=site.headers).json()
    visits = [a for a in result["assignments"] if a["post"] == "visit:r1"]
    assert visits and all(a["volunteer"] in (backup, now["r1"]["backup"]) for a in visits)
    # continuity: another full solve changes no pair
    solve(client, worker, site, time_limit=5)
    again = client.get(f"{site.url}/residents/r1/history", headers=site.headers).json()
    assert len(again) == len(history)
