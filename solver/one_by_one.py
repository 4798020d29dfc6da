"""A valid first schedule for a large problem whose hard rules all bind one person: people planned one
at a time (Curtois 20-24).

Where the cover is soft and no hard rule ties two people together (no headcount cap, no shift worked
in pairs, no previous schedule to keep), any set of individually valid rosters is a valid schedule. So
each person in turn gets a small CP-SAT model of their own: only the shifts they may work, their own
rules, and an objective that wants what the people before them left (each shift's residual cover,
skills included, and the person's own wishes). A person whose model finds nothing within its time
slice gets the same model without the objective, which only has to meet their rules. The
neighbourhood search improves the result afterwards; the caller checks it with ``solver.validate``.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter

from solver import person_roster, validate
from solver.objectives import SOFT_TERMS
from solver.options import SolveOptions
from solver.problem import Person, Problem
from solver.search import solve_model
from solver.start import stopped, sub_options

PERSON_TIME = 2.0  # seconds at most for one person's model with the residual cover
MIN_PERSON_TIME = 0.2  # seconds at least (the rules-only fallback usually needs far less)
RULES_ONLY_TIME = 2.0  # seconds at most for the rules-only fallback of one person
# terms that compare people with each other: meaningless for one person alone (the neighbourhood
# search weighs them afterwards)
_ACROSS_PEOPLE = ("load_max", "load_spread", "nights_spread", "weekends_spread", "heavy_spread", "partners")
# days of horizon from which a large problem (one the neighbourhood search solves) is planned one
# person at a time when no option says otherwise (see ``chosen``): on Curtois 13-19 (28-84 days) the
# greedy start and its per-person repair give a valid schedule in seconds, on 20-24 (182 and 364 days)
# late or never (docs/BENCHMARKS.md)
AUTO_DAYS = 120


def per_person(problem: Problem) -> bool:
    """Does every hard rule bind a single person? Not where a shift has a headcount cap or is worked in
    pairs (rules across people), nor when re-solving (shifts before the cut-off keep their people)."""
    if problem.reference or problem.freeze_before is not None:
        return False
    return all(s.max_staff is None and not s.pair for s in problem.shifts)


def chosen(problem: Problem, options: SolveOptions) -> bool:
    """Is the first schedule of the neighbourhood search planned one person at a time?
    ``options.one_by_one`` True or False decides (True still needs rules that bind one person each);
    None: over a horizon of at least ``AUTO_DAYS`` days, where the rules set minimums the greedy start
    cannot meet."""
    if options.hint is not None or not per_person(problem):
        return False
    if options.one_by_one is not None:
        return options.one_by_one
    return problem.days >= AUTO_DAYS and sets_minimums(problem)


def sets_minimums(problem: Problem) -> bool:
    """Does anyone's rules ask for a minimum the greedy start cannot plan for (blocks of days, hours
    over the horizon)?"""
    return any(
        (p.rules.min_consecutive_days or 0) > 1 or (p.rules.min_consecutive_days_off or 0) > 1
        or p.rules.min_total_minutes for p in problem.people
    )


def plan_one_by_one(
    problem: Problem, options: SolveOptions, until: float
) -> tuple[list[tuple[str, str]], list[str]]:
    """Everyone's shifts, planned one person at a time by ``until`` (``time.monotonic()``), and the
    people left without a valid roster of their own (out of time, or rules that contradict each other:
    the caller's to repair)."""
    taken: Counter[str] = Counter()  # people already on each shift
    skilled: Counter[tuple[str, str]] = Counter()  # (shift, skill): people with it already on the shift
    schedule: list[tuple[str, str]] = []
    failed: list[str] = []
    order = _order(problem)
    for done, person in enumerate(order):
        if stopped(options) or time.monotonic() >= until:
            failed.extend(p.id for p in order[done:])
            break
        share = (until - time.monotonic()) / (len(order) - done)
        alone = _alone(problem, person, taken, skilled)
        budget = max(MIN_PERSON_TIME, min(PERSON_TIME, share))
        mine = _by_path(alone, budget, options.seed + done, polish=False)  # fast: a valid schedule first
        if mine is None:
            mine = _plan(alone, options, budget, options.seed + done, until)
        if mine is None:
            failed.append(person.id)
            continue
        schedule.extend(mine)
        for _, shift_id in mine:
            taken[shift_id] += 1
            for skill in person.skills:
                skilled[shift_id, skill] += 1
    return schedule, failed


def replan(
    problem: Problem, schedule: list[tuple[str, str]], options: SolveOptions, until: float
) -> tuple[list[tuple[str, str]], int]:
    """``schedule`` improved by planning each person again by the path, everyone else's shifts kept,
    where the new roster is worth more to the objective than the old one (given the others, a person's
    part of the cover and their wishes is exactly what the path values); passes over everyone until
    one changes nobody or ``until``. Returns the schedule and how many rosters changed."""
    mine: dict[str, list[str]] = {p.id: [] for p in problem.people}
    for person_id, shift_id in schedule:
        mine[person_id].append(shift_id)
    taken: Counter[str] = Counter(s for _, s in schedule)
    skilled: Counter[tuple[str, str]] = Counter()
    for person in problem.people:
        for shift_id in mine[person.id]:
            for skill in person.skills:
                skilled[shift_id, skill] += 1
    changed = 0
    order = _order(problem)
    for turn in range(100):
        before = changed
        for done, person in enumerate(order):
            if stopped(options) or time.monotonic() >= until:
                return _flat(mine), changed
            _count(taken, skilled, person, mine[person.id], -1)
            alone = _alone(problem, person, taken, skilled)
            gains = _gains(alone, alone.people[0])
            new = _by_path(alone, PERSON_TIME, options.seed + turn * len(order) + done, gains)
            old = sum(gains.get(s, 0) for s in mine[person.id])
            if new is not None and sum(gains[s] for _, s in new) > old:
                mine[person.id] = [s for _, s in new]
                changed += 1
            _count(taken, skilled, person, mine[person.id], 1)
        if changed == before:
            break
    return _flat(mine), changed


def _count(taken: Counter[str], skilled: Counter[tuple[str, str]], person: Person, shifts, sign: int) -> None:
    for shift_id in shifts:
        taken[shift_id] += sign
        for skill in person.skills:
            skilled[shift_id, skill] += sign


def _flat(mine: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(p, s) for p, shifts in mine.items() for s in shifts]


def _order(problem: Problem) -> list[Person]:
    """The people with the fewest shifts open to them first (their rosters are the hardest to fit to
    what is left); ties in the problem's order."""
    return sorted(problem.people, key=lambda p: len(problem.shifts) - len(p.unavailable))


def _by_path(
    alone: Problem, budget: float, seed: int, gains: dict[str, int] | None = None, polish: bool = True
) -> list[tuple[str, str]] | None:
    """The person's roster by a path through the days (solver.person_roster), where it knows their
    rules and what it finds breaks none of them."""
    person = alone.people[0]
    if not person_roster.supported(alone, person):
        return None
    gains = _gains(alone, person) if gains is None else gains
    mine = person_roster.plan(alone, person, gains, budget, seed, polish=polish)
    if mine is None:  # no shifts fit the days the cover asked for: any valid roster (no gains) instead
        mine = person_roster.plan(alone, person, {}, budget, seed)
    if mine is None or validate.validate(alone, mine):
        return None
    return mine


def _gains(alone: Problem, person: Person) -> dict[str, int]:
    """What working each shift is worth to the objective: a place still open (or a skill still
    missing) gained, one beyond the cover paid for, the person's wishes."""
    w = alone.weights
    gains = {}
    for shift in alone.shifts:
        value = w.uncovered * shift.under_weight if shift.required > 0 else -w.overstaffed * shift.over_weight
        value += w.skill_shortfall * sum(1 for k in shift.skills if k in person.skills)
        value += w.preference * (person.wants.get(shift.id, 0) - person.avoids.get(shift.id, 0))
        gains[shift.id] = value
    return gains


def _plan(
    alone: Problem, options: SolveOptions, budget: float, seed: int, until: float
) -> list[tuple[str, str]] | None:
    """One person's shifts: the best for the residual cover found within ``budget``, else any that meets
    their rules (the model without its objective), else None."""
    person_options = dataclasses.replace(
        sub_options(options, budget, seed, []), hint=None, deadline=min(until, options.deadline or until)
    )
    result = solve_model(alone, person_options)
    if result.has_schedule:
        return list(result.assignments)
    if not stopped(options) and result.status.value != "infeasible":
        rules_only = dataclasses.replace(
            person_options,
            time_limit=RULES_ONLY_TIME,
            parameters={**person_options.parameters, "stop_after_first_solution": True},
            deadline=options.deadline,  # the fallback may use the whole call's time
        )
        result = solve_model(alone, rules_only, skip=tuple(SOFT_TERMS))
        if result.has_schedule:
            return list(result.assignments)
    return None


def _alone(
    problem: Problem, person: Person, taken: Counter[str], skilled: Counter[tuple[str, str]]
) -> Problem:
    """The one-person problem of ``person``: only the shifts they may work (or are pinned to), each
    wanting what the people planned before left of its cover."""
    pinned = {s for p, s in problem.pinned if p == person.id}
    banned = {t for t, n in person.rules.max_shifts_by_type.items() if n <= 0}
    shifts = []
    for shift in problem.shifts:
        if shift.id not in pinned and (not person.may_work(shift.id) or shift.type in banned):
            continue
        there = taken.get(shift.id, 0)
        if there:
            need = {k: n - skilled.get((shift.id, k), 0) for k, n in shift.skills.items()}
            skills = {k: n for k, n in need.items() if n > 0}
            shift = dataclasses.replace(shift, required=max(0, shift.required - there), skills=skills)
        shifts.append(shift)
    kept = {s.id for s in shifts}
    weights = dataclasses.replace(problem.weights, **dict.fromkeys(_ACROSS_PEOPLE, 0))
    return dataclasses.replace(
        problem,
        shifts=tuple(shifts),
        people=(dataclasses.replace(
            person,
            unavailable={s: why for s, why in person.unavailable.items() if s in kept},
            wants={s: w for s, w in person.wants.items() if s in kept},
            avoids={s: w for s, w in person.avoids.items() if s in kept},
        ),),
        pinned=frozenset((person.id, s) for s in pinned),
        weights=weights,
        name=f"{problem.name}: {person.id} alone",
    )
