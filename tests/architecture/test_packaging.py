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
