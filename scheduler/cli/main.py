"""The ``rota`` command line: the app of :mod:`scheduler.cli.app` with every command module registered.

Planning from files (:mod:`~scheduler.cli.plan`), re-solving (:mod:`~scheduler.cli.replan`), the service
(:mod:`~scheduler.cli.service`) and, from a source checkout, the benchmarks (:mod:`~scheduler.cli.bench`).
"""

from __future__ import annotations

from scheduler.cli import advise, bench, plan, replan, service  # noqa: F401  (each registers its commands)
from scheduler.cli.app import app

__all__ = ["app", "main"]


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
