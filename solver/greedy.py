"""A greedy first schedule, used as the starting point (hint) of the CP-SAT search.

It walks the shifts in time order and gives each open place to the least-loaded person who can take
it without breaking an upper-limit rule (rest, hours, consecutive days and nights, days off, ...).
Rules that set a minimum (minimum blocks, minimum total hours) cannot be honoured one shift at a time;
for those the schedule is only a starting point. Anything ``solver.validate`` still objects to is
removed at the end, so for volunteer problems the result is always a valid schedule.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterable

from solver import validate
from solver.load import balanced, history_load, load_share, target_load
from solver.options import past
from solver.problem import WEEK, Intensity, Person, Problem, Shift, gap_needed

_REPAIR_ROUNDS = 5


class _State:
    """What one person has been given so far, with the counters the upper-limit rules need."""

    def __init__(self, problem: Problem, person: Person, longest: int | None = None):
        self.problem = problem
        # the longest shift of the problem, in minutes: how far apart two clashing shifts can start
        self.problem_longest = longest if longest is not None else max(
            (s.minutes for s in problem.shifts), default=0
        )
        self.person = person
        self.shifts: list[Shift] = []
        self.shifts_by_day: dict[int, list[Shift]] = defaultdict(list)
        self.minutes_by_day: dict[int, int] = defaultdict(int)
        self.count_by_day: dict[int, int] = defaultdict(int)
        self.nights: set[int] = set()
        self.types_by_day: dict[int, set[str]] = defaultdict(set)
        self.count_by_type: dict[str, int] = defaultdict(int)
        self.total_minutes = 0
        self.load = 0
        self.kinds: dict[str, int] = defaultdict(int)  # nights, weekend and heavy shifts taken
        for d in range(-len(person.history.days), 0):
            h = person.history.day(d)
            if h.worked:
                self.minutes_by_day[d] = h.minutes
                self.count_by_day[d] = 1
            if h.night:
                self.nights.add(d)
            self.types_by_day[d] = set(h.types)

    def works(self, day: int) -> bool:
        return self.count_by_day.get(day, 0) > 0

    def can_take(self, shift: Shift) -> bool:
        rules = self.person.rules
        problem = self.problem
        if not self.person.may_work(shift.id):
            return False
        if not shift.visit and self.count_by_day.get(shift.day, 0) >= rules.max_shifts_per_day:
            return False
        last = self.person.history.last_shift_end
        if last is not None and shift.start < last + gap_needed(rules, shift, shift):
            return False
        reach = max(0, rules.min_rest_minutes, rules.visit_gap_minutes)
        for other in self._near(shift, reach):
            gap = gap_needed(rules, shift, other)
            if shift.start < other.end + gap and other.start < shift.end + gap:
                return False
        if rules.max_shifts_by_type.get(shift.type) is not None and (
            self.count_by_type[shift.type] >= rules.max_shifts_by_type[shift.type]
        ):
            return False
        if (
            rules.max_total_minutes is not None
            and self.total_minutes + shift.minutes > rules.max_total_minutes
        ):
            return False
        day = shift.day
        new_day = not shift.visit and not self.works(day)  # a short visit makes no working day
        if new_day and not self._runs_ok(day, self.works, rules.max_consecutive_days):
            return False
        if (
            shift.night
            and not shift.visit
            and day not in self.nights
            and not self._runs_ok(day, lambda d: d in self.nights, rules.max_consecutive_nights)
        ):
            return False
        for start in range(max(day - WEEK + 1, -(WEEK - 1)), min(day, problem.days - WEEK) + 1):
            window = range(start, start + WEEK)
            if rules.max_minutes_per_7_days is not None and (
                sum(self.minutes_by_day.get(d, 0) for d in window) + shift.minutes
                > rules.max_minutes_per_7_days
            ):
                return False
            if rules.min_days_off_per_7 and new_day:
                worked = sum(1 for d in window if self.works(d)) + 1
                if WEEK - worked < rules.min_days_off_per_7:
                    return False
        if rules.max_weekends is not None and problem.is_weekend(day) and new_day:
            week = (problem.first_weekday + day) // WEEK
            weekends = {
                (problem.first_weekday + d) // WEEK
                for d in range(problem.days)
                if problem.is_weekend(d) and self.works(d)
            }
            if week not in weekends and len(weekends) >= rules.max_weekends:
                return False
        for first, second in problem.forbidden_successions:
            if shift.type == second and first in self.types_by_day.get(day - 1, ()):
                return False
            if shift.type == first and second in self.types_by_day.get(day + 1, ()):
                return False
        if _humane(rules):
            # compensatory rest and rotation off heavy posts: asked of the checker itself
            mine = [(self.person.id, s.id) for s in (*self.shifts, shift)]
            broken = validate.person_violations(problem, mine, self.person.id)
            if any(v.rule in _HUMANE_RULES for v in broken):
                return False
        return True

    def _near(self, shift: Shift, rest: int):
        """The shifts taken so far that could overlap ``shift`` or its rest: those starting within a
        few days of it (a day index is the local date, so a DST day is given a day's slack)."""
        reach = (self.problem_longest + rest) // (24 * 60) + 2
        for day in range(shift.day - reach, shift.day + reach + 1):
            yield from self.shifts_by_day.get(day, ())

    def _runs_ok(self, day: int, flag, limit: int | None) -> bool:
        if limit is None:
            return True
        before = 0
        while flag(day - 1 - before):
            before += 1
        after = 0
        while day + 1 + after < self.problem.days and flag(day + 1 + after):
            after += 1
        return before + 1 + after <= limit

    def take(self, shift: Shift, share: int) -> None:
        self.shifts.append(shift)
        self.shifts_by_day[shift.day].append(shift)
        self.minutes_by_day[shift.day] += shift.minutes
        if not shift.visit:
            self.count_by_day[shift.day] += 1
            if shift.night:
                self.nights.add(shift.day)
        self.types_by_day[shift.day].add(shift.type)
        self.count_by_type[shift.type] += 1
        self.total_minutes += shift.minutes
        self.load += share
        for kind in _kinds(self.problem, shift):
            self.kinds[kind] += 1


# (not the share of heavy days: a first heavy day is always above any share below 1, so a greedy pass
# in time order would never give one; the search and the repair of the start look after it)
_HUMANE_RULES = frozenset({"rest_after_nights", "rest_after_heavy", "max_consecutive_heavy_days"})


def _humane(rules) -> bool:
    return bool(
        (rules.rest_after_nights and rules.rest_after_nights_minutes > 0)
        or (rules.rest_after_heavy and rules.rest_after_heavy_minutes > 0)
        or rules.max_consecutive_heavy_days is not None
    )


def _kinds(problem: Problem, shift: Shift) -> tuple[str, ...]:
    """The fairness categories a shift counts in."""
    kinds = []
    if shift.night:
        kinds.append("night")
    if problem.is_weekend(shift.day):
        kinds.append("weekend")
    if shift.intensity is Intensity.HEAVY:
        kinds.append("heavy")
    return tuple(kinds)


def greedy(problem: Problem, seed: int = 0, deadline: float | None = None) -> list[tuple[str, str]]:
    """A schedule built one place at a time; see the module docstring. Once ``deadline``
    (``time.monotonic()``) has passed the remaining shifts get nobody: a valid, partial start."""
    rng = random.Random(seed)
    longest = max((s.minutes for s in problem.shifts), default=0)
    states = {p.id: _State(problem, p, longest) for p in problem.people}
    order = list(problem.people)
    rng.shuffle(order)  # ties between equally loaded people are broken at random, reproducibly
    rank = {p.id: i for i, p in enumerate(order)}
    on_shift: dict[str, list[str]] = defaultdict(list)

    def share(person: Person, shift: Shift) -> int:
        if not balanced(problem, person):
            return shift.minutes
        return load_share(problem, person, shift)

    targets = {p.id: target_load(problem, p) for p in problem.people}
    wish_scale = problem.weights.preference / max(1, problem.weights.load_max)
    for st in states.values():  # the load terms count the week before the horizon too
        if balanced(problem, st.person):
            st.load = history_load(problem, st.person)

    def busy_now(st: _State) -> int:
        """Load as the load terms count it: people below their wish for more hours come first."""
        target = targets[st.person.id]
        return -1 if target and st.load < target else st.load

    for person_id, shift_id in sorted(_fixed_pairs(problem)):
        if person_id in states and shift_id in problem.shift_index():
            shift = problem.shift(shift_id)
            states[person_id].take(shift, share(states[person_id].person, shift))
            on_shift[shift_id].append(person_id)

    for shift in sorted(problem.shifts, key=lambda s: (s.start, s.end, s.id)):
        if past(deadline):
            break
        wanted = shift.required if shift.max_staff is None else min(shift.required, shift.max_staff)
        if len(on_shift[shift.id]) >= wanted:
            continue  # staffed already (pinned or frozen): nobody to ask (a re-solve's usual case)
        kinds = _kinds(problem, shift)
        # Whom to ask, in order, is worked out once per shift and again only when the skills still
        # missing change: taking a place changes only the taker's own counters, and the taker is off
        # the list. Someone who cannot take the shift now cannot later in this shift either.
        candidates = [
            st
            for pid, st in states.items()
            if (shift.visit or st.count_by_day.get(shift.day, 0) < st.person.rules.max_shifts_per_day)
            and pid not in on_shift[shift.id]
            and st.person.may_work(shift.id)
        ]
        refused: set[str] = set()
        ordered_for: frozenset[str] | None = None
        ordered: list[_State] = []
        while len(on_shift[shift.id]) < wanted:
            missing_skills = frozenset(
                skill
                for skill, need in shift.skills.items()
                if sum(1 for pid in on_shift[shift.id] if skill in states[pid].person.skills) < need
            )
            if missing_skills != ordered_for:
                ordered_for = missing_skills
                ordered = sorted(
                    candidates,
                    key=lambda st: (
                        -len(missing_skills & st.person.skills),
                        # the load as the objective weighs it against wishes: one unit of the busiest
                        # person's load costs load_max, one unit of a wish costs preference
                        busy_now(st)
                        + wish_scale * (st.person.avoids.get(shift.id, 0) - st.person.wants.get(shift.id, 0)),
                        sum(st.kinds[k] for k in kinds),  # then share nights, weekends, heavy posts
                        rank[st.person.id],
                    ),
                )
            chosen = None
            taken = on_shift[shift.id]
            for st in ordered:
                pid = st.person.id
                if pid in refused or pid in taken:
                    continue
                if st.can_take(shift):
                    chosen = st
                    break
                refused.add(pid)
            if chosen is None:
                break
            chosen.take(shift, share(chosen.person, shift))
            on_shift[shift.id].append(chosen.person.id)

    assignments = [(pid, sid) for sid, people in on_shift.items() for pid in people]
    return repair_start(problem, assignments)


def quick_test(problem: Problem, assignments: Iterable[tuple[str, str]]) -> Callable[[str, Shift], bool]:
    """The greedy's own test of the upper-limit rules, on people holding ``assignments``: whether a
    person could take one more shift. A refusal is cheap (counters, before any call to the checker);
    an acceptance is the checker's to confirm."""
    longest = max((s.minutes for s in problem.shifts), default=0)
    states: dict[str, _State] = {}
    mine: dict[str, list[str]] = defaultdict(list)
    for pid, sid in assignments:
        mine[pid].append(sid)

    def test(person_id: str, shift: Shift) -> bool:
        st = states.get(person_id)
        if st is None:
            st = states[person_id] = _State(problem, problem.person(person_id), longest)
            for sid in mine.get(person_id, ()):
                st.take(problem.shift(sid), 0)
        return st.can_take(shift)

    return test


def _fixed_pairs(problem: Problem) -> set[tuple[str, str]]:
    fixed = set(problem.pinned)
    if problem.freeze_before is not None:
        frozen = {s.id for s in problem.shifts if s.start < problem.freeze_before}
        fixed |= {(p, s) for p, s in problem.reference if s in frozen}
    return fixed


def repair_start(problem: Problem, assignments: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Drop assignments the independent checker objects to (never pins or the frozen past)."""
    fixed = _fixed_pairs(problem)
    current = list(assignments)
    for _ in range(_REPAIR_ROUNDS):
        violations = validate.validate(problem, current)
        bad = {(v.person, sid) for v in violations if v.person for sid in v.shifts} - fixed
        if not bad:
            break
        current = [pair for pair in current if pair not in bad]
    return current
