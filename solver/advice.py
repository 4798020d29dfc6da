"""Staffing advice: how many more people, of which kinds, would close the gaps of a schedule.

The caller adds *virtual* people to the problem (each of one archetype, e.g. "can do nights" or "medic
on weekday mornings", with that archetype's skills and availability already compiled in) and names
them in ``virtual``. :func:`advise` then solves lexicographically, with only the hard rules and the
coverage terms:

1. coverage of the real people alone (what the gaps are now);
2. coverage with every virtual person available (what recruiting could close at best);
3. that coverage kept, the fewest virtual people used (a broad archetype costs a little more than a
   narrow one of the same count, so "can do nights" wins over "any time" when both would do).

Before phase 2, :func:`greedy_cover` fills the short places one at a time with virtual people (one
already recruited when the independent checker lets them take it, else a new one of the cheapest
archetype that can): an answer in a second even on large sites, and the hint of phase 2. When the time
limit ends a phase without a schedule, the best answer so far stands (the greedy one at worst), marked
as merely feasible.

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
from solver.validate import expected_shortfalls, person_violations

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


def greedy_cover(
    problem: Problem,
    virtual: Mapping[str, str],
    start: Collection[tuple[str, str]],
    before: Collection[Shortfall],
    extra: Mapping[str, int] | None = None,
) -> list[tuple[str, str]]:
    """``start`` (the real people's schedule) plus virtual people in the places ``before`` lists as
    short, in time order: for each place the busiest recruit so far who can take it without breaking a
    hard rule (the checker's verdict), else a new person of the cheapest archetype that can."""
    extra = extra or {}
    shifts = problem.shift_index()
    people = {person.id: person for person in problem.people if person.id in virtual}
    fresh: dict[str, list[str]] = {}  # archetype -> its virtual people not used yet, in order
    for person_id in virtual:
        if person_id in people:
            fresh.setdefault(virtual[person_id], []).append(person_id)
    cheapest = sorted(fresh, key=lambda a: (extra.get(a, 0), a))
    mine: dict[str, list[tuple[str, str]]] = {}  # recruited person -> their assignments
    pairs = list(start)

    open_places = {sf.shift: sf.missing for sf in before if sf.missing > 0}
    for sf in sorted(before, key=lambda sf: (shifts[sf.shift].start, sf.shift)):
        missing, skills = sf.missing, dict(sf.missing_skills)
        open_places.pop(sf.shift, None)
        while missing > 0:
            wanted = frozenset(k for k, n in skills.items() if n > 0)
            anyone = missing > sum(skills.values())  # a place without a skill to fill is left

            def helps(person_id: str, wanted: frozenset[str] = wanted, anyone: bool = anyone) -> bool:
                return anyone or bool(people[person_id].skills & wanted)

            chosen = next(
                (p for p in sorted(mine, key=lambda p: -len(mine[p]))
                 if (p, sf.shift) not in mine[p] and helps(p) and _fits(problem, p, mine[p], sf.shift)),
                None,
            )
            if chosen is None:
                # a new recruit of the archetype that could take the most of the places still short
                # (fewer people in the end), the cheaper archetype on a tie
                reach = {
                    a: sum(n for sid, n in open_places.items() if people[fresh[a][0]].may_work(sid))
                    for a in cheapest if fresh[a]
                }
                for archetype in sorted(reach, key=lambda a: (-reach[a], extra.get(a, 0), a)):
                    left = fresh[archetype]
                    if left and helps(left[0]) and _fits(problem, left[0], (), sf.shift):
                        chosen = left.pop(0)
                        mine[chosen] = []
                        break
            if chosen is None:
                break
            mine[chosen].append((chosen, sf.shift))
            missing -= 1
            for skill in people[chosen].skills:
                if skills.get(skill, 0) > 0:
                    skills[skill] -= 1
    _consolidate(problem, mine)
    return pairs + [pair for person_pairs in mine.values() for pair in person_pairs]


def _fits(problem: Problem, person_id: str, held, shift_id: str) -> bool:
    """Whether ``person_id``, holding the assignments ``held``, can also take ``shift_id`` without
    breaking a hard rule of theirs (the checker's verdict)."""
    return not person_violations(problem, [*held, (person_id, shift_id)], person_id)


def _consolidate(problem: Problem, mine: dict[str, list[tuple[str, str]]]) -> None:
    """Fewer recruits: the one with the fewest shifts hands every shift to recruits who can take it
    (keeping the skills the place needed), and leaves; repeated until nobody can leave."""
    people = problem.person
    changed = True
    while changed:
        changed = False
        for leaving in sorted(mine, key=lambda p: (len(mine[p]), p)):
            others = [p for p in mine if p != leaving]
            moves: dict[str, list[tuple[str, str]]] = {}
            for _, shift_id in mine[leaving]:
                needed = people(leaving).skills
                taker = None
                for p in sorted(others, key=lambda p: -len(mine[p])):
                    held = [*mine[p], *moves.get(p, ())]
                    if (needed <= people(p).skills and all(sid != shift_id for _, sid in held)
                            and _fits(problem, p, held, shift_id)):
                        taker = p
                        break
                if taker is None:
                    break
                moves.setdefault(taker, []).append((taker, shift_id))
            else:
                for taker, extra_pairs in moves.items():
                    mine[taker].extend(extra_pairs)
                del mine[leaving]
                changed = True
                break


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

    greedy = greedy_cover(problem, virtual, start, before, extra)
    model = build(coverage_only(problem))
    cp = model.cp
    coverage = model.weighted(COVERAGE_TERMS)
    index = {person.id: p for p, person in enumerate(model.people)}
    given = set(greedy)
    for p, row in enumerate(model.assign):
        person_id = model.people[p].id
        for s, var in row.items():
            cp.add_hint(var, int((person_id, model.shifts[s].id) in given))
    solver = _solver(time_limit * 3 / 8, seed, workers)
    status1 = _status(solver.solve(cp))
    if status1 not in (Status.OPTIMAL, Status.FEASIBLE):  # the greedy answer stands
        return _answer(problem, virtual, greedy, before, Status.FEASIBLE)
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
    proven = all(s is Status.OPTIMAL for s in (status0, status1, status2))
    return _answer(problem, virtual, pairs, before, Status.OPTIMAL if proven else Status.FEASIBLE)


def _answer(
    problem: Problem, virtual: Mapping[str, str], pairs, before, status: Status
) -> Advice:
    people = sorted({p for p, _ in pairs if p in virtual})
    return Advice(
        status=status,
        before=tuple(before),
        after=tuple(expected_shortfalls(problem, pairs)),
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
