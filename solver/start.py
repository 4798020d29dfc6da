"""A valid schedule to start from, when the greedy one breaks a rule that sets a minimum: each person it
leaves breaking their own rules is re-planned alone by a small CP-SAT model, everyone else's shifts kept."""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from collections.abc import Iterable

from solver import validate
from solver.options import SolveOptions
from solver.problem import Problem
from solver.search import solve_model

# at most this share of the time limit goes to the greedy start (checking and scoring a start cut short
# takes a few passes of the checker: measured up to 0.6 s on 400 x 28 under load)
GREEDY_SHARE = 0.6
FIRST_SCHEDULE_SHARE = 0.5  # at most this share of the time to find a valid start when greedy cannot
PERSON_TIME = 2.0  # seconds at most to re-plan one person the greedy start left breaking a rule


def valid_start(
    problem: Problem, start: list[tuple[str, str]], options: SolveOptions, deadline: float
) -> tuple[list[tuple[str, str]], list[validate.Violation]]:
    """``start``, with the people whose own rules it breaks (a minimum the greedy start cannot meet)
    re-planned alone, when every broken rule is one person's; and the violations still left."""
    broken = validate.validate(problem, start)
    if broken and all(v.person is not None for v in broken):
        start = repair_people(problem, start, {v.person for v in broken}, options, deadline)
        broken = validate.validate(problem, start)
    return start, broken


def repair_people(
    problem: Problem,
    current: list[tuple[str, str]],
    people: set[str],
    options: SolveOptions,
    deadline: float,
) -> list[tuple[str, str]]:
    """Re-plan each of ``people`` alone, everyone else's shifts kept: a one-person problem whose
    shifts want what the others leave. The hard rules that bind one person need nothing else, so
    each small model finds that person a valid schedule (best for the residual coverage). People
    left without one get a second turn with the rest of the budget."""

    current = list(current)
    pending = sorted(people)
    for _turn in range(2):
        budget = (deadline - time.monotonic()) * FIRST_SCHEDULE_SHARE
        per_person = max(0.2, min(PERSON_TIME, budget / max(1, len(pending))))
        failed = []
        for person_id in pending:
            if stopped(options) or time.monotonic() + per_person > deadline:
                return current
            others = [(p, s) for p, s in current if p != person_id]
            mine = [(p, s) for p, s in current if p == person_id]
            result = solve_model(
                _alone(problem, problem.person(person_id), others),
                sub_options(options, per_person, options.seed, mine),
            )
            if result.has_schedule:
                current = others + list(result.assignments)
            else:
                failed.append(person_id)
        if not failed:
            break
        pending = failed
    return current


def _alone(problem: Problem, person, others: list[tuple[str, str]]) -> Problem:
    """The problem of one person given everyone else's assignments (see :func:`residual`)."""
    return residual(problem, (person,), others)


def residual(problem: Problem, people, others: Iterable[tuple[str, str]]) -> Problem:
    """The problem of ``people`` given everyone else's assignments ``others``: each shift wants (and
    may take) only what the others leave. A shift worked in pairs that someone already works is no
    longer one (joining them makes a pair): who needs that rule kept puts its person in ``people``."""
    on: dict[str, list[str]] = defaultdict(list)
    for p, s in others:
        on[s].append(p)
    shifts = []
    for shift in problem.shifts:
        there = on.get(shift.id, [])
        if not there:
            shifts.append(shift)
            continue
        need = {
            k: n - sum(1 for p in there if k in problem.person(p).skills) for k, n in shift.skills.items()
        }
        shifts.append(dataclasses.replace(
            shift,
            required=max(0, shift.required - len(there)),
            max_staff=None if shift.max_staff is None else max(0, shift.max_staff - len(there)),
            skills={k: n for k, n in need.items() if n > 0},
            pair=False,  # someone is there already: joining them makes a pair
        ))
    ids = {person.id for person in people}
    return dataclasses.replace(
        problem,
        shifts=tuple(shifts),
        people=tuple(people),
        pinned=frozenset((p, s) for p, s in problem.pinned if p in ids),
        reference=frozenset((p, s) for p, s in problem.reference if p in ids),
    )


def sub_options(
    options: SolveOptions, time_limit: float, seed: int, hint: list[tuple[str, str]]
) -> SolveOptions:
    """Options for one small model inside the search: a single phase from the given hint (a
    coverage-first pass per neighbourhood measured worse), the caller's workers, stop and parameters."""
    return SolveOptions(
        time_limit=time_limit,
        workers=options.workers,
        seed=seed,
        hint=hint,
        coverage_first=False,
        greedy_start=False,
        stop=options.stop,
        parameters=options.parameters,
        portfolio=options.portfolio,
        deadline=options.deadline,  # never past the whole call's
    )


def stopped(options: SolveOptions) -> bool:
    return options.stop is not None and options.stop.is_set()
