"""The API under test: the real app on a real database (SQLite, and PostgreSQL when configured),
driven through httpx; the job worker runs in-process with ``Worker.run_once``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from scheduler.domain import scenario as sc
from scheduler.settings import Settings
from scheduler.store import access, sites
from scheduler.store.db import utcnow
from scheduler.worker.loop import Worker

FIXTURES = Path(__file__).resolve().parent.parent.parent / "fixtures"


def fixture(name: str = "small") -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


@dataclass
class SiteHandle:
    id: int
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def url(self) -> str:
        return f"/sites/{self.id}"


def make_settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        auto_migrate=False,
        solver_workers=1,
        default_time_limit=0.5,
        max_time_limit=30,
        heartbeat_interval=0.1,
        public_url="http://testserver",
    )


def seed_site(app, data: dict | None = None, *, admin: bool = False) -> SiteHandle:
    """A site from a scenario (dict) straight into the database, with a coordinator token (an admin
    token with ``admin``)."""
    scenario = sc.Scenario.model_validate(data or fixture())
    with app.state.sessions() as session:
        row = sites.import_scenario(session, scenario, utcnow())
        token = access.create_api_token(session, row.id, "test", utcnow(), admin=admin)
        session.commit()
        return SiteHandle(row.id, token)


@pytest.fixture
def settings(database_url) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def app(settings):
    app = create_app(settings)
    yield app
    app.state.engine.dispose()


@pytest.fixture
def client(app):
    with TestClient(app) as client:
        yield client


@pytest.fixture
def make_site(app):
    return lambda data=None, admin=False: seed_site(app, data, admin=admin)


@pytest.fixture
def site(make_site) -> SiteHandle:
    return make_site()


@pytest.fixture
def worker(app, settings) -> Worker:
    return Worker(app.state.sessions, settings, name="test-worker")


def solve(client: TestClient, worker: Worker, site: SiteHandle, **body) -> dict:
    """Queue a job, run it in-process, return the finished job."""
    response = client.post(f"{site.url}/schedules", json=body, headers=site.headers)
    assert response.status_code == 202, response.text
    assert worker.run_once() == response.json()["id"]
    job = client.get(response.headers["Location"], headers=site.headers).json()
    assert job["state"] == "done", job
    return job


def publish(client: TestClient, site: SiteHandle, job_id: int) -> dict:
    response = client.post(f"{site.url}/schedules/{job_id}/publish", headers=site.headers)
    assert response.status_code == 201, response.text
    return response.json()


class Statements(list):
    """The SQL statements run, in order; on PostgreSQL also ``in_transaction``, whether each ran inside a
    transaction (False: autocommit, no BEGIN or COMMIT around it)."""

    def __init__(self) -> None:
        super().__init__()
        self.in_transaction: list[bool] = []


def statements(app) -> tuple[Statements, object]:
    """A list that collects the SQL statements the app runs from now on, and a function that stops
    collecting. On PostgreSQL they are collected from the driver's cursors, so that statements run on a
    pooled connection outside SQLAlchemy's execution (the feed poll's) are seen too."""
    seen = Statements()
    if app.state.engine.dialect.name == "postgresql":
        import psycopg
        from psycopg.pq import TransactionStatus

        original = psycopg.Cursor.execute

        def execute(cursor, query, params=None, **kwargs):
            result = original(cursor, query, params, **kwargs)
            seen.append(query if isinstance(query, str) else query.as_string(cursor))
            seen.in_transaction.append(cursor.connection.info.transaction_status != TransactionStatus.IDLE)
            return result

        psycopg.Cursor.execute = execute

        def stop() -> None:
            psycopg.Cursor.execute = original

        return seen, stop

    from sqlalchemy import event

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(app.state.engine, "before_cursor_execute", record)
    return seen, lambda: event.remove(app.state.engine, "before_cursor_execute", record)
