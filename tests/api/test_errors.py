"""Bad input is a 4xx problem+json naming the field; unknown ids are 404; nothing is ever a 500.

The test client re-raises any server error, so a 500 anywhere fails the test outright."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from tests.api.conftest import fixture, make_settings, seed_site
from tests.conftest import BACKENDS, fresh_database

# Bad input never gets far: these tests share one app and one site per backend (module-scoped), which
# keeps them fast; what the fuzzing below manages to create does not disturb the others.


@pytest.fixture(scope="module", params=BACKENDS)
def database_url(request, tmp_path_factory):
    return fresh_database(request, request.param, tmp_path_factory.mktemp("errors"))


@pytest.fixture(scope="module")
def app(database_url):
    app = create_app(make_settings(database_url))
    yield app
    app.state.engine.dispose()


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def site(app, client):
    return seed_site(app)


PROBLEM = "application/problem+json"


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"]
    return body


def fields(response, status: int = 422) -> list[str]:
    return [e["field"] for e in problem(response, status)["errors"]]


GOOD_POST = {"id": "p1", "name": "P", "shifts": [{"id": "s", "start": "08:00", "end": "12:00"}]}


def test_malformed_json_is_400(client, site):
    for body in (b"{", b"not json", b'{"id": "p1",}', b"\xff\xfe", b"[" * 100000):
        response = client.post(
            f"{site.url}/posts", content=body, headers={**site.headers, "Content-Type": "application/json"}
        )
        assert response.status_code in (400, 422), (body[:10], response.text)
        assert response.headers["content-type"] == PROBLEM


def test_a_missing_body_is_named(client, site):
    response = client.put(f"{site.url}/rules", headers=site.headers)
    body = problem(response, 422)
    assert body["errors"][0]["message"] == "a JSON body is required"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": 5}, "id"),
        ({"id": "no spaces allowed"}, "id"),
        ({"name": ""}, "name"),
        ({"colour": "red"}, "colour"),
        ({"intensity": "extreme"}, "intensity"),
        ({"shifts": []}, "shifts"),
        ({"shifts": "all of them"}, "shifts"),
        ({"shifts": [{"id": "s", "start": "25:00", "end": "12:00"}]}, "shifts[0].start"),
        ({"shifts": [{"id": "s", "start": "08:00", "end": "08:00"}]}, "shifts[0].end"),
        ({"shifts": [{"id": "s", "start": "08:00+02:00", "end": "12:00"}]}, "shifts[0].start"),
        (
            {"shifts": [{"id": "s", "start": "08:00", "end": "12:00", "required": 10**30}]},
            "shifts[0].required",
        ),
        ({"shifts": [{"id": "s", "start": "08:00", "end": "12:00", "required": -1}]}, "shifts[0].required"),
        (
            {"shifts": [{"id": "s", "start": "08:00", "end": "12:00", "skills": {"medical": 2}}]},
            "shifts[0].skills.medical",
        ),
        (
            {"shifts": [{"id": "s", "start": "08:00", "end": "12:00", "weekdays": ["funday"]}]},
            "shifts[0].weekdays[0]",
        ),
        (
            {"shifts": [{"id": "s", "start": "08:00", "end": "12:00", "dates": ["2027-02-30"]}]},
            "shifts[0].dates[0]",
        ),
        ({"name": "x\u0000y"}, "name"),
        ({"location": "a" * 301}, "location"),
    ],
)
def test_bad_post_fields_are_named(client, site, change, field):
    response = client.post(f"{site.url}/posts", json=GOOD_POST | change, headers=site.headers)
    assert field in fields(response), response.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"time_limit": "long"}, "time_limit"),
        ({"time_limit": 0}, "time_limit"),
        ({"time_limit": 1e300}, "time_limit"),
        ({"seed": 10**40}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"horizon": {"start": "2027-13-01", "days": 7}}, "horizon.start"),
        ({"horizon": {"start": "2027-01-11", "days": 10**12}}, "horizon.days"),
        ({"horizon": {"start": "2027-01-11"}}, "horizon.days"),
        ({"horizon": "next week"}, "horizon"),
        ({"workers": 64}, "workers"),
    ],
)
def test_bad_job_requests_are_named(client, site, body, field):
    assert field in fields(client.post(f"{site.url}/schedules", json=body, headers=site.headers))


def test_infinity_and_nan_are_refused(client, site):
    for raw in (b'{"time_limit": Infinity}', b'{"time_limit": NaN}', b'{"time_limit": 1e999}'):
        response = client.post(
            f"{site.url}/schedules", content=raw, headers={**site.headers, "Content-Type": "application/json"}
        )
        assert response.status_code in (400, 422), response.text


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus_Mons", "../../etc/passwd", "", "UTC+25", "Europe/Berlin\u0000"]
)
def test_bad_time_zones(client, site, zone):
    body = {"site": {"name": "x", "timezone": zone}, "horizon": {"start": "2027-01-11", "days": 7}}
    assert "site.timezone" in fields(client.put(site.url, json=body, headers=site.headers))


def test_bad_query_parameters_are_named(client, site):
    url = f"{site.url}/schedule/assignments"
    body = problem(client.get(url, params={"from": "2027-02-30"}, headers=site.headers), 422)
    assert body["errors"][0] == {"field": "from", "message": body["errors"][0]["message"], "in": "query"}
    assert fields(client.get(url, params={"version": "0"}, headers=site.headers)) == ["version"]
    assert fields(client.get(url, params={"version": str(10**30)}, headers=site.headers)) == ["version"]
    assert fields(client.get(f"{site.url}/schedules", params={"limit": "-1"}, headers=site.headers)) == [
        "limit"
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/sites/999999",
        "/sites/0",
        "/sites/-1",
        "/sites/99999999999999999999999",
        "/sites/{id}/posts/nope",
        "/sites/{id}/posts/%00",
        "/sites/{id}/posts/" + "x" * 300,
        "/sites/{id}/volunteers/has%20space",
        "/sites/{id}/volunteers/v002/health/999999",
        "/sites/{id}/volunteers/v002/health/99999999999999999999",
        "/sites/{id}/schedules/999999",
        "/sites/{id}/schedules/99999999999999999999/result",
        "/sites/{id}/schedule",
        "/sites/{id}/schedule/versions/7",
        "/sites/{id}/schedule/assignments",
        "/no/such/route",
    ],
)
def test_unknown_ids_are_404(client, site, path):
    problem(client.get(path.replace("{id}", str(site.id)), headers=site.headers), 404)


def test_non_numeric_ids_are_named(client, site):
    assert fields(client.get("/sites/abc", headers=site.headers)) == ["site_id"]
    assert fields(client.get(f"{site.url}/schedules/1.5", headers=site.headers)) == ["job_id"]


def test_method_not_allowed_is_a_problem(client, site):
    problem(client.patch(site.url, json={}, headers=site.headers), 405)


def test_bodies_over_the_limit_are_413(client, site, app):
    big = json.dumps(GOOD_POST | {"instructions": "x" * (app.state.settings.max_body_bytes + 1)})
    response = client.post(
        f"{site.url}/posts", content=big, headers={**site.headers, "Content-Type": "application/json"}
    )
    problem(response, 413)


def test_nul_characters_anywhere_are_named(client, site):
    data = fixture()
    data["volunteers"][3]["contact"] = {"email": "a\u0000@example.org"}
    assert fields(client.post("/sites", json=data, headers=site.headers)) == ["volunteers[3].contact.email"]
    data = fixture()
    data["posts"][0]["shifts"][0]["skills"] = {"med\u0000ical": 1}
    assert fields(client.post("/sites", json=data, headers=site.headers)) == ["posts[0].shifts[0].skills"]


def test_odd_authorisation_headers_are_401(client, site):
    for value in (
        "Bearer",
        "Bearer ",
        "bearer " + site.token + "x",
        "Bearer " + "x" * 10000,
        "Token abc",
        "Bearer \u00e9",
    ):
        try:
            response = client.get(site.url, headers={"Authorization": value})
        except UnicodeEncodeError:  # the client itself refuses non-latin-1 headers
            continue
        problem(response, 401)


def test_if_match_garbage_is_a_conflict(client, site):
    problem(client.put(f"{site.url}/rules", json={}, headers={**site.headers, "If-Match": "garbage"}), 409)
    assert (
        client.put(f"{site.url}/rules", json={}, headers={**site.headers, "If-Match": "*"}).status_code == 200
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=15,
)


def _mutations():
    """Valid bodies with one value somewhere replaced by anything."""
    return st.sampled_from(
        [
            ("POST", "/posts", GOOD_POST),
            ("POST", "/volunteers", {"id": "vx", "name": "X", "availability": [{"weekdays": ["mon"]}]}),
            ("POST", "/volunteers/v002/health", {"status": "sick", "from": "2027-01-12"}),
            ("PUT", "/rules", {"max_consecutive_days": 5, "night": {"min_hours": 3}}),
            ("PUT", "/pins", [{"volunteer": "v002", "post": "gate", "shift": "early", "date": "2027-01-12"}]),
            ("POST", "/schedules", {"time_limit": 1, "horizon": {"start": "2027-01-11", "days": 2}}),
            (
                "PUT",
                "",
                {"site": {"name": "x", "timezone": "UTC"}, "horizon": {"start": "2027-01-11", "days": 7}},
            ),
        ]
    )


def _replace(body, path: list, value):
    if not path:
        return value
    copy = json.loads(json.dumps(body))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return copy


def _paths(body, prefix=()):
    yield list(prefix)
    if isinstance(body, dict):
        for key, item in body.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(body, list):
        for i, item in enumerate(body):
            yield from _paths(item, (*prefix, i))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_input_produces_a_500(client, site, data):
    method, suffix, body = data.draw(_mutations())
    path = data.draw(st.sampled_from(list(_paths(body))))
    mutated = _replace(body, path, data.draw(json_values))
    response = client.request(
        method,
        f"{site.url}{suffix}",
        content=json.dumps(mutated),  # Infinity and NaN included
        headers={**site.headers, "Content-Type": "application/json"},
    )
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == PROBLEM


def _run_guard(chunks: list[bytes], max_bytes: int, headers: list[tuple[bytes, bytes]] = ()):
    """Drive BodyGuard with a body that arrives in ``chunks`` (no Content-Length: a streamed upload);
    what the app behind it received and what was sent back."""
    import asyncio

    from api.errors import BodyGuard

    received: list[bytes] = []
    sent: list[dict] = []

    async def app(scope, receive, send):
        while True:
            message = await receive()
            received.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/sites", "headers": list(headers)}
    asyncio.run(BodyGuard(app, max_bytes=max_bytes)(scope, receive, send))
    return received, sent


def test_a_streamed_body_over_the_limit_is_413_before_the_app_sees_it():
    received, sent = _run_guard([b"x" * 600, b"x" * 600], max_bytes=1000)
    assert received == []
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413
    assert b"larger than 1000 bytes" in b"".join(m.get("body", b"") for m in sent[1:])


def test_a_streamed_body_within_the_limit_reaches_the_app_whole():
    received, sent = _run_guard([b'{"a": ', b'"b"}'], max_bytes=1000)
    assert b"".join(received) == b'{"a": "b"}' and sent[0]["status"] == 201


def test_no_free_database_connection_is_a_503_to_retry(database_url):
    """An overload (every connection of the pool busy for its timeout) is a 503 with Retry-After, not a
    500 with a traceback."""
    from scheduler.store.db import make_engine, make_sessions

    app = create_app(make_settings(database_url))
    engine = make_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=0.05)
    app.state.sessions = make_sessions(engine)
    try:
        with TestClient(app) as client:
            with engine.connect():  # the pool's only connection is taken
                busy = client.get("/health")
                # a feed poll, answered in front of the router (api.routes.calendar.SubscribedFeeds)
                feed = client.get("/calendar/" + "a" * 43 + ".ics")
            assert client.get("/health").status_code == 200
    finally:
        engine.dispose()
        app.state.engine.dispose()
    for answer in (busy, feed):
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"] == "1"
        assert answer.json()["detail"] == "the service is busy: retry"
