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
from pathlib import Path

import pytest
from sqlalchemy import make_url, text

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
