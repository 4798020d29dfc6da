"""``rota bench ...``: the benchmark commands, a typer app that :mod:`scheduler.cli.bench` mounts on ``rota``
when it runs from a source checkout."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from benchmarks import bench
from scheduler.cli.app import command_group

bench_app = command_group("bench", "Solver benchmarks; results go to docs/BENCHMARKS.md.")


@bench_app.callback()
def _bench() -> None:
    """Solver benchmarks; results go to docs/BENCHMARKS.md (see also `python -m benchmarks.bench`)."""


@bench_app.command("curtois")
def curtois(
    instances: Annotated[
        str, typer.Option(help="Instances to solve: a range, a list or both, e.g. 1-12, 1,3,5, 13-19,24")
    ] = "1-12",
    time_limit: Annotated[
        float | None,
        typer.Option(help="Seconds per instance (default: 60 for 1-12, 600 for 13-24)", min=0.1,
                     show_default=False),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Directory for the InstanceN.csv rosters")
    ] = bench.ROSTERS,
    doc: Annotated[
        Path, typer.Option(help="Benchmark document whose curtois section is updated")
    ] = bench.DOC,
    data: Annotated[
        Path, typer.Option(help="Directory of Instance1.txt .. Instance24.txt", envvar="ROTA_CURTOIS_DIR")
    ] = bench.CURTOIS_DATA,
) -> None:
    """Solve Curtois & Qu instances and update the curtois section of the benchmark document.

    Every roster is checked by the independent evaluator and written as OUT/InstanceN.csv."""
    try:
        numbers = bench.parse_instances(instances)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--instances'") from None
    if out.exists() and not out.is_dir():
        raise typer.BadParameter(f"{out} exists and is not a directory", param_hint="'--out'")
    if doc.exists() and doc.is_dir():
        raise typer.BadParameter(f"{doc} is a directory", param_hint="'--doc'")
    missing = [n for n in numbers if not (data / f"Instance{n}.txt").is_file()]
    if missing:
        raise typer.BadParameter(
            f"{data} has no Instance{missing[0]}.txt (pass the benchmark directory or set ROTA_CURTOIS_DIR)",
            param_hint="'--data'",
        )
    limits = "60 s for 1-12, 600 s for 13-24" if time_limit is None else f"{time_limit:g} s each"
    typer.echo(
        f"Curtois & Qu instances {bench.ranges_text(numbers)} ({limits}, {bench.WORKERS} workers)", err=True
    )
    command = f"rota bench curtois --instances {instances}" + (
        f" --time-limit {time_limit:g}" if time_limit is not None else ""
    )
    try:
        results = bench.run_curtois(
            numbers, doc, command, out_dir=out, data_dir=data, time_limit=time_limit, echo=typer.echo
        )
    except ValueError as exc:  # e.g. broken section markers in the document
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"Rosters in {out}; results in {doc} (curtois section)")
    bad = [r.instance for r in results if r.objective is not None and not r.consistent]
    if bad:
        typer.echo(
            f"error: the evaluator finds violations or disagrees with the solver on instances "
            f"{bench.ranges_text(bad)}",
            err=True,
        )
        raise typer.Exit(1)
