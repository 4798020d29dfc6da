"""A valid first schedule for a problem too large for one model and too constrained for the greedy start
(minimum runs of days, minimum hours over the horizon: Curtois 20-24): relax and fix over week blocks.

The horizon is planned a block at a time. Each block's model covers the days to fix (``STEP_DAYS``),
the days after them (``AHEAD_DAYS``, planned so the fixed days can be continued, then re-planned with
the next block) and the fixed days just before (``BACK_DAYS``, pinned, so minimum runs hold across the
boundary); the fixed days further back enter as the people's history. The horizon totals (most and
fewest minutes, weekends, shifts of a type) are split across the blocks: each block gets the share of
what is left that its days are of the days left, within a slack of one shift, and the last block gets
exactly what is left. Every block is solved by CP-SAT under the whole objective; the neighbourhood
search improves the result afterwards. The caller checks the whole schedule with ``solver.validate``.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import defaultdict
from collections.abc import Collection

from solver.options import SolveOptions
from solver.problem import MINUTES_PER_DAY, WEEK, History, HistoryDay, Intensity, Person, Problem, Status
from solver.search import solve_model
from solver.start import stopped, sub_options

STEP_DAYS = 7  # days fixed per block
AHEAD_DAYS = 7  # days planned beyond them (relaxed: re-planned by the next block)
BACK_DAYS = 7  # fixed days before the block, pinned in its model (minimum runs across the boundary)
HISTORY_DAYS = 28  # fixed days before those, as history (runs, weekly limits, the heavy share)
MIN_BLOCK_TIME = 0.5  # seconds at least per block
MAX_BLOCK_TIME = 10.0  # seconds at most per block (the neighbourhood search makes better use of more)
ALONE_TIME = 0.5  # seconds at most to check that one person can meet their share alone


@dataclasses.dataclass(frozen=True)
class Block:
    """Days ``[back, end)`` of the horizon in one model: ``[back, first)`` pinned, ``[first, fix)`` kept
    afterwards, ``[fix, end)`` planned ahead."""

    back: int
    first: int
    fix: int
    end: int

    @property
    def last(self) -> bool:
        return self.fix == self.end


def blocks(days: int, step: int = STEP_DAYS, ahead: int = AHEAD_DAYS, back: int = BACK_DAYS) -> list[Block]:
    """The blocks of a horizon of ``days`` days: ``step`` days fixed each, ``ahead`` days planned beyond
    them; the last block runs to the end (and takes the rest when less than a step would be left)."""
    result = []
    first = 0
    while first < days:
        end = min(days, first + step + ahead)
        if days - end < step:
            end = days
        fix = end if end == days else first + step
        result.append(Block(max(0, first - back), first, fix, end))
        first = fix
    return result


def rolling_start(
    problem: Problem, options: SolveOptions, deadline: float, until: float | None = None
) -> list[tuple[str, str]] | None:
    """A schedule planned block by block (see the module's docstring), or None when the deadline passed
    first. A block that finds no schedule in time (even with the shares relaxed) keeps what the block
    before planned for its days. The blocks
    share the time until ``until`` (default: the deadline). The schedule may still leave a minimum over
    the horizon unmet where the last blocks had to be relaxed: the caller checks and repairs it."""
    plan = blocks(problem.days)
    availability = _Availability(problem)
    fixed: list[tuple[str, str]] = []
    ahead: list[tuple[str, str]] = []  # the previous block's plan for the days after its fixed ones
    shift = problem.shift_index()
    for done, block in enumerate(plan):
        if stopped(options):
            return None
        if deadline - time.monotonic() < MIN_BLOCK_TIME:
            return None
        # the blocks share the time until ``until`` evenly (each gets at least MIN_BLOCK_TIME)
        share = ((until or deadline) - time.monotonic()) / (len(plan) - done)
        budget = min(MAX_BLOCK_TIME, max(MIN_BLOCK_TIME, share))
        hint = [*((p, s) for p, s in fixed if shift[s].day >= block.back), *ahead]
        found = None
        relaxed: set[str] | None = set()
        while True:  # the shares; then those of the people who cannot meet theirs alone relaxed; then all
            window = block_problem(problem, fixed, block, relaxed, availability)
            left = deadline - time.monotonic()
            result = solve_model(window, sub_options(options, min(budget, left), options.seed + done, hint))
            if result.has_schedule:
                found = result.assignments
                break
            if relaxed is None or time.monotonic() >= deadline:
                break
            infeasible = result.status is Status.INFEASIBLE
            stuck = _stuck(window, options, deadline) if infeasible and not relaxed else set()
            relaxed = relaxed | stuck if stuck else None
        if found is None:
            if time.monotonic() >= deadline:
                return None
            # no schedule for this block in time: its days keep what the block before planned for them
            # (consistent with the days fixed before; a minimum left unmet is the caller's to repair)
            found = ahead
        kept = [(p, s) for p, s in found if block.first <= shift[s].day < block.fix]
        ahead = [(p, s) for p, s in found if shift[s].day >= block.fix]
        fixed.extend(kept)
    return fixed


class _Availability:
    """Per person, prefix counts over the days of what they may work: days with a shift, weekends with
    a shift, shifts of each type (the shares of the totals are taken from them)."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        days = problem.days
        self.days: dict[str, list[int]] = {}
        self.weekends: dict[str, list[int]] = {}
        self.types: dict[str, dict[str, list[int]]] = {}
        for person in problem.people:
            any_on = [0] * days
            of_type: dict[str, list[int]] = defaultdict(lambda: [0] * days)
            for s in problem.shifts:
                if person.may_work(s.id):
                    any_on[s.day] = 1
                    if s.type in person.rules.max_shifts_by_type:
                        of_type[s.type][s.day] += 1
            weekend = [0] * days
            for d in range(days):  # a weekend counts once, on its last workable day
                if any_on[d] and problem.is_weekend(d):
                    nxt = d + 1
                    if nxt >= days or not problem.is_weekend(nxt) or not any_on[nxt]:
                        weekend[d] = 1
            self.days[person.id] = _prefix(any_on)
            self.weekends[person.id] = _prefix(weekend)
            self.types[person.id] = {t: _prefix(row) for t, row in of_type.items()}

    @staticmethod
    def share(prefix: list[int], first: int, end: int) -> float:
        """Of what lies from ``first`` to the horizon's end, the part before ``end``."""
        left = prefix[-1] - prefix[first]
        return (prefix[end] - prefix[first]) / left if left else 1.0


def _prefix(row: list[int]) -> list[int]:
    out = [0]
    for v in row:
        out.append(out[-1] + v)
    return out


def block_problem(
    problem: Problem,
    fixed: list[tuple[str, str]],
    block: Block,
    relaxed: Collection[str] | None = (),
    availability: _Availability | None = None,
) -> Problem:
    """The problem of one block: its days renumbered from ``block.back``, the fixed days before it as
    history, those inside it pinned, and each person's horizon totals cut to the block's share of what
    is left (within one shift of the exact share), except for the ``relaxed`` people (None: everyone),
who are asked no minimum and allowed all that is left."""
    availability = availability or _Availability(problem)
    offset = block.back * MINUTES_PER_DAY
    shifts = [s for s in problem.shifts if block.back <= s.day < block.end]
    ids = {s.id for s in shifts}
    free = [s for s in shifts if s.day >= block.first]
    pinned_days = [s for s in shifts if s.day < block.first]
    mine: dict[str, list] = defaultdict(list)
    index = problem.shift_index()
    for person_id, shift_id in fixed:
        mine[person_id].append(index[shift_id])
    pinned = {(p, s) for p, s in fixed if s in ids} | {(p, s) for p, s in problem.pinned if s in ids}
    people = tuple(
        _person_in_block(
            problem, person, mine.get(person.id, []), block,
            None if relaxed is None or person.id in relaxed else 1,
            offset, ids, free, pinned_days, availability,
        )
        for person in problem.people
    )
    return dataclasses.replace(
        problem,
        days=block.end - block.back,
        shifts=tuple(
            dataclasses.replace(s, day=s.day - block.back, start=s.start - offset, end=s.end - offset)
            for s in shifts
        ),
        people=people,
        first_weekday=problem.weekday(block.back),
        pinned=frozenset(pinned),
        reference=frozenset((p, s) for p, s in problem.reference if s in ids),
        freeze_before=None if problem.freeze_before is None else problem.freeze_before - offset,
        name=f"{problem.name} days {block.first}-{block.end - 1}",
    )


def _person_in_block(
    problem: Problem,
    person: Person,
    worked: list,
    block: Block,
    slack: int | None,
    offset: int,
    ids: set[str],
    free: list,
    pinned_days: list,
    availability: _Availability,
) -> Person:
    before = [s for s in worked if s.day < block.back]
    inside = [s for s in worked if block.back <= s.day < block.first]
    exact = block.last and block.end == problem.days
    mine = [s for s in free if person.may_work(s.id)]
    longest = max((s.minutes for s in mine), default=0)
    rules = person.rules

    def cut(limit: int | None, used_before: int, used_inside: int, fraction: float, unit: int,
            low: bool = False) -> int | None:
        if limit is None:
            return None
        rest = max(0, limit - used_before - used_inside)
        if slack is None:  # relaxed: nothing more asked, only what is left allowed
            part = 0 if low else rest
        elif exact:
            part = rest
        elif low:  # measured: a lower share per block is often out of reach (days off, runs, weekends)
            part = 0  # and its checks cost more than the repair of who is short at the end
        else:
            part = min(rest, math.ceil(rest * fraction) + slack * unit)
        return used_inside + part

    first, end = block.first, block.end
    share = availability.share(availability.days[person.id], first, end)
    weekend_share = availability.share(availability.weekends[person.id], first, end)
    by_type: dict[str, int] = {}
    blocked = {s: why for s, why in person.unavailable.items() if s in ids}
    kept = {s.id for s in inside}
    for s in pinned_days:  # the fixed days before the block stay exactly as they are
        if s.id not in kept:
            blocked.setdefault(s.id, "fixed before the block")
    for shift_type, limit in rules.max_shifts_by_type.items():
        prefix = availability.types[person.id].get(shift_type)
        n_inside = sum(1 for s in inside if s.type == shift_type)
        if prefix is None:  # the person may work no shift of this type at all
            by_type[shift_type] = limit
            continue
        n_before = sum(1 for s in before if s.type == shift_type)
        by_type[shift_type] = cut(limit, n_before, n_inside, availability.share(prefix, first, end), 1)
        if by_type[shift_type] <= n_inside:  # none more of this type in the block: no variables for them
            for s in mine:
                if s.type == shift_type:
                    blocked.setdefault(s.id, "none of this type left in the block")
    weekends = (len(_weekends(problem, before)), len(_weekends(problem, inside)))
    block_rules = dataclasses.replace(
        rules,
        min_total_minutes=cut(rules.min_total_minutes, _minutes(before), _minutes(inside), share, longest,
                              low=True),
        max_total_minutes=cut(rules.max_total_minutes, _minutes(before), _minutes(inside), share, longest),
        max_weekends=cut(rules.max_weekends, *weekends, weekend_share, 0),
        max_shifts_by_type=by_type,
    )
    return dataclasses.replace(
        person,
        rules=block_rules,
        history=_history(person, before, block.back, offset),
        unavailable=blocked,
        wants={s: w for s, w in person.wants.items() if s in ids},
        avoids={s: w for s, w in person.avoids.items() if s in ids},
    )


def _stuck(window: Problem, options: SolveOptions, deadline: float) -> set[str]:
    """The people of a block who cannot meet their own rules and shares even alone (everyone else off)."""
    stuck = set()
    for person in window.people:
        if time.monotonic() + ALONE_TIME > deadline:
            break
        alone = dataclasses.replace(window, people=(person,), pinned=frozenset(
            (p, s) for p, s in window.pinned if p == person.id
        ), reference=frozenset((p, s) for p, s in window.reference if p == person.id))
        one = dataclasses.replace(options, workers=1)
        result = solve_model(alone, sub_options(one, ALONE_TIME, options.seed, []))
        if result.status is Status.INFEASIBLE:
            stuck.add(person.id)
    return stuck


def _minutes(shifts: list) -> int:
    return sum(s.minutes for s in shifts)


def _weekends(problem: Problem, shifts: list) -> set[int]:
    return {(problem.first_weekday + s.day) // WEEK for s in shifts if problem.is_weekend(s.day)}


def _history(person: Person, before: list, back: int, offset: int) -> History:
    """The person's history as seen from day ``back``: the fixed days before it (the last
    ``HISTORY_DAYS``), after the person's own history where those reach before the horizon."""
    if back == 0:
        return person.history
    on_day: dict[int, list] = defaultdict(list)
    for s in before:
        on_day[s.day].append(s)
    days = []
    for d in range(back - HISTORY_DAYS, back):
        if d < 0:
            old = person.history.day(d)
            days.append(dataclasses.replace(
                old,
                night_end=None if old.night_end is None else old.night_end - offset,
                heavy_end=None if old.heavy_end is None else old.heavy_end - offset,
            ))
            continue
        shifts = on_day.get(d, [])
        nights = [s.end for s in shifts if s.night]
        heavy = [s.end for s in shifts if s.intensity is Intensity.HEAVY]
        days.append(HistoryDay(
            minutes=_minutes(shifts),
            night=bool(nights),
            types=frozenset(s.type for s in shifts),
            heavy=bool(heavy),
            night_end=max(nights) - offset if nights else None,
            heavy_end=max(heavy) - offset if heavy else None,
        ))
    ends = [s.end for s in before]
    if ends:
        last = max(ends) - offset
    elif person.history.last_shift_end is not None:
        last = person.history.last_shift_end - offset
    else:
        last = None
    return History(days=tuple(days), last_shift_end=last)
