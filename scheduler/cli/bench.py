"""``rota bench ...``: the solver benchmarks, from a source checkout only.

The benchmark code lives in the top-level ``benchmarks/`` package, which is not installed with the
product (nor copied into the image). Run from a checkout (``pip install --editable .``), ``rota bench``
mounts its commands; anywhere else it says where they are.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import typer

from scheduler.cli.app import app, fail

#: The source checkout this package was installed from in editable mode (where ``benchmarks/`` lives).
CHECKOUT = Path(__file__).resolve().parents[2]


def load_bench_app() -> typer.Typer | None:
    """The ``benchmarks`` package's typer app, or None where there is no checkout beside the package."""
    if not (CHECKOUT / "benchmarks" / "__init__.py").is_file():
        return None
    if str(CHECKOUT) not in sys.path:
        sys.path.append(str(CHECKOUT))
    # imported by name: the product depends on the benchmarks only when they are there
    return importlib.import_module("benchmarks.cli").bench_app


bench_app = load_bench_app()
if bench_app is not None:
    app.add_typer(bench_app, name="bench")
else:

    @app.command("bench", hidden=True)
    def bench_missing() -> None:
        """Solver benchmarks (from a source checkout only)."""
        raise fail("the benchmarks run from a source checkout of rota: `make bench` there")
