"""The database layer: migrations match the models, instants stay UTC, URLs pick psycopg 3."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import select

from scheduler.store.db import alembic_config, current_revision, head_revision, normalise_url, utcnow
from scheduler.store.health_records import HealthRecordRow
from scheduler.store.sites import SiteRow
from tests.conftest import POSTGRES_URL


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



OLD_ROWS = {  # one row of each, as schema 0001 has them
    "sites": "(id, name, timezone, horizon_start, horizon_days, rules, pinned, created_at, version) "
    "VALUES (1, 'x', 'UTC', '2027-01-01', 7, '{}', '[]', '2026-01-01 00:00:00', 1)",
    "jobs": "(id, site_id, state, created_at, cancel_requested, horizon_start, horizon_days, time_limit, "
    "workers, seed, scenario) "
    "VALUES (1, 1, 'done', '2026-01-01 00:00:00', false, '2027-01-01', 7, 1, 1, 0, '{}')",
    "volunteers": "(id, site_id, key, name, contact, skills, unavailable, preferences, rules, history, "
    "version) VALUES (1, 1, 'v1', 'A', '{}', '[]', '[]', '{}', '{}', '{}', 1)",
}


def test_upgrading_from_0001_keeps_every_row(engine):
    """0002 adds columns with plain ALTER TABLE: a batch that recreated ``sites`` on SQLite would drop it,
    and with foreign keys on, every post, volunteer, job and version of every site with it."""
    from sqlalchemy import text

    def counts() -> list[int]:
        with engine.connect() as c:
            return [c.execute(text(f"SELECT count(*) FROM {table}")).scalar() for table in OLD_ROWS]

    config = alembic_config(engine)
    command.downgrade(config, "0001")
    with engine.begin() as c:
        for table, values in OLD_ROWS.items():
            c.execute(text(f"INSERT INTO {table} {values}"))
    command.upgrade(config, "head")
    assert counts() == [1, 1, 1]
    with engine.connect() as c:
        assert c.execute(text("SELECT kind, disruptions, base_version FROM jobs")).all() == [
            ("schedule", None, None)
        ]
        assert [bool(x) for (x,) in c.execute(text("SELECT auto_resolve FROM sites"))] == [False]
    command.downgrade(config, "0001")
    assert counts() == [1, 1, 1]
    command.upgrade(config, "head")
    assert current_revision(engine) == head_revision()


def test_a_new_sqlite_database_is_private(tmp_path):
    """Health data is in the file: 0600 in a directory of 0700, whatever the umask."""
    import os
    import stat

    from sqlalchemy import text

    from scheduler.store.db import make_engine

    old = os.umask(0o022)
    try:
        path = tmp_path / "var" / "rota.db"
        engine = make_engine(f"sqlite:///{path}")
        with engine.connect() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
            connection.execute(text("INSERT INTO t VALUES (1)"))
            connection.commit()
            companions = [p for p in path.parent.iterdir() if p != path]
            assert companions  # WAL mode: rota.db-wal and -shm exist while a connection is open
            for p in [path, *companions]:
                assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
        engine.dispose()
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    finally:
        os.umask(old)


def test_an_existing_world_readable_sqlite_file_is_tightened(tmp_path):
    import os
    import stat

    from scheduler.store.db import make_engine

    path = tmp_path / "rota.db"
    path.touch()
    os.chmod(path, 0o644)
    make_engine(f"sqlite:///{path}").dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_0009_turns_notes_into_reasons_and_scrubs_the_job_snapshots(engine):
    import json

    from sqlalchemy import text

    config = alembic_config(engine)
    command.downgrade(config, "0005")
    snapshot = {"volunteers": [{"id": "v1", "health": [{"status": "sick", "note": "chest infection"}]}]}
    disruptions = [
        {"kind": "sick_call", "volunteer": "v1", "from": "2027-01-02", "note": "chest infection"},
        {"kind": "withdrawal", "volunteer": "v1", "from": "2027-01-03", "reason": "chemotherapy"},
        {"kind": "withdrawal", "volunteer": "v1", "from": "2027-01-04", "reason": "personal"},
    ]
    with engine.begin() as c:
        for table in ("sites", "volunteers"):
            c.execute(text(f"INSERT INTO {table} {OLD_ROWS[table]}"))
        c.execute(
            text(
                "INSERT INTO jobs (id, site_id, state, created_at, cancel_requested, horizon_start, "
                "horizon_days, time_limit, workers, seed, scenario, kind, disruptions) VALUES (1, 1, 'done', "
                "'2026-01-01 00:00:00', false, '2027-01-01', 7, 1, 1, 0, :s, 'resolve', :d)"
            ),
            {"s": json.dumps(snapshot), "d": json.dumps(disruptions)},
        )
        c.execute(text(
            "INSERT INTO health_records (id, volunteer_id, status, infectious, note, recorded_at) VALUES "
            "(1, 1, 'sick', false, 'chest infection', '2026-01-01 00:00:00'), "
            "(2, 1, 'fit', false, NULL, '2026-01-02 00:00:00')"
        ))
    command.upgrade(config, "head")
    with engine.connect() as c:
        assert c.execute(text("SELECT id, reason FROM health_records ORDER BY id")).all() == [
            (1, "other"), (2, None)
        ]
        row = c.execute(text("SELECT scenario, disruptions FROM jobs")).one()
    # text on SQLite, already parsed on PostgreSQL
    scenario, stored = (v if isinstance(v, str) else json.dumps(v) for v in row)
    assert "chest" not in scenario + stored and "chemo" not in stored
    assert json.loads(scenario)["volunteers"][0]["health"] == [{"status": "sick", "reason": "other"}]
    assert [d.get("reason") for d in json.loads(stored)] == ["other", "other", "personal"]


@pytest.mark.skipif(not POSTGRES_URL, reason="needs ROTA_TEST_POSTGRES_URL")
def test_migrations_on_postgresql_wait_for_the_advisory_lock(postgres_url):
    """Replicas starting together: while one holds the migration lock, another's upgrade waits, then
    finds the schema up to date."""
    import threading

    from scheduler.store.db import MIGRATION_LOCK, make_engine, upgrade

    engine = make_engine(postgres_url)
    done = threading.Event()
    errors: list[BaseException] = []

    def other_replica() -> None:
        try:
            upgrade(make_engine(postgres_url))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        done.set()

    with engine.connect() as holder:
        holder.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
        thread = threading.Thread(target=other_replica)
        thread.start()
        assert not done.wait(1.5), "the upgrade did not wait for the lock"
        holder.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")
        holder.commit()
    thread.join(30)
    assert done.is_set() and not errors
    assert current_revision(engine) == head_revision()


def test_0013_turns_free_text_absence_reasons_into_other_in_every_stored_copy(engine):
    import json

    from sqlalchemy import text

    config = alembic_config(engine)
    command.downgrade(config, "0008")
    absences = [{"from": "2027-01-02", "until": "2027-01-02", "reason": "medical appointment"},
                {"from": "2027-01-04", "until": "2027-01-04", "reason": "study"},
                {"from": "2027-01-05", "until": "2027-01-05", "reason": ""}]
    snapshot = {"volunteers": [{"id": "v1", "unavailable": absences}]}
    disruptions = [{"kind": "new_volunteer", "volunteer": {"id": "v2", "name": "B", "unavailable": [
        {"from": "2027-01-03", "reason": "chemotherapy"}]}}]
    result = {"uncovered": [{"reason": "unavailable: medical appointment",
                             "detail": "v1 unavailable from 2027-01-02 until 2027-01-02: chemotherapy",
                             "note": "skills: medical appointment"}]}
    with engine.begin() as c:
        c.execute(text(f"INSERT INTO sites {OLD_ROWS['sites']}"))
        c.execute(text(
            "INSERT INTO volunteers (id, site_id, key, name, contact, skills, unavailable, preferences, "
            "rules, history, version) VALUES (1, 1, 'v1', 'A', '{}', '[]', :u, '{}', '{}', '{}', 1)"
        ), {"u": json.dumps(absences)})
        c.execute(text(
            "INSERT INTO jobs (id, site_id, state, created_at, cancel_requested, horizon_start, "
            "horizon_days, time_limit, workers, seed, scenario, kind, disruptions, result) "
            "VALUES (1, 1, 'done', "
            "'2026-01-01 00:00:00', false, '2027-01-01', 7, 1, 1, 0, :s, 'resolve', :d, :r)"
        ), {"s": json.dumps(snapshot), "d": json.dumps(disruptions), "r": json.dumps(result)})
        c.execute(text(
            "INSERT INTO schedule_versions (id, site_id, number, job_id, published_at, horizon_start, "
            "horizon_days, schedule) VALUES (1, 1, 1, 1, '2026-01-01 00:00:00', '2027-01-01', 7, :r)"
        ), {"r": json.dumps(result)})
    command.upgrade(config, "head")
    with engine.connect() as c:
        (unavailable,) = c.execute(text("SELECT unavailable FROM volunteers")).one()
        job = c.execute(text("SELECT scenario, disruptions, result FROM jobs")).one()
        (version,) = c.execute(text("SELECT schedule FROM schedule_versions")).one()
    # text on SQLite, already parsed on PostgreSQL
    unavailable, scenario, stored, job_result, version = (
        json.loads(v) if isinstance(v, str) else v for v in (unavailable, *job, version)
    )
    assert [p["reason"] for p in unavailable] == ["other", "study", None]
    assert [p["reason"] for p in scenario["volunteers"][0]["unavailable"]] == ["other", "study", None]
    assert stored[0]["volunteer"]["unavailable"][0]["reason"] == "other"
    for copy in (job_result, version):
        (slot,) = copy["uncovered"]
        assert slot["reason"] == "unavailable: other"
        assert slot["detail"] == "v1 unavailable from 2027-01-02 until 2027-01-02: other"
        assert slot["note"] == "skills: medical appointment"  # not an absence's text: left as it is
    everything = json.dumps([unavailable, scenario, stored, job_result, version])
    assert "chemo" not in everything
    assert "medical appointment" not in everything.replace("skills: medical appointment", "")


def test_upgrade_says_whether_it_migrated(tmp_path, caplog):
    """A replica's log shows whether it was the one that migrated (from which revision to which) or
    found the schema up to date."""
    import logging

    from scheduler.store.db import make_engine, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'rota.db'}")
    with caplog.at_level(logging.INFO, logger="rota.db"):
        upgrade(engine)
        upgrade(engine)
    messages = [r.getMessage() for r in caplog.records if r.name == "rota.db"]
    assert messages == [
        f"database schema migrated from revision (empty) to {head_revision()}",
        f"database schema at revision {head_revision()}: nothing to migrate",
    ]
