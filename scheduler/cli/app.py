"""The ``rota`` application and what its commands share: failing with a message, input errors, loading
a scenario, progress lines. Command modules register on :data:`app`; :mod:`scheduler.cli.main` imports
them all."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import typer

from scheduler.domain.errors import InputError, load_model


def command_group(name: str, help: str) -> typer.Typer:
    """A typer app as every ``rota`` command group is: help when called bare, no shell completion, plain
    errors (never a rich traceback)."""
    return typer.Typer(
        name=name, help=help, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False
    )


app = command_group("rota", "Burnout-aware volunteer shift scheduler.")

EXIT_BAD_INPUT = 2
EXIT_NO_SCHEDULE = 1


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def input_error(exc: InputError) -> typer.Exit:
    lines = [f"{exc.source} is not valid:"] + [f"  - {p}" for p in exc.problems]
    return fail("\n".join(lines))


def load_scenario(path: Path, *, start: dt.datetime | None = None, days: int | None = None):
    from scheduler.domain.scenario import OLD_DATA, Scenario

    try:
        scenario = load_model(Scenario, path, OLD_DATA)
    except InputError as exc:
        raise input_error(exc) from None
    if start is not None or days is not None:
        data = scenario.model_dump(by_alias=True)
        if start is not None:
            data["horizon"]["start"] = start.date()
        if days is not None:
            data["horizon"]["days"] = days
        try:
            from scheduler.domain.errors import parse_model

            scenario = parse_model(Scenario, data, f"{path} with --start/--days")
        except InputError as exc:
            raise input_error(exc) from None
    return scenario


def compile_or_fail(scenario):
    from scheduler.domain.compile import ScenarioError, compile_scenario

    try:
        return compile_scenario(scenario)
    except ScenarioError as exc:
        raise fail(
            "the scenario cannot be planned:\n" + "\n".join(f"  - {p}" for p in exc.problems)
        ) from None


class ProgressPrinter:
    """One line per improving schedule (and at most one bound update a second) on stderr."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.last_print = 0.0
        self.last_solutions = -1

    def __call__(self, progress) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        improved = progress.solutions != self.last_solutions
        if not improved and now - self.last_print < 1.0:
            return
        self.last_print, self.last_solutions = now, progress.solutions
        objective = "-" if progress.objective is None else f"{progress.objective:,.0f}"
        bound = "-" if progress.bound is None else f"{progress.bound:,.0f}"
        gap = ""
        if progress.objective and progress.bound is not None:
            gap = f"  gap {max(0.0, (progress.objective - progress.bound) / abs(progress.objective)):.1%}"
        phase = f"  [{progress.phase}]" if getattr(progress, "phase", "") else ""
        typer.echo(
            f"  {progress.elapsed:6.1f}s  schedules {progress.solutions:3d}  objective {objective:>14}"
            f"  bound {bound:>14}{gap}{phase}",
            err=True,
        )
