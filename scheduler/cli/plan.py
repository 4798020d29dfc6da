"""``rota solve``, ``rota check``, ``rota schema`` and ``rota generate``: planning from a scenario file."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from scheduler.cli.app import (
    EXIT_NO_SCHEDULE,
    ProgressPrinter,
    app,
    compile_or_fail,
    fail,
    input_error,
    load_scenario,
)
from scheduler.domain.errors import InputError, load_model


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
    from scheduler.domain.planning import plan
    from scheduler.domain.report import summary_text

    scenario = load_scenario(scenario_file, start=start, days=days)
    compiled = compile_or_fail(scenario)
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
    from scheduler.domain.check import validate
    from scheduler.domain.schedule import Schedule

    try:
        schedule = load_model(Schedule, schedule_file)
    except InputError as exc:
        raise input_error(exc) from None
    from scheduler.domain.compile import ScenarioError

    scenario = load_scenario(scenario_file, days=schedule.days, start=_as_datetime(schedule.start))
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
    from scheduler.domain.scenario import json_schema

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
    residents: Annotated[int, typer.Option(help="Vulnerable residents (not yet matched)", min=0,
                                           max=5000)] = 0,
) -> None:
    """Generate a realistic scenario of any size."""
    from scheduler.domain.generate import dumps, scenario_json
    from scheduler.domain.generate import generate as make

    try:
        scenario = make(volunteers, days, seed, start=start.date() if start else None, timezone=timezone,
                        residents=residents)
    except ValueError as exc:
        raise fail(str(exc)) from None
    text = dumps(scenario_json(scenario)) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"Scenario written to {out}", err=True)


@app.command()
def match(
    scenario_file: Annotated[Path, typer.Argument(help="Scenario JSON file")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the matched scenario here")] = None,
    time_limit: Annotated[float, typer.Option(help="Seconds to search", min=0.1)] = 5.0,
    workers: Annotated[int, typer.Option(help="CP-SAT worker threads", min=1)] = 1,
) -> None:
    """Match every vulnerable resident to a primary and a distinct backup volunteer (continuity first) and
    print the residents who changed hands. Exit 1 if the independent checker finds a broken rule."""
    from scheduler.domain.generate import dumps, scenario_json
    from scheduler.domain.residents import match as match_residents

    scenario = load_scenario(scenario_file)
    result = match_residents(scenario, time_limit=time_limit, workers=workers)
    pairs = [(r.primary, r.backup) for r in result.scenario.residents]
    typer.echo(f"{len(pairs)} residents: {sum(p is None for p, _ in pairs)} without a primary, "
               f"{sum(b is None for _, b in pairs)} without a backup ({result.solution.status})")
    for c in result.changes:
        tell = ", ".join(f"{n.role} {n.name}" + (f" {n.phone}" if n.phone else "") for n in c.notify)
        typer.echo(f"  {c.name} ({c.resident}): {c.old_primary or '-'}/{c.old_backup or '-'} -> "
                   f"{c.primary or '-'}/{c.backup or '-'}: {c.reason}" + (f"; tell {tell}" if tell else ""))
    for v in result.violations:
        typer.echo(f"VIOLATION {v.rule}: {v.message}", err=True)
    if out is not None:
        out.write_text(dumps(scenario_json(result.scenario)) + "\n", encoding="utf-8")
        typer.echo(f"Scenario written to {out}", err=True)
    if result.violations:
        raise typer.Exit(1)
