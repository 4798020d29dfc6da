"""Build the CP-SAT model of a problem: the decision variables, then every hard rule of
:data:`solver.rules.HARD_RULES` and every soft term of :data:`solver.objectives.SOFT_TERMS`."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping

from ortools.sat.python import cp_model

from solver import objectives, rules
from solver.model import Model, forced_pairs
from solver.options import OutOfTime, past
from solver.problem import Problem


def build(
    problem: Problem,
    *,
    skip: Iterable[str] = (),
    candidates: Mapping[str, Collection[str]] | None = None,
    fixed: Collection[tuple[str, str]] = (),
    deadline: float | None = None,
    stop: threading.Event | None = None,
) -> Model:
    """Build the CP-SAT model. ``skip`` names hard rules or soft terms to leave out (for tests that
    show each rule decides its case). ``candidates`` (person id -> shift ids) restricts the decision
    variables to a neighbourhood; a person missing from it gets only forced pairs (pins, frozen past).
    ``fixed`` pairs of people outside the neighbourhood enter the model as constants. Raises
    :class:`~solver.options.OutOfTime` once ``deadline`` (``time.monotonic()``) has passed: building
    a very large model can take longer than the whole time limit; and as soon as ``stop`` is set."""
    skipped = set(skip)
    unknown = skipped - set(rules.HARD_RULES) - set(objectives.SOFT_TERMS)
    if unknown:
        raise ValueError(f"unknown rule or term names: {sorted(unknown)}")

    cp = cp_model.CpModel()
    cp.name = problem.name
    shifts_on_day: list[list[int]] = [[] for _ in range(problem.days)]
    for s, shift in enumerate(problem.shifts):
        shifts_on_day[shift.day].append(s)

    # 1. Decision variables: one Boolean per (person, shift) pair the person is allowed to work.
    check_eligibility = "eligibility" not in skipped
    forced = forced_pairs(problem)
    index = {shift.id: s for s, shift in enumerate(problem.shifts)}
    forced_of: dict[str, list[str]] = defaultdict(list)
    for person_id, shift_id in forced:
        forced_of[person_id].append(shift_id)
    assign: list[dict[int, cp_model.IntVar]] = []
    fixed_people = {person_id for person_id, _ in fixed}
    began = time.monotonic()
    for done, person in enumerate(problem.people):
        _in_time(deadline, stop, "the decision variables")
        if deadline is not None and done >= 4:
            # the variables alone would not be made in time: stop now (tearing down a half-built large
            # model takes a fifth of the time it took to build)
            per_person = (time.monotonic() - began) / done
            if time.monotonic() + per_person * (len(problem.people) - done) > deadline:
                raise OutOfTime("the model could not be built in time (its decision variables alone)")
        row: dict[int, cp_model.IntVar] = {}
        if person.id in fixed_people:
            assign.append(row)  # a constant: no variables
            continue
        blocked = person.unavailable if check_eligibility else {}
        if candidates is None:
            options = range(len(problem.shifts))
        else:  # a neighbourhood: only its shifts and the person's forced pairs (fast for big problems)
            allowed = candidates.get(person.id, ())
            options = sorted({index[i] for i in allowed} | {index[s] for s in forced_of.get(person.id, ())})
        for s in options:
            shift = problem.shifts[s]
            if shift.id not in blocked or (person.id, shift.id) in forced:
                row[s] = cp.new_bool_var(f"assign[{person.id},{shift.id}]")
        assign.append(row)
    by_shift: list[list[tuple[int, cp_model.IntVar]]] = [[] for _ in problem.shifts]
    for p, row in enumerate(assign):
        for s, var in row.items():
            by_shift[s].append((p, var))
    model = Model(
        problem=problem,
        cp=cp,
        assign=assign,
        shifts_on_day=shifts_on_day,
        by_shift=by_shift,
        skipped=frozenset(skipped),
    )
    people_index = {person.id: p for p, person in enumerate(problem.people)}
    for person_id, shift_id in fixed:
        p, s = people_index[person_id], index[shift_id]
        model.fixed_shifts.setdefault(p, []).append(s)
        model.fixed_on_shift.setdefault(s, []).append(p)

    # 2. Hard rules.
    for name, rule in rules.HARD_RULES.items():
        if name not in skipped:
            _in_time(deadline, stop, f"rule {name}")
            rule(model)

    # 3. Objective: the weighted sum of the soft terms.
    for name, term in objectives.SOFT_TERMS.items():
        if getattr(problem.weights, name) != 0 and name not in skipped:
            _in_time(deadline, stop, f"term {name}")
            model.terms[name] = term(model)
    cp.minimize(model.weighted())
    return model


def _in_time(deadline: float | None, stop: threading.Event | None, step: str) -> None:
    if past(deadline):
        raise OutOfTime(f"the time limit passed while building the model ({step})")
    if stop is not None and stop.is_set():
        raise OutOfTime(f"stopped while building the model ({step})")
