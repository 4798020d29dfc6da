"""The ``rota`` command line."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from scheduler.errors import InputError, load_model

app = typer.Typer(
    name="rota",
    help="Burnout-aware volunteer shift scheduler.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_BAD_INPUT = 2
EXIT_NO_SCHEDULE = 1


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _input_error(exc: InputError) -> typer.Exit:
    lines = [f"{exc.source} is not valid:"] + [f"  - {p}" for p in exc.problems]
    return fail("\n".join(lines))


def _load_scenario(path: Path, *, start: dt.datetime | None = None, days: int | None = None):
    from scheduler.scenario import Scenario

    try:
        scenario = load_model(Scenario, path)
    except InputError as exc:
        raise _input_error(exc) from None
    if start is not None or days is not None:
        data = scenario.model_dump(by_alias=True)
        if start is not None:
            data["horizon"]["start"] = start.date()
        if days is not None:
            data["horizon"]["days"] = days
        try:
            from scheduler.errors import parse_model

            scenario = parse_model(Scenario, data, f"{path} with --start/--days")
        except InputError as exc:
            raise _input_error(exc) from None
    return scenario


def _compile(scenario):
    from scheduler.compile import ScenarioError, compile_scenario

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


@app.command()
def solve(
    scenario_file: Annotated[Path, typer.Argument(help="Scenario JSON file")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the schedule JSON here")] = None,
    days: Annotated[int | None, typer.Option(help="Plan this many days (overrides the file)", min=1)] = None,
    start: Annotated[
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First day (overrides the file)")
    ] = None,
    time_limit: Annotated[float, typer.Option(help="Seconds to search", min=0.1)] = 30.0,
    workers: Annotated[int, typer.Option(help="CP-SAT worker threads", min=1)] = 2,
    seed: Annotated[int, typer.Option(help="Random seed")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines")] = False,
) -> None:
    """Plan a rotating schedule and print a readable summary."""
    from scheduler.planning import plan
    from scheduler.report import summary_text

    scenario = _load_scenario(scenario_file, start=start, days=days)
    compiled = _compile(scenario)
    problem = compiled.problem
    if not quiet:
        typer.echo(
            f"Planning {scenario.site.name}: {len(problem.people)} volunteers, {len(problem.shifts)} shifts "
            f"over {problem.days} days from {scenario.horizon.start} (time limit {time_limit:g}s, "
            f"{workers} workers)",
            err=True,
        )
    schedule = plan(
        compiled, time_limit=time_limit, workers=workers, seed=seed, on_progress=ProgressPrinter(quiet)
    )
    if out is not None:
        out.write_text(schedule.model_dump_json(indent=2) + "\n", encoding="utf-8")
    typer.echo(summary_text(schedule))
    if out is not None:
        typer.echo(f"\nSchedule written to {out}")
    if not schedule.assignments and schedule.status not in ("optimal", "feasible"):
        raise typer.Exit(EXIT_NO_SCHEDULE)


@app.command()
def check(
    scenario_file: Annotated[Path, typer.Argument(help="Scenario JSON file")],
    schedule_file: Annotated[Path, typer.Argument(help="Schedule JSON file from 'rota solve'")],
) -> None:
    """Validate a schedule against its scenario, independently of the solver. Exit 1 on any violation."""
    from scheduler.check import validate
    from scheduler.schedule import Schedule

    try:
        schedule = load_model(Schedule, schedule_file)
    except InputError as exc:
        raise _input_error(exc) from None
    from scheduler.compile import ScenarioError

    scenario = _load_scenario(scenario_file, days=schedule.days, start=_as_datetime(schedule.start))
    try:
        violations = validate(scenario, schedule)
    except ScenarioError as exc:
        raise fail(
            "the scenario cannot be planned:\n" + "\n".join(f"  - {p}" for p in exc.problems)
        ) from None
    if not violations:
        typer.echo(
            f"OK: {len(schedule.assignments)} assignments, {len(schedule.uncovered)} uncovered slots listed; "
            "no rule is broken."
        )
        return
    typer.echo(f"{len(violations)} violation(s):")
    for v in violations:
        typer.echo(f"  - [{v.rule}] {v.message}")
    raise typer.Exit(1)


def _as_datetime(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


@app.command()
def schema() -> None:
    """Print the JSON Schema of the scenario format."""
    from scheduler.scenario import json_schema

    typer.echo(json.dumps(json_schema(), indent=2))


@app.command()
def generate(
    volunteers: Annotated[int, typer.Option(help="Number of volunteers", min=1, max=5000)] = 70,
    days: Annotated[int, typer.Option(help="Days to plan", min=1, max=366)] = 14,
    seed: Annotated[int, typer.Option(help="Random seed")] = 0,
    start: Annotated[
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First day of the horizon")
    ] = None,
    timezone: Annotated[str, typer.Option(help="IANA time zone")] = "Asia/Shanghai",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here instead of stdout")] = None,
) -> None:
    """Generate a realistic scenario of any size."""
    from scheduler.generate import dumps, scenario_json
    from scheduler.generate import generate as make

    try:
        scenario = make(volunteers, days, seed, start=start.date() if start else None, timezone=timezone)
    except ValueError as exc:
        raise fail(str(exc)) from None
    text = dumps(scenario_json(scenario)) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"Scenario written to {out}", err=True)


# each registers its commands on `app`: bench; resolve; serve, worker, db, admin
from scheduler import cli_bench, cli_resolve, cli_service  # noqa: E402,F401


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    # run as `python -m scheduler.cli`: use the module the command modules registered on
    from scheduler.cli import main as registered_main

    registered_main()
