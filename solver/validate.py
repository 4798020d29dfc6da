"""An independent checker for schedules, in plain Python (no CP-SAT).

``validate`` lists every hard rule a set of assignments breaks; ``evaluate_terms`` and ``objective``
recompute the soft terms the solver minimises, so a solver's own accounting can be checked against a
second, simple implementation. Each hard rule is a small function named after the rule it checks.

Conventions (see ``solver.problem``): an assignment is a ``(person id, shift id)`` pair; a person
*works* day ``d`` if one of their assigned shifts starts on local day ``d`` (history for ``d < 0``); a
person works a *night* on day ``d`` if an assigned night shift starts on day ``d``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

from solver import load as load_module
from solver.problem import (
    MINUTES_PER_DAY,
    WEEK,
    Intensity,
    Person,
    Problem,
    Shift,
    Shortfall,
    heavy_windows,
)

# --------------------------------------------------------------------------------------------------
# Public data


@dataclass(frozen=True)
class Violation:
    """One broken hard rule."""

    rule: str  # stable rule name, e.g. "min_rest"
    person: str | None
    shifts: tuple[str, ...]  # shift ids involved (may be empty)
    day: int | None
    message: str  # one readable sentence


HARD_RULES: tuple[str, ...] = (
    "unknown_reference",
    "duplicate_assignment",
    "eligibility",
    "max_staff",
    "pairs",
    "no_double_booking",
    "min_rest",
    "visit_gap",
    "max_shifts_per_day",
    "max_consecutive_days",
    "min_consecutive_days",
    "min_consecutive_days_off",
    "min_days_off_per_7",
    "max_minutes_per_7_days",
    "max_consecutive_nights",
    "min_total_minutes",
    "max_total_minutes",
    "max_weekends",
    "max_shifts_by_type",
    "forbidden_succession",
    "rest_after_nights",
    "rest_after_heavy",
    "max_consecutive_heavy_days",
    "max_heavy_share_28_days",
    "pinned",
    "frozen",
    "uncovered_report",
)

TERMS: tuple[str, ...] = (
    "uncovered",
    "skill_shortfall",
    "overstaffed",
    "load_max",
    "load_spread",
    "nights_spread",
    "weekends_spread",
    "heavy_spread",
    "preference",
    "isolated_day_off",
    "isolated_work_day",
    "change",
    "partners",
)


def change_cost(problem: Problem, shift: Shift) -> int:
    """Cost of changing one assignment of ``shift`` against ``problem.reference``.

    8 within the first day after the cut-off (``freeze_before``, or minute 0 without one), falling by
    one per day to 1 for shifts a week or more away.
    """
    cut = problem.freeze_before or 0
    return 1 + max(0, 7 - max(0, shift.start - cut) // MINUTES_PER_DAY)


# --------------------------------------------------------------------------------------------------
# Indexes


class _Index:
    """Lookups derived from a problem alone, built once per problem instance."""

    def __init__(self, problem: Problem) -> None:
        self.shifts: dict[str, Shift] = {s.id: s for s in problem.shifts}
        self.people: dict[str, Person] = {p.id: p for p in problem.people}
        self.order: dict[str, int] = {s.id: i for i, s in enumerate(problem.shifts)}
        self.night_ids = frozenset(s.id for s in problem.shifts if s.night)
        self.weekend_ids = frozenset(s.id for s in problem.shifts if problem.is_weekend(s.day))
        self.heavy_ids = frozenset(s.id for s in problem.shifts if s.intensity == Intensity.HEAVY)
        self.pinned_by_person: dict[str, list[str]] = {}
        for pid, sid in sorted(problem.pinned):
            self.pinned_by_person.setdefault(pid, []).append(sid)
        self.reference_by_person: dict[str, set[str]] = {}
        for pid, sid in problem.reference:
            self.reference_by_person.setdefault(pid, set()).add(sid)
        self.memo: dict[str, dict] = {}  # caches of other modules that live as long as the problem

    def may_work_any(self, person: Person, ids: Collection[str] | None = None) -> bool:
        """Whether ``person`` may work at least one shift (of ``ids``, default all)."""
        pool = self.shifts.keys() if ids is None else ids
        total = len(pool)
        if total == 0:
            return False
        blocked = sum(1 for sid in person.unavailable if sid in pool)
        return blocked < total


_INDEXES: dict[int, tuple[weakref.ref, _Index]] = {}


def _index(problem: Problem) -> _Index:
    key = id(problem)
    hit = _INDEXES.get(key)
    if hit is not None and hit[0]() is problem:
        return hit[1]
    index = _Index(problem)
    _INDEXES[key] = (weakref.ref(problem, lambda _ref, k=key: _INDEXES.pop(k, None)), index)
    return index


@dataclass
class _Assigned:
    """Assignments, cleaned (known ids, no duplicates) and grouped."""

    pairs: set[tuple[str, str]]  # every distinct pair as given, unknown ids included
    by_person: dict[str, list[Shift]]  # known people -> their known shifts, sorted by start
    by_shift: dict[str, list[str]]  # known shifts -> their known people, in the order given
    problems: list[Violation]  # unknown_reference and duplicate_assignment

    def known(self) -> set[tuple[str, str]]:
        """The distinct pairs naming a known person and a known shift."""
        return {(pid, sid) for sid, pids in self.by_shift.items() for pid in pids}


def _shift_key(shift: Shift) -> tuple[int, int, str]:
    return (shift.start, shift.end, shift.id)


def _group(problem: Problem, ix: _Index, assignments: Iterable[tuple[str, str]]) -> _Assigned:
    pairs: set[tuple[str, str]] = set()
    by_person: dict[str, list[Shift]] = {}
    by_shift: dict[str, list[str]] = {}
    problems: list[Violation] = []
    reported_duplicates: set[tuple[str, str]] = set()
    for pid, sid in assignments:
        pair = (pid, sid)
        if pair in pairs:
            if pair not in reported_duplicates:
                reported_duplicates.add(pair)
                problems.append(
                    Violation(
                        "duplicate_assignment",
                        pid,
                        (sid,),
                        _day_of(ix, sid),
                        f"{pid} is assigned to {sid} more than once",
                    )
                )
            continue
        pairs.add(pair)
        shift = ix.shifts.get(sid)
        known_person = pid in ix.people
        if shift is None or not known_person:
            what = " and ".join(
                x
                for x, bad in ((f"person {pid!r}", not known_person), (f"shift {sid!r}", shift is None))
                if bad
            )
            problems.append(
                Violation(
                    "unknown_reference",
                    pid,
                    (sid,),
                    None,
                    f"assignment ({pid}, {sid}) names an unknown {what}",
                )
            )
            continue
        by_person.setdefault(pid, []).append(shift)
        by_shift.setdefault(sid, []).append(pid)
    for shifts in by_person.values():
        shifts.sort(key=_shift_key)
    return _Assigned(pairs, by_person, by_shift, problems)


def _day_of(ix: _Index, shift_id: str) -> int | None:
    shift = ix.shifts.get(shift_id)
    return None if shift is None else shift.day


def _span(a: int, b: int) -> str:
    if a == b:
        return f"day {a}"
    return f"days {a}-{b}" if a >= 0 else f"days {a} to {b}"


def _runs(
    flags: Sequence[bool], first_day: int, at: Iterable[int] | None = None
) -> Iterator[tuple[int, int]]:
    """Maximal runs of True as (first day, last day); with ``at``, only the runs holding those days."""
    if at is not None:
        n = len(flags)
        for day in at:
            i = day - first_day
            if 0 <= i < n and flags[i]:
                a = b = i
                while a > 0 and flags[a - 1]:
                    a -= 1
                while b + 1 < n and flags[b + 1]:
                    b += 1
                yield a + first_day, b + first_day
        return
    start = None
    day = first_day - 1
    for day, flag in enumerate(flags, first_day):
        if flag and start is None:
            start = day
        elif not flag and start is not None:
            yield start, day - 1
            start = None
    if start is not None:
        yield start, day


# --------------------------------------------------------------------------------------------------
# One person's days


class _Days:
    """A person's days over [lo, days): history before day 0, their assignments from day 0.

    ``focus`` is set on the copy :meth:`plus` makes: the rules then only report what could involve
    the added shift (used to explain a shortfall quickly; everything else is as before the addition).
    """

    __slots__ = ("days", "lo", "worked", "night", "minutes", "on_day", "focus")

    def __init__(self, problem: Problem, person: Person, shifts: list[Shift]) -> None:
        history = person.history
        self.days = problem.days
        self.lo = lo = -max(len(history.days), WEEK - 1)
        n = self.days - lo
        self.worked = [False] * n
        self.night = [False] * n
        self.minutes = [0] * n
        self.on_day: dict[int, list[Shift]] = {}
        self.focus: Shift | None = None
        for i, h in enumerate(history.days, -len(history.days) - lo):
            self.worked[i] = h.worked
            self.night[i] = h.night
            self.minutes[i] = h.minutes
        for s in shifts:
            if 0 <= s.day < self.days:
                i = s.day - lo
                self.minutes[i] += s.minutes
                if not s.visit:  # a short visit alone makes no working day and no night
                    self.worked[i] = True
                    self.night[i] = self.night[i] or s.night
            self.on_day.setdefault(s.day, []).append(s)

    def plus(self, shift: Shift) -> _Days:
        """A copy with ``shift`` added and focused on."""
        new = object.__new__(_Days)
        new.days, new.lo, new.focus = self.days, self.lo, shift
        new.worked, new.night, new.minutes = self.worked[:], self.night[:], self.minutes[:]
        new.on_day = dict(self.on_day)
        new.on_day[shift.day] = sorted([*self.on_day.get(shift.day, ()), shift], key=_shift_key)
        if 0 <= shift.day < self.days:
            i = shift.day - self.lo
            new.minutes[i] += shift.minutes
            if not shift.visit:
                new.worked[i] = True
                new.night[i] = new.night[i] or shift.night
        return new

    def works(self, day: int) -> bool:
        i = day - self.lo
        return 0 <= i < len(self.worked) and self.worked[i]

    def near(self, a: int, b: int) -> bool:
        """Whether days [a, b] can be affected by the focused shift (always, without one)."""
        return self.focus is None or a <= self.focus.day <= b


# --------------------------------------------------------------------------------------------------
# Hard rules of one person. Each takes (problem, person, their shifts sorted by start, days).


def eligibility(problem: Problem, person: Person, shifts: list[Shift], days: _Days) -> Iterator[Violation]:
    unavailable = person.unavailable
    if not unavailable:
        return
    cutoff = problem.freeze_before
    for s in shifts if days.focus is None else (days.focus,):
        reason = unavailable.get(s.id)
        if reason is None:
            continue
        if cutoff is not None and s.start < cutoff and (person.id, s.id) in problem.reference:
            continue  # the frozen past stands as it was worked, whatever was recorded since
        yield Violation(
            "eligibility",
            person.id,
            (s.id,),
            s.day,
            f"{person.id} is assigned to {s.id} but may not work it ({reason})",
        )


def _pairs_within(shifts: list[Shift], gap: int, focus: Shift | None) -> Iterator[tuple[Shift, Shift]]:
    """Pairs (a, b), a before b in ``shifts``, with b.start < a.end + gap (with a focus: pairs with it)."""
    n = len(shifts)
    if focus is not None:
        k = next(k for k, s in enumerate(shifts) if s is focus)
        for a in shifts[:k]:
            if focus.start < a.end + gap:
                yield a, focus
        limit = focus.end + gap
        for b in shifts[k + 1 :]:
            if b.start >= limit:
                break
            yield focus, b
        return
    for i in range(n - 1):
        a = shifts[i]
        limit = a.end + gap
        for j in range(i + 1, n):
            b = shifts[j]
            if b.start >= limit:
                break
            yield a, b


def no_double_booking(
    problem: Problem, person: Person, shifts: list[Shift], days: _Days
) -> Iterator[Violation]:
    for a, b in _pairs_within(shifts, 0, days.focus):
        yield Violation(
            "no_double_booking",
            person.id,
            (a.id, b.id),
            b.day,
            f"{person.id} is on {a.id} and {b.id}, which overlap",
        )


def min_rest(problem: Problem, person: Person, shifts: list[Shift], days: _Days) -> Iterator[Violation]:
    rest = person.rules.min_rest_minutes or 0
    if rest <= 0:
        return
    shifts = [s for s in shifts if not s.visit]  # short visits keep only visit_gap
    if days.focus is not None and days.focus.visit:
        return
    last_end = person.history.last_shift_end
    if last_end is not None:
        for s in shifts if days.focus is None else (days.focus,):
            gap = s.start - last_end
            if gap >= rest:
                break
            what = f"overlaps by {-gap} min" if gap < 0 else f"starts {gap} min after"
            yield Violation(
                "min_rest",
                person.id,
                (s.id,),
                s.day,
                f"{person.id}'s {s.id} {what} their last shift before the horizon, rest {rest} min needed",
            )
    for a, b in _pairs_within(shifts, rest, days.focus):
        if b.start >= a.end:  # overlaps are no_double_booking
            yield Violation(
                "min_rest",
                person.id,
                (a.id, b.id),
                b.day,
                f"{person.id} has {b.start - a.end} min between {a.id} and {b.id}, rest {rest} min needed",
            )


def visit_gap(problem: Problem, person: Person, shifts: list[Shift], days: _Days) -> Iterator[Violation]:
    """A short visit and any other shift of the person (or their last shift before the horizon) are at
    least ``visit_gap_minutes`` apart; overlaps are no_double_booking."""
    gap = max(0, person.rules.visit_gap_minutes)
    focus = days.focus
    visits = [s for s in shifts if s.visit] if focus is None else ([focus] if focus.visit else [])
    last_end = person.history.last_shift_end
    for v in visits:
        if last_end is not None and v.start < last_end + gap:
            yield Violation(
                "visit_gap",
                person.id,
                (v.id,),
                v.day,
                f"{person.id}'s visit {v.id} starts {v.start - last_end} min after their last shift before "
                f"the horizon, {gap} min needed to get there",
            )
    others = shifts if focus is None else [s for s in shifts if s is not focus]
    pairs: set[tuple[str, str]] = set()
    candidates = visits if focus is None or focus.visit else [s for s in others if s.visit]
    for v in candidates:
        for t in others if focus is None or focus.visit else (focus,):
            if t is v or not (t.start < v.end + gap and v.start < t.end + gap):
                continue
            if t.start < v.end and v.start < t.end:
                continue  # an overlap is no_double_booking
            a, b = (v, t) if _shift_key(v) <= _shift_key(t) else (t, v)
            if (a.id, b.id) in pairs:
                continue
            pairs.add((a.id, b.id))
            yield Violation(
                "visit_gap",
                person.id,
                (a.id, b.id),
                b.day,
                f"{person.id} has {b.start - a.end} min between {a.id} and {b.id}, a visit needs {gap} min "
                "to get to or from",
            )


def max_shifts_per_day(
    problem: Problem, person: Person, shifts: list[Shift], days: _Days
) -> Iterator[Violation]:
    limit = person.rules.max_shifts_per_day
    if limit is None:
        return
    if days.focus is not None and days.focus.visit:
        return
    for day in sorted(days.on_day) if days.focus is None else (days.focus.day,):
        on = [s for s in days.on_day[day] if not s.visit]  # short visits are not the day's shifts
        if len(on) > limit:
            yield Violation(
                "max_shifts_per_day",
                person.id,
                tuple(s.id for s in on),
                day,
                f"{person.id} has {len(on)} shifts on day {day}, limit {limit}",
            )


def _long_runs(days: _Days, flags: list[bool], limit: int) -> Iterator[tuple[int, int]]:
    for a, b in _runs(flags, days.lo, None if days.focus is None else (days.focus.day,)):
        if b >= 0 and b - a + 1 > limit and days.near(a, b):
            yield a, b


def _shift_ids(days: _Days, a: int, b: int, night: bool = False, visits: bool = False) -> tuple[str, ...]:
    """The shifts of days [a, b] (only nights with ``night``; short visits, which make no working day,
    only with ``visits``)."""
    on_day = days.on_day
    ids = []
    for d in range(max(a, 0), b + 1):
        for s in on_day.get(d, ()):
            if (s.night or not night) and (visits or not s.visit):
                ids.append(s.id)
    return tuple(ids)


def max_consecutive_days(
    problem: Problem, person: Person, shifts: list[Shift], days: _Days
) -> Iterator[Violation]:
    limit = person.rules.max_consecutive_days
    if limit is None:
        return
    for a, b in _long_runs(days, days.worked, limit):
        yield Violation(
            "max_consecutive_days",
            person.id,
            _shift_ids(days, a, b),
            a,
            f"{person.id} works {b - a + 1} consecutive days ({_span(a, b)}), limit {limit}",
        )


def max_consecutive_nights(
    problem: Problem, person: Person, shifts: list[Shift], days: _Days
) -> Iterator[Violation]:
    limit = person.rules.max_consecutive_nights
    if limit is None:
        return
    for a, b in _long_runs(days, days.night, limit):
        yield Violation(
            "max_consecutive_nights",
            person.id,
            _shift_ids(days, a, b, night=True),
            a,
            f"{person.id} works {b - a + 1} consecutive nights ({_span(a, b)}), limit {limit}",
        )


def _inner_blocks(flags: list[bool], horizon: int, at: Iterable[int] | None) -> Iterator[tuple[int, int]]:
    """Maximal runs of True inside [0, horizon) touching neither the first nor the last day."""
    for a, b in _runs(flags, 0, at):
        if a > 0 and b < horizon - 1:
            yield a, b


def min_consecutive_days(
    problem: Problem, person: Person, shifts: list[Shift], days: _Days
) -> Iterator[Violation]:
    limit = person.rules.min_consecutive_days
    if limit is None:
        return
    at = None if days.focus is None else (days.focus.day,)
    for a, b in _inner_blocks(days.worked[-days.lo :], days.days, at):
        if b - a + 1 < limit and days.near(a, b):
            yield Violation(
                "min_consecutive_days",
                person.id,
                _shift_ids(days, a, b),
                a,
                f"{person.id} works a block of {b - a + 1} days ({_span(a, b)}), at least {limit} needed",
            )


def min_consecutive_days_off(
    problem: Problem, person: Person, shifts: list[Shift], days: _Days
) -> Iterator[Violation]:
    limit = person.rules.min_consecutive_days_off
    if limit is None:
        return
    off = [not w for w in days.worked[-days.lo :]]
    at = None if days.focus is None else (days.focus.day - 1, days.focus.day + 1)
    for a, b in _inner_blocks(off, days.days, at):
        if b - a + 1 < limit and days.near(a - 1, b + 1):
            around = _shift_ids(days, a - 1, a - 1) + _shift_ids(days, b + 1, b + 1)
            yield Violation(
                "min_consecutive_days_off",
                person.id,
                around,
                a,
                f"{person.id} has a break of {b - a + 1} days off ({_span(a, b)}), at least {limit} needed",
            )


def _windows(days: _Days, values: Sequence[int]) -> Iterator[tuple[int, int]]:
    """(first day, sum of ``values``) of every 7-day window [s, s+6] with -6 <= s, s+6 < days
    (with a focus: only the windows holding its day)."""
    lo = days.lo
    if days.focus is not None:
        d = days.focus.day
        for s in range(max(-6, d - 6), min(days.days - 6, d + 1)):
            yield s, sum(values[s - lo : s + 7 - lo])
        return
    total = sum(values[-6 - lo : 1 - lo]) if days.days > 0 else 0
    for s in range(-6, days.days - 6):
        if s > -6:
            total += values[s + 6 - lo] - values[s - 1 - lo]
        yield s, total


def min_days_off_per_7(
    problem: Problem, person: Person, shifts: list[Shift], days: _Days
) -> Iterator[Violation]:
    limit = person.rules.min_days_off_per_7
    if limit is None:
        return
    for s, worked in _windows(days, days.worked):
        # the history alone may already leave too few days off: only new work there is a violation
        if WEEK - worked < limit and any(days.worked[d - days.lo] for d in range(max(s, 0), s + 7)):
            yield Violation(
                "min_days_off_per_7",
                person.id,
                _shift_ids(days, s, s + 6),
                s,
                f"{person.id} has {WEEK - worked} days off in {_span(s, s + 6)}, at least {limit} needed",
            )


def max_minutes_per_7_days(
    problem: Problem, person: Person, shifts: list[Shift], days: _Days
) -> Iterator[Violation]:
    limit = person.rules.max_minutes_per_7_days
    if limit is None:
        return
    for s, minutes in _windows(days, days.minutes):
        # history alone may already exceed the cap: only new work in such a window is a violation
        if minutes > limit and any(days.minutes[d - days.lo] for d in range(max(s, 0), s + 7)):
            yield Violation(
                "max_minutes_per_7_days",
                person.id,
                _shift_ids(days, s, s + 6, visits=True),
                s,
                f"{person.id} works {minutes} min in {_span(s, s + 6)}, limit {limit}",
            )


def min_total_minutes(
    problem: Problem, person: Person, shifts: list[Shift], days: _Days
) -> Iterator[Violation]:
    limit = person.rules.min_total_minutes
    if limit is None:
        return
    total = sum(s.minutes for s in shifts)
    if total < limit:
        yield Violation(
            "min_total_minutes",
            person.id,
            (),
            None,
            f"{person.id} works {total} min over the horizon, at least {limit} needed",
        )


def max_total_minutes(
    problem: Problem, person: Person, shifts: list[Shift], days: _Days
) -> Iterator[Violation]:
    limit = person.rules.max_total_minutes
    if limit is None:
        return
    total = sum(s.minutes for s in shifts)
    if total > limit:
        yield Violation(
            "max_total_minutes",
            person.id,
            tuple(s.id for s in shifts),
            None,
            f"{person.id} works {total} min over the horizon, limit {limit}",
        )


def max_weekends(problem: Problem, person: Person, shifts: list[Shift], days: _Days) -> Iterator[Violation]:
    limit = person.rules.max_weekends
    if limit is None:
        return
    weeks: dict[int, list[str]] = {}
    for s in shifts:
        if 0 <= s.day < problem.days and problem.is_weekend(s.day) and not s.visit:
            weeks.setdefault((problem.first_weekday + s.day) // WEEK, []).append(s.id)
    if len(weeks) > limit:
        ids = tuple(sid for week in sorted(weeks) for sid in weeks[week])
        yield Violation(
            "max_weekends", person.id, ids, None, f"{person.id} works {len(weeks)} weekends, limit {limit}"
        )


def max_shifts_by_type(
    problem: Problem, person: Person, shifts: list[Shift], days: _Days
) -> Iterator[Violation]:
    limits = person.rules.max_shifts_by_type
    if not limits:
        return
    by_type: dict[str, list[str]] = {}
    for s in shifts:
        if s.type in limits:
            by_type.setdefault(s.type, []).append(s.id)
    for kind in sorted(by_type):
        ids = by_type[kind]
        limit = limits[kind]
        if len(ids) > limit:
            yield Violation(
                "max_shifts_by_type",
                person.id,
                tuple(ids),
                None,
                f"{person.id} works {len(ids)} shifts of type {kind}, limit {limit}",
            )


def forbidden_succession(
    problem: Problem, person: Person, shifts: list[Shift], days: _Days
) -> Iterator[Violation]:
    forbidden = problem.forbidden_successions
    if not forbidden:
        return
    focus = days.focus
    if focus is not None and focus.visit:
        return  # short visits are of no type a succession forbids
    on_day = {d: [s for s in on if not s.visit] for d, on in days.on_day.items()}
    if days.near(0, 0):
        for b in on_day.get(0, ()) if focus is None else (focus,):
            for kind in sorted(person.history.day(-1).types):
                if (kind, b.type) in forbidden:
                    yield Violation(
                        "forbidden_succession",
                        person.id,
                        (b.id,),
                        0,
                        f"{person.id} works {b.id} (type {b.type}) right after a {kind} shift on day -1",
                    )
    for day in sorted(on_day) if focus is None else (focus.day - 1, focus.day):
        following = on_day.get(day + 1)
        if not following:
            continue
        for a in on_day.get(day, ()):
            for b in following:
                if (a.type, b.type) in forbidden and (focus is None or focus is a or focus is b):
                    yield Violation(
                        "forbidden_succession",
                        person.id,
                        (a.id, b.id),
                        day + 1,
                        f"{person.id} works {b.id} (type {b.type}) the day after {a.id} (type {a.type})",
                    )


def rest_after_nights(
    problem: Problem, person: Person, shifts: list[Shift], days: _Days
) -> Iterator[Violation]:
    yield from _rest_after_run(
        person, shifts, days, person.rules.rest_after_nights, person.rules.rest_after_nights_minutes,
        days.night, lambda s: s.night and not s.visit, person.history.night_end, "rest_after_nights",
        "nights",
    )


def rest_after_heavy(
    problem: Problem, person: Person, shifts: list[Shift], days: _Days
) -> Iterator[Violation]:
    yield from _rest_after_run(
        person, shifts, days, person.rules.rest_after_heavy, person.rules.rest_after_heavy_minutes,
        _heavy_flags(person, shifts, days), lambda s: s.intensity == Intensity.HEAVY and not s.visit,
        person.history.heavy_end, "rest_after_heavy", "days with a heavy shift",
    )


def _rest_after_run(
    person: Person, shifts: list[Shift], days: _Days, least: int | None, rest: int, flags: list[bool],
    of_kind: Callable[[Shift], bool], history_end: Callable[[int], int], rule: str, what: str,
) -> Iterator[Violation]:
    """Every shift that starts within ``rest`` minutes of the end of a run of at least ``least``
    flagged days (the run's last shift of the kind), unless the run goes on the next day."""
    if not least or rest <= 0:
        return
    out = []
    for a, b in _runs(flags, days.lo):
        if b - a + 1 < least or b >= days.days - 1:
            continue
        ends = [history_end(b)] if b < 0 else [s.end for s in days.on_day.get(b, ()) if of_kind(s)]
        run = tuple(
            s.id for d in range(max(a, 0), b + 1) for s in days.on_day.get(d, ()) if of_kind(s)
        )
        for end in ends:
            since = end if b >= 0 else None  # a history end may be only an upper bound
            for t in shifts:
                if (since is None or since <= t.start) and t.start < end + rest and t.day > b:
                    out.append(
                        Violation(
                            rule,
                            person.id,
                            (*run, t.id),
                            t.day,
                            f"{person.id} works {t.id} within {rest / 60:g} h of rest owed after a run "
                            f"of {b - a + 1} {what} ({_span(a, b)})",
                        )
                    )
    focus = days.focus
    yield from (v for v in out if focus is None or focus.id in v.shifts)


def _heavy_flags(person: Person, shifts: list[Shift], days: _Days) -> list[bool]:
    """Per day from ``days.lo``: worked a heavy shift (history included)."""
    flags = [person.history.day(d).heavy if d < 0 else False for d in range(days.lo, days.days)]
    for s in shifts:
        if s.intensity == Intensity.HEAVY and not s.visit and 0 <= s.day < days.days:
            flags[s.day - days.lo] = True
    if days.focus is not None and days.focus.intensity == Intensity.HEAVY and not days.focus.visit:
        flags[days.focus.day - days.lo] = True
    return flags


def max_consecutive_heavy_days(
    problem: Problem, person: Person, shifts: list[Shift], days: _Days
) -> Iterator[Violation]:
    limit = person.rules.max_consecutive_heavy_days
    if limit is None:
        return
    heavy = _heavy_flags(person, shifts, days)
    for a, b in _long_runs(days, heavy, limit):
        ids = tuple(
            s.id
            for d in range(max(a, 0), b + 1)
            for s in days.on_day.get(d, ())
            if s.intensity == Intensity.HEAVY and not s.visit
        )
        yield Violation(
            "max_consecutive_heavy_days",
            person.id,
            ids,
            a,
            f"{person.id} works heavy posts {b - a + 1} days in a row ({_span(a, b)}), limit {limit}",
        )


def max_heavy_share_28_days(
    problem: Problem, person: Person, shifts: list[Shift], days: _Days
) -> Iterator[Violation]:
    limit = person.rules.max_heavy_per_mille_28_days
    if limit is None:
        return
    heavy = _heavy_flags(person, shifts, days)
    for first, last in heavy_windows(len(person.history.days), days.days):
        if not days.near(first, last):
            continue
        span = range(first, last + 1)
        heavy_days = sum(heavy[d - days.lo] for d in span)
        worked = sum(days.works(d) for d in span)
        new = [
            s for d in span if d >= 0 for s in days.on_day.get(d, ())
            if s.intensity == Intensity.HEAVY and not s.visit
        ]
        if not new or 1000 * heavy_days <= limit * worked:
            continue
        # (the message leaves out the days worked: a light shift more must not make it a new violation)
        yield Violation(
            "max_heavy_share_28_days",
            person.id,
            tuple(s.id for s in new),
            first,
            f"{person.id} works heavy posts on {heavy_days} days in {_span(first, last)}, more than "
            f"{limit / 10:g}% of their working days",
        )


PERSON_RULES = (
    eligibility,
    no_double_booking,
    min_rest,
    visit_gap,
    max_shifts_per_day,
    max_consecutive_days,
    min_consecutive_days,
    min_consecutive_days_off,
    min_days_off_per_7,
    max_minutes_per_7_days,
    max_consecutive_nights,
    min_total_minutes,
    max_total_minutes,
    max_weekends,
    max_shifts_by_type,
    forbidden_succession,
    rest_after_nights,
    rest_after_heavy,
    max_consecutive_heavy_days,
    max_heavy_share_28_days,
)


def _person_rules(
    problem: Problem, person: Person, shifts: list[Shift], days: _Days | None = None
) -> list[Violation]:
    if days is None:
        days = _Days(problem, person, shifts)
    out: list[Violation] = []
    for rule in PERSON_RULES:
        out.extend(rule(problem, person, shifts, days))
    return out


def _pinned_of(problem: Problem, ix: _Index, person_id: str, assigned: set[str]) -> Iterator[Violation]:
    for sid in ix.pinned_by_person.get(person_id, ()):
        if sid not in assigned:
            yield Violation(
                "pinned",
                person_id,
                (sid,),
                _day_of(ix, sid),
                f"{person_id} is pinned to {sid} but not assigned to it",
            )


def _frozen_of(
    problem: Problem, ix: _Index, person_id: str, shifts: list[Shift], focus: Shift | None = None
) -> Iterator[Violation]:
    cut = problem.freeze_before
    if cut is None:
        return
    reference = ix.reference_by_person.get(person_id, set())
    for s in shifts if focus is None else (focus,):
        if s.start < cut and s.id not in reference:
            yield Violation(
                "frozen",
                person_id,
                (s.id,),
                s.day,
                f"{person_id} was added to {s.id}, which starts before the freeze",
            )
    if focus is not None:
        return
    assigned = {s.id for s in shifts}
    for sid in sorted(reference, key=lambda x: ix.order.get(x, -1)):
        s = ix.shifts.get(sid)
        if s is not None and s.start < cut and sid not in assigned:
            yield Violation(
                "frozen",
                person_id,
                (sid,),
                s.day,
                f"{person_id} was removed from {sid}, which starts before the freeze",
            )


# --------------------------------------------------------------------------------------------------
# Coverage


def _shortfalls(problem: Problem, ix: _Index, by_shift: Mapping[str, list[str]]) -> list[Shortfall]:
    out: list[Shortfall] = []
    people = ix.people
    for shift in problem.shifts:
        on = by_shift.get(shift.id, ())
        missing = max(0, shift.required - len(on))
        skills: dict[str, int] = {}
        for skill in sorted(shift.skills):
            short = shift.skills[skill] - sum(1 for pid in on if skill in people[pid].skills)
            if short > 0:
                skills[skill] = short
        if missing > 0 or skills:
            out.append(Shortfall(shift.id, missing, skills))
    return out


def expected_shortfalls(problem: Problem, assignments: Iterable[tuple[str, str]]) -> list[Shortfall]:
    """The honest coverage report for ``assignments``, in the order of ``problem.shifts``."""
    ix = _index(problem)
    return _shortfalls(problem, ix, _group(problem, ix, assignments).by_shift)


def max_staff(problem: Problem, by_shift: Mapping[str, list[str]]) -> Iterator[Violation]:
    for shift in problem.shifts:
        on = by_shift.get(shift.id, ())
        if shift.max_staff is not None and len(on) > shift.max_staff:
            yield Violation(
                "max_staff",
                None,
                (shift.id,),
                shift.day,
                f"{shift.id} has {len(on)} people, at most {shift.max_staff} allowed",
            )


def pairs(problem: Problem, by_shift: Mapping[str, list[str]]) -> Iterator[Violation]:
    """A shift worked in pairs has nobody or at least two people on it."""
    for shift in problem.shifts:
        on = by_shift.get(shift.id, ())
        if shift.pair and len(on) == 1:
            yield Violation(
                "pairs",
                on[0],
                (shift.id,),
                shift.day,
                f"{on[0]} works {shift.id} alone, a shift worked in pairs (two people or nobody)",
            )


def pinned(problem: Problem, pairs: set[tuple[str, str]]) -> Iterator[Violation]:
    ix = _index(problem)
    for pid, sid in sorted(problem.pinned):
        if (pid, sid) not in pairs:
            yield Violation(
                "pinned", pid, (sid,), _day_of(ix, sid), f"{pid} is pinned to {sid} but not assigned to it"
            )


def frozen(problem: Problem, assigned: _Assigned) -> Iterator[Violation]:
    cut = problem.freeze_before
    if cut is None:
        return
    ix = _index(problem)
    for shift in problem.shifts:
        if shift.start >= cut:
            continue
        for pid in assigned.by_shift.get(shift.id, ()):
            if (pid, shift.id) not in problem.reference:
                yield Violation(
                    "frozen",
                    pid,
                    (shift.id,),
                    shift.day,
                    f"{pid} was added to {shift.id}, which starts before the freeze",
                )
    for pid, sid in sorted(problem.reference):
        shift = ix.shifts.get(sid)
        if shift is not None and shift.start < cut and (pid, sid) not in assigned.pairs:
            yield Violation(
                "frozen",
                pid,
                (sid,),
                shift.day,
                f"{pid} was removed from {sid}, which starts before the freeze",
            )


def _skills_text(skills: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(skills.items())) or "none"


def uncovered_report(
    problem: Problem, expected: list[Shortfall], reported: Iterable[Shortfall]
) -> Iterator[Violation]:
    ix = _index(problem)
    want = {sf.shift: sf for sf in expected}
    seen: set[str] = set()
    for sf in reported:
        day = _day_of(ix, sf.shift)
        if sf.shift in seen:
            yield Violation(
                "uncovered_report", None, (sf.shift,), day, f"{sf.shift} is reported short more than once"
            )
            continue
        seen.add(sf.shift)
        skills = {k: v for k, v in sf.missing_skills.items() if v != 0}
        truth = want.get(sf.shift)
        if truth is None:
            what = "is not a shift of the problem" if sf.shift not in ix.shifts else "is fully staffed"
            yield Violation(
                "uncovered_report", None, (sf.shift,), day, f"{sf.shift} is reported short but {what}"
            )
        elif sf.missing != truth.missing or skills != dict(truth.missing_skills):
            yield Violation(
                "uncovered_report",
                None,
                (sf.shift,),
                day,
                f"{sf.shift} is reported short by {sf.missing} (skills: {_skills_text(skills)}) "
                f"but is short by {truth.missing} (skills: {_skills_text(truth.missing_skills)})",
            )
    for sf in expected:
        if sf.shift not in seen:
            yield Violation(
                "uncovered_report",
                None,
                (sf.shift,),
                _day_of(ix, sf.shift),
                f"{sf.shift} is short by {sf.missing} (skills: {_skills_text(sf.missing_skills)}) "
                f"but is not reported",
            )


# --------------------------------------------------------------------------------------------------
# Entry points


def validate(
    problem: Problem, assignments: Iterable[tuple[str, str]], uncovered: Iterable[Shortfall] | None = None
) -> list[Violation]:
    """Every hard rule ``assignments`` break; with ``uncovered``, also check that coverage report."""
    ix = _index(problem)
    assigned = _group(problem, ix, assignments)
    out = list(assigned.problems)
    out.extend(max_staff(problem, assigned.by_shift))
    out.extend(pairs(problem, assigned.by_shift))
    for person in problem.people:
        out.extend(_person_rules(problem, person, assigned.by_person.get(person.id, [])))
    out.extend(pinned(problem, assigned.known()))
    out.extend(frozen(problem, assigned))
    if uncovered is not None:
        out.extend(uncovered_report(problem, _shortfalls(problem, ix, assigned.by_shift), uncovered))
    return out


def person_violations(
    problem: Problem, assignments: Iterable[tuple[str, str]], person_id: str
) -> list[Violation]:
    """The hard rules of one person that ``assignments`` break (their own pairs only)."""
    ix = _index(problem)
    person = ix.people.get(person_id)
    mine = [(p, s) for p, s in assignments if p == person_id]
    assigned = _group(problem, ix, mine)
    if person is None:
        unknown = Violation(
            "unknown_reference", person_id, (), None, f"person {person_id!r} is not in the problem"
        )
        return [unknown, *(v for v in assigned.problems if v.rule != "unknown_reference")]
    return _check_one(problem, ix, person, assigned.by_person.get(person_id, []), assigned.problems)


def _check_one(
    problem: Problem,
    ix: _Index,
    person: Person,
    shifts: list[Shift],
    extra: Iterable[Violation] = (),
    days: _Days | None = None,
) -> list[Violation]:
    """All hard rules of one person; with a focused ``days``, only what involves the focused shift."""
    out = list(extra)
    out.extend(_person_rules(problem, person, shifts, days))
    focus = None if days is None else days.focus
    if focus is None:
        out.extend(_pinned_of(problem, ix, person.id, {s.id for s in shifts}))
    out.extend(_frozen_of(problem, ix, person.id, shifts, focus))
    return out


# --------------------------------------------------------------------------------------------------
# Soft terms


def _spread(values: list[int]) -> int:
    return max(values) - min(values) if len(values) >= 2 else 0


def load(problem: Problem, person: Person, shifts: Iterable[Shift]) -> int:
    """Intensity-weighted load (history included) in the unit of ``problem.load_measure``: tenths of
    hours, or per mille of ``person.capacity_minutes``; see ``solver.load``, shared with the model."""
    return load_module.load(problem, person, shifts)


def _terms(problem: Problem, ix: _Index, assigned: _Assigned) -> dict[str, int]:
    terms = dict.fromkeys(TERMS, 0)
    people = ix.people
    for shift in problem.shifts:
        on = assigned.by_shift.get(shift.id, ())
        terms["uncovered"] += max(0, shift.required - len(on)) * shift.under_weight
        terms["overstaffed"] += max(0, len(on) - shift.required) * shift.over_weight
        for skill, need in shift.skills.items():
            terms["skill_shortfall"] += max(0, need - sum(1 for pid in on if skill in people[pid].skills))

    busiest: list[int] = []  # solver.load.busy of each balanced person
    least: list[int] = []  # solver.load.idle of each
    counts: dict[str, list[int]] = {"nights_spread": [], "weekends_spread": [], "heavy_spread": []}
    pools = {"nights_spread": ix.night_ids, "weekends_spread": ix.weekend_ids, "heavy_spread": ix.heavy_ids}
    preference = isolated_off = isolated_on = 0
    for person in problem.people:
        shifts = assigned.by_person.get(person.id, [])
        ids = {s.id for s in shifts}
        if load_module.balanced(problem, person) and ix.may_work_any(person):
            value, target = load(problem, person, shifts), load_module.target_load(problem, person)
            busiest.append(load_module.busy(value, target))
            least.append(load_module.idle(value, target))
        for name, pool in pools.items():
            if ix.may_work_any(person, pool):
                counts[name].append(sum(1 for sid in ids if sid in pool))
        preference += sum(v for sid, v in person.wants.items() if sid not in ids)
        preference += sum(v for sid, v in person.avoids.items() if sid in ids)
        if problem.days >= 2:
            works = {s.day for s in shifts if not s.visit}  # a short visit alone is no working day
            if person.history.day(-1).worked:
                works.add(-1)
            for d in range(problem.days - 1):
                before, after = d - 1 in works, d + 1 in works
                if d in works:
                    isolated_on += not before and not after
                else:
                    isolated_off += before and after
    terms["load_max"] = max(busiest, default=0)
    terms["load_spread"] = max(0, max(busiest) - min(least)) if len(busiest) >= 2 else 0
    for name, values in counts.items():
        terms[name] = _spread(values)
    terms["preference"] = preference
    terms["isolated_day_off"] = isolated_off
    terms["isolated_work_day"] = isolated_on
    terms["change"] = _change(problem, ix, assigned)
    terms["partners"] = len({
        (a, b) for on in assigned.by_shift.values() for a, b in combinations(sorted(set(on)), 2)
    })
    return terms


def _change(problem: Problem, ix: _Index, assigned: _Assigned) -> int:
    cut = problem.freeze_before
    if not problem.reference and cut is None:
        return 0
    total = 0
    for pid, sid in assigned.known().symmetric_difference(problem.reference):
        person, shift = ix.people.get(pid), ix.shifts.get(sid)
        if person is None or shift is None or not person.may_work(sid):
            continue
        if cut is None or shift.start >= cut:
            total += change_cost(problem, shift)
    return total


def evaluate_terms(problem: Problem, assignments: Iterable[tuple[str, str]]) -> dict[str, int]:
    """The raw (unweighted) value of every soft term, keyed by the names in :data:`TERMS`."""
    ix = _index(problem)
    return _terms(problem, ix, _group(problem, ix, assignments))


def objective(problem: Problem, assignments: Iterable[tuple[str, str]]) -> int:
    """Sum of value * weight over the soft terms."""
    terms = evaluate_terms(problem, assignments)
    return sum(value * getattr(problem.weights, name) for name, value in terms.items())
