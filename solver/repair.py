"""Repair and search heuristics of a re-solve that work on a :class:`~solver.problem.Problem` alone.

A re-solve starts from the previous schedule (``problem.reference``) frozen before ``problem.freeze_before``:
:func:`kept_pairs` is what of it may still be worked, :func:`search_problem` restricts the problem to the
places the disruption left short and builds a start with the greedy, :func:`relieve` fills what is
still short with short chains of changes, :func:`fillable` names the places CP-SAT could still fill
(``solver.restaff`` then solves the chains around them exactly), and :func:`best_schedule` keeps
the best valid schedule in the order coverage, changes, the rest.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import replace

from solver import validate as solver_validate
from solver.greedy import greedy
from solver.options import Progress
from solver.problem import MINUTES_PER_DAY, Problem, Shortfall, Solution, Status, Term, gap_needed
from solver.validate import change_cost


def kept_pairs(problem: Problem) -> list[tuple[str, str]]:
    """The previous schedule minus the pairs after the cut-off that may no longer be worked."""
    cut = problem.freeze_before
    out = []
    for pid, sid in sorted(problem.reference):
        shift = problem.shift(sid)
        if (cut is not None and shift.start < cut) or problem.person(pid).may_work(sid):
            out.append((pid, sid))
    return out


def is_frozen(problem: Problem, v: solver_validate.Violation) -> bool:
    """Whether a violation lies wholly in the frozen past (a re-solve cannot repair it)."""
    cut = problem.freeze_before
    return cut is not None and bool(v.shifts) and all(problem.shift(s).start < cut for s in v.shifts)


def rescored(problem: Problem, solution: Solution) -> Solution:
    """``solution`` with its coverage, terms and objective computed on ``problem`` by the checker."""
    terms = solver_validate.evaluate_terms(problem, solution.assignments)
    return replace(
        solution,
        uncovered=tuple(solver_validate.expected_shortfalls(problem, solution.assignments)),
        objective=sum(value * getattr(problem.weights, name) for name, value in terms.items()),
        terms=tuple(Term(name, value, getattr(problem.weights, name)) for name, value in terms.items()),
    )


def worse_than_before(sf: Shortfall, previous_short: dict[str, Shortfall]) -> bool:
    """Whether the slot is shorter (in people or a skill) than in the previous schedule."""
    was = previous_short.get(sf.shift)
    return was is None or sf.missing > was.missing or any(
        n > was.missing_skills.get(k, 0) for k, n in sf.missing_skills.items()
    )


REASON_FROZEN = "before the re-solve's cut-off"
REASON_OUTSIDE = "outside the re-solve's window"
REASON_LOCKED = "concerned by the disruption: loses what they can no longer work, nothing else"


def search_problem(
    problem: Problem,
    kept: list[tuple[str, str]],
    previous_short: dict[str, Shortfall],
    window: float | None,
    old_gaps: bool,
    locked: set[str] = frozenset(),
) -> tuple[Problem, list[tuple[str, str]], set[str], set[str]]:
    """The problem the solver searches, and the schedule it starts from.

    *Hot* slots are those the disruption left short after the cut-off: places vacated by people who
    may no longer work them, new or raised demand. The *window* runs from the cut-off to ``window``
    days after the end of the last hot slot (None: to the end of the horizon). Inside it anyone
    eligible may be added to any slot; outside it the previous schedule is pinned and nobody else may
    be added. Slots before the cut-off keep exactly their people (``freeze_before``), so nobody else is
    modelled on them at all. Changes far from the disruption would only buy fairness, which ranks below
    changing little. The ``locked`` volunteers (the ill person, whoever withdraws or is marked
    isolating) keep every shift they can still work and get no new one.

    The start: the previous schedule minus what may no longer be worked, with the short places after
    the cut-off (hot ones and those already short before) given in time order to people who can take
    them without breaking a rule (the solver's greedy with everything else pinned): one change per
    place where a free person exists. Unless ``old_gaps``, a slot that was already short keeps the
    staffing of the start in the search (its headcount and skill demand capped at it): nobody else's
    shifts are rearranged to fill a gap the disruption did not make."""
    cut = problem.freeze_before
    assert cut is not None
    shifts = problem.shifts
    reference = problem.reference
    hot = {
        sid for pid, sid in reference
        if problem.shift(sid).start >= cut and not problem.person(pid).may_work(sid)
    }
    old: set[str] = set()
    for sf in solver_validate.expected_shortfalls(problem, kept):
        if problem.shift(sf.shift).start < cut:
            continue
        if worse_than_before(sf, previous_short):
            hot.add(sf.shift)
        else:
            old.add(sf.shift)
    if window is None:
        play = {s.id for s in shifts if s.start >= cut}
    else:
        end = max((problem.shift(sid).end for sid in hot), default=cut) + round(window * MINUTES_PER_DAY)
        play = {s.id for s in shifts if cut <= s.start < end} | hot | old

    closed = {s.id: REASON_FROZEN if s.start < cut else REASON_OUTSIDE for s in shifts if s.id not in play}
    by_person: dict[str, set[str]] = {}
    for pid, sid in reference:
        by_person.setdefault(pid, set()).add(sid)
    people = []
    for person in problem.people:
        mine = by_person.get(person.id, set())
        if person.id in locked:
            shut = {s.id: REASON_LOCKED for s in shifts if s.start >= cut} | closed
        else:
            shut = closed
        blocked = {sid: why for sid, why in shut.items() if sid not in mine and sid not in person.unavailable}
        people.append(replace(person, unavailable={**person.unavailable, **blocked}) if blocked else person)
    pins = {
        (pid, sid) for pid, sid in reference
        if (sid in closed or pid in locked)
        and problem.shift(sid).start >= cut
        and problem.person(pid).may_work(sid)
    }
    searched = replace(problem, people=tuple(people), pinned=problem.pinned | frozenset(pins))

    after = {(pid, sid) for pid, sid in kept if problem.shift(sid).start >= cut}
    start = greedy(replace(searched, pinned=searched.pinned | frozenset(after)))
    if old_gaps or not old:
        return searched, start, hot, old
    staffed: dict[str, list[str]] = {}
    for pid, sid in start:
        if sid in old:
            staffed.setdefault(sid, []).append(pid)
    capped = []
    for shift in shifts:
        if shift.id in old:
            on = staffed.get(shift.id, [])
            have = len(on)
            skills = {
                k: min(n, sum(1 for pid in on if k in problem.person(pid).skills))
                for k, n in shift.skills.items()
            }
            shift = replace(
                shift,
                required=min(shift.required, have),
                max_staff=have if shift.max_staff is None else min(shift.max_staff, have),
                skills=skills,
            )
        capped.append(shift)
    return replace(searched, shifts=tuple(capped)), start, hot, old


def best_schedule(
    problem: Problem,
    found: Solution | None,
    start: list[tuple[str, str]],
    kept: list[tuple[str, str]],
    kept_violations: list,
    wall_time: float,
) -> tuple[Solution, str] | None:
    """The best valid schedule of the solver's and the repair's (or, if that is broken, the previous
    one's), in the issue's order: coverage, then changes, then the rest of the objective of
    ``problem`` (the solver searched a restricted copy of it, on the weighted sum, where a clearly better
    balance can buy a change a week away: that is not taken here)."""
    candidates: list[tuple[Solution, str]] = []
    # the repair start is the previous schedule plus people on short places: better unless broken
    for pairs, method in ((start, "repair"), (None if kept_violations else kept, "previous")):
        if pairs is not None and not solver_validate.validate(problem, pairs):
            base = Solution(status=Status.FEASIBLE, assignments=tuple(pairs), wall_time=wall_time)
            candidates.append((rescored(problem, base), method))
            break
    if found is not None and found.has_schedule and not solver_validate.validate(problem, found.assignments):
        candidates.append((rescored(problem, found), "solver"))
    # ties go to the earliest candidate: the repair start over the solver's equal schedule
    return min(candidates, key=lambda c: lexicographic_order(c[0]), default=None)


def lexicographic_order(solution: Solution) -> tuple[int, int, int]:
    """(coverage, change, everything else), each weighted as in the objective."""
    terms = {t.name: t.weighted for t in solution.terms}
    coverage = terms.get("uncovered", 0) + terms.get("skill_shortfall", 0)
    change = terms.get("change", 0)
    return coverage, change, sum(terms.values()) - coverage - change


def relieve(problem: Problem, start: list[tuple[str, str]], hot: set[str]) -> list[tuple[str, str]]:
    """Fill hot places the greedy start left short with a short chain, soonest first: someone moves
    from one of their shifts after the cut-off to the short slot, and a free person takes their place
    (three changes, two people). The cheapest chain by change cost is taken; among equal candidates,
    people who already have a change come first (one call instead of two)."""
    cut = problem.freeze_before
    assert cut is not None
    mine: dict[str, set[str]] = {}
    on: dict[str, set[str]] = {}
    for pid, sid in start:
        mine.setdefault(pid, set()).add(sid)
        on.setdefault(sid, set()).add(pid)
    pinned = problem.pinned
    called = {pid for pid, sid in set(start) ^ problem.reference if problem.person(pid).may_work(sid)}

    def broken(pid: str, sids: Iterable[str]) -> list[solver_validate.Violation]:
        return solver_validate.person_violations(problem, [(pid, s) for s in sids], pid)

    def takers(sid: str, skills: set[str], exclude: set[str]) -> list[str]:
        shift = problem.shift(sid)
        out = [
            p.id for p in problem.people
            if p.id not in exclude and p.may_work(sid) and skills <= p.skills
        ]
        load = {pid: sum(problem.shift(x).minutes for x in mine.get(pid, ())) for pid in out}
        return sorted(
            out,
            key=lambda pid: (pid not in called, problem.person(pid).avoids.get(shift.id, 0), load[pid], pid),
        )

    for sid in sorted(hot, key=lambda x: (problem.shift(x).start, x)):
        shift = problem.shift(sid)
        while len(on.get(sid, ())) < shift.required and (
            shift.max_staff is None or len(on.get(sid, ())) < shift.max_staff
        ):
            here = on.get(sid, set())
            need = {
                k for k, n in shift.skills.items() if sum(k in problem.person(p).skills for p in here) < n
            }
            chain = _chain(problem, sid, need, here, mine, on, pinned, broken, takers)
            if chain is None:
                break
            mover, gave_up, taker = chain
            called.add(mover)
            if gave_up is not None:
                called.add(taker)
                mine[mover].discard(gave_up)
                on[gave_up].discard(mover)
                mine.setdefault(taker, set()).add(gave_up)
                on[gave_up].add(taker)
            mine.setdefault(mover, set()).add(sid)
            on.setdefault(sid, set()).add(mover)
    return sorted((pid, sid) for pid, sids in mine.items() for sid in sids)


def _chain(problem, sid, need, here, mine, on, pinned, broken, takers):
    """(mover, the shift they give up or None, who takes it) for short slot ``sid``, or None.

    A mover only gives up a shift that every rule they would break by taking ``sid`` names (a
    violation lists the shifts involved): removing any other could not make room."""
    cut = problem.freeze_before
    options = []
    for pid in takers(sid, set(), here):
        if need and not (need & problem.person(pid).skills):
            continue
        own = mine.get(pid, set())
        violations = broken(pid, own | {sid})
        if not violations:
            return pid, None, None
        culprits = set(own)
        for v in violations:
            culprits &= set(v.shifts)
        for other in sorted(culprits):
            shift = problem.shift(other)
            if shift.start < cut or (pid, other) in pinned:
                continue
            if not broken(pid, (own - {other}) | {sid}):
                options.append((change_cost(problem, shift), shift.start, pid, other))
    for _, _, pid, other in sorted(options):
        shift = problem.shift(other)
        rest = on.get(other, set()) - {pid}
        lost = {k for k, n in shift.skills.items() if sum(k in problem.person(p).skills for p in rest) < n}
        for taker in takers(other, lost, rest | {pid}):
            theirs = mine.get(taker, set())
            if clashes(problem, taker, theirs, shift):
                continue  # the checker would object (a quick test first: this loop is the slow part)
            if not broken(taker, theirs | {other}):
                return pid, other, taker
    return None


def clashes(problem: Problem, pid: str, sids: Iterable[str], shift) -> bool:
    """Whether ``shift`` surely breaks a rule for ``pid`` next to their ``sids``: the day's most
    shifts already taken, or one of them overlapping or closer than the minimum rest (the checker's
    ``max_shifts_per_day``, ``no_double_booking``, ``min_rest`` and ``visit_gap``)."""
    rules = problem.person(pid).rules
    same_day = 0
    for sid in sids:
        other = problem.shift(sid)
        if other.day == shift.day and not other.visit:
            same_day += 1
        gap = gap_needed(rules, shift, other)
        if shift.start < other.end + gap and other.start < shift.end + gap:
            return True
    return not shift.visit and rules.max_shifts_per_day is not None and same_day >= rules.max_shifts_per_day


def fillable(
    problem: Problem, start: list[tuple[str, str]], hot: set[str], previous_short: dict[str, Shortfall]
) -> list[str]:
    """The hot slots after the cut-off that ``start`` leaves shorter than the previous schedule did
    while someone eligible could work them (a longer chain of changes might free them), in time
    order: only these are worth a CP-SAT search's start-up time."""
    cut = problem.freeze_before
    out = []
    for sf in solver_validate.expected_shortfalls(problem, start):
        if sf.shift not in hot or problem.shift(sf.shift).start < cut:
            continue
        if not worse_than_before(sf, previous_short):
            continue
        here = {pid for pid, s in start if s == sf.shift}
        need = {k for k, n in sf.missing_skills.items() if n > 0}
        for person in problem.people:
            if person.id in here or not person.may_work(sf.shift):
                continue
            if sf.missing > 0 or need & person.skills:
                out.append(sf.shift)
                break
    return sorted(out, key=lambda sid: (problem.shift(sid).start, sid))


class Patience:
    """Stops the search once it has gone ``patience`` seconds without a better schedule after the
    coverage phase; passes progress on and honours the caller's stop event."""

    def __init__(self, patience: float | None, on_progress, stop: threading.Event | None):
        self.patience = patience
        self.on_progress = on_progress
        self.outer = stop
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._last = time.monotonic()
        self._best: float | None = None
        self._phase = ""
        self._done = threading.Event()
        if patience is not None or stop is not None:
            threading.Thread(target=self._watch, name="rota-resolve-patience", daemon=True).start()

    def __call__(self, progress: Progress) -> None:
        with self._lock:
            if progress.phase != self._phase:
                self._phase, self._best = progress.phase, None
                self._last = time.monotonic()
            if progress.objective is not None and (self._best is None or progress.objective < self._best):
                self._best = progress.objective
                self._last = time.monotonic()
        if self.on_progress is not None:
            self.on_progress(progress)

    def _watch(self) -> None:
        while not self._done.wait(0.05):
            if self.outer is not None and self.outer.is_set():
                self.stop.set()
                return
            if self.patience is None:
                continue
            with self._lock:
                idle = time.monotonic() - self._last
                ready = self._phase != "coverage" and self._best is not None
            if ready and idle >= self.patience:
                self.stop.set()
                return

    def close(self) -> None:
        self._done.set()


