"""The layer contracts of ``pyproject.toml`` hold, and they would catch an upward import.

``lint-imports`` runs on the tree as it is, then on a copy of it in which the domain imports the HTTP
API (and, separately, the solver imports the database): each copy must break its contract."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("solver", "scheduler", "api", "benchmarks")

pytestmark = pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed")


def lint(tree: Path, *contracts: str) -> subprocess.CompletedProcess:
    only = [arg for contract in contracts for arg in ("--contract", contract)]
    return subprocess.run(
        [str(LINT), "--config", str(tree / "pyproject.toml"), "--no-cache", *only],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(ROOT / "pyproject.toml", tree)
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
    return tree


def test_the_tree_keeps_every_contract():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("scheduler/domain/scenario.py", "import api.app  # noqa", "top-level"),
        ("scheduler/store/db.py", "import scheduler.services.publishing  # noqa", "scheduler-layers"),
        ("solver/problem.py", "import sqlalchemy  # noqa", "pure-solver"),
        ("scheduler/domain/report.py", "import sqlalchemy  # noqa", "pure-domain"),
        ("solver/rules.py", "import solver.solve  # noqa", "acyclic"),
    ],
)
def test_an_upward_import_breaks_its_contract(tmp_path, module, line, contract):
    tree = copy_tree(tmp_path)
    target = tree / module
    target.write_text(target.read_text() + f"\n{line}\n", encoding="utf-8")
    assert lint(ROOT, contract).returncode == 0  # the contract holds on the real tree
    result = lint(tree, contract)
    assert result.returncode != 0, result.stdout
    assert "1 broken" in result.stdout, result.stdout
