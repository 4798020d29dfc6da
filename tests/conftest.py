"""Databases for the persistence and API tests.

A test that asks for ``database_url`` runs once per backend: SQLite always (a fresh copy of a migrated
file per test), and PostgreSQL too when ``ROTA_TEST_POSTGRES_URL`` names a database the tests may wipe
(``.ci/run`` starts a server and sets it). The PostgreSQL schema is built once per session by the
Alembic migrations and emptied between tests.

``make test`` runs the suite in parallel (pytest-xdist, one process per core). Each worker has its own
PostgreSQL database beside the one ``ROTA_TEST_POSTGRES_URL`` names (``rota_test_gw0``, ...: created
fresh when the worker starts, dropped when it ends), its own SQLite files (``tmp_path``) and its own
servers (free ports). ``--dist loadfile`` keeps each test file on one worker, in order: a module-scoped
fixture (one app, one browser server, one solved site) is set up once, and the tests that build on the
state of the ones before them still find it.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import make_url, text

try:
    from _pytest.nodeid import NodeId  # pytest >= 9.2
except ImportError:  # pragma: no cover - older pytest: node ids are plain strings
    NodeId = None

from scheduler.store.db import make_engine, upgrade
from scheduler.store.tables import metadata

# the tests run as a local development server does (ROTA_PUBLIC_URL may default to the local address)
os.environ.setdefault("ROTA_ENV", "development")

POSTGRES_URL = os.environ.get("ROTA_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "rota.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items) -> None:
    """Every test has its own node id. pytest-xdist tells tests apart by node id alone, so two tests
    with one id would run once between them, silently (the 77 other operations of
    test_openapi_conformance: schemathesis names each operation's test ``test_...[GET /health]``, but
    pytest 9.2 builds the node id from the function's original name without it). Such tests get their
    name as their id; any id still shared stops the run before it starts."""
    counts = Counter(item.nodeid for item in items)
    for item in items:
        if counts[item.nodeid] > 1 and not item.nodeid.endswith(f"::{item.name}"):
            unique = f"{item.parent.nodeid}::{item.name}"
            if NodeId is not None and isinstance(getattr(item, "_id", None), NodeId):  # pytest >= 9.2
                item._id = NodeId.parse(unique)
            else:
                item._nodeid = unique
    shared = sorted(nodeid for nodeid, count in Counter(item.nodeid for item in items).items() if count > 1)
    if shared:
        raise pytest.UsageError(f"tests sharing a node id (xdist would run one of each): {shared[:5]}")


def _worker_database(url: str, worker: str | None) -> str:
    """The database of this xdist ``worker`` on the server of ``url`` (``url`` itself without xdist),
    created empty (dropped first if a killed run left it)."""
    if not worker:
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _drop_worker_database(url: str, database: str) -> None:
    """Drop a worker's database at the end of its session (a connection a test left open is closed by
    the server, WITH (FORCE): PostgreSQL 13 and later; an older one keeps the database until the next
    run drops it)."""
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    except Exception as exc:  # only tidying up: never fail the run for it
        warnings.warn(f"could not drop the test database {database}: {exc}", stacklevel=1)
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url():
    assert POSTGRES_URL
    url = _worker_database(POSTGRES_URL, os.environ.get("PYTEST_XDIST_WORKER"))
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    engine.dispose()
    yield url
    if url != POSTGRES_URL:
        _drop_worker_database(POSTGRES_URL, make_url(url).database)


def _empty_postgres(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


def fresh_database(request, backend: str, directory: Path) -> str:
    """An empty, migrated database of ``backend`` for a test (or a module of tests)."""
    if backend == "sqlite":
        path = directory / "rota.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    _empty_postgres(url)
    return url


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    return fresh_database(request, request.param, tmp_path)


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine):
    from scheduler.store.db import make_sessions

    return make_sessions(engine)
