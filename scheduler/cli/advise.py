"""``rota advise``: whom to recruit so that the short slots of a scenario are staffed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from scheduler.cli.app import app, compile_or_fail, load_scenario


@app.command()
def advise(
    scenario_file: Annotated[Path, typer.Argument(help="Scenario JSON file")],
    days: Annotated[int | None, typer.Option(help="Plan this many days (overrides the file)", min=1)] = None,
    start: Annotated[
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First day (overrides the file)")
    ] = None,
    time_limit: Annotated[float, typer.Option(help="Seconds to search, all phases together", min=0.5)] = 20.0,
    workers: Annotated[int, typer.Option(help="CP-SAT worker threads", min=1)] = 2,
    seed: Annotated[int, typer.Option(help="Random seed")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the advice as JSON")] = False,
) -> None:
    """Staffing advice: how many more volunteers, with which skills and availability, close the gaps."""
    from scheduler.domain.advice import advice_text
    from scheduler.domain.advice import advise as advise_scenario

    scenario = load_scenario(scenario_file, start=start, days=days)
    compile_or_fail(scenario)  # a readable error for what cannot be planned
    advice = advise_scenario(scenario, time_limit=time_limit, seed=seed, workers=workers)
    if as_json:
        typer.echo(advice.model_dump_json(indent=2, by_alias=True))
    else:
        typer.echo(advice_text(advice))
