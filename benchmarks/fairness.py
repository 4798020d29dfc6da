"""Fair hours (issue 13): the busiest volunteer's hours against the minimum possible, and the spread.

On generated sites (``scheduler.domain.generate.generate``) of two sizes, 60 volunteers x 14 days
(25 s a run) and 200 volunteers x 28 days (60 s a run), each seed is solved three times with the same
time limit:

* **capacity**: rota with ``load_measure = capacity`` (the load per mille of each volunteer's
  declared capacity, the default before issue 13);
* **hours**: rota as it is now (``load_measure = hours``, the default);
* **min-max**: the same hard rules with every weight zeroed except coverage and ``load_max`` (the
  busiest volunteer's weighted hours alone), solved the same way (``solver.solve``). The direct
  CP-SAT model of these sites (about 11,000 pairs) finds no useful bound within the time limit, so
  the table gives a simple valid lower bound instead: the busiest carries at least the mean weighted
  load of everyone who may work (the weighted work of the covered slots is the same whoever does it)
  and at least the heaviest history.

Every schedule is scored by the independent checker on the *hours* measure: the busiest volunteer's
intensity-weighted hours (history included, the quantity ``load_max`` minimises), their plain hours
in the horizon, the spread of the weighted hours, and the uncovered demand.

``python -m benchmarks.fairness [--seeds 1-3] [--volunteers 60] [--days 14] [--time-limit 25]`` (one
size), or ``python -m benchmarks.bench --only fairness`` (both sizes).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from scheduler.domain.compile import compile_scenario
from scheduler.domain.generate import generate
from solver.load import MINUTES_PER_UNIT, balanced, history_load, load_share
from solver.options import SolveOptions
from solver.problem import LoadMeasure, Problem, Weights
from solver.solve import solve
from solver.validate import evaluate_terms, validate

SEEDS = (1, 2, 3)
VOLUNTEERS = 60
DAYS = 14
TIME_LIMIT = 25.0
#: The sites of ``make bench``: (volunteers, days, seconds a run).
SIZES = ((60, 14, 25.0), (200, 28, 60.0))
WORKERS = 2
MODES = ("capacity", "hours", "min-max")
UNITS_PER_HOUR = 60 // MINUTES_PER_UNIT


@dataclass(frozen=True)
class FairnessResult:
    seed: int
    volunteers: int
    days: int
    mode: str  # one of MODES
    status: str
    seconds: float
    uncovered: int  # people missing from slots
    skill_shortfall: int
    busiest_weighted: float  # hours: intensity-weighted, history included (what load_max measures)
    busiest_hours: float  # plain hours in the horizon of the volunteer with the most of them
    mean_hours: float  # plain hours in the horizon, mean over volunteers who may work at all
    spread_weighted: float  # busiest minus least loaded, weighted hours
    violations: int
    bound_weighted: float | None = None  # min-max only: the proven lower bound on busiest_weighted


def min_max_problem(problem: Problem) -> Problem:
    """The same problem with only coverage and the busiest volunteer's hours in the objective."""
    zero = {f.name: 0 for f in dataclasses.fields(Weights) if not f.name.endswith("_percent")}
    w = problem.weights
    weights = dataclasses.replace(
        w, **{**zero, "uncovered": w.uncovered, "skill_shortfall": w.skill_shortfall, "load_max": 1}
    )
    return dataclasses.replace(problem, weights=weights, load_measure=LoadMeasure.HOURS)


def lower_bound(problem: Problem, assignments) -> float:
    """A lower bound on the busiest volunteer's weighted load (load units) over every schedule that
    covers the same slots: the busiest carries at least the mean load of everyone who takes part (the
    intensity-weighted work of the covered slots is the same whoever does it), and at least the
    heaviest history."""
    hours_problem = dataclasses.replace(problem, load_measure=LoadMeasure.HOURS)
    pool = [
        p for p in problem.people
        if balanced(hours_problem, p) and any(p.may_work(s.id) for s in problem.shifts)
    ]
    if not pool:
        return 0.0
    history = [history_load(hours_problem, p) for p in pool]
    work = sum(load_share(hours_problem, pool[0], problem.shift(sid)) for _, sid in assignments)
    return max(max(history), (sum(history) + work) / len(pool))


def score(problem: Problem, assignments, *, seed: int, volunteers: int, days: int, mode: str, status: str,
          seconds: float, bound: float | None = None) -> FairnessResult:
    """Score a schedule of ``problem`` on the hours measure with the independent checker."""
    hours_problem = dataclasses.replace(problem, load_measure=LoadMeasure.HOURS)
    terms = evaluate_terms(hours_problem, assignments)
    minutes: dict[str, int] = {p.id: 0 for p in problem.people}
    for person_id, shift_id in assignments:
        minutes[person_id] += problem.shift(shift_id).minutes
    pool = [
        p.id for p in problem.people
        if balanced(hours_problem, p) and any(p.may_work(s.id) for s in problem.shifts)
    ]
    return FairnessResult(
        seed=seed, volunteers=volunteers, days=days, mode=mode, status=status, seconds=round(seconds, 1),
        uncovered=terms["uncovered"], skill_shortfall=terms["skill_shortfall"],
        busiest_weighted=terms["load_max"] / UNITS_PER_HOUR,
        busiest_hours=max(minutes.values(), default=0) / 60,
        mean_hours=statistics.fmean(minutes[p] for p in pool) / 60 if pool else 0.0,
        spread_weighted=terms["load_spread"] / UNITS_PER_HOUR,
        violations=len(validate(problem, assignments)),
        bound_weighted=bound,
    )


def run_sizes(sizes: Sequence[tuple[int, int, float]] = SIZES, seeds: Sequence[int] = SEEDS,
              echo: Callable[[str], None] = print) -> list[FairnessResult]:
    """:func:`run` for each (volunteers, days, seconds) of ``sizes``."""
    return [r for v, d, t in sizes for r in run(seeds, v, d, t, echo)]


def run(seeds: Sequence[int] = SEEDS, volunteers: int = VOLUNTEERS, days: int = DAYS,
        time_limit: float = TIME_LIMIT, echo: Callable[[str], None] = print) -> list[FairnessResult]:
    results = []
    for seed in seeds:
        problem = compile_scenario(generate(volunteers, days, seed)).problem
        options = SolveOptions(time_limit=time_limit, workers=WORKERS, seed=0)
        for mode in MODES:
            started = time.monotonic()
            bound = None
            if mode == "min-max":
                target = min_max_problem(problem)
                solution = solve(target, options)
                if solution.has_schedule:
                    bound = lower_bound(problem, solution.assignments) / UNITS_PER_HOUR
            else:
                target = dataclasses.replace(problem, load_measure=LoadMeasure(mode))
                solution = solve(target, options)
            seconds = time.monotonic() - started
            if not solution.has_schedule:
                echo(f"seed {seed} {mode}: {solution.status.value}")
                continue
            r = score(problem, solution.assignments, seed=seed, volunteers=volunteers, days=days, mode=mode,
                      status=solution.status.value, seconds=seconds, bound=bound)
            results.append(r)
            echo(f"{volunteers} x {days}d seed {seed} {mode:>8}: busiest {r.busiest_weighted:.1f} weighted h "
                 f"({r.busiest_hours:.1f} h, mean {r.mean_hours:.1f} h), spread {r.spread_weighted:.1f}, "
                 f"uncovered {r.uncovered}+{r.skill_shortfall}, {r.violations} violations, {r.seconds:.0f} s")
    return results


def markdown(results: Sequence[FairnessResult], seconds: dict[tuple[int, int], float]) -> str:
    """The table of the benchmark document, with the busiest against the min-max model of each seed;
    ``seconds`` is the time limit of a run per (volunteers, days)."""
    best = {(r.volunteers, r.days, r.seed): r for r in results if r.mode == "min-max"}
    limits = ", ".join(f"{v} x {d} days {t:g} s" for (v, d), t in seconds.items())
    lines = [
        f"Each seed solved three times with the same limit ({limits}), {WORKERS} workers: "
        "`capacity` = rota with `load_measure: capacity` (the default before issue 13), "
        "`hours` = rota now (the default), "
        "`min-max` = the same hard rules with only coverage and `load_max` weighted, solved the same way; "
        "its `bound` is a valid lower bound on the busiest volunteer's weighted hours for that coverage "
        "(the mean weighted load of everyone who may work, or the heaviest history). All scored by "
        "the independent checker: weighted hours are intensity-weighted, history included (what `load_max` "
        "measures); plain hours are the horizon's.",
        "",
        "| site | seed | run | busiest, weighted h | vs min-max | busiest, plain h | mean, plain h "
        "| busiest / mean | spread, weighted h | uncovered (+skills) | violations |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        ref = best.get((r.volunteers, r.days, r.seed))
        vs = f"{r.busiest_weighted / ref.busiest_weighted:.3f}" if ref and ref.busiest_weighted else "-"
        if r.mode == "min-max" and r.bound_weighted is not None:
            vs = f"bound {r.bound_weighted:.1f}"
        ratio = f"{r.busiest_hours / r.mean_hours:.2f}" if r.mean_hours else "-"
        lines.append(
            f"| {r.volunteers} x {r.days}d | {r.seed} | {r.mode} | {r.busiest_weighted:.1f} | {vs} | "
            f"{r.busiest_hours:.1f} | "
            f"{r.mean_hours:.1f} | {ratio} | {r.spread_weighted:.1f} | {r.uncovered} (+{r.skill_shortfall}) "
            f"| {r.violations} |"
        )
    return "\n".join(lines) + "\n"


def _seeds(text: str) -> list[int]:
    if "-" in text:
        a, b = text.split("-", 1)
        return list(range(int(a), int(b) + 1))
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.fairness", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--seeds", type=_seeds, default=list(SEEDS))
    parser.add_argument("--volunteers", type=int, default=VOLUNTEERS)
    parser.add_argument("--days", type=int, default=DAYS)
    parser.add_argument("--time-limit", type=float, default=TIME_LIMIT)
    args = parser.parse_args(argv)
    results = run(args.seeds, args.volunteers, args.days, args.time_limit)
    print(markdown(results, {(args.volunteers, args.days): args.time_limit}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
