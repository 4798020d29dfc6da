"""A proven lower bound from a linear relaxation of the rules, for problems whose search proves none.

The neighbourhood search proves nothing about the whole problem, and on large single models CP-SAT's
own bound stays near 0 (its default full worker's LP leaves the clause rules out), so the gap of a
schedule could not be told. :func:`lp_bound` states the rules that bind a schedule as linear
inequalities over one fractional variable per (person, shift) pair and minimises the linear terms of
the objective by GLOP (OR-Tools' simplex), or above ``PDLP_PAIRS`` pairs by PDLP (its first-order
solver, many times faster there):

* coverage (people and skilled people missing), over-staffing, wishes and changes exactly as the
  checker scores them, and the busiest load as at least every person's load;
* every other term (spreads, patterns, partners) counted as 0, which it is at least;
* of the hard rules: who may work what, pins and the frozen past, headcount caps, shifts that
  overlap or leave too little rest (one clique per instant), shifts per day, hours per 7 days and over
  the horizon, shifts of a type, weekends; where a person works at most one shift a day, also the
  longest run of days, days off per 7, forbidden successions and the shortest blocks of days on and
  off (a block that starts must go on, as far as the checker asks it to);
* the rest (nights, heavy posts, compensatory rest, shifts worked in pairs, history) is left out.

Every inequality holds for every schedule the checker accepts and every term left out is at least 0,
so the LP optimum is at most the objective of every valid schedule: a lower bound. The bound taken is
what the solver's dual values prove, priced exactly from the rows (:func:`_dual_bound`), so a solver's
tolerances never make it too high. The variables stay fractional: the bound is
only as tight as the relaxation (on Curtois 12-20 0.85-0.99 of the best known, where CP-SAT's own
bound was near 0; measured in docs/BENCHMARKS.md).

:class:`BoundInBackground` computes it in a thread beside the search (GLOP and PDLP release the GIL while
they solve), within a share of the time limit; :func:`with_bound` lifts a solution's bound to it.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable

import numpy as np
from ortools.linear_solver import pywraplp

from solver.load import balanced, history_load, load_share, target_load
from solver.problem import WEEK, Problem, Solution, candidate_pairs
from solver.validate import change_cost

LP_SHARE = 0.5  # at most this share of a call's time limit goes to the relaxation (in its own thread)
MAX_PAIRS = 400_000  # larger problems get no relaxation (building it alone would take seconds)
# above this many pairs the LP is solved by PDLP (OR-Tools' first-order solver) instead of GLOP's
# simplex: measured on a generated 100 x 28 site (70,000 variables) 18.6 s against 111 s
PDLP_PAIRS = 20_000
# PDLP stops at this relative (and absolute) optimality error: the bound is priced from its duals
# whatever their error, so a looser stop only costs tightness (measured on 100 x 28: 7.3 s at 1e-4,
# 19 s at its default of 1e-6)
PDLP_TOLERANCE = 1e-4
TOLERANCE = 1e-9  # relative margin for rounding in the dual bound's sums, before rounding up


@dataclasses.dataclass
class _LP:
    """The relaxation under construction: the LP solver, the pair variables, and every row's bounds
    and coefficients as written (to price any dual solution exactly: :func:`_dual_bound`)."""

    solver: pywraplp.Solver
    x: dict[tuple[int, int], pywraplp.Variable]  # (person index, shift index) -> fraction worked
    infinity: float
    rows: list[pywraplp.Constraint] = dataclasses.field(default_factory=list)
    lowers: list[float] = dataclasses.field(default_factory=list)
    uppers: list[float] = dataclasses.field(default_factory=list)
    # row, column and coefficient of every entry
    entries: tuple[list, list, list] = dataclasses.field(default_factory=lambda: ([], [], []))

    def row(self, lower: float, upper: float, terms) -> None:
        merged: dict[int, list] = {}
        for var, coeff in terms:
            if coeff:
                slot = merged.setdefault(var.index(), [var, 0])
                slot[1] += coeff
        merged = {k: v for k, v in merged.items() if v[1]}
        if not merged:
            return
        ct = self.solver.Constraint(lower, upper)
        i = len(self.rows)
        self.rows.append(ct)
        self.lowers.append(lower)
        self.uppers.append(upper)
        rows, columns, values = self.entries
        for k, (var, coeff) in merged.items():
            ct.SetCoefficient(var, coeff)
            rows.append(i)
            columns.append(k)
            values.append(coeff)


def build(
    problem: Problem, deadline: float | None = None, stop: threading.Event | None = None
) -> tuple[_LP, float] | None:
    """The relaxation of ``problem`` and its objective's constant; None past ``deadline`` or ``stop``."""
    large = candidate_pairs(problem) > PDLP_PAIRS
    solver = pywraplp.Solver.CreateSolver("PDLP" if large else "GLOP")
    lp = _LP(solver, {}, solver.infinity())
    w = problem.weights
    shifts = problem.shifts
    cut = problem.freeze_before
    pinned, reference = problem.pinned, problem.reference
    objective: dict[pywraplp.Variable, float] = defaultdict(float)
    constant = 0.0
    by_person: dict[int, dict[int, pywraplp.Variable]] = {}

    for p, person in enumerate(problem.people):
        if (deadline is not None and time.monotonic() > deadline) or (stop is not None and stop.is_set()):
            return None
        mine: list[int] = []
        for s, shift in enumerate(shifts):
            pair = (person.id, shift.id)
            frozen = cut is not None and shift.start < cut
            if frozen:
                if pair in reference:
                    lp.x[p, s] = solver.NumVar(1, 1, "")
                    mine.append(s)
                continue
            if pair in pinned:
                lp.x[p, s] = solver.NumVar(1, 1, "")
            elif person.may_work(shift.id):
                lp.x[p, s] = solver.NumVar(0, 1, "")
            else:
                continue
            mine.append(s)
        if not mine:
            continue
        x = by_person[p] = {s: lp.x[p, s] for s in mine}
        _person_rows(problem, person, x, lp)
        # wishes, and changes against the previous schedule, are linear in the pairs
        for shift_id, weight in person.avoids.items():
            s = _index(problem).get(shift_id)
            if s in x:
                objective[x[s]] += w.preference * weight
        for shift_id, weight in person.wants.items():
            constant += w.preference * weight
            s = _index(problem).get(shift_id)
            if s in x:
                objective[x[s]] -= w.preference * weight
        if w.change and (reference or cut is not None):
            for s in mine:
                shift = shifts[s]
                if (cut is not None and shift.start < cut) or not person.may_work(shift.id):
                    continue
                cost = w.change * change_cost(problem, shift)
                if (person.id, shift.id) in reference:
                    constant += cost
                    objective[x[s]] -= cost
                else:
                    objective[x[s]] += cost

    # coverage, skills, over-staffing and headcount caps, shift by shift
    on_shift: dict[int, list[tuple[int, pywraplp.Variable]]] = defaultdict(list)
    for (p, s), var in lp.x.items():
        on_shift[s].append((p, var))
    for s, shift in enumerate(shifts):
        staff = on_shift.get(s, [])
        if shift.max_staff is not None:
            lp.row(-lp.infinity, shift.max_staff, [(v, 1) for _, v in staff])
        if w.uncovered and shift.required > 0:
            missing = solver.NumVar(0, shift.required, "")
            objective[missing] += w.uncovered * shift.under_weight
            lp.row(shift.required, lp.infinity, [(missing, 1)] + [(v, 1) for _, v in staff])
        if w.skill_shortfall:
            for skill, need in shift.skills.items():
                short = solver.NumVar(0, need, "")
                objective[short] += w.skill_shortfall
                skilled = [(v, 1) for p, v in staff if skill in problem.people[p].skills]
                lp.row(need, lp.infinity, [(short, 1)] + skilled)
        if w.overstaffed and shift.over_weight and len(staff) > shift.required:
            extra = solver.NumVar(0, len(staff) - shift.required, "")
            objective[extra] += w.overstaffed * shift.over_weight
            lp.row(-lp.infinity, shift.required, [(extra, -1)] + [(v, 1) for _, v in staff])

    # the busiest load is at least each load counted in full (people without a wish)
    if w.load_max:
        top = None
        for p, person in enumerate(problem.people):
            x = by_person.get(p)
            if not x or not balanced(problem, person) or target_load(problem, person):
                continue
            if not any(person.may_work(shift.id) for shift in shifts):
                continue  # the checker leaves people who may work nothing out of the load terms
            if top is None:
                top = solver.NumVar(0, 0, "")
                objective[top] += w.load_max
            shares = [(v, load_share(problem, person, shifts[s])) for s, v in x.items()]
            base = history_load(problem, person)
            top.SetUb(max(top.ub(), base + sum(c for _, c in shares)))  # the most anyone could carry
            lp.row(base, lp.infinity, [(top, 1)] + [(v, -c) for v, c in shares])

    goal = solver.Objective()
    for var, coeff in objective.items():
        if coeff:
            goal.SetCoefficient(var, coeff)
    goal.SetMinimization()
    return lp, constant


def _index(problem: Problem) -> dict[str, int]:
    idx = problem.__dict__.get("_relaxation_idx")
    if idx is None:
        idx = {s.id: k for k, s in enumerate(problem.shifts)}
        object.__setattr__(problem, "_relaxation_idx", idx)
    return idx


def _person_rows(problem: Problem, person, x: dict[int, pywraplp.Variable], lp: _LP) -> None:
    """One person's hard rules, as inequalities every schedule the checker accepts satisfies."""
    rules, history = person.rules, person.history
    shifts = problem.shifts
    days = problem.days
    inf = lp.infinity
    work = {s: v for s, v in x.items() if not shifts[s].visit}  # visits make no working day
    by_day: dict[int, list[int]] = defaultdict(list)
    for s in work:
        by_day[shifts[s].day].append(s)

    # overlapping shifts, or too little rest between them: each instant a shift starts, the shifts
    # whose span (rest included) holds it pairwise exclude each other (the maximal ones only)
    rest = max(0, rules.min_rest_minutes or 0)
    ordered = sorted(work, key=lambda s: shifts[s].start)
    cliques: list[list[int]] = []
    active: list[int] = []
    for s in ordered:
        t = shifts[s].start
        active = [r for r in active if shifts[r].end + rest > t] + [s]
        clique = active
        if cliques and set(cliques[-1]) <= set(clique):
            cliques[-1] = clique
        elif len(clique) >= 2:
            cliques.append(clique)
    for clique in cliques:
        if len(clique) >= 2:
            lp.row(-inf, 1, [(x[s], 1) for s in clique])
    limit = rules.max_shifts_per_day
    one_a_day = limit == 1
    # one shift a day: the day's sum is 1 when the day is worked, 0 when not; where a day has several
    # shifts it gets a variable of its own (equal to their sum, at most 1), so that the rules over runs
    # of days have one coefficient a day
    worked: dict[int, list[tuple[pywraplp.Variable, int]]] = {}
    if one_a_day:
        for d, on in by_day.items():
            if len(on) == 1:
                worked[d] = [(x[on[0]], 1)]
            else:
                total = lp.solver.NumVar(0, 1, "")
                lp.row(0, 0, [(x[s], 1) for s in on] + [(total, -1)])
                worked[d] = [(total, 1)]
    elif limit is not None:
        for on in by_day.values():
            if len(on) > limit:
                lp.row(-inf, limit, [(x[s], 1) for s in on])

    # hours
    cap = rules.max_minutes_per_7_days
    if cap is not None:
        minutes: dict[int, list[tuple[pywraplp.Variable, int]]] = defaultdict(list)  # visits count
        for s, v in x.items():
            minutes[shifts[s].day].append((v, shifts[s].minutes))
        # every 7 days the checker looks at: from 6 days before the horizon, history as a constant (a
        # window the history alone fills leaves no room for any new work)
        for first in range(-(WEEK - 1), days - WEEK + 1):
            past = sum(history.day(d).minutes for d in range(first, 0))
            inside = [t for d in range(max(0, first), first + WEEK) for t in minutes.get(d, ())]
            if sum(c for _, c in inside) + past > cap:
                lp.row(-inf, cap - past if past <= cap else 0, inside)
    total = [(v, shifts[s].minutes) for s, v in x.items()]
    lower = -inf if rules.min_total_minutes is None else rules.min_total_minutes
    upper = inf if rules.max_total_minutes is None else rules.max_total_minutes
    if lower > -inf or upper < sum(c for _, c in total):
        lp.row(lower, upper, total)
    for kind, cap in rules.max_shifts_by_type.items():
        of_kind = [(v, 1) for s, v in x.items() if shifts[s].type == kind]
        if len(of_kind) > cap:
            lp.row(-inf, cap, of_kind)

    # weekends: a weekend worked is at least each of its shifts (each of its days, one shift a day)
    if rules.max_weekends is not None:
        weekends: dict[int, list[list[tuple[pywraplp.Variable, int]]]] = defaultdict(list)
        for d, on in by_day.items():
            if problem.is_weekend(d):
                groups = [worked[d]] if one_a_day else [[(x[s], 1)] for s in on]
                weekends[(problem.first_weekday + d) // WEEK].extend(groups)
        if len(weekends) > rules.max_weekends:
            taken = []
            for groups in weekends.values():
                weekend = lp.solver.NumVar(0, 1, "")
                taken.append((weekend, 1))
                for group in groups:
                    lp.row(-inf, 0, group + [(weekend, -1)])
            lp.row(-inf, rules.max_weekends, taken)
    if not one_a_day:
        return

    def day(d: int) -> list[tuple[pywraplp.Variable, int]]:
        return worked.get(d, [])

    if rules.max_consecutive_days is not None:
        k = rules.max_consecutive_days
        run = 0  # the days worked in a row up to day -1
        while run <= k and history.day(-run - 1).worked:
            run += 1
        # k + 1 days in a row, the run before the horizon included
        for first in range(-min(run, k), days - k):
            lp.row(-inf, k - max(0, -first), [t for d in range(max(0, first), first + k + 1) for t in day(d)])
    if rules.min_days_off_per_7 is not None:
        most = WEEK - rules.min_days_off_per_7
        for first in range(-(WEEK - 1), days - WEEK + 1):
            past = sum(1 for d in range(first, 0) if history.day(d).worked)
            week = [t for d in range(max(0, first), first + WEEK) for t in day(d)]
            lp.row(-inf, most - past if past <= most else 0, week)
    forbidden = problem.forbidden_successions
    if forbidden:
        before = history.day(-1).types
        for s in by_day.get(0, ()):
            if any((kind, shifts[s].type) in forbidden for kind in before):
                lp.row(-inf, 0, [(x[s], 1)])
        for d in range(days - 1):
            types = {shifts[s].type for s in by_day.get(d, ())}
            for kind in types:
                after = [(x[s], 1) for s in by_day.get(d + 1, ()) if (kind, shifts[s].type) in forbidden]
                if after:
                    lp.row(-inf, 1, [(x[s], 1) for s in by_day[d] if shifts[s].type == kind] + after)
    # a block of days on (off) that starts on day d >= 1 goes on for its shortest length, or to the
    # last day (the checker leaves blocks that touch either end of the horizon alone)
    shortest = rules.min_consecutive_days
    if shortest is not None and shortest > 1:
        for d in range(1, days):
            for j in range(1, shortest):
                if d + j <= days - 1:
                    # works d, not d - 1 -> works d + j
                    lp.row(-inf, 0, day(d) + _minus(day(d - 1)) + _minus(day(d + j)))
    shortest = rules.min_consecutive_days_off
    if shortest is not None and shortest > 1:
        for d in range(1, days):
            for j in range(1, shortest):
                if d + j <= days - 1:
                    # works d - 1, not d -> not d + j
                    lp.row(-inf, 1, day(d - 1) + _minus(day(d)) + day(d + j))


def _minus(terms: list[tuple[pywraplp.Variable, int]]) -> list[tuple[pywraplp.Variable, int]]:
    return [(v, -c) for v, c in terms]


def lp_bound(problem: Problem, time_limit: float, stop: threading.Event | None = None,
             solving: Callable[[pywraplp.Solver], None] | None = None) -> int | None:
    """A lower bound on the objective of every valid schedule (see the module), or None: no bound in
    ``time_limit`` seconds (or once ``stop`` is set), a problem too large, or rules no schedule can
    keep. ``solving`` is handed GLOP before it starts, so that it can be interrupted."""
    started = time.monotonic()
    if candidate_pairs(problem) > MAX_PAIRS:
        return None
    built = build(problem, deadline=started + time_limit, stop=stop)
    if built is None:
        return None
    lp, constant = built
    left = time_limit - (time.monotonic() - started)
    if left <= 0 or (stop is not None and stop.is_set()):
        return None
    lp.solver.SetTimeLimit(max(1, int(left * 1000)))
    if "PDLP" in lp.solver.SolverVersion():
        eps = f"eps_optimal_absolute: {PDLP_TOLERANCE} eps_optimal_relative: {PDLP_TOLERANCE}"
        stop_at = f"termination_criteria {{ simple_optimality_criteria {{ {eps} }} }}"
        lp.solver.SetSolverSpecificParametersAsString(stop_at)
    if solving is not None:
        solving(lp.solver)
    if lp.solver.Solve() != pywraplp.Solver.OPTIMAL:
        return None  # out of time, stopped, or infeasible: the rules contradict each other
    value = _dual_bound(lp) + constant
    return max(0, math.ceil(value - TOLERANCE * max(1.0, abs(value))))


def _dual_bound(lp: _LP) -> float:
    """The bound the LP's dual values prove, priced exactly from the rows as written (weak duality:
    any dual values give a bound, so one from a first-order solver's approximate optimum is as sound
    as the simplex's): each row's dual times its bound on the side it pushes, plus each variable's
    reduced cost at the end of its range that minimises it."""
    rows, columns = (np.asarray(a, dtype=np.int64) for a in lp.entries[:2])
    values = np.asarray(lp.entries[2], dtype=float)
    lower, upper = np.asarray(lp.lowers), np.asarray(lp.uppers)
    dual = np.array([ct.dual_value() for ct in lp.rows], dtype=float)
    # a dual pushing against a side the row does not have proves nothing: dropped
    dual = np.where(((dual > 0) & np.isfinite(lower)) | ((dual < 0) & np.isfinite(upper)), dual, 0.0)
    finite_lower = np.where(np.isfinite(lower), lower, 0.0)
    finite_upper = np.where(np.isfinite(upper), upper, 0.0)
    side = np.where(dual > 0, finite_lower, finite_upper)
    variables = lp.solver.variables()
    cost = np.zeros(len(variables))
    goal = lp.solver.Objective()
    low = np.empty(len(variables))
    high = np.empty(len(variables))
    for k, var in enumerate(variables):
        cost[k] = goal.GetCoefficient(var)
        low[k], high[k] = var.lb(), var.ub()
    reduced = cost - np.bincount(columns, weights=values * dual[rows], minlength=len(variables))
    return float(dual @ side + np.where(reduced > 0, reduced * low, reduced * high).sum())


class BoundInBackground:
    """:func:`lp_bound` in a thread, started at once. :meth:`result` waits at most ``timeout`` and then
    stops the thread (its bound comes too late), so nothing runs on after the call that wanted it."""

    def __init__(self, problem: Problem, time_limit: float) -> None:
        self._value: int | None = None
        self.seconds: float | None = None
        self._stop = threading.Event()
        self._solver: pywraplp.Solver | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._run, args=(problem, time_limit), daemon=True, name="rota-lp-bound"
        )
        self._thread.start()

    def _run(self, problem: Problem, time_limit: float) -> None:
        started = time.monotonic()
        self._value = lp_bound(problem, time_limit, self._stop, self._solving)
        self.seconds = time.monotonic() - started

    def _solving(self, solver: pywraplp.Solver) -> None:
        with self._lock:
            self._solver = solver
            if self._stop.is_set():
                solver.InterruptSolve()

    def result(self, timeout: float = 0.0) -> int | None:
        self._thread.join(max(0.0, timeout))
        if self._thread.is_alive():
            with self._lock:
                self._stop.set()
                if self._solver is not None:
                    self._solver.InterruptSolve()
            return None
        return self._value


def with_bound(solution: Solution, bound: int | None) -> Solution:
    """``solution`` with its bound raised to ``bound`` (never above its objective) and its gap."""
    if bound is None or not solution.has_schedule or not solution.objective:
        return solution
    own = solution.best_bound or 0
    if bound <= own:
        return dataclasses.replace(solution, stats={**solution.stats, "lp_bound": bound})
    lifted = dataclasses.replace(solution, best_bound=min(bound, solution.objective))
    stats = {**solution.stats, "lp_bound": bound, "gap": round(lifted.gap, 4)}
    return dataclasses.replace(lifted, stats=stats)
