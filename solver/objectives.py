"""Soft terms of the objective: each is one small function returning a linear expression (its raw,
unweighted value); ``build`` multiplies it by the weight of the same name in ``Problem.weights``.

``solver.validate.evaluate_terms`` computes the same values in plain Python, so the schedule can say
why it looks the way it does, term by term.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

from ortools.sat.python import cp_model

from solver.load import balanced, busy, history_load, idle, load_share, target_load
from solver.model import Model
from solver.problem import Intensity, Shift
from solver.validate import change_cost


def uncovered(m: Model) -> cp_model.LinearExprT:
    """People missing from shifts, times each shift's ``under_weight``."""
    total = []
    for s, shift in enumerate(m.shifts):
        variables = m.vars_of_shift(s)
        wanted = shift.required - m.fixed_count(s)
        if wanted <= 0:
            continue
        if shift.max_staff is not None and shift.max_staff <= shift.required:
            missing = wanted - sum(variables)  # exact: the cap keeps it >= 0
        else:
            missing = _at_least(m, wanted - sum(variables), wanted, f"missing[{shift.id}]")
        total.append(shift.under_weight * missing)
    return sum(total)


def skill_shortfall(m: Model) -> cp_model.LinearExprT:
    """People with a required skill missing from shifts."""
    total = []
    for s, shift in enumerate(m.shifts):
        for skill, need in sorted(shift.skills.items()):
            need -= m.fixed_count(s, skill)
            if need <= 0:
                continue
            skilled = [var for p, var in m.pairs_of_shift(s) if skill in m.people[p].skills]
            total.append(_at_least(m, need - sum(skilled), need, f"skill_short[{shift.id},{skill}]"))
    return sum(total)


def overstaffed(m: Model) -> cp_model.LinearExprT:
    """People beyond ``required`` on shifts without a hard cap, times each shift's ``over_weight``."""
    total = []
    for s, shift in enumerate(m.shifts):
        variables = m.vars_of_shift(s)
        fixed = m.fixed_count(s)
        most = fixed + len(variables)
        cap = most if shift.max_staff is None else min(shift.max_staff, most)
        if cap <= shift.required:
            continue
        extra = _at_least(
            m, fixed + sum(variables) - shift.required, cap - shift.required, f"extra[{shift.id}]"
        )
        total.append(shift.over_weight * extra)
    return sum(total)


@dataclass(frozen=True)
class _Load:
    """One balanced person's load (history included) as an expression, its upper bound, their wish
    in the same unit (0 = none) and, for a wish they can exceed, the literal "beyond the wish"."""

    expr: cp_model.LinearExprT
    upper: int
    target: int = 0
    over: cp_model.IntVar | None = None


def _loads(m: Model) -> list[_Load]:
    """Each balanced person's load in the unit of ``solver.load``: the sum of ``load_share`` of their
    shifts plus ``history_load``. Small integer coefficients keep the LP relaxation well scaled."""
    if "loads" in m.cache:
        return m.cache["loads"]
    loads = []
    for p, person in enumerate(m.people):
        if not balanced(m.problem, person) or not m.may_work_any(p, "any"):
            continue
        shares = {s: load_share(m.problem, person, m.shifts[s]) for s in m.assign[p]}
        base = history_load(m.problem, person) + sum(
            load_share(m.problem, person, m.shifts[s]) for s in m.fixed_shifts.get(p, ())
        )
        upper = base + sum(shares.values())
        work = m.linked([shares[s] * v for s, v in m.assign[p].items()], upper, f"load[{person.id}]")
        expr = base + work
        target = target_load(m.problem, person)
        if isinstance(expr, int) and expr > target:
            target = 0  # a constant beyond the wish (a person outside a neighbourhood) counts in full
        over = None
        if target and upper > target:
            over = m.new_derived(
                0, 1, f"over_target[{person.id}]", lambda ev, e=expr, t=target: int(ev(e) > t)
            )
            m.cp.add(expr <= target).only_enforce_if(over.Not())
            m.cp.add(expr >= target + 1).only_enforce_if(over)
        loads.append(_Load(expr, upper, target, over))
    m.cache["loads"] = loads
    return loads


def _busiest(m: Model, loads: list[_Load], name: str) -> cp_model.LinearExprT:
    """max over people of ``solver.load.busy``: a person below their wish does not count."""
    if not loads:
        return 0
    top = m.new_derived(
        0,
        max(x.upper for x in loads),
        name,
        lambda ev: max(busy(ev(x.expr), x.target) for x in loads),
    )
    for x in loads:
        if not x.target:
            m.cp.add(top >= x.expr)
        elif x.over is not None:
            m.cp.add(top >= x.expr).only_enforce_if(x.over)
    return top


def load_max(m: Model) -> cp_model.LinearExprT:
    """The busiest person's load: nobody works more than needed."""
    return _busiest(m, _loads(m), "load_max")


def load_spread(m: Model) -> cp_model.LinearExprT:
    """Busiest minus least loaded person (a person below their wish counts as at it): the load is
    shared."""
    loads = _loads(m)
    if len(loads) < 2:
        return 0
    high = _busiest(m, loads, "load_most")
    low = m.new_derived(
        0,
        max(x.upper for x in loads),
        "load_least",
        lambda ev: min([ev(high)] + [idle(ev(x.expr), x.target) for x in loads]),
    )
    m.cp.add(low <= high)
    for x in loads:
        if not x.target:
            m.cp.add(low <= x.expr)
        elif x.over is None:
            m.cp.add(low <= x.target)  # can never pass the wish: idle is the wish itself
        else:
            m.cp.add(low <= x.expr).only_enforce_if(x.over)
            m.cp.add(low <= x.target).only_enforce_if(x.over.Not())
    return high - low


def _counts(
    m: Model, counts: Callable[[Shift], bool], name: str, kind: str
) -> list[tuple[cp_model.LinearExprT, int]]:
    """Per person who can work at least one such shift: how many they work (and at most could)."""
    result = []
    for p in range(len(m.people)):
        if not m.may_work_any(p, kind):
            continue
        variables = [v for s, v in m.assign[p].items() if counts(m.shifts[s])]
        fixed = sum(1 for s in m.fixed_shifts.get(p, ()) if counts(m.shifts[s]))
        value = fixed + m.linked(variables, len(variables), f"{name}[{m.people[p].id}]")
        result.append((value, fixed + len(variables)))
    return result


def nights_spread(m: Model) -> cp_model.LinearExprT:
    """Most minus fewest night shifts among people who can work nights."""
    return _spread(m, _counts(m, lambda s: s.night, "nights", "night"), "nights")


def weekends_spread(m: Model) -> cp_model.LinearExprT:
    """Most minus fewest weekend shifts among people who can work weekends."""
    return _spread(m, _counts(m, lambda s: m.problem.is_weekend(s.day), "weekends", "weekend"), "weekends")


def heavy_spread(m: Model) -> cp_model.LinearExprT:
    """Most minus fewest heavy shifts among people who can work heavy posts."""
    return _spread(m, _counts(m, lambda s: s.intensity is Intensity.HEAVY, "heavy", "heavy"), "heavy")


def preference(m: Model) -> cp_model.LinearExprT:
    """Unwanted shifts worked plus wanted shifts not worked, by their weights."""
    index = m.shift_index
    total = []
    for p, person in enumerate(m.people):
        for shift_id, weight in sorted(person.avoids.items()):
            total.append(weight * m.worked(p, index.get(shift_id, -1)))
        for shift_id, weight in sorted(person.wants.items()):
            total.append(weight * (1 - m.worked(p, index.get(shift_id, -1))))
    return sum(total)


def isolated_day_off(m: Model) -> cp_model.LinearExprT:
    """Single days off between two working days (on-off-on): no real rest."""
    return _patterns(m, (1, 0, 1), "isolated_day_off")


def isolated_work_day(m: Model) -> cp_model.LinearExprT:
    """Single working days between days off (off-on-off): a broken rhythm."""
    return _patterns(m, (0, 1, 0), "isolated_work_day")


def change(m: Model) -> cp_model.LinearExprT:
    """Changes against the previous schedule, costlier the closer they are to the cut-off."""
    problem = m.problem
    if not problem.reference and problem.freeze_before is None:
        return 0
    cutoff = problem.freeze_before
    total = []
    for p, person in enumerate(m.people):
        for s, var in m.assign[p].items():
            shift = m.shifts[s]
            if cutoff is not None and shift.start < cutoff:
                continue
            if not person.may_work(shift.id):
                continue
            cost = change_cost(problem, shift)
            total.append(cost * (1 - var) if (person.id, shift.id) in problem.reference else cost * var)
    # the pairs without a variable are constants: a shift of the previous schedule nobody may put the
    # person back on, a shift fixed outside a neighbourhood that the previous schedule did not have
    index = m.shift_index
    people = {person.id: p for p, person in enumerate(m.people)}
    reference = {
        (people[pid], index[sid]) for pid, sid in problem.reference if pid in people and sid in index
    }
    for p, s in reference ^ m.fixed_pairs:
        shift, person = m.shifts[s], m.people[p]
        if s in m.assign[p] or not person.may_work(shift.id) or (cutoff is not None and shift.start < cutoff):
            continue
        total.append(change_cost(problem, shift))
    return sum(total)


def partners(m: Model) -> cp_model.LinearExprT:
    """Distinct pairs of people who share at least one shift: fewer pairs means stable teams (the same
    partners shift after shift), so the contacts of someone who falls ill are few."""
    met: dict[tuple[int, int], cp_model.IntVar] = {}
    ways: dict[tuple[int, int], list[cp_model.LinearExprT]] = {}  # what makes each pair meet
    constant: set[tuple[int, int]] = set()  # pairs that meet on shifts fixed outside a neighbourhood

    def pair(p: int, q: int) -> tuple[tuple[int, int], cp_model.IntVar]:
        key = (min(p, q), max(p, q))
        if key not in met:
            a, b = m.people[key[0]].id, m.people[key[1]].id
            var = m.cp.new_bool_var(f"partners[{a},{b}]")
            conditions = ways[key] = []
            m.derived.append((var, lambda ev, xs=conditions: int(any(ev(x) > 0 for x in xs))))
            met[key] = var
        return key, met[key]

    for s, shift in enumerate(m.shifts):
        free = m.pairs_of_shift(s)
        fixed = m.fixed_on_shift.get(s, [])
        if len(free) + len(fixed) < 2 or (shift.max_staff is not None and shift.max_staff < 2):
            continue
        for (p, x), (q, y) in combinations(free, 2):
            key, var = pair(p, q)
            m.cp.add_bool_or([x.Not(), y.Not(), var])  # both on the shift -> they are partners
            ways[key].append(x + y - 1)
        for f in fixed:
            for q, y in free:
                key, var = pair(f, q)
                m.cp.add_implication(y, var)
                ways[key].append(y)
        constant |= {(min(f, g), max(f, g)) for f, g in combinations(fixed, 2)}
    return len(constant) + sum(var for key, var in met.items() if key not in constant)


SOFT_TERMS: dict[str, Callable[[Model], cp_model.LinearExprT]] = {
    "uncovered": uncovered,
    "skill_shortfall": skill_shortfall,
    "overstaffed": overstaffed,
    "load_max": load_max,
    "load_spread": load_spread,
    "nights_spread": nights_spread,
    "weekends_spread": weekends_spread,
    "heavy_spread": heavy_spread,
    "preference": preference,
    "isolated_day_off": isolated_day_off,
    "isolated_work_day": isolated_work_day,
    "change": change,
    "partners": partners,
}


# --- helpers ---------------------------------------------------------------------------------------


def _at_least(m: Model, expr: cp_model.LinearExprT, upper: int, name: str) -> cp_model.IntVar:
    """A variable in [0, upper] that is at least ``expr``: max(0, expr) once minimised."""
    var = m.new_derived(0, upper, name, lambda ev: max(0, ev(expr)))
    m.cp.add(var >= expr)
    return var


def _max_of(m: Model, values: list[tuple[cp_model.LinearExprT, int]], name: str) -> cp_model.LinearExprT:
    """max(values), exact at the optimum; ``values`` are (expression, upper bound) pairs."""
    if not values:
        return 0
    exprs = [v for v, _ in values]
    top = m.new_derived(0, max(ub for _, ub in values), name, lambda ev: max(ev(v) for v in exprs))
    for v, _ in values:
        m.cp.add(top >= v)
    return top


def _spread(m: Model, values: list[tuple[cp_model.LinearExprT, int]], name: str) -> cp_model.LinearExprT:
    """max(values) - min(values), exact at the optimum (both ends are pushed by the objective)."""
    if len(values) < 2:
        return 0
    upper = max(ub for _, ub in values)
    exprs = [v for v, _ in values]
    high = m.new_derived(0, upper, f"{name}_most", lambda ev: max(ev(v) for v in exprs))
    low = m.new_derived(0, upper, f"{name}_least", lambda ev: min(ev(v) for v in exprs))
    for v, _ in values:
        m.cp.add(high >= v)
        m.cp.add(low <= v)
    return high - low


def _patterns(m: Model, pattern: tuple[int, int, int], name: str) -> cp_model.LinearExprT:
    """Count days d in 0..days-2 where (works[d-1], works[d], works[d+1]) equals the pattern."""
    total = []
    for p, person in enumerate(m.people):
        if not m.assign[p] and p not in m.fixed_shifts:
            continue  # works no day
        for d in range(m.problem.days - 1):
            window = [m.works(p, d - 1), m.works(p, d), m.works(p, d + 1)]
            matching = [w if bit else 1 - w for w, bit in zip(window, pattern, strict=True)]
            if any(isinstance(x, int) and x == 0 for x in matching):
                continue
            if all(isinstance(x, int) for x in matching):
                total.append(1)
                continue
            hit = m.new_derived(
                0, 1, f"{name}[{person.id},d{d}]", lambda ev, xs=matching: min(ev(x) for x in xs)
            )
            m.cp.add(hit >= sum(matching) - (len(matching) - 1))  # all three match -> hit
            total.append(hit)
    return sum(total)
