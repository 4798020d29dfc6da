"""The database: engine, declarative base, sessions and schema migrations.

* SQLite (the embedded default) and PostgreSQL behave the same: foreign keys are enforced on SQLite
  too, SQLite runs in WAL mode with a busy timeout so the web process and the workers can share a
  file, and ``postgresql://`` URLs use the psycopg 3 driver.
* Instants are stored in UTC (:class:`UTCDateTime`): aware datetimes in, aware UTC datetimes out, on
  both backends.
* The schema belongs to Alembic (``alembic/``): :func:`upgrade` brings a database to the newest
  revision; nothing calls ``create_all``.
* Services never commit. A transaction has one owner, :func:`unit_of_work`: a request (``api.deps``), a
  worker's job step, a command of the CLI. It commits once when its block ends and rolls back if the
  block raises, so several steps share one transaction and a failure leaves nothing half-written.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

log = logging.getLogger("rota.db")

ROOT = Path(__file__).resolve().parents[2]
#: The migrations: beside the source tree, or where ROTA_MIGRATIONS_DIR says (an installed wheel, the
#: Docker image: /opt/rota/share/rota/alembic).
ALEMBIC_DIR = Path(os.environ.get("ROTA_MIGRATIONS_DIR") or ROOT / "alembic")
ALEMBIC_INI = ALEMBIC_DIR.parent / "alembic.ini"

#: The PostgreSQL advisory lock held while migrating, so replicas starting together migrate one at a
#: time (the others wait, then find the schema up to date). Any fixed 64-bit number; this is "rota".
MIGRATION_LOCK = 0x726F7461

#: SQLite waits this long for a lock held by another process before giving up.
SQLITE_BUSY_TIMEOUT_S = 30

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """An instant: stored in UTC, always read back as an aware UTC datetime (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given for a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg 3; everything else is left alone."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            private_sqlite_file(Path(database))
        connect_args = kwargs.pop("connect_args", {})
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_S)
        connect_args.setdefault("check_same_thread", False)
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def private_sqlite_file(path: Path) -> None:
    """Health data lives in this file: create its directory 0700 (if rota creates it) and the file, with
    its WAL and shared-memory companions, 0600, before SQLite opens it (SQLite would use the umask,
    typically leaving it world-readable). An existing file that others can read is tightened too."""
    parent = path.parent
    if not parent.exists():
        parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(parent, 0o700)  # mkdir's mode is masked by the umask
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if name == path or name.exists():
            fd = os.open(name, os.O_RDWR | os.O_CREAT, 0o600)
            os.close(fd)
            if name.stat().st_mode & 0o077:
                os.chmod(name, 0o600)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    cursor.close()


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: a session that commits when the block ends, rolls back if it raises, and is
    always closed. The only place in rota that commits."""
    with sessions() as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()


def alembic_config(engine: Engine | None = None):
    from alembic.config import Config

    if not (ALEMBIC_DIR / "env.py").exists():
        raise RuntimeError(
            f"the migrations are not at {ALEMBIC_DIR}: run rota from its source tree "
            "(pip install --editable .) or set ROTA_MIGRATIONS_DIR to a copy of its alembic/ folder"
        )
    # stdout as it is now: Config's default is the sys.stdout of the moment alembic was first imported
    ini = str(ALEMBIC_INI) if ALEMBIC_INI.exists() else None
    config = Config(ini, stdout=sys.stdout)
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    config.attributes["configure_logger"] = False
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (the newest by default). On PostgreSQL under an advisory
    lock (:data:`MIGRATION_LOCK`): several replicas or workers starting at once against one database
    cannot race (one migrates, the others wait and then have nothing to do). SQLite's own file lock
    serialises the migrations' transactions there. Logs (``rota.db``) whether it migrated, from which
    revision to which, or found the schema up to date, and when it waits for another process."""
    if engine.dialect.name != "postgresql":
        _upgrade(engine, revision)
        return
    with engine.connect() as lock:
        if not lock.exec_driver_sql(f"SELECT pg_try_advisory_lock({MIGRATION_LOCK})").scalar():
            log.info("another process is migrating the database: waiting for it")
            lock.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
        lock.commit()
        try:
            _upgrade(engine, revision)
        finally:
            lock.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")
            lock.commit()


def _upgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    before = current_revision(engine)
    command.upgrade(alembic_config(engine), revision)
    after = current_revision(engine)
    if after == before:
        log.info("database schema at revision %s: nothing to migrate", after)
    else:
        log.info("database schema migrated from revision %s to %s", before or "(empty)", after)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
