"""Health-data erasure and the health audit log (issue 14): deleting a health record or a volunteer
removes it from every stored copy (job snapshots, re-solve disruptions and change sets, schedules,
webhook payloads), and every read or change of health data is logged, readable by the coordinators."""

from __future__ import annotations

import json

from sqlalchemy import select

from scheduler.store.jobs import JobRow
from scheduler.store.schedules import ScheduleVersionRow
from scheduler.store.webhooks import DeliveryRow
from tests.api.conftest import publish, solve
from tests.api.test_resolve_api import CUTOFF, UNTIL, busiest_in_window, published, run  # noqa: F401


def stored(app, site_id: int) -> dict[str, list]:
    """Every JSON copy the site has in the database."""
    with app.state.sessions() as session:
        jobs = session.scalars(select(JobRow).where(JobRow.site_id == site_id)).all()
        versions = session.scalars(select(ScheduleVersionRow).where(ScheduleVersionRow.site_id == site_id))
        deliveries = session.scalars(select(DeliveryRow).where(DeliveryRow.site_id == site_id)).all()
        return {
            "scenario": [j.scenario for j in jobs],
            "disruptions": [j.disruptions for j in jobs],
            "changes": [j.changes for j in jobs],
            "result": [j.result for j in jobs],
            "versions": [v.schedule for v in versions],
            "payloads": [d.payload for d in deliveries],
        }


def health_of(scenario: dict, volunteer: str) -> list[dict]:
    return next(v for v in scenario["volunteers"] if v["id"] == volunteer).get("health", [])


def sick_call(client, site, volunteer: str) -> dict:
    created = client.post(
        f"{site.url}/volunteers/{volunteer}/health",
        params={"resolve": "true", "cutoff": CUTOFF, "time_limit": 5},
        json={"status": "sick", "from": CUTOFF, "until": UNTIL, "infectious": True, "reason": "unwell"},
        headers=site.headers,
    )
    assert created.status_code == 201, created.text
    return created.json()


def test_deleting_a_health_record_removes_every_copy(client, published, worker, app):  # noqa: F811
    site, before = published
    ill = busiest_in_window(before)
    record = sick_call(client, site, ill)
    run(client, worker, site, record["job"])
    solve(client, worker, site, time_limit=1)  # a full solve: its snapshot holds the record
    copies = stored(app, site.id)
    assert any(h.get("from", "").startswith(CUTOFF) for s in copies["scenario"] for h in health_of(s, ill))
    assert any(d and d[0]["kind"] == "sick_call" for d in copies["disruptions"])
    assert any(c and any(v.get("subject") == "sick" for v in c["volunteers"]) for c in copies["changes"])

    url = f"{site.url}/volunteers/{ill}/health/{record['id']}"
    assert client.delete(url, headers=site.headers).status_code == 204

    copies = stored(app, site.id)
    for scenario in copies["scenario"]:
        assert not [h for h in health_of(scenario, ill) if h.get("from", "").startswith(CUTOFF)]
    assert not [d for ds in copies["disruptions"] if ds for d in ds if d.get("volunteer") == ill]
    for changes in filter(None, copies["changes"]):
        mine = [v for v in changes["volunteers"] if v["volunteer"] == ill]
        assert all(v["subject"] is None and all(r["reason"] is None for r in v["removed"]) for v in mine)
        assert not [c for c in changes["contacts"] if ill in (c["of"], c["volunteer"])]
        assert not [t for t in changes["disruptions"] if "sick" in t]
    # the other volunteers' records are untouched (v010 is sick in the fixture)
    assert all(health_of(s, "v010") for s in copies["scenario"])
    # the API shows the job without it too
    job = client.get(f"{site.url}/schedules/{record['job']['id']}", headers=site.headers).json()
    assert job["disruptions"] == []


def test_deleting_a_volunteer_erases_them_from_every_copy(client, published, worker, app):  # noqa: F811
    site, before = published
    assert client.put(f"{site.url}/webhook", json={"url": "https://gateway.example.org/rota"},
                      headers=site.headers).status_code in (200, 201)
    ill = busiest_in_window(before)
    name = client.get(f"{site.url}/volunteers/{ill}", headers=site.headers).json()["name"]
    phone = client.get(f"{site.url}/volunteers/{ill}", headers=site.headers).json()["contact"]["phone"]
    record = sick_call(client, site, ill)
    publish(client, site, run(client, worker, site, record["job"])["id"])
    text = json.dumps(stored(app, site.id), ensure_ascii=False)
    assert name in text and phone in text

    assert client.delete(f"{site.url}/volunteers/{ill}", headers=site.headers).status_code == 204

    copies = stored(app, site.id)
    text = json.dumps(copies, ensure_ascii=False)
    assert name not in text and phone not in text
    for scenario in copies["scenario"]:
        assert health_of(scenario, ill) == []
    assert not [d for ds in copies["disruptions"] if ds for d in ds if d.get("volunteer") == ill]
    # the schedules still add up: the assignments keep the id
    assert any(a["volunteer"] == ill for v in copies["versions"] for a in v["assignments"])
    assert copies["payloads"]
    # the erasure is in the audit log, with who did it
    log = client.get(f"{site.url}/health-audit", params={"volunteer": ill}, headers=site.headers).json()
    assert log[0]["action"] == "erase" and log[0]["actor"] == "token" and log[0]["actor_id"]


def test_every_read_and_change_of_health_data_is_audited(client, site, make_site):
    url = f"{site.url}/volunteers/v002/health"
    created = client.post(url, json={"status": "sick", "reason": "injury"}, headers=site.headers).json()
    client.get(url, headers=site.headers)
    client.get(f"{url}/{created['id']}", headers=site.headers)
    client.get(f"{site.url}/volunteers", headers=site.headers)
    client.get(f"{site.url}/scenario", headers=site.headers)
    client.delete(f"{url}/{created['id']}", headers=site.headers)
    log = client.get(f"{site.url}/health-audit", headers=site.headers)
    assert log.status_code == 200
    entries = log.json()
    assert [e["action"] for e in entries] == ["delete", "read", "read", "read", "read", "create"]
    assert [e["volunteer"] for e in entries] == ["v002", None, None, "v002", "v002", "v002"]
    assert {e["actor"] for e in entries} == {"token"} and len({e["actor_id"] for e in entries}) == 1
    assert entries[0]["record_id"] == created["id"]
    # the log holds no health data; paging; another site's coordinators do not see it
    assert "injury" not in log.text and "sick" not in log.text
    older = client.get(f"{site.url}/health-audit", params={"before": entries[1]["id"], "limit": 2},
                       headers=site.headers).json()
    assert [e["id"] for e in older] == [entries[2]["id"], entries[3]["id"]]
    other = make_site()
    assert client.get(f"{site.url}/health-audit", headers=other.headers).status_code == 404
    assert client.get(f"{other.url}/health-audit", headers=other.headers).json() == []
    bad = client.get(f"{site.url}/health-audit", params={"since": "2027-01-01T00:00"}, headers=site.headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "since"


def test_an_import_with_health_records_is_audited(client, make_site):
    from tests.api.conftest import fixture

    admin = make_site(admin=True)
    created = client.post("/sites", json=fixture(), headers=admin.headers)
    assert created.status_code == 201, created.text
    url = created.headers["Location"]
    headers = {"Authorization": f"Bearer {created.json()['coordinator_token']}"}
    entries = client.get(f"{url}/health-audit", headers=headers).json()
    with_health = sorted(v["id"] for v in fixture()["volunteers"] if v.get("health"))
    assert with_health and sorted(e["volunteer"] for e in entries) == with_health
    assert {(e["action"], e["actor"]) for e in entries} == {("create", "token")}


def _slow_resolve(monkeypatch):
    """The worker's re-solve made slow: it starts, then waits for ``release`` before searching (the
    snapshot and disruptions were read when the job started, as in a real run)."""
    import threading

    from scheduler.worker import loop

    started, release = threading.Event(), threading.Event()
    real = loop.resolve

    def slow(*args, **kwargs):
        started.set()
        assert release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(loop, "resolve", slow)
    return started, release


def _run_in_background(worker):
    import threading

    runner = threading.Thread(target=worker.run_once)
    runner.start()
    return runner


def test_a_record_erased_while_its_re_solve_runs_leaves_no_trace_in_the_result(
    client, published, worker, app, monkeypatch  # noqa: F811
):
    site, before = published
    ill = busiest_in_window(before)
    started, release = _slow_resolve(monkeypatch)
    record = sick_call(client, site, ill)
    runner = _run_in_background(worker)
    assert started.wait(30)
    url = f"{site.url}/volunteers/{ill}/health/{record['id']}"
    assert client.delete(url, headers=site.headers).status_code == 204
    release.set()
    runner.join(60)
    assert not runner.is_alive()
    job = client.get(f"{site.url}/schedules/{record['job']['id']}", headers=site.headers).json()
    assert job["state"] == "done", job
    with app.state.sessions() as session:
        changes = session.get(JobRow, record["job"]["id"]).changes
    assert changes is not None
    mine = [v for v in changes["volunteers"] if v["volunteer"] == ill]
    assert mine, "the re-solve took the sick volunteer off their shifts"
    assert all(v["subject"] is None and all(r["reason"] is None for r in v["removed"]) for v in mine)
    assert not [c for c in changes["contacts"] if ill in (c["of"], c["volunteer"])]
    assert not [t for t in changes["disruptions"] if ill in t and "sick" in t]


def test_a_volunteer_erased_while_a_re_solve_runs_is_not_named_in_its_result(
    client, published, worker, app, monkeypatch  # noqa: F811
):
    site, before = published
    ill = busiest_in_window(before)
    other = next(a["volunteer"] for a in before if a["volunteer"] != ill and a["start"] > CUTOFF)
    person = client.get(f"{site.url}/volunteers/{other}", headers=site.headers).json()
    name, phone = person["name"], person["contact"]["phone"]
    started, release = _slow_resolve(monkeypatch)
    record = sick_call(client, site, ill)
    runner = _run_in_background(worker)
    assert started.wait(30)
    assert client.delete(f"{site.url}/volunteers/{other}", headers=site.headers).status_code == 204
    release.set()
    runner.join(60)
    assert not runner.is_alive()
    job = client.get(f"{site.url}/schedules/{record['job']['id']}", headers=site.headers).json()
    assert job["state"] == "done", job
    text = json.dumps(stored(app, site.id), ensure_ascii=False)
    assert name not in text and (not phone or phone not in text)
