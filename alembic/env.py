"""Alembic environment: migrates the database named by ROTA_DATABASE_URL, or the engine handed over
by :func:`scheduler.store.db.upgrade` (``config.attributes["engine"]``)."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

from scheduler.settings import Settings
from scheduler.store.db import make_engine
from scheduler.store.tables import metadata

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = metadata


def run_migrations_offline() -> None:
    from scheduler.store.db import normalise_url

    context.configure(
        url=normalise_url(Settings().database_url),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    owned = engine is None
    if owned:
        engine = make_engine(Settings().database_url)
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
    finally:
        if owned:
            engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
