"""Databases for the persistence and API tests.

A test that asks for ``database_url`` runs once per backend: SQLite always (a fresh copy of a migrated
file per test), and PostgreSQL too when ``ROTA_TEST_POSTGRES_URL`` names a database the tests may wipe
(``.ci/run`` starts a server and sets it). The PostgreSQL schema is built once per session by the
Alembic migrations and emptied between tests.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

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


@pytest.fixture(scope="session")
def postgres_url() -> str:
    assert POSTGRES_URL
    engine = make_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    engine.dispose()
    return POSTGRES_URL


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
