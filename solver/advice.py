"""Staffing advice: how many more people, of which kinds, would close the gaps of a schedule.

The caller adds *virtual* people to the problem (each of one archetype, e.g. "can do nights" or "medic
on weekday mornings", with that archetype's skills and availability already compiled in) and names
them in ``virtual``. :func:`advise` then solves lexicographically, with only the hard rules and the
coverage terms:

1. coverage of the real people alone (what the gaps are now);
2. coverage with every virtual person available (what recruiting could close at best);
3. that coverage kept, the fewest virtual people used (a broad archetype costs a little more than a
   narrow one of the same count, so "can do nights" wins over "any time" when both would do).

Pure: no scheduler import, no I/O.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from ortools.sat.python import cp_model

from solver.build import build
from solver.problem import Problem, Shortfall, Status, Weights
from solver.validate import expected_shortfalls

COVERAGE_TERMS = ("uncovered", "skill_shortfall")
PER_PERSON = 1000  # cost of one more virtual person; a broad archetype adds 1 to it


@dataclass(frozen=True)
class Advice:
    status: Status  # of the last phase solved (OPTIMAL when every phase was proven)
    before: tuple[Shortfall, ...]  # the gaps with the real people only
    after: tuple[Shortfall, ...]  # the gaps left with the advised people added
    used: tuple[str, ...]  # the virtual people the advice adds, sorted
    counts: Mapping[str, int]  # archetype -> how many of its people are used
    assignments: tuple[tuple[str, str], ...] = ()  # the schedule that shows it (virtual people included)

    @property
    def closed(self) -> tuple[str, ...]:
        """Shift ids short before and fully staffed with the advised people."""
        left = {sf.shift for sf in self.after}
        return tuple(sf.shift for sf in self.before if sf.shift not in left)


def coverage_only(problem: Problem) -> Problem:
    """The same problem with every soft term but coverage switched off."""
    zero = {
        f.name: 0
        for f in dataclasses.fields(Weights)
        if f.name not in COVERAGE_TERMS and not f.name.endswith("_percent")
    }
    return dataclasses.replace(problem, weights=dataclasses.replace(problem.weights, **zero))


def without(problem: Problem, people: Collection[str]) -> Problem:
    drop = set(people)
    return dataclasses.replace(problem, people=tuple(p for p in problem.people if p.id not in drop))


def _solver(time_limit: float, seed: int, workers: int) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, time_limit)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    return solver


def _pairs(model, solver: cp_model.CpSolver) -> list[tuple[str, str]]:
    out = []
    for p, row in enumerate(model.assign):
        for s, var in row.items():
            if solver.value(var):
                out.append((model.people[p].id, model.shifts[s].id))
    return out


def _status(code) -> Status:
    return {
        cp_model.OPTIMAL: Status.OPTIMAL,
        cp_model.FEASIBLE: Status.FEASIBLE,
        cp_model.INFEASIBLE: Status.INFEASIBLE,
    }.get(code, Status.NO_SOLUTION)


def coverage_solve(
    problem: Problem, *, time_limit: float = 5.0, seed: int = 0, workers: int = 1
) -> tuple[Status, list[tuple[str, str]], list[Shortfall]]:
    """The best coverage the hard rules allow (no other term): status, assignments, shortfalls."""
    model = build(coverage_only(problem))
    solver = _solver(time_limit, seed, workers)
    status = _status(solver.solve(model.cp))
    if status not in (Status.OPTIMAL, Status.FEASIBLE):
        return status, [], []
    pairs = _pairs(model, solver)
    return status, pairs, expected_shortfalls(problem, pairs)


def advise(
    problem: Problem,
    virtual: Mapping[str, str],
    *,
    extra: Mapping[str, int] | None = None,
    time_limit: float = 10.0,
    seed: int = 0,
    workers: int = 1,
    start: Collection[tuple[str, str]] | None = None,
) -> Advice:
    """Advise on ``problem`` whose people include the ``virtual`` ones (person id -> archetype);
    ``extra`` (archetype -> 0 to 999) makes a broad archetype cost slightly more per person.
    ``time_limit`` (seconds) is shared by the three phases. ``start``: the real people's best coverage
    found already (phase 1 is then skipped and counted as merely feasible); it is also the hint of
    phase 2, so that phase always has a schedule."""
    extra = extra or {}
    real = without(problem, virtual)
    if start is None:
        status0, start, before = coverage_solve(real, time_limit=time_limit / 4, seed=seed, workers=workers)
        if status0 not in (Status.OPTIMAL, Status.FEASIBLE):
            return Advice(status0, (), (), (), {})
    else:
        status0, before = Status.FEASIBLE, expected_shortfalls(real, start)
    if not before:
        return Advice(status0, (), (), (), {})

    model = build(coverage_only(problem))
    cp = model.cp
    coverage = model.weighted(COVERAGE_TERMS)
    index = {person.id: p for p, person in enumerate(model.people)}
    given = set(start)
    for p, row in enumerate(model.assign):
        person_id = model.people[p].id
        for s, var in row.items():
            cp.add_hint(var, int((person_id, model.shifts[s].id) in given))
    solver = _solver(time_limit * 3 / 8, seed, workers)
    status1 = _status(solver.solve(cp))
    if status1 not in (Status.OPTIMAL, Status.FEASIBLE):
        return Advice(status1, tuple(before), tuple(before), (), {})
    best = int(solver.objective_value)
    hint = {var: solver.value(var) for row in model.assign for var in row.values()}

    # phase 3: keep that coverage, use as few virtual people as possible
    cp.add(coverage <= best)
    cp.clear_hints()
    used_vars = {}
    for person_id in virtual:
        row = model.assign[index[person_id]]
        used = cp.new_bool_var(f"used[{person_id}]")
        for var in row.values():
            cp.add_implication(var, used)
        used_vars[person_id] = used
    cp.minimize(
        sum(
            (PER_PERSON + min(PER_PERSON - 1, extra.get(virtual[i], 0))) * used
            for i, used in used_vars.items()
        )
    )
    for var, value in hint.items():
        cp.add_hint(var, value)
    solver = _solver(time_limit * 3 / 8, seed, workers)
    status2 = _status(solver.solve(cp))
    if status2 not in (Status.OPTIMAL, Status.FEASIBLE):  # keep phase 2's answer
        pairs = _hint_pairs(model, hint)
        status2 = status1
    else:
        pairs = _pairs(model, solver)
    people = sorted({p for p, _ in pairs if p in virtual})
    after = expected_shortfalls(problem, pairs)
    proven = all(s is Status.OPTIMAL for s in (status0, status1, status2))
    worst = Status.OPTIMAL if proven else Status.FEASIBLE
    return Advice(
        status=worst,
        before=tuple(before),
        after=tuple(after),
        used=tuple(people),
        counts=dict(sorted(Counter(virtual[p] for p in people).items())),
        assignments=tuple(sorted(pairs)),
    )


def _hint_pairs(model, hint) -> list[tuple[str, str]]:
    out = []
    for p, row in enumerate(model.assign):
        for s, var in row.items():
            if hint.get(var):
                out.append((model.people[p].id, model.shifts[s].id))
    return out
