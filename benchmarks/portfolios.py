"""Worker portfolios compared on the Curtois & Qu instances (issue 15).

Each instance is solved once per configuration with the same time limit and 2 workers, one model
(``direct_limit`` of the Curtois benchmark), and every roster is scored by the independent evaluator:

* **default, coverage first**: CP-SAT's own portfolio (``portfolio="default"``), coverage settled
  first, then the whole objective (the Curtois benchmark's setting before issue 15);
* **max_lp, coverage first**: the strong-LP full worker (``portfolio="max_lp"``, i.e.
  ``extra_subsolvers=["max_lp"]``), same two phases;
* **max_lp, one phase**: the strong-LP worker on the whole objective at once.

Reported per run: objective (the evaluator's), proven bound, gap, best known, and whether the
evaluator agrees with the solver with zero violations. The table decides ``SolveOptions.portfolio``'s
``"auto"`` rule (``solver.options.MAX_LP_PAIRS``).

``python -m benchmarks.portfolios [--instances 1-12] [--time-limit 20] [--jsonl FILE]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

CONFIGS = {
    "default_cf": ("default, coverage first", {"portfolio": "default", "coverage_first": True}),
    "maxlp_cf": ("max_lp, coverage first", {"portfolio": "max_lp", "coverage_first": True}),
    "maxlp_one": ("max_lp, one phase", {"portfolio": "max_lp", "coverage_first": False}),
}
TIME_LIMIT = 20.0
WORKERS = 2
DIRECT_LIMIT = 20_000  # as the Curtois benchmark: instances 1-12 are one model
DATA = Path(os.environ.get("ROTA_CURTOIS_DIR", Path(__file__).resolve().parents[2] / "shared" / "benchmarks"
                           / "curtois"))


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run_one(number: int, config: str, time_limit: float, data_dir: Path) -> dict:
    from benchmarks.curtois import BEST_KNOWN, evaluate, parse_instance, roster_from_assignments, to_problem
    from solver.options import SolveOptions
    from solver.solve import candidate_pairs, solve

    instance = parse_instance(Path(data_dir) / f"Instance{number}.txt")
    problem = to_problem(instance)
    options = SolveOptions(time_limit=time_limit, workers=WORKERS, seed=0, direct_limit=DIRECT_LIMIT,
                           **CONFIGS[config][1])
    began = time.monotonic()
    solution = solve(problem, options)
    wall = time.monotonic() - began
    evaluation = evaluate(instance, roster_from_assignments(instance, solution.assignments)) \
        if solution.has_schedule else None
    return {
        "inst": number, "config": config, "pairs": candidate_pairs(problem), "status": solution.status.value,
        "objective": solution.objective, "evaluator": evaluation.objective if evaluation else None,
        "violations": len(evaluation.violations) if evaluation else None, "bound": solution.best_bound,
        "best_known": BEST_KNOWN.get(number), "wall": round(wall, 2),
    }


def run(numbers: Iterable[int], time_limit: float, data_dir: Path, configs: Sequence[str] = tuple(CONFIGS),
        echo: Callable[[str], None] = _stderr) -> list[dict]:
    rows = []
    for number in numbers:
        for config in configs:
            rows.append(run_one(number, config, time_limit, data_dir))
            echo(json.dumps(rows[-1]))
    return rows


def _gap(row: dict) -> str:
    if row["objective"] is None or row["bound"] is None or not row["objective"]:
        return "-"
    return f"{max(0.0, (row['objective'] - row['bound']) / row['objective']):.1%}"


def _cell(row: dict | None) -> str:
    if row is None or row["evaluator"] is None:
        return "- | - | -"
    ok = "" if row["violations"] == 0 and row["evaluator"] == row["objective"] else " (!)"
    mark = "**" if row["status"] == "optimal" else ""
    bound = "-" if row["bound"] is None else f"{row['bound']:,.0f}"
    return f"{mark}{row['evaluator']:,}{mark}{ok} | {bound} | {_gap(row)}"


def markdown(rows: Sequence[dict], time_limit: float) -> str:
    by = {(r["inst"], r["config"]): r for r in rows}
    numbers = sorted({r["inst"] for r in rows})
    configs = [c for c in CONFIGS if any(r["config"] == c for r in rows)]
    header = ["inst", "pairs", "best known"]
    for c in configs:
        header += [f"{CONFIGS[c][0]}: objective", "bound", "gap"]
    lines = [
        f"Each instance solved once per configuration, {time_limit:g} s, {WORKERS} workers, seed 0, as one "
        "CP-SAT model; objectives are the independent evaluator's (bold: proven optimal; (!) would mark "
        "a roster the evaluator disagrees with or finds a violation in: none). Gap = (objective - "
        "bound) / objective.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---:|" * len(header),
    ]
    for n in numbers:
        any_row = next(r for r in rows if r["inst"] == n)
        best = "-" if any_row["best_known"] is None else f"{any_row['best_known']:,}"
        cells = [str(n), f"{any_row.get('pairs', '-'):,}" if any_row.get("pairs") else "-", best]
        cells += [_cell(by.get((n, c))) for c in configs]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _numbers(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out += range(int(a), int(b or a) + 1)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.portfolios", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--instances", type=_numbers, default=list(range(1, 13)), help="e.g. 1-12 or 1,3,5")
    parser.add_argument("--time-limit", type=float, default=TIME_LIMIT)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--jsonl", type=Path, help="read the results from this file instead of running")
    args = parser.parse_args(argv)
    if args.jsonl:
        rows = [json.loads(line) for line in args.jsonl.read_text().splitlines() if line.strip()]
    else:
        rows = run(args.instances, args.time_limit, args.data)
    print(markdown(rows, args.time_limit))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
