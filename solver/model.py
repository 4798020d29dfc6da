"""The CP-SAT model: variables and the day-level views the rules and objective terms are written on.

Reading order, as in the OR-Tools examples: :func:`build` creates the decision variables (one Boolean
per person and shift they may work), then adds every hard rule of ``solver.rules`` and states the
objective as the weighted sum of the terms in ``solver.objectives``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property

from ortools.sat.python import cp_model

from solver.problem import Intensity, Person, Problem, Shift

Literal = cp_model.IntVar | int  # a Boolean variable or a constant 0/1


@dataclass
class Model:
    """A CP-SAT model of one problem, with indexed access to its decision variables."""

    problem: Problem
    cp: cp_model.CpModel
    # assign[p][s]: person p works shift s (only for pairs that are allowed at all)
    assign: list[dict[int, cp_model.IntVar]]
    # the shifts of each day, by index
    shifts_on_day: list[list[int]]
    # by_shift[s]: (person index, variable) of everyone who may work shift s
    by_shift: list[list[tuple[int, cp_model.IntVar]]]
    _works: dict[tuple[int, int], Literal] = field(default_factory=dict)
    _nights: dict[tuple[int, int], Literal] = field(default_factory=dict)
    _heavy: dict[tuple[int, int], Literal] = field(default_factory=dict)
    _fixed_days: dict[int, dict[int, list[Shift]]] = field(default_factory=dict)  # p -> day -> fixed shifts
    _minutes: dict[tuple[int, int], cp_model.LinearExprT] = field(default_factory=dict)
    skipped: frozenset[str] = frozenset()  # rules and terms left out (tests only)
    # In a neighbourhood, people outside it are constants: the shifts they keep, by person and by shift
    fixed_shifts: dict[int, list[int]] = field(default_factory=dict)
    fixed_on_shift: dict[int, list[int]] = field(default_factory=dict)
    terms: dict[str, cp_model.LinearExprT] = field(default_factory=dict)
    cache: dict[str, object] = field(default_factory=dict)  # shared sub-expressions of the terms
    # auxiliary variables with the rule that gives their value from the decisions (in creation order),
    # so a hint on the decisions can be completed into a full solution
    derived: list[tuple[cp_model.IntVar, Callable[[Callable], int]]] = field(default_factory=list)

    @property
    def people(self) -> tuple[Person, ...]:
        return self.problem.people

    @property
    def shifts(self) -> tuple[Shift, ...]:
        return self.problem.shifts

    def new_derived(self, lb: int, ub: int, name: str, value: Callable[[Callable], int]) -> cp_model.IntVar:
        """An auxiliary variable whose value in any sensible solution is ``value(evaluate)``, where
        ``evaluate(expr)`` gives the value of an expression of earlier variables."""
        var = self.cp.new_int_var(lb, ub, name)
        self.derived.append((var, value))
        return var

    def complete(self, decisions: dict[int, int]) -> dict[int, int]:
        """Values of every variable, given the decision variables' values (by variable index)."""
        values = dict(decisions)

        def evaluate(expr) -> int:
            if isinstance(expr, int):
                return expr
            flat = cp_model.cmh.FlatIntExpr(expr)
            return flat.offset + sum(c * values[v.index] for v, c in zip(flat.vars, flat.coeffs, strict=True))

        for var, value in self.derived:
            domain = list(var.proto.domain)  # (the proto container mishandles negative indices)
            lb, ub = domain[0], domain[-1]
            values[var.index] = min(ub, max(lb, value(evaluate)))
        return values

    def weighted(self, names: Iterable[str] | None = None) -> cp_model.LinearExprT:
        """The weighted sum of the given terms (all by default)."""
        chosen = self.terms if names is None else [n for n in names if n in self.terms]
        return sum(getattr(self.problem.weights, n) * self.terms[n] for n in chosen)

    def fixed_count(self, s: int, skill: str | None = None) -> int:
        """People fixed on shift s (with the given skill), outside the neighbourhood."""
        people = self.fixed_on_shift.get(s, ())
        if skill is None:
            return len(people)
        return sum(1 for p in people if skill in self.people[p].skills)

    def may_work_any(self, p: int, kind: str) -> bool:
        """Can person p work at least one shift of a kind ("any", "night", "weekend", "heavy") at all?
        The checker decides who is in each fairness pool the same way."""
        return kind in fairness_pools(self.problem)[p]

    def vars_of_shift(self, s: int) -> list[cp_model.IntVar]:
        return [var for _, var in self.by_shift[s]]

    def pairs_of_shift(self, s: int) -> list[tuple[int, cp_model.IntVar]]:
        return self.by_shift[s]

    def vars_on_day(self, p: int, day: int) -> list[cp_model.IntVar]:
        """Person p's shifts that start on the day and make it a working day: not the short visits
        (``Shift.visit``), which never make a working day, a night or a heavy day on their own."""
        a = self.assign[p]
        return [a[s] for s in self.shifts_on_day[day] if s in a and not self.shifts[s].visit]

    def works(self, p: int, day: int) -> Literal:
        """1 if person p works on the given day; history days (< 0) are constants."""
        if day < 0:
            return int(self.people[p].history.day(day).worked)
        key = (p, day)
        if not self.assign[p]:
            return self._fixed_day(p, day, lambda shift: True)
        if key not in self._works:
            self._works[key] = self.same_day_any(
                p, self.vars_on_day(p, day), f"works[{self.people[p].id},d{day}]"
            )
        return self._works[key]

    def night(self, p: int, day: int) -> Literal:
        """1 if person p works a night shift starting on the given day."""
        if day < 0:
            return int(self.people[p].history.day(day).night)
        key = (p, day)
        if not self.assign[p]:
            return self._fixed_day(p, day, lambda shift: shift.night)
        if key not in self._nights:
            a = self.assign[p]
            nights = [
                a[s]
                for s in self.shifts_on_day[day]
                if s in a and self.shifts[s].night and not self.shifts[s].visit
            ]
            self._nights[key] = self.same_day_any(p, nights, f"night[{self.people[p].id},d{day}]")
        return self._nights[key]

    def heavy(self, p: int, day: int) -> Literal:
        """1 if person p works a heavy shift starting on the given day."""
        if day < 0:
            return int(self.people[p].history.day(day).heavy)
        key = (p, day)
        if not self.assign[p]:
            return self._fixed_day(p, day, lambda shift: shift.intensity is Intensity.HEAVY)
        if key not in self._heavy:
            a = self.assign[p]
            heavy = [
                a[s]
                for s in self.shifts_on_day[day]
                if s in a and self.shifts[s].intensity is Intensity.HEAVY and not self.shifts[s].visit
            ]
            self._heavy[key] = self.same_day_any(p, heavy, f"heavy[{self.people[p].id},d{day}]")
        return self._heavy[key]

    @cached_property
    def shift_index(self) -> dict[str, int]:
        """Shift id -> its index in ``shifts``."""
        return {shift.id: s for s, shift in enumerate(self.shifts)}

    @cached_property
    def fixed_pairs(self) -> frozenset[tuple[int, int]]:
        """(person, shift) indexes fixed as constants outside a neighbourhood."""
        return frozenset((p, s) for p, shifts in self.fixed_shifts.items() for s in shifts)

    def worked(self, p: int, s: int) -> Literal:
        """Person p works shift s: their variable, or the constant of a shift fixed outside a
        neighbourhood (1) or of one they cannot be put on (0)."""
        var = self.assign[p].get(s)
        return var if var is not None else int((p, s) in self.fixed_pairs)

    def _fixed_day(self, p: int, day: int, counts) -> int:
        """1 if person p, outside a neighbourhood (no variables, only the constants of their fixed
        shifts), works a shift that ``counts`` on the day (visits never make a day on their own)."""
        if p not in self._fixed_days:
            by_day: dict[int, list[Shift]] = {}
            for s in self.fixed_shifts.get(p, ()):
                if not self.shifts[s].visit:
                    by_day.setdefault(self.shifts[s].day, []).append(self.shifts[s])
            self._fixed_days[p] = by_day
        return int(any(counts(shift) for shift in self._fixed_days[p].get(day, ())))

    def day_minutes(self, p: int, day: int) -> cp_model.LinearExprT:
        """Minutes person p works in shifts starting on the given (horizon) day."""
        key = (p, day)
        if key not in self._minutes:
            a = self.assign[p]
            terms = [(self.shifts[s].minutes, a[s]) for s in self.shifts_on_day[day] if s in a]
            self._minutes[key] = self.linked(
                [c * v for c, v in terms], sum(c for c, _ in terms), f"minutes[{self.people[p].id},d{day}]"
            )
        return self._minutes[key]

    def linked(self, terms: list, upper: int, name: str) -> cp_model.LinearExprT:
        """An integer variable equal to sum(terms), so that the many constraints that use the sum refer
        to one variable instead of repeating every term (a much smaller model)."""
        if len(terms) <= 1:
            return sum(terms)
        total = sum(terms)
        var = self.new_derived(0, upper, name, lambda ev: ev(total))
        self.cp.add(var == total)
        return var

    def same_day_any(self, p: int, variables: list[cp_model.IntVar], name: str) -> Literal:
        """OR of shifts of one person on one day. Where the person works at most one shift a day the OR
        is the sum, held by one linking equality (which itself enforces "at most one")."""
        if len(variables) <= 1:
            return variables[0] if variables else 0
        if self.people[p].rules.max_shifts_per_day <= 1 and "max_shifts_per_day" not in self.skipped:
            return self.linked(list(variables), 1, name)
        return self._any(variables, name)

    def any_of(self, literals: Iterable[Literal], name: str) -> Literal:
        return self._any(list(literals), name)

    def _any(self, literals: list, name: str) -> Literal:
        """A 0/1 value equal to the OR of the given 0/1 expressions (no new variable for 0 or 1 of them)."""
        variables = [v for v in literals if not isinstance(v, int)]
        if any(isinstance(v, int) and v for v in literals):
            return 1
        if not variables:
            return 0
        if len(variables) == 1:
            return variables[0]
        y = self.new_derived(0, 1, name, lambda ev: max(ev(v) for v in variables))
        for v in variables:
            self.cp.add(y >= v)
        self.cp.add(y <= sum(variables))
        return y




_POOLS: dict[int, tuple[object, list[set[str]]]] = {}


def fairness_pools(problem: Problem) -> list[set[str]]:
    """Per person, the kinds of shift they may work at least one of; cached per people and shifts (a
    neighbourhood search builds many models of the same problem)."""
    key = id(problem.people) ^ id(problem.shifts)
    cached = _POOLS.get(key)
    if cached is not None and cached[0][0] is problem.people and cached[0][1] is problem.shifts:
        return cached[1]
    kinds_of = []
    for shift in problem.shifts:
        kinds = {"any"}
        if shift.night:
            kinds.add("night")
        if problem.is_weekend(shift.day):
            kinds.add("weekend")
        if shift.intensity is Intensity.HEAVY:
            kinds.add("heavy")
        kinds_of.append((shift.id, kinds))
    pools = []
    for person in problem.people:
        found: set[str] = set()
        for shift_id, kinds in kinds_of:
            if not kinds <= found and person.may_work(shift_id):
                found |= kinds
        pools.append(found)
    if len(_POOLS) > 8:
        _POOLS.clear()
    _POOLS[key] = ((problem.people, problem.shifts), pools)
    return pools


def forced_pairs(problem: Problem) -> set[tuple[str, str]]:
    """Pairs that must be modelled even if the person may not work the shift now: pins (an impossible
    pin then makes the model infeasible, which is reported) and the frozen past of a re-solve."""
    forced = set(problem.pinned)
    if problem.freeze_before is not None:
        frozen = {s.id for s in problem.shifts if s.start < problem.freeze_before}
        forced |= {(p, s) for p, s in problem.reference if s in frozen}
    return forced


def group_by(items: Iterable, key) -> dict:
    groups = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return groups
