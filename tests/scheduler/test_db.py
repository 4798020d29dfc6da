"""The database layer: migrations match the models, instants stay UTC, URLs pick psycopg 3."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import select

from scheduler.db import alembic_config, current_revision, head_revision, normalise_url, utcnow
from scheduler.health import HealthRecordRow
from scheduler.site import SiteRow


def test_the_migrations_build_exactly_the_models(engine):
    assert current_revision(engine) == head_revision()
    command.check(alembic_config(engine))  # raises if autogenerate would find anything to change


def test_instants_are_stored_in_utc_and_read_back_aware(sessions):
    shanghai = dt.datetime(2026, 12, 7, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    with sessions() as session:
        site = SiteRow(
            name="x",
            timezone="Asia/Shanghai",
            horizon_start=dt.date(2026, 12, 7),
            horizon_days=1,
            rules={},
            pinned=[],
            created_at=shanghai,
            version=1,
        )
        session.add(site)
        session.commit()
    with sessions() as session:
        back = session.scalar(select(SiteRow.created_at))
    assert back == shanghai and back.tzinfo == dt.UTC and back.hour == 0


def test_naive_instants_are_refused(sessions):
    with sessions() as session:
        session.add(HealthRecordRow(volunteer_id=1, status="fit", recorded_at=dt.datetime(2026, 1, 1)))
        with pytest.raises(Exception, match="naive datetime"):
            session.flush()


def test_urls():
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///var/rota.db") == "sqlite:///var/rota.db"
    assert utcnow().tzinfo == dt.UTC
