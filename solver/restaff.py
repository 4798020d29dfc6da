"""Re-staffing the places a disruption left short: an exact CP-SAT model of the short chains around
them, everyone else fixed (issue 15).

After a sick call the repair (``solver.repair``) gives each short place to someone free, or fills it
by one chain of two changes. Places it leaves short need a combination it does not try: one person
giving up two of their shifts to two others, two short places competing for the same few people, a
skill that only a mover brings. Searching the whole re-solve window for those takes seconds (the
model of every volunteer over the window is large, and its fairness terms keep the bound far from the
schedule, so the search can only stop when its patience runs out). This module builds a *local* model
instead, small enough to be solved to optimality in a fraction of a second:

- the *short* places (the disrupted slots still short after the repair);
- their *takers*: everyone who may work a short place, either as they are (adding it breaks none of
  their rules) or, as a *mover*, by giving up some of their own shifts after the cut-off: for every
  rule adding it would break, one of the shifts that rule names (``Violation.shifts``) must be one the
  mover may give up and someone could take over;
- the *backfills*: everyone who could take over a shift a mover gives up without breaking a rule;
- on a place short of a skill, whoever works it without that skill (they may make room).

Every other assignment is fixed, every modelled person's other shifts pinned. The objective is
coverage and changes only (the terms that rank first in a re-solve; fairness ranks below changing
little, and the caller keeps the better schedule of the repair and this one in that order), so the
model is an assignment problem of a few hundred Booleans: CP-SAT proves its optimum quickly, and the
re-solve stops there instead of waiting out a patience. The result is checked against the whole
problem by the caller, like every schedule.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from dataclasses import dataclass

from solver import validate
from solver.greedy import quick_test
from solver.objectives import SOFT_TERMS
from solver.options import SolveOptions
from solver.problem import Problem, Solution
from solver.search import solve_model
from solver.start import residual
from solver.validate import change_cost

LOCAL_TERMS = ("uncovered", "skill_shortfall", "change")  # what the local model minimises
BACKFILLS = 4  # people who could take over a shift a mover gives up, at most, per shift
MOVERS = 16  # movers per short place at most: who brings a missing skill first, then the cheapest chains


@dataclass(frozen=True)
class Neighbourhood:
    """The local model's decision variables (person -> shifts they may be put on or taken off), the
    modelled people's other shifts (pinned) and everyone else's assignments (fixed)."""

    candidates: dict[str, frozenset[str]]
    pinned: frozenset[tuple[str, str]]
    fixed: frozenset[tuple[str, str]]
    movers: int  # takers who give up a shift of their own to take a short place
    backfills: int  # modelled people's own shifts they may come off (a mover's, or a place short of a skill)

    @property
    def size(self) -> int:
        return sum(len(s) for s in self.candidates.values())


def neighbourhood(
    problem: Problem, start: Iterable[tuple[str, str]], short: Iterable[str], until: float | None = None
) -> Neighbourhood:
    """The chains of at most two people around the ``short`` slots of schedule ``start``: who could
    take each one as they are, and (``MOVERS`` per slot: those who bring a skill it lacks first,
    then the cheapest chains) who could by giving up shifts someone else could take over, and who
    (``BACKFILLS`` per shift given up). Once ``until`` (``time.monotonic()``) has passed, the slots
    not reached yet are left out (slots are taken until one has someone who could take it)."""
    cut = problem.freeze_before if problem.freeze_before is not None else -(10**9)
    start = list(start)
    mine: dict[str, set[str]] = {}
    on: dict[str, set[str]] = {}
    for pid, sid in start:
        mine.setdefault(pid, set()).add(sid)
        on.setdefault(sid, set()).add(pid)
    quick = quick_test(problem, start)
    known: dict[tuple[str, str], bool] = {}

    def violations(pid: str, sid: str) -> list[validate.Violation]:
        return validate.person_violations(problem, [(pid, s) for s in mine.get(pid, set()) | {sid}], pid)

    def can_add(pid: str, sid: str) -> bool:
        """Whether ``pid`` could take ``sid`` next to their shifts in ``start`` without breaking a rule."""
        key = (pid, sid)
        if key not in known:
            known[key] = quick(pid, problem.shift(sid)) and not violations(pid, sid)
        return known[key]

    def movable(pid: str) -> set[str]:
        person = problem.person(pid)
        return {
            s for s in mine.get(pid, ())
            if problem.shift(s).start >= cut and (pid, s) not in problem.pinned and person.may_work(s)
        }

    load = {pid: sum(problem.shift(s).minutes for s in shifts) for pid, shifts in mine.items()}
    backfill: dict[str, list[str]] = {}  # a shift a mover could give up -> who could take it over
    candidates: dict[str, set[str]] = {}
    movers = 0
    for sid in sorted(set(short)):
        if until is not None and candidates and time.monotonic() > until:
            break
        shift = problem.shift(sid)
        here = on.get(sid, set())
        need = {k for k, n in shift.skills.items() if sum(k in problem.person(p).skills for p in here) < n}
        if need:  # a place short of a skill: whoever is on it without that skill may make room
            for pid in here:
                if sid in movable(pid) and not (need & problem.person(pid).skills):
                    candidates.setdefault(pid, set()).add(sid)
        # (brings no missing skill, cheapest cost, mover, culprits per rule)
        wants: list[tuple[bool, int, str, list[set[str]]]] = []
        for person in problem.people:
            pid = person.id
            if pid in on.get(sid, ()) or not person.may_work(sid):
                continue
            broken = violations(pid, sid)
            if not broken:
                candidates.setdefault(pid, set()).add(sid)
                continue
            free = movable(pid)
            culprits = [set(v.shifts) & free for v in broken]
            if all(culprits):
                cost = sum(min(change_cost(problem, problem.shift(c)) for c in cs) for cs in culprits)
                wants.append((not (need & person.skills), cost, pid, culprits))
        taken = 0
        for _, _, pid, culprits in sorted(wants):
            if taken >= MOVERS:
                break
            for given in set().union(*culprits):
                if given not in backfill:
                    backfill[given] = _backfills(problem, given, on.get(given, set()), load, can_add)
            usable = [{c for c in options if backfill[c]} for options in culprits]
            if not all(usable):
                continue  # a broken rule only a shift nobody could take over would mend
            taken += 1
            candidates.setdefault(pid, set()).update({sid, *set().union(*usable)})
            for given in set().union(*usable):
                for taker in backfill[given]:
                    candidates.setdefault(taker, set()).add(given)
        movers += taken
    pinned = {(p, s) for p, s in start if p in candidates and s not in candidates[p]}
    fixed = {(p, s) for p, s in start if p not in candidates}
    given_up = {s for pid, shifts in candidates.items() for s in shifts if s in mine.get(pid, ())}
    return Neighbourhood(
        candidates={p: frozenset(s) for p, s in candidates.items()},
        pinned=frozenset(pinned),
        fixed=frozenset(fixed),
        movers=movers,
        backfills=len(given_up),
    )


def _backfills(problem: Problem, sid: str, here: set[str], load: dict[str, int], can_add) -> list[str]:
    """Up to ``BACKFILLS`` people who could take over shift ``sid`` as they are. A change costs the
    same whoever makes it, so takers are interchangeable for the local model but for their skills and
    for being needed twice: those with the shift's skills first, then the least loaded."""
    shift = problem.shift(sid)
    wanted = set(shift.skills)
    order = sorted(
        (p for p in problem.people if p.id not in here and p.may_work(sid)),
        key=lambda p: (-len(p.skills & wanted), load.get(p.id, 0), p.id),
    )
    found: list[str] = []
    for person in order:
        if can_add(person.id, sid):
            found.append(person.id)
            if len(found) >= BACKFILLS:
                break
    return found


def restaff(
    problem: Problem, start: Iterable[tuple[str, str]], short: Iterable[str], options: SolveOptions,
    until: float | None = None,
) -> tuple[Solution, Neighbourhood]:
    """Solve the local model of :func:`neighbourhood` from ``start`` (its hint) on coverage and
    changes. The model holds only the modelled people, on the shifts as the fixed people leave them
    (``solver.start.residual``): building it takes no time for the hundreds of people it does not
    touch. The solution's status is OPTIMAL when no chain of the neighbourhood does better; its
    assignments are the whole schedule (the fixed ones included), its objective and terms the local
    model's: the caller scores it on the whole problem. ``until`` bounds the time spent building the
    neighbourhood (see :func:`neighbourhood`)."""
    start = list(start)
    hood = neighbourhood(problem, start, short, until)
    modelled = set(hood.candidates)
    # a shift worked in pairs keeps its rule only if the people on it are in the model too
    paired = {s for shifts in hood.candidates.values() for s in shifts if problem.shift(s).pair}
    modelled |= {p for p, s in start if s in paired}
    pins = {(p, s) for p, s in start if p in modelled and s not in hood.candidates.get(p, ())}
    fixed = [(p, s) for p, s in start if p not in modelled]
    pinned = dataclasses.replace(problem, pinned=problem.pinned | frozenset(pins))
    local = residual(pinned, tuple(p for p in problem.people if p.id in modelled), fixed)
    skip = tuple(n for n in SOFT_TERMS if n not in LOCAL_TERMS)
    options = dataclasses.replace(options, hint=tuple(start), coverage_first=False, greedy_start=False)
    solution = solve_model(local, options, skip=skip, candidates=hood.candidates)
    if solution.has_schedule:
        solution = dataclasses.replace(solution, assignments=tuple(solution.assignments) + tuple(fixed))
    return solution, hood
