"""One CP-SAT search: build the model (or a neighbourhood of it), search, read the schedule back.

:func:`solve_model` starts from ``options.hint`` or the problem's reference schedule; the entry point
:func:`solver.solve.solve` gives it a greedy start when there is neither."""

from __future__ import annotations

import threading
import time
from collections.abc import Collection, Iterable, Mapping

from ortools.sat.python import cp_model

from solver import validate
from solver.build import build
from solver.model import Model
from solver.objectives import SOFT_TERMS
from solver.options import OutOfTime, Progress, SolveOptions, strong_lp_affordable
from solver.problem import Problem, Solution, Status, Term

_STATUS = {
    cp_model.OPTIMAL: Status.OPTIMAL,
    cp_model.FEASIBLE: Status.FEASIBLE,
    cp_model.INFEASIBLE: Status.INFEASIBLE,
}


COVERAGE_TERMS = ("uncovered", "skill_shortfall")






def solve_model(
    problem: Problem,
    options: SolveOptions | None = None,
    *,
    skip: tuple[str, ...] = (),
    candidates: Mapping[str, Collection[str]] | None = None,
    fixed: Collection[tuple[str, str]] = (),
) -> Solution:
    """Solve the problem as one CP-SAT model (or, with ``candidates`` and ``fixed``, one neighbourhood
    of it: the fixed pairs are part of the returned schedule).

    With ``coverage_first`` the search runs in two phases: first only the coverage terms (staff every
    slot that can be staffed), then the whole objective with coverage held at least as good. Each
    phase starts from the best schedule known so far.
    """
    options = options or SolveOptions()
    started = time.monotonic()
    deadline = options.deadline_from(started)
    limits = {"deadline": deadline, "stop": options.stop}  # model building stops at either
    watcher = _Watcher(options, started)
    hint = _initial_hint(problem, options)
    stats: dict[str, int | float | str | bool] = {}
    weighted = [n for n in SOFT_TERMS if getattr(problem.weights, n) and n not in skip]
    coverage = [n for n in COVERAGE_TERMS if n in weighted]
    settled: tuple[str, int] | None = None  # ("==" or "<=", value) for the coverage terms

    phases = options.coverage_first if options.coverage_first is not None else _coverage_dominates(problem)
    if phases and coverage and len(coverage) < len(weighted):
        # Phase 1: a model with the coverage terms only (smaller, so faster to presolve and search).
        watcher.phase = "coverage"
        others = tuple(n for n in SOFT_TERMS if n not in COVERAGE_TERMS)
        try:
            skipped = (*skip, *others)
            model = build(problem, skip=skipped, candidates=candidates, fixed=fixed, **limits)
        except OutOfTime as out:
            return _out_of_time(watcher, stats, out)
        share = (deadline - started) * options.coverage_share
        budget = max(0.01, min(share, deadline - time.monotonic()))
        solver, code = _search(model, options, watcher, hint, budget, stats, candidates is None)
        first = (model, solver, code)
        stats["coverage_phase_seconds"] = round(solver.wall_time, 3)
        stats["coverage_phase_status"] = _STATUS.get(code, Status.NO_SOLUTION).value
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            settled = ("==" if code == cp_model.OPTIMAL else "<=", round(solver.objective_value))
            hint = set(_assignments(model, solver)) | set(fixed)
        elif code == cp_model.INFEASIBLE or _stopped(options):
            return _finish(problem, model, solver, code, watcher, stats, fixed)
        watcher.phase = "balance"

    # Phase 2 (or the only one): the whole objective, coverage held at least as good as phase 1's.
    began = time.monotonic()
    try:
        model = build(problem, skip=skip, candidates=candidates, fixed=fixed, **limits)
    except OutOfTime as out:
        if settled is not None:  # phase 1's schedule, scored on the whole objective by the checker
            stats["out_of_time"] = str(out)
            return _finish(problem, *first, watcher, stats, fixed)
        return _out_of_time(watcher, stats, out)
    stats.update(
        build_seconds=round(time.monotonic() - began, 3),
        variables=len(model.cp.proto.variables),
        constraints=len(model.cp.proto.constraints),
    )
    if settled is not None:
        relation, best = settled
        held = model.weighted(coverage)
        if relation == "==":
            # coverage is settled: hold it and leave it out of the objective (a cleaner bound)
            model.cp.add(held == best).with_name("coverage_kept")
            model.cp.minimize(model.weighted([n for n in model.terms if n not in coverage]) + best)
        else:
            model.cp.add(held <= best).with_name("coverage_kept")
    budget = max(0.01, deadline - time.monotonic())
    solver, code = _search(model, options, watcher, hint, budget, stats, candidates is None)
    return _finish(problem, model, solver, code, watcher, stats, fixed)


DOMINANCE = 100  # coverage goes first only if it outweighs every other weight this many times


def _coverage_dominates(problem: Problem) -> bool:
    """Is the weighted objective in effect lexicographic, coverage first? Only then may the search
    settle coverage before the rest without changing what "best" means."""
    w = problem.weights
    smallest = min(
        [w.uncovered * s.under_weight for s in problem.shifts if s.required and w.uncovered]
        + [w.skill_shortfall for s in problem.shifts if s.skills and w.skill_shortfall],
        default=0,
    )
    wishes = [v for p in problem.people for v in (*p.wants.values(), *p.avoids.values())]
    others = [getattr(w, name) for name in SOFT_TERMS if name not in (*COVERAGE_TERMS, "preference")]
    most_other = max([*others, w.preference * max(wishes, default=1)])
    return smallest >= DOMINANCE * max(1, most_other)




def _search(
    model: Model,
    options: SolveOptions,
    watcher: _Watcher,
    hint: set[tuple[str, str]] | Iterable[tuple[str, str]] | None,
    budget: float,
    stats: dict,
    whole: bool,
) -> tuple[cp_model.CpSolver, int]:
    _set_hint(model, hint)
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.max_time_in_seconds = budget
    params.num_workers = options.workers
    params.random_seed = options.seed
    params.log_search_progress = options.log_search
    if options.workers == 1:
        params.interleave_search = False
    portfolio = _portfolio(model, options, whole)
    stats["portfolio"] = portfolio
    if portfolio == "max_lp":
        params.extra_subsolvers.append("max_lp")
    for name, value in options.parameters.items():
        if isinstance(value, list | tuple):  # repeated fields, e.g. subsolvers
            field = getattr(params, name)
            field.clear()
            field.extend(value)
        else:
            setattr(params, name, value)
    solver.best_bound_callback = watcher.on_bound
    watcher.attach(solver)
    stopper = _stop_when_set(solver, options.stop)
    try:
        code = solver.solve(model.cp, watcher)
    finally:
        if stopper is not None:
            stopper.set()
    if code == cp_model.MODEL_INVALID:
        raise RuntimeError(f"internal error: invalid CP-SAT model: {model.cp.validate()}")
    return solver, code


def _out_of_time(watcher: _Watcher, stats: dict, out: OutOfTime) -> Solution:
    stats["out_of_time"] = str(out)
    wall_time = time.monotonic() - watcher.started
    status = Status.CANCELLED if _stopped(watcher.options) else Status.NO_SOLUTION
    stats["cancelled"] = _stopped(watcher.options)
    return Solution(status=status, wall_time=wall_time, stats=stats)


def _portfolio(model: Model, options: SolveOptions, whole: bool) -> str:
    """Which worker portfolio this model is searched with (see ``SolveOptions.portfolio``)."""
    if "extra_subsolvers" in options.parameters:
        return "parameters"
    if options.portfolio != "auto":
        return options.portfolio
    pairs = sum(len(row) for row in model.assign)
    strong = whole and strong_lp_affordable(pairs, options.time_limit, options.workers)
    return "max_lp" if strong else "default"


def _stopped(options: SolveOptions) -> bool:
    return options.stop is not None and options.stop.is_set()


def _finish(
    problem: Problem,
    model: Model,
    solver: cp_model.CpSolver,
    code: int,
    watcher: _Watcher,
    stats: dict,
    fixed: Collection[tuple[str, str]] = (),
) -> Solution:
    status = _STATUS.get(code)
    cancelled = _stopped(watcher.options)
    if status is None:
        status = Status.CANCELLED if cancelled else Status.NO_SOLUTION
    stats.update(branches=solver.num_branches, conflicts=solver.num_conflicts, cancelled=cancelled)
    wall_time = time.monotonic() - watcher.started
    if status not in (Status.OPTIMAL, Status.FEASIBLE):
        return Solution(status=status, wall_time=wall_time, stats=stats)
    assignments = _assignments(model, solver) + tuple(fixed)
    terms = validate.evaluate_terms(problem, assignments)
    # The schedule's true objective, computed by the independent checker: the model's auxiliary
    # variables (spreads, patterns) are only exact at the optimum, so its own value may be higher.
    true_objective = sum(value * getattr(problem.weights, name) for name, value in terms.items())
    stats["model_objective"] = round(solver.objective_value)
    bound = max(0.0, solver.best_objective_bound)  # every term is non-negative
    stats["gap"] = round(max(0.0, (true_objective - bound) / true_objective), 4) if true_objective else 0.0
    return Solution(
        status=status,
        assignments=assignments,
        uncovered=tuple(validate.expected_shortfalls(problem, assignments)),
        objective=true_objective,
        best_bound=bound,
        wall_time=wall_time,
        first_solution_time=watcher.first_solution_time,
        terms=tuple(Term(name, value, getattr(problem.weights, name)) for name, value in terms.items()),
        stats=stats,
    )


def _assignments(model: Model, solver: cp_model.CpSolver) -> tuple[tuple[str, str], ...]:
    result = []
    for p, row in enumerate(model.assign):
        person = model.people[p].id
        for s, var in row.items():
            if solver.boolean_value(var):
                result.append((person, model.shifts[s].id))
    return tuple(result)


def _set_hint(model: Model, hint: Iterable[tuple[str, str]] | None) -> None:
    """Start the search from the given schedule (every decision variable gets a value)."""
    model.cp.clear_hints()
    if not hint:
        return
    chosen = set(hint)
    decisions = {
        var.index: int((model.people[p].id, model.shifts[s].id) in chosen)
        for p, row in enumerate(model.assign)
        for s, var in row.items()
    }
    values = model.complete(decisions)
    proto = model.cp.proto
    for index, value in sorted(values.items()):
        proto.solution_hint.vars.append(index)
        proto.solution_hint.values.append(value)


class _Watcher(cp_model.CpSolverSolutionCallback):
    """Reports progress on every improving solution and bound across phases, and stops on request."""

    def __init__(self, options: SolveOptions, started: float):
        super().__init__()
        self.options = options
        self.started = started
        self.phase = ""
        self._objective: float | None = None
        self._bound: float | None = None
        self._solutions = 0
        self._lock = threading.Lock()
        self.first_solution_time: float | None = None

    def attach(self, solver: cp_model.CpSolver) -> None:
        """A new phase: its objective is not comparable with the previous one's."""
        with self._lock:
            self._objective = None
            self._bound = None

    def on_solution_callback(self) -> None:
        with self._lock:
            self._solutions += 1
            if self.first_solution_time is None:
                self.first_solution_time = time.monotonic() - self.started
            self._objective = self.objective_value
            self._bound = self.best_objective_bound
        self._report()
        if _stopped(self.options):
            self.stop_search()

    def on_bound(self, bound: float) -> None:
        with self._lock:
            self._bound = bound
        self._report()

    def _report(self) -> None:
        if self.options.on_progress is None:
            return
        with self._lock:
            progress = Progress(
                elapsed=time.monotonic() - self.started,
                objective=self._objective,
                bound=self._bound,
                solutions=self._solutions,
                phase=self.phase,
            )
        self.options.on_progress(progress)


def _stop_when_set(solver: cp_model.CpSolver, stop: threading.Event | None) -> threading.Event | None:
    """Stop the search as soon as ``stop`` is set, even between solutions. Returns an event that ends
    the watching thread."""
    if stop is None:
        return None
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if stop.wait(0.1):
                solver.stop_search()
                return

    threading.Thread(target=watch, name="rota-stop-watch", daemon=True).start()
    return done


def _initial_hint(problem: Problem, options: SolveOptions) -> set[tuple[str, str]] | None:
    if options.hint is not None:
        return set(options.hint)
    if problem.reference:
        return set(problem.reference)
    return None
