"""Solve a problem: the entry point. Small problems are one CP-SAT model (:mod:`solver.search`), large
ones a neighbourhood search around CP-SAT (:mod:`solver.lns`); both start from a valid schedule."""

from __future__ import annotations

import dataclasses
import time

from solver import validate
from solver.greedy import greedy
from solver.lns import solve_large
from solver.options import SolveOptions
from solver.problem import Problem, Solution, Status
from solver.repair import rescored
from solver.search import solve_model
from solver.start import valid_start


def solve(problem: Problem, options: SolveOptions | None = None, *, skip: tuple[str, ...] = ()) -> Solution:
    """Find the best schedule within the time limit. Never raises for an over-demanding problem:
    uncovered demand is part of the answer.

    Problems up to ``options.direct_limit`` decision variables are solved as one CP-SAT model (see
    :func:`solve_model`); larger ones by large neighbourhood search around CP-SAT (``solver.lns``).
    """
    options = options or SolveOptions()
    if not skip and candidate_pairs(problem) > options.direct_limit:
        return solve_large(problem, options)
    options = _with_start(problem, options)
    solution = solve_model(problem, options, skip=skip)
    if solution.status is Status.NO_SOLUTION and not skip and options.hint is not None:
        return _start_if_valid(problem, options.hint, solution)
    return solution


def candidate_pairs(problem: Problem) -> int:
    """How many (person, shift) decision variables the whole model would have."""
    return sum(len(problem.shifts) - len(p.unavailable) for p in problem.people)


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
    deadline = time.monotonic() + options.time_limit
    start, _ = valid_start(problem, greedy(problem, seed=options.seed), options, deadline)
    return dataclasses.replace(options, hint=tuple(start))
