"""Solve a problem: the entry point. Small problems are one CP-SAT model (:mod:`solver.search`), large
ones a neighbourhood search around CP-SAT (:mod:`solver.lns`); both start from a valid schedule."""

from __future__ import annotations

import dataclasses
import time

from solver import validate
from solver.greedy import greedy
from solver.lns import solve_large
from solver.options import Progress, SolveOptions, strong_lp_affordable
from solver.problem import Problem, Solution, Status, candidate_pairs
from solver.relaxation import LP_SHARE, BoundInBackground, with_bound
from solver.repair import rescored
from solver.search import solve_model
from solver.start import GREEDY_SHARE, stopped, valid_start

__all__ = ["candidate_pairs", "solve"]


def solve(problem: Problem, options: SolveOptions | None = None, *, skip: tuple[str, ...] = ()) -> Solution:
    """Find the best schedule within the time limit. Never raises for an over-demanding problem:
    uncovered demand is part of the answer.

    Problems up to ``options.direct_limit`` decision variables are solved as one CP-SAT model (see
    :func:`solve_model`); larger ones by large neighbourhood search around CP-SAT (``solver.lns``).
    """
    options = options or SolveOptions()
    started = time.monotonic()
    # one deadline for the whole call: greedy start, model building and search all count
    options = dataclasses.replace(options, deadline=options.deadline_from(started))
    # a proven bound beside the search (the relaxation counts every term as the checker does: only
    # the whole objective has one)
    bound = None
    if options.lp_bound and not skip:
        bound = BoundInBackground(problem, LP_SHARE * (options.deadline - started))
    if not skip and candidate_pairs(problem) > options.direct_limit:
        solution = solve_large(problem, options)
    else:
        options = _with_start(problem, options)
        if not skip and _polishes(problem, options):
            solution = _polished(problem, options)
        else:
            solution = solve_model(problem, options, skip=skip)
        if solution.status is Status.NO_SOLUTION and not skip and options.hint is not None:
            solution = _start_if_valid(problem, options.hint, solution)
        solution = _timed_from(solution, started)
    if bound is not None:
        # a search that ended early without proving its schedule optimal leaves the rest of the time
        # limit to the bound; a proven optimum needs none, a stopped call waits for nothing
        done = solution.status is Status.OPTIMAL or stopped(options)
        left = 0.0 if done else options.deadline - time.monotonic()
        solution = with_bound(solution, bound.result(timeout=left))
    return solution


def _polishes(problem: Problem, options: SolveOptions) -> bool:
    """Whether the whole model is searched for a share of the time, then improved by neighbourhoods
    (``SolveOptions.polish``): by default where the model is too large for the strong-LP worker."""
    if options.polish is not None:
        return options.polish
    if options.portfolio != "auto" or options.parameters or problem.reference or options.workers < 2:
        return False  # measured with two workers, the "auto" portfolio, and no previous schedule
    return not strong_lp_affordable(candidate_pairs(problem), options.time_limit, options.workers)


def _polished(problem: Problem, options: SolveOptions) -> Solution:
    """The whole model for ``polish_share`` of the time left, then neighbourhoods solved with the
    strong LP from its schedule (solver.lns) for the rest; the better schedule, the better bound."""
    began = time.monotonic()
    whole_until = began + options.polish_share * (options.deadline - began)
    report = options.on_progress
    found = [0]  # schedules the whole model reported

    def counted(progress: Progress) -> None:
        found[0] = max(found[0], progress.solutions)
        report(progress)

    first = solve_model(
        problem, dataclasses.replace(options, deadline=whole_until, on_progress=report and counted)
    )
    if not first.has_schedule or first.status is Status.OPTIMAL or stopped(options):
        return first
    offset = time.monotonic() - began

    def shifted(progress: Progress) -> None:  # the neighbourhoods' times and counts, from this call's
        report(dataclasses.replace(  # start and the whole model's
            progress, elapsed=progress.elapsed + offset, solutions=progress.solutions + found[0]
        ))

    hoods = dataclasses.replace(
        options,
        hint=tuple(first.assignments),
        hood_portfolio="max_lp",
        one_by_one=False,
        rolling_start=False,
        on_progress=None if report is None else shifted,
    )
    then = solve_large(problem, hoods)
    best = then if then.has_schedule and then.objective < first.objective else first
    polished = dataclasses.replace(
        best,
        best_bound=max(first.best_bound or 0, then.best_bound or 0),
        wall_time=time.monotonic() - began,
        first_solution_time=first.first_solution_time,
        stats={
            **then.stats,
            "method": "CP-SAT model, then neighbourhoods",
            "first_schedule": "whole model",
            "whole_model_seconds": round(offset, 3),
            "whole_model_objective": first.objective,
            "whole_model_portfolio": first.stats.get("portfolio", ""),
        },
    )
    return dataclasses.replace(polished, stats={**polished.stats, "gap": round(polished.gap, 4)})


def _timed_from(solution: Solution, started: float) -> Solution:
    """``solution`` with its times counted from the call's start (the greedy start included)."""
    ahead = time.monotonic() - started - solution.wall_time
    first = solution.first_solution_time
    return dataclasses.replace(
        solution,
        wall_time=time.monotonic() - started,
        first_solution_time=None if first is None else first + max(0.0, ahead),
    )


def _start_if_valid(problem: Problem, start, found: Solution) -> Solution:
    """When CP-SAT found nothing in time (a very short limit on a busy machine) but the start it was given
    breaks no rule, that start is the answer: a valid schedule beats none."""
    if validate.validate(problem, list(start)):
        return found
    base = dataclasses.replace(found, status=Status.FEASIBLE, assignments=tuple(sorted(start)))
    return dataclasses.replace(rescored(problem, base), stats={**found.stats, "answer": "valid start"})


def _with_start(problem: Problem, options: SolveOptions) -> SolveOptions:
    """``options`` with a greedy start made valid as the hint, when there is no hint and no reference."""
    if options.hint is not None or problem.reference or not options.greedy_start:
        return options
    began = time.monotonic()
    deadline = options.deadline_from(began)
    # the greedy pass stops early on a problem too large for the limit, leaving time to check its start
    first = greedy(problem, seed=options.seed, deadline=began + GREEDY_SHARE * (deadline - began))
    start, _ = valid_start(problem, first, options, deadline)
    # what scoring the answer will take (checker and terms), measured on the start: the search ends
    # that much earlier, so the answer comes back within the limit
    checked = time.monotonic()
    validate.validate(problem, start)
    validate.evaluate_terms(problem, start)
    scoring = time.monotonic() - checked
    return dataclasses.replace(options, hint=tuple(start), deadline=deadline - 2 * scoring)
