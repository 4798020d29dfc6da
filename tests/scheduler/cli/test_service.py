"""The service's command line: db upgrade, admin import/export/create-token/feed-url/load-demo/demo."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from typer.testing import CliRunner

from scheduler.cli.main import app
from scheduler.domain.scenario import Scenario
from scheduler.store.db import make_engine, make_sessions

SMALL = Path(__file__).resolve().parents[3] / "fixtures" / "small.json"


def run(url: str, *args: str, cwd: Path | None = None):
    env = {"ROTA_DATABASE_URL": url, "ROTA_PUBLIC_URL": "https://rota.example"}
    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = CliRunner().invoke(app, list(args), env=env)
    finally:
        os.chdir(old)
    return result


def test_admin_commands(tmp_path):
    url = f"sqlite:///{tmp_path / 'var' / 'rota.db'}"
    upgraded = run(url, "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert "current" in run(url, "db", "current").output

    imported = run(url, "admin", "import", str(SMALL))
    assert imported.exit_code == 0, imported.output
    assert imported.output.startswith("site 1\ncoordinator token rota_")

    exported = run(url, "admin", "export", "--site", "1", "--out", str(tmp_path / "out.json"))
    assert exported.exit_code == 0
    again = Scenario.model_validate(json.loads((tmp_path / "out.json").read_text(encoding="utf-8")))
    assert again == Scenario.model_validate(json.loads(SMALL.read_text(encoding="utf-8")))

    token = run(url, "admin", "create-token", "--site", "1", "--name", "Mia")
    assert token.exit_code == 0 and token.output.startswith("rota_")
    assert run(url, "admin", "create-token", "--site", "9").exit_code == 2

    feed = run(url, "admin", "feed-url", "--site", "1", "--volunteer", "v002")
    assert feed.exit_code == 0 and feed.output.startswith("https://rota.example/calendar/")
    assert run(url, "admin", "feed-url", "--site", "1", "--volunteer", "nobody").exit_code == 2

    loaded = run(url, "admin", "load-demo")
    assert loaded.exit_code == 0 and "already has sites" in loaded.output
    bad = tmp_path / "bad.json"
    bad.write_text('{"site": {}}', encoding="utf-8")
    refused = run(url, "admin", "import", str(bad))
    assert refused.exit_code == 2 and "site.name" in refused.output


def test_demo_prints_working_credentials_and_keeps_them(tmp_path):
    url = f"sqlite:///{tmp_path / 'var' / 'rota.db'}"
    first = run(url, "admin", "demo", cwd=tmp_path)
    assert first.exit_code == 0, first.output
    saved = tmp_path / "var" / "demo-credentials.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    creds = json.loads(saved.read_text(encoding="utf-8"))
    assert creds["coordinator_token"] in first.output and creds["feed_token"] in first.output
    assert "https://rota.example/docs" in first.output
    second = run(url, "admin", "demo", cwd=tmp_path)
    assert json.loads(saved.read_text(encoding="utf-8")) == creds  # the same, still working
    assert creds["feed_token"] in second.output

    from scheduler.store import access

    engine = make_engine(url)
    with make_sessions(engine)() as session:
        assert access.site_of_api_token(session, creds["coordinator_token"]) == creds["site"]
        assert access.resolve_feed_token(session, creds["feed_token"]).site_id == creds["site"]
    engine.dispose()


def test_demo_prints_a_one_time_console_sign_in_link(tmp_path):
    import re

    from scheduler.store import console_sessions
    from scheduler.store.db import utcnow

    url = f"sqlite:///{tmp_path / 'var' / 'rota.db'}"
    first = run(url, "admin", "demo", cwd=tmp_path)
    assert first.exit_code == 0, first.output
    assert "https://rota.example/console" in first.output
    links = re.findall(r"https://rota\.example/console/link/([A-Za-z0-9_-]+)", first.output)
    assert len(links) == 1
    second = run(url, "admin", "demo", cwd=tmp_path)
    again = re.findall(r"https://rota\.example/console/link/([A-Za-z0-9_-]+)", second.output)
    assert again and again != links  # a fresh link on every run: each works once
    creds = json.loads((tmp_path / "var" / "demo-credentials.json").read_text(encoding="utf-8"))
    assert links[0] not in json.dumps(creds)  # never kept in a file

    engine = make_engine(url)
    with make_sessions(engine)() as session:
        assert console_sessions.redeem_login_token(session, links[0], utcnow()) == creds["site"]
        assert console_sessions.redeem_login_token(session, links[0], utcnow()) is None  # used up
        assert console_sessions.redeem_login_token(session, "x" * 43, utcnow()) is None
    engine.dispose()


def test_admin_purge(tmp_path):
    """``rota admin purge`` runs against the configured database (what it purges is tested in
    tests/scheduler/services/test_retention.py); the SQLite file it works on is private."""
    import stat

    from sqlalchemy import select

    from scheduler.store.health_records import HealthRecordRow

    path = tmp_path / "var" / "rota.db"
    url = f"sqlite:///{path}"
    assert run(url, "db", "upgrade").exit_code == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert run(url, "admin", "import", str(SMALL)).exit_code == 0
    sessions = make_sessions(make_engine(url))

    def records() -> int:
        with sessions() as session:
            return len(session.scalars(select(HealthRecordRow)).all())

    before = records()
    kept = run(url, "admin", "purge", "--days", "0")
    assert kept.exit_code == 0 and kept.output.startswith("purged 0 health records") and records() == before
    purged = run(url, "admin", "purge", "--days", "1")
    assert purged.exit_code == 0, purged.output
    # records made just now were recorded within the retention period: they are kept until it passes
    assert records() == before and "purged 0 health records" in purged.output


def test_serve_reuse_port_lets_several_processes_share_one_port(tmp_path):
    """``rota serve --reuse-port``: a second process binds the same port (each its own socket, the kernel
    spreads connections across them) and keeps answering when the first stops; without the option the
    port is taken, and the command says so."""
    import socket
    import subprocess
    import sys
    import time

    import httpx

    url = f"sqlite:///{tmp_path}/rota.db"
    assert run(url, "db", "upgrade").exit_code == 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, ROTA_DATABASE_URL=url, ROTA_ENV="development", ROTA_AUTO_MIGRATE="false")

    def serve(*options: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "scheduler.cli.main", "serve", "--port", str(port), *options],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )

    def healthy(deadline: float = 30) -> bool:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    return True
            except httpx.TransportError:
                time.sleep(0.2)
        return False

    def started(process: subprocess.Popen) -> None:
        for line in process.stderr:  # uvicorn's log: bound, then the application's start-up done
            if "Application startup complete" in line:
                return
        raise AssertionError(f"exited with {process.wait()}")

    first = serve("--reuse-port")
    second = None
    try:
        assert healthy()
        second = serve("--reuse-port")
        started(second)
        taken = serve()
        _, message = taken.communicate(timeout=30)
        assert taken.returncode != 0 and "address already in use" in message.lower(), message
        first.terminate()
        first.wait(timeout=20)
        assert healthy(), "the second process did not take over the port"
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=20)
