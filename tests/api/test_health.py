"""Health status updates: a history, added to and never overwritten."""

from __future__ import annotations


def test_updates_are_kept_as_a_history(client, site, worker):
    url = f"{site.url}/volunteers/v002/health"
    assert client.get(url, headers=site.headers).json() == []
    sick = client.post(
        url, json={"status": "sick", "from": "2027-01-11", "infectious": True}, headers=site.headers
    )
    assert sick.status_code == 201, sick.text
    body = {"status": "fit", "from": "2027-01-14", "reason": "other"}
    fit = client.post(url, json=body, headers=site.headers)
    history = client.get(url, headers=site.headers).json()
    assert [r["status"] for r in history] == ["sick", "fit"]
    assert history[0]["from"] == "2027-01-11" and history[0]["until"] is None and history[0]["infectious"]
    assert history[1]["recorded_at"] >= history[0]["recorded_at"]
    one = client.get(fit.headers["Location"], headers=site.headers)
    assert one.status_code == 200 and one.json()["reason"] == "other"
    # the volunteer shows the same history; the next solve keeps them off duty until the 14th
    assert [
        r["status"] for r in client.get(f"{site.url}/volunteers/v002", headers=site.headers).json()["health"]
    ] == [
        "sick",
        "fit",
    ]
    from tests.api.conftest import solve

    job = solve(client, worker, site)
    result = client.get(job["links"]["result"], headers=site.headers).json()
    assert all(a["date"] >= "2027-01-14" for a in result["assignments"] if a["volunteer"] == "v002")


def test_a_mistaken_record_can_be_deleted(client, site):
    url = f"{site.url}/volunteers/v002/health"
    record = client.post(url, json={"status": "isolating", "from": "2027-01-12"}, headers=site.headers).json()
    assert client.delete(f"{url}/{record['id']}", headers=site.headers).status_code == 204
    assert client.get(url, headers=site.headers).json() == []
    assert client.delete(f"{url}/{record['id']}", headers=site.headers).status_code == 404


def test_no_diagnosis_field_and_no_free_text(client, site):
    url = f"{site.url}/volunteers/v002/health"
    diagnosis = client.post(url, json={"status": "sick", "diagnosis": "flu"}, headers=site.headers)
    assert diagnosis.status_code == 422 and diagnosis.json()["errors"][0]["field"] == "diagnosis"
    free = client.post(url, json={"status": "sick", "reason": "night sweats"}, headers=site.headers)
    assert free.status_code == 422 and free.json()["errors"][0]["field"] == "reason"
    # an old client's free-text note is not stored: the record gets the reason 'other'
    old = client.post(url, json={"status": "sick", "note": "night sweats, see GP"}, headers=site.headers)
    assert old.status_code == 201 and old.json()["reason"] == "other" and "note" not in old.json()
    assert "sweats" not in client.get(url, headers=site.headers).text
    status = client.post(url, json={"status": "tired"}, headers=site.headers)
    assert status.status_code == 422 and status.json()["errors"][0]["field"] == "status"
    order = client.post(
        url, json={"status": "sick", "from": "2027-01-12", "until": "2027-01-11"}, headers=site.headers
    )
    assert order.status_code == 422 and order.json()["errors"][0]["field"] == "until"


def test_records_of_another_volunteer_are_not_found(client, site):
    record = client.post(
        f"{site.url}/volunteers/v002/health", json={"status": "sick"}, headers=site.headers
    ).json()
    assert (
        client.get(f"{site.url}/volunteers/v003/health/{record['id']}", headers=site.headers).status_code
        == 404
    )


def test_recording_an_update_does_not_read_the_whole_site(client, site, app):
    """A health update is checked on its own: the site's other volunteers, their histories and the posts
    are not read again (that was most of a write's time, growing with the site's history)."""
    from tests.api.conftest import statements

    url = f"{site.url}/volunteers/v002/health"
    sick = client.post(url, json={"status": "sick", "from": "2027-01-11"}, headers=site.headers)
    assert sick.status_code == 201
    seen, stop = statements(app)
    try:
        fit = client.post(url, json={"status": "fit", "from": "2027-01-14"}, headers=site.headers)
    finally:
        stop()
    assert fit.status_code == 201, fit.text
    reads = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert not [s for s in reads if "FROM health_records" in s or "FROM posts" in s], reads
    assert len(seen) <= 8, seen
    # the history is complete and the site still makes a valid scenario
    assert [r["status"] for r in client.get(url, headers=site.headers).json()] == ["sick", "fit"]
    assert client.get(f"{site.url}/scenario", headers=site.headers).status_code == 200


def test_a_failed_health_update_writes_nothing_and_frees_its_connection(client, site, app):
    """A health update runs its checks and its work in one unit (api.deps.coordinator_unit): one that fails
    after the checks (an invalid body, an unknown volunteer, a refused option) is rolled back, records no
    audit entry and gives its connection back at once; a good one after them is written."""
    from sqlalchemy import func, select

    from scheduler.store.health_audit import HealthAuditRow
    from scheduler.store.health_records import HealthRecordRow

    def count(row) -> int:
        with app.state.sessions() as session:
            return session.scalar(select(func.count()).select_from(row))

    pool = app.state.engine.pool
    before = count(HealthRecordRow), count(HealthAuditRow)
    url = f"{site.url}/volunteers/v002/health"
    bad_body = client.post(url, json={"status": "tired of it"}, headers=site.headers)
    assert bad_body.status_code == 422 and bad_body.json()["errors"][0]["field"] == "status"
    assert pool.checkedout() == 0
    unknown = client.post(f"{site.url}/volunteers/nobody/health", json={"status": "sick"},
                          headers=site.headers)
    assert unknown.status_code == 404 and pool.checkedout() == 0
    refused = client.post(url, json={"status": "sick"}, params={"time_limit": 5, "resolve": "false"},
                          headers=site.headers)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "time_limit", refused.text
    assert pool.checkedout() == 0
    assert (count(HealthRecordRow), count(HealthAuditRow)) == before
    good = client.post(url, json={"status": "sick"}, headers=site.headers)
    assert good.status_code == 201 and pool.checkedout() == 0
    assert (count(HealthRecordRow), count(HealthAuditRow)) == (before[0] + 1, before[1] + 1)
