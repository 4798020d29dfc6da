"""The wheel ships the product (solver, scheduler, api) and nothing of the benchmarks or the tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_holds_the_product_and_no_benchmark(tmp_path):
    # built from a copy of what git tracks: a build/ folder left in the checkout cannot leak into it
    source = tmp_path / "source"
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    for name in tracked.stdout.splitlines():
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path / "wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = out.glob("rota-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/", 1)[0] for name in names if not name.startswith("rota-")}
    assert tops == {"solver", "scheduler", "api"}
    assert "scheduler/cli/main.py" in names and "solver/solve.py" in names and "api/app.py" in names
    assert not [n for n in names if "bench" in n.rsplit("/", 1)[-1] and n != "scheduler/cli/bench.py"]


def _pins(name: str) -> dict[str, tuple[str, int]]:
    """A lock file's pins: normalised name -> (version, number of hashes)."""
    import re

    text = (ROOT / name).read_text(encoding="utf-8")
    out = {}
    for block in re.split(r"\n(?=[a-z0-9])", text):
        match = re.match(r"([A-Za-z0-9_.-]+)==([^ \\\n]+)", block)
        if match:
            out[re.sub(r"[-_.]+", "-", match[1]).lower()] = (match[2], block.count("--hash=sha256:"))
    return out


def test_every_dependency_is_locked_with_its_hashes():
    """requirements.lock (the image) and requirements-dev.lock (make) pin every dependency, direct or
    not, to one version with its hashes, the same version in both, within pyproject.toml's ranges."""
    import re
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")
    assert len(runtime) > 30 and set(runtime) < set(dev)
    assert all(hashes for _, hashes in dev.values())
    assert all(dev[name][0] == version for name, (version, _) in runtime.items())
    groups = [(project["dependencies"] + project["optional-dependencies"]["postgres"], runtime),
              (project["optional-dependencies"]["dev"], dev)]
    for wanted, pins in groups:
        for text in wanted:
            requirement = Requirement(text)
            name = re.sub(r"[-_.]+", "-", requirement.name).lower()
            assert name in pins, f"{name} is not in the lock file"
            assert requirement.specifier.contains(pins[name][0], prereleases=True), (name, pins[name])
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--require-hashes --no-deps -r requirements-dev.lock" in makefile


def test_the_image_is_built_from_the_lock_file_on_a_pinned_base():
    import re

    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", dockerfile, re.M)
    assert base and re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", base[1])
    stages = re.findall(r"^FROM (\S+)", dockerfile, re.M)
    assert stages == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]  # multi-stage, one pinned base
    assert "pip install --require-hashes --no-deps -r requirements.lock" in dockerfile
    assert "--editable" not in dockerfile and " -e ." not in dockerfile
    assert "COPY --from=build /opt/rota /opt/rota" in dockerfile
    assert 'ENTRYPOINT ["docker-entrypoint.sh"]' in dockerfile
    entrypoint = (ROOT / "docker-entrypoint.sh").read_text(encoding="utf-8")
    assert "chown rota:rota" in entrypoint and "setpriv --reuid=rota" in entrypoint
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {"**/.env", "docs", "tests", "benchmarks", "var", ".git"} <= set(ignored)


def test_migrations_are_found_outside_the_source_tree(tmp_path):
    """The image installs rota into a venv (not editable) and puts the migrations beside it."""
    import os

    env = {**os.environ, "ROTA_MIGRATIONS_DIR": str(ROOT / "alembic"), "PYTHONPATH": str(ROOT)}
    code = "from scheduler.store import db; print(db.ALEMBIC_DIR, db.ALEMBIC_INI.exists())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                         cwd=tmp_path)
    assert out.stdout.split() == [str(ROOT / "alembic"), "True"]


def test_the_demo_scenario_is_found_outside_the_source_tree(tmp_path):
    """`rota admin demo` in the image: the installed package has no fixtures/ beside it; the scenario
    sits where ROTA_DEMO_FIXTURE says (the Dockerfile copies it there)."""
    import os
    import shutil

    fixture = tmp_path / "share" / "lockdown-community.json"
    fixture.parent.mkdir()
    shutil.copy(ROOT / "fixtures" / "lockdown-community.json", fixture)
    env = {**os.environ, "ROTA_DEMO_FIXTURE": str(fixture), "PYTHONPATH": str(ROOT)}
    code = "from scheduler.cli import service; print(service.DEMO_FIXTURE)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                         cwd=tmp_path)
    assert out.stdout.strip() == str(fixture)
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "ROTA_DEMO_FIXTURE=/opt/rota/share/rota/fixtures/lockdown-community.json" in dockerfile
    assert "COPY fixtures/lockdown-community.json /opt/rota/share/rota/fixtures/" in dockerfile
