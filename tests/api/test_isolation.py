"""Tenant isolation: a coordinator token of site A reads and writes nothing of site B, on every route,
and what it gets is 404 (as for ids that do not exist), never 403, so ids do not leak."""

from __future__ import annotations

import re

from fastapi.routing import APIRoute

from api.routes import ROUTERS
from tests.api.conftest import fixture, publish, solve

_PARAM = re.compile(r"{(\w+)}")


def site_routes(app):
    """Every operation under /sites/{site_id}, from the routers the app mounts: the ones left out of the
    OpenAPI document (the HEAD of each feed) included."""
    for router in ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute) and route.path.startswith("/sites/{site_id}"):
                for method in sorted(route.methods):
                    yield method, route.path


def test_the_walk_sees_the_routes_the_openapi_document_leaves_out(app):
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/sites/{site_id}")
        for method in operations
    }
    walked = set(site_routes(app))
    assert documented < walked
    assert {m for m, _ in walked - documented} == {"HEAD"} and len(walked - documented) >= 3


def _token_id(app, site_id: int) -> int:
    from scheduler.store import access

    with app.state.sessions() as session:
        return access.list_api_tokens(session, site_id)[0].id


def test_a_token_of_one_site_opens_nothing_of_another(client, app, make_site, worker):
    with_resident = fixture()
    with_resident["residents"] = [{"id": "r1", "name": "Wang Fang", "primary": "v001", "backup": "v002",
                                   "visits": [{"id": "check", "start": "10:00"}]}]
    a, b = make_site(), make_site(with_resident)
    job = solve(client, worker, b)
    publish(client, b, job["id"])
    record = client.post(f"{b.url}/volunteers/v002/health", json={"status": "sick"}, headers=b.headers).json()
    queued = client.post(f"{b.url}/schedules", json={}, headers=b.headers).json()
    worked = client.post(f"{b.url}/worked", json={
        "volunteer": "v001", "post": "gate", "status": "extra",
        "start": "2026-01-05T08:00:00+00:00", "end": "2026-01-05T12:00:00+00:00"}, headers=b.headers)
    assert worked.status_code == 201, worked.text
    before = client.get(f"{b.url}/scenario", headers=b.headers).json()
    values = {
        "site_id": b.id,
        "post_id": "gate",
        "volunteer_id": "v002",
        "job_id": queued["id"],
        "record_id": record["id"],
        "number": 1,
        "token_id": _token_id(app, b.id),
        "change_id": 1,
        "resident_id": "r1",
        "worked_id": worked.json()["id"],
    }
    routes = list(site_routes(app))
    assert len(routes) > 30
    for method, path in routes:
        url = _PARAM.sub(lambda m: str(values[m.group(1)]), path)
        kwargs = {"json": {}} if method in ("POST", "PUT") else {}
        response = client.request(method, url, headers=a.headers, **kwargs)
        assert response.status_code == 404, (method, path, response.status_code, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        # exactly what a site that does not exist gets: nothing tells B's ids apart
        missing = client.request(
            method, url.replace(f"/sites/{b.id}", "/sites/999999", 1), headers=a.headers, **kwargs
        )
        if method == "HEAD":  # no body to compare
            assert missing.status_code == 404 and not response.content
            continue
        assert response.json() == {
            **missing.json(),
            "detail": missing.json()["detail"].replace("999999", str(b.id)),
        }
    # nothing of B changed: its scenario, its queued job, its feed tokens
    assert client.get(f"{b.url}/scenario", headers=b.headers).json() == before
    assert client.get(f"{b.url}/schedules/{queued['id']}", headers=b.headers).json()["state"] == "queued"
    # A's own routes with B's job, record or version ids: 404 as well
    assert client.get(f"{a.url}/schedules/{job['id']}", headers=a.headers).status_code == 404
    assert client.post(f"{a.url}/schedules/{job['id']}/publish", headers=a.headers).status_code == 404
    assert client.get(f"{a.url}/volunteers/v002/health/{record['id']}", headers=a.headers).status_code == 404
    assert (
        client.delete(f"{a.url}/volunteers/v002/health/{record['id']}", headers=a.headers).status_code == 404
    )
    assert client.get(f"{a.url}/schedule/versions/1", headers=a.headers).status_code == 404
    # B's worked records: not in A's listing, not A's to correct
    assert client.get(f"{a.url}/worked?from=2026-01-01&to=2026-01-31", headers=a.headers).json() == []
    assert client.put(f"{a.url}/worked/{worked.json()['id']}", json={"status": "no_show"},
                      headers=a.headers).status_code == 404
    assert [w["id"] for w in client.get(f"{b.url}/worked?from=2026-01-01&to=2026-01-31",
                                        headers=b.headers).json()] == [worked.json()["id"]]
    assert client.delete(f"{a.url}/tokens/{values['token_id']}", headers=a.headers).status_code == 404
    assert [s["id"] for s in client.get("/sites", headers=a.headers).json()] == [a.id]
    # B's residents: not in A's register, its report or its scenario
    assert client.get(f"{a.url}/residents", headers=a.headers).json() == []
    assert client.get(f"{a.url}/residents/r1", headers=a.headers).status_code == 404
    assert client.get(f"{a.url}/guardians", headers=a.headers).json() == []
    assert "Wang Fang" not in client.get(f"{a.url}/scenario", headers=a.headers).text


def test_without_a_valid_token_nothing_but_health_and_docs(client, app, site):
    for method, path in site_routes(app):
        url = _PARAM.sub(
            lambda m: (
                "1"
                if m.group(1) in ("site_id", "job_id", "record_id", "number", "change_id", "worked_id")
                else "v002"
            ),
            path,
        )
        for headers in (
            {},
            {"Authorization": "Bearer rota_not-a-real-token-at-all-xxxx"},
            {"Authorization": "Basic eDp5"},
        ):
            response = client.request(
                method, url, headers=headers, **({"json": {}} if method in ("POST", "PUT") else {})
            )
            assert response.status_code == 401, (method, path, headers, response.text)
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/sites").status_code == 401
    assert client.post("/sites", json={}).status_code == 401
    assert client.get("/health").status_code == 200
    assert client.get("/docs").status_code == 200 and client.get("/openapi.json").status_code == 200
