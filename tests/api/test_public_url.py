"""Links come from ROTA_PUBLIC_URL only, never from the request's Host header, and the service refuses
to start without it outside development.

On the old code ``test_feed_links_ignore_the_host_header`` failed (the link was
``http://attacker.example/calendar/<token>.ics``), and the start-up tests failed because ``public_url``
had a silent default and no ``env`` setting existed."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from typer.testing import CliRunner

from api.app import create_app
from scheduler.cli.main import app as cli
from scheduler.settings import ConfigurationError, Settings
from tests.api.conftest import make_settings, seed_site


@pytest.mark.parametrize(
    "path", ["/calendar/token", "/volunteers/v002/calendar/token", "/posts/gate/calendar/token"]
)
def test_feed_links_ignore_the_host_header(database_url, path):
    settings = make_settings(database_url).model_copy(update={"public_url": "https://rota.example.org/r"})
    app = create_app(settings)
    site = seed_site(app)
    with TestClient(app, base_url="http://attacker.example") as client:
        headers = {**site.headers, "Host": "attacker.example", "X-Forwarded-Host": "evil.example"}
        link = client.post(f"{site.url}{path}", headers=headers).json()
    app.state.engine.dispose()
    assert link["url"].startswith("https://rota.example.org/r/calendar/")
    assert link["url"].endswith(".ics") and "attacker" not in link["url"] and "evil" not in link["url"]
    assert link["webcal"] == "webcal://" + link["url"].removeprefix("https://")


def test_production_refuses_to_start_without_a_public_url(tmp_path):
    settings = Settings(env="production", public_url=None, database_url=f"sqlite:///{tmp_path / 'r.db'}")
    with pytest.raises(ConfigurationError, match="ROTA_PUBLIC_URL"):
        create_app(settings)


def test_rota_serve_says_what_is_missing(tmp_path):
    env = {"ROTA_ENV": "production", "ROTA_PUBLIC_URL": "", "ROTA_DATABASE_URL": f"sqlite:///{tmp_path}/r.db"}
    result = CliRunner().invoke(cli, ["serve"], env=env)
    assert result.exit_code == 2
    assert "ROTA_PUBLIC_URL is not set" in result.output and "Traceback" not in result.output


def test_development_links_point_at_the_local_server():
    assert Settings(env="development", public_url=None, host="0.0.0.0", port=8123).base_url() == (
        "http://127.0.0.1:8123"
    )
    assert Settings(env="production", public_url="https://rota.example.org/").base_url() == (
        "https://rota.example.org"
    )


@pytest.mark.parametrize(
    "url",
    [
        "rota.example.org",
        "ftp://rota.example.org",
        "https://",
        "https://a.example/?x=1",
        "https://u:p@a.example",
    ],
)
def test_a_public_url_that_is_not_a_base_url_is_refused(url):
    with pytest.raises(ValidationError, match="public_url"):
        Settings(public_url=url)
