"""The unit of the load terms (``load_max``, ``load_spread``): how much a shift wears a person out.

Each shift contributes its minutes times its intensity factor (percent: light, normal, heavy, plus a
night supplement); the last week before the horizon counts at the normal factor. What the sum is
measured against depends on ``Problem.load_measure``:

* ``hours`` (the default): tenths of weighted hours, each shift rounded to the nearest tenth. The
  load terms then make the busiest person's hours as low as the rules allow, then the spread: a
  declared weekly maximum is a limit, not a wish.
* ``capacity``: per mille of the person's sustainable capacity over the window (their weekly cap
  times (7 + available days) / 7), so people who declare more are given proportionally more.

A person may state a wish for more hours (``Person.target_minutes``, over the same window): up to
it they count as neither busy (for the maximum) nor idle (for the spread), so the objective gives
them work up to their target before it spreads the rest. :func:`busy` and :func:`idle` state that.

Keeping the coefficients small integers keeps the CP-SAT model well scaled; the plain-Python checker
uses the same functions, so both sides agree to the unit.
"""

from __future__ import annotations

from solver.problem import LoadMeasure, Person, Problem, Shift

PER_MILLE = 1000
PERCENT = 100
MINUTES_PER_UNIT = 6  # hours measure: tenths of an hour


def _units(problem: Problem, person: Person, weighted_minutes_percent: int) -> int:
    """Weighted minutes (times percent) in the problem's load unit, rounded half up, in integers."""
    if problem.load_measure is LoadMeasure.CAPACITY:
        scaled = weighted_minutes_percent * (PER_MILLE // PERCENT)
        capacity = person.capacity_minutes
        return (2 * scaled + capacity) // (2 * capacity)
    divisor = PERCENT * MINUTES_PER_UNIT
    return (2 * weighted_minutes_percent + divisor) // (2 * divisor)


def balanced(problem: Problem, person: Person) -> bool:
    """Whether the person takes part in the load terms at all (if they may work any shift): in the
    capacity measure only people with a capacity do."""
    return problem.load_measure is not LoadMeasure.CAPACITY or person.capacity_minutes > 0


def load_share(problem: Problem, person: Person, shift: Shift) -> int:
    """The load working ``shift`` adds for ``person``."""
    return _units(problem, person, shift.minutes * problem.weights.intensity_percent(shift))


HISTORY_DAYS = 7  # the load counts the last week before the horizon, as the capacity does


def history_load(problem: Problem, person: Person) -> int:
    """The load ``person`` already carries from the week before the horizon."""
    minutes = sum(person.history.day(d).minutes for d in range(-HISTORY_DAYS, 0))
    return _units(problem, person, minutes * problem.weights.normal_percent)


def target_load(problem: Problem, person: Person) -> int:
    """The person's wish (``target_minutes`` at the normal factor) in the load unit; 0 for none."""
    if person.target_minutes <= 0 or not balanced(problem, person):
        return 0
    return _units(problem, person, person.target_minutes * problem.weights.normal_percent)


def load(problem: Problem, person: Person, shifts) -> int:
    """A person's load: history plus the shares of the given shifts (0 outside the balance)."""
    if not balanced(problem, person):
        return 0
    return history_load(problem, person) + sum(load_share(problem, person, s) for s in shifts)


def busy(value: int, target: int) -> int:
    """What a load counts for the maximum: nothing up to the person's target, all of it beyond."""
    return value if value > target else 0


def idle(value: int, target: int) -> int:
    """What a load counts for the least loaded end of the spread: at least the person's target."""
    return max(value, target)
