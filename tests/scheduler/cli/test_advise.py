"""``rota advise`` prints the staffing advice of a short scenario."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from scheduler.cli.main import app
from tests.scheduler.domain.test_advice import short_site


def test_rota_advise(tmp_path):
    path = tmp_path / "short.json"
    path.write_text(short_site().model_dump_json(by_alias=True), encoding="utf-8")
    result = CliRunner().invoke(app, ["advise", str(path), "--time-limit", "5", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "Recruit 2" in result.output and "medic" in result.output and "Recruiting text" in result.output
    as_json = CliRunner().invoke(app, ["advise", str(path), "--json", "--workers", "1"])
    assert as_json.exit_code == 0 and json.loads(as_json.output)["still_short"] == []


def test_rota_advise_bad_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"site": {}}', encoding="utf-8")
    result = CliRunner().invoke(app, ["advise", str(path)])
    assert result.exit_code != 0 and "Traceback" not in result.output and "site" in result.output
