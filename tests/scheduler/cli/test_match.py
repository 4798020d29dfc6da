"""``rota generate --residents`` and ``rota match``: residents matched from a scenario file, the changes
printed, the matched scenario written (and matching it again changes nothing)."""

from __future__ import annotations

from typer.testing import CliRunner

from scheduler.cli.main import app
from scheduler.domain.scenario import Scenario


def test_rota_generate_with_residents_and_match(tmp_path):
    path, matched = tmp_path / "site.json", tmp_path / "matched.json"
    made = CliRunner().invoke(app, ["generate", "--volunteers", "40", "--days", "7", "--residents", "8",
                                    "--seed", "3", "--out", str(path)])
    assert made.exit_code == 0, made.output
    assert len(Scenario.model_validate_json(path.read_text()).residents) == 8
    result = CliRunner().invoke(app, ["match", str(path), "--out", str(matched), "--time-limit", "3"])
    assert result.exit_code == 0, result.output
    assert "8 residents" in result.output and "first match" in result.output
    scenario = Scenario.model_validate_json(matched.read_text())
    assert all(r.primary and r.primary != r.backup for r in scenario.residents)
    again = CliRunner().invoke(app, ["match", str(matched), "--time-limit", "3"])
    assert again.exit_code == 0 and "->" not in again.output  # continuity: nothing changed
