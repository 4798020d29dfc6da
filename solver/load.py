"""How much of a person's sustainable capacity a shift uses: the unit of the burnout load terms.

Load is measured in per mille of the person's capacity over the planning window (history included).
Each shift contributes its minutes times its intensity factor (percent: light, normal, heavy, plus a
night supplement), divided by the capacity and rounded to the nearest per mille. Keeping these
coefficients small integers keeps the CP-SAT model well scaled; the plain-Python checker uses the
same two functions, so both sides agree to the unit.
"""

from __future__ import annotations

from solver.problem import Person, Problem, Shift

PER_MILLE = 1000
PERCENT = 100


def _per_mille(weighted_minutes_percent: int, capacity: int) -> int:
    """round(weighted / 100 / capacity * 1000), halves up, in integers."""
    scaled = weighted_minutes_percent * (PER_MILLE // PERCENT)
    return (2 * scaled + capacity) // (2 * capacity)


def load_share(problem: Problem, person: Person, shift: Shift) -> int:
    """Per mille of ``person``'s capacity that working ``shift`` uses."""
    return _per_mille(shift.minutes * problem.weights.intensity_percent(shift), person.capacity_minutes)


HISTORY_DAYS = 7  # the load counts the last week before the horizon, as the capacity does


def history_load(problem: Problem, person: Person) -> int:
    """Per mille of ``person``'s capacity already used in the week before the horizon."""
    minutes = sum(person.history.day(d).minutes for d in range(-HISTORY_DAYS, 0))
    return _per_mille(minutes * problem.weights.normal_percent, person.capacity_minutes)


def load(problem: Problem, person: Person, shifts) -> int:
    """A person's load: history plus the shares of the given shifts (0 without a capacity)."""
    if person.capacity_minutes <= 0:
        return 0
    return history_load(problem, person) + sum(load_share(problem, person, s) for s in shifts)
