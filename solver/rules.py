"""Hard rules: each is one small function that adds its constraints to the model.

The names are stable: ``solver.validate`` checks the same rules under the same names, and tests
build a model with one rule skipped to show that the rule alone decides its case.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable

from solver.model import Model
from solver.problem import WEEK, Intensity, Shift, heavy_windows

PER_MILLE = 1000


def eligibility(m: Model) -> None:
    """People only work shifts they may work (availability, health, dated absences, days off).

    Enforced by construction: ``build`` creates no variable for a forbidden pair. Skipping this rule
    makes ``build`` create them.
    """


def pinned(m: Model) -> None:
    """Pinned assignments stay."""
    index = {shift.id: s for s, shift in enumerate(m.shifts)}
    people = {person.id: p for p, person in enumerate(m.people)}
    for person_id, shift_id in sorted(m.problem.pinned):
        p, s = people[person_id], index[shift_id]
        if p in m.fixed_shifts:
            if s not in m.fixed_shifts[p]:
                m.cp.add_bool_or([])  # a fixed person without their pin: infeasible
            continue
        var = m.assign[p].get(s)
        m.cp.add(var == 1 if var is not None else False).with_name(f"pinned[{person_id},{shift_id}]")


def frozen(m: Model) -> None:
    """Shifts that started before the re-solve cut-off keep exactly their previous people."""
    cutoff = m.problem.freeze_before
    if cutoff is None:
        return
    reference = m.problem.reference
    for s, shift in enumerate(m.shifts):
        if shift.start >= cutoff:
            continue
        for p, var in m.pairs_of_shift(s):
            m.cp.add(var == int((m.people[p].id, shift.id) in reference))


def max_staff(m: Model) -> None:
    """No more people on a shift than its hard cap."""
    for s, shift in enumerate(m.shifts):
        variables = m.vars_of_shift(s)
        if shift.max_staff is None:
            continue
        room = shift.max_staff - m.fixed_count(s)
        if len(variables) > room:
            m.cp.add(sum(variables) <= max(0, room)).with_name(f"max_staff[{shift.id}]")


def pairs(m: Model) -> None:
    """A shift worked in pairs has nobody on it or at least two people: never one alone."""
    for s, shift in enumerate(m.shifts):
        if not shift.pair:
            continue
        variables = m.vars_of_shift(s)
        fixed = m.fixed_count(s)
        if fixed >= 2 or (not variables and fixed == 0):
            continue
        name = f"pairs[{shift.id}]"
        if not variables:  # one fixed person and nobody who could join them
            m.cp.add_bool_or([]).with_name(name)
        elif fixed == 1:
            m.cp.add(sum(variables) >= 1).with_name(name)
        else:
            staffed = m.cp.new_bool_var(f"paired[{shift.id}]")
            m.cp.add(sum(variables) >= 2).only_enforce_if(staffed).with_name(name)
            m.cp.add(sum(variables) == 0).only_enforce_if(~staffed).with_name(name)


def no_double_booking(m: Model) -> None:
    """Nobody works two shifts that overlap in time."""
    for p in range(len(m.people)):
        _at_most_one_per_clique(m, p, gap=0, name="no_double_booking")


def min_rest(m: Model) -> None:
    """At least ``min_rest_minutes`` between the end of one shift and the start of the next, including
    the last shift before the horizon."""
    for p, person in enumerate(m.people):
        rest = person.rules.min_rest_minutes
        if rest <= 0:
            continue
        _at_most_one_per_clique(m, p, gap=rest, name="min_rest", visits=False)
        last = person.history.last_shift_end
        if last is not None:
            for s, var in m.assign[p].items():
                if m.shifts[s].start < last + rest and not m.shifts[s].visit:
                    m.cp.add(var == 0).with_name(f"min_rest[{person.id},{m.shifts[s].id},history]")


def visit_gap(m: Model) -> None:
    """Short visits (``Shift.visit``) need no rest of their own, only a travel gap: a visit and any
    other shift of the same person, or the last shift before the horizon, are at least
    ``visit_gap_minutes`` apart (and never overlap)."""
    for p, person in enumerate(m.people):
        a = m.assign[p]
        visits = [s for s in a if m.shifts[s].visit]
        if not visits:
            continue
        gap = max(0, person.rules.visit_gap_minutes)
        last = person.history.last_shift_end
        items = sorted((m.shifts[t].start, t) for t in a)
        starts = [start for start, _ in items]
        longest = max(m.shifts[t].minutes for t in a)
        done: set[tuple[int, int]] = set()
        for s in visits:
            visit = m.shifts[s]
            if last is not None and visit.start < last + gap:
                m.cp.add(a[s] == 0).with_name(f"visit_gap[{person.id},{visit.id},history]")
            lo = bisect_left(starts, visit.start - longest - gap)
            hi = bisect_left(starts, visit.end + gap)
            for _, t in items[lo:hi]:
                other = m.shifts[t]
                if t == s or (min(s, t), max(s, t)) in done:
                    continue
                if other.start < visit.end + gap and visit.start < other.end + gap:
                    done.add((min(s, t), max(s, t)))
                    m.cp.add(a[s] + a[t] <= 1).with_name(f"visit_gap[{person.id},{visit.id},{other.id}]")


def max_shifts_per_day(m: Model) -> None:
    """At most ``max_shifts_per_day`` shifts start on one day; short visits do not count."""
    for p, person in enumerate(m.people):
        limit = person.rules.max_shifts_per_day
        for day in range(m.problem.days):
            variables = m.vars_on_day(p, day)
            if len(variables) > limit:
                m.cp.add(sum(variables) <= limit).with_name(f"max_shifts_per_day[{person.id},d{day}]")


def max_consecutive_days(m: Model) -> None:
    """No run of worked days (history included) longer than the limit."""
    for p, person in enumerate(m.people):
        _limit_runs(m, p, person.rules.max_consecutive_days, m.works, "max_consecutive_days")


def max_consecutive_nights(m: Model) -> None:
    """No run of consecutive nights (history included) longer than the limit."""
    for p, person in enumerate(m.people):
        _limit_runs(m, p, person.rules.max_consecutive_nights, m.night, "max_consecutive_nights")


def min_consecutive_days(m: Model) -> None:
    """Every block of working days is at least the minimum long, unless it touches the first or last
    day of the horizon."""
    for p, person in enumerate(m.people):
        _min_blocks(m, p, person.rules.min_consecutive_days, lambda d, p=p: m.works(p, d))


def min_consecutive_days_off(m: Model) -> None:
    """Every block of days off is at least the minimum long, unless it touches the first or last day
    of the horizon."""
    for p, person in enumerate(m.people):
        _min_blocks(m, p, person.rules.min_consecutive_days_off, lambda d, p=p: _not(m.works(p, d)))


def _min_blocks(m: Model, p: int, k: int | None, value) -> None:
    """A block of days with ``value`` 1 that starts on day d >= 1 goes on through day d + k - 1 (or the
    last day): for each j < k, value[d-1] or not value[d] or value[d+j]."""
    if not k or k <= 1 or not m.assign[p]:
        return  # (a person outside a neighbourhood is a constant)
    for d in range(1, m.problem.days):
        for j in range(1, min(k, m.problem.days - d)):
            _clause(m, [value(d - 1), _not(value(d)), value(d + j)])


def min_days_off_per_7(m: Model) -> None:
    """In every 7 consecutive days (history included) at least the minimum number of days off; where
    the history alone already leaves too few, no more work is added to that window."""
    for p, person in enumerate(m.people):
        off = person.rules.min_days_off_per_7
        if not off:
            continue
        for start in _weekly_windows(m):
            past = sum(person.history.day(d).worked for d in range(start, min(start + WEEK, 0)))
            worked = [m.works(p, d) for d in range(max(start, 0), start + WEEK)]
            if _has_vars(worked):
                m.cp.add(sum(worked) <= max(0, WEEK - off - past)).with_name(
                    f"min_days_off_per_7[{person.id},d{start}]"
                )


def max_minutes_per_7_days(m: Model) -> None:
    """Minutes worked in every 7 consecutive days (history included) stay within the cap; where the
    history alone already exceeds it, no more work is added to that window."""
    for p, person in enumerate(m.people):
        cap = person.rules.max_minutes_per_7_days
        if cap is None:
            continue
        most = [sum(m.shifts[s].minutes for s, _ in _day_vars(m, p, d)) for d in range(m.problem.days)]
        for start in _weekly_windows(m):
            days = range(max(start, 0), start + WEEK)
            past = sum(person.history.day(d).minutes for d in range(start, min(start + WEEK, 0)))
            room = max(0, cap - past)
            if sum(most[d] for d in days) > room:
                m.cp.add(sum(m.day_minutes(p, d) for d in days if most[d]) <= room).with_name(
                    f"max_minutes_per_7_days[{person.id},d{start}]"
                )


def total_minutes(m: Model) -> None:
    """Minutes worked over the horizon within [min_total_minutes, max_total_minutes]."""
    for p, person in enumerate(m.people):
        low, high = person.rules.min_total_minutes, person.rules.max_total_minutes
        if low is None and high is None:
            continue
        # a person outside a neighbourhood has no variables, only the shifts fixed as constants
        constant = sum(m.shifts[s].minutes for s in m.fixed_shifts.get(p, ()))
        if not m.assign[p]:
            if (high is not None and constant > high) or (low and constant < low):
                m.cp.add_bool_or([]).with_name(f"total_minutes[{person.id}]")  # a constant that breaks it
            continue
        total = constant + sum(m.shifts[s].minutes * var for s, var in m.assign[p].items())
        if high is not None:
            m.cp.add(total <= high).with_name(f"max_total_minutes[{person.id}]")
        if low:
            m.cp.add(total >= low).with_name(f"min_total_minutes[{person.id}]")
        # Redundant, to tighten the linear relaxation: the number of shifts those minutes allow.
        lengths = [m.shifts[s].minutes for s in m.assign[p]]
        if lengths and not constant:
            count = sum(m.assign[p].values())
            if high is not None:
                m.cp.add(count <= high // min(lengths))
            if low:
                m.cp.add(count >= -(-low // max(lengths)))


def max_weekends(m: Model) -> None:
    """At most ``max_weekends`` weekends with any shift on their Saturday or Sunday."""
    problem = m.problem
    weekends: dict[int, list[int]] = {}
    for d in range(problem.days):
        if problem.is_weekend(d):
            weekends.setdefault((problem.first_weekday + d) // WEEK, []).append(d)
    for p, person in enumerate(m.people):
        limit = person.rules.max_weekends
        if limit is None:
            continue
        worked = [
            m.any_of((m.works(p, d) for d in days), f"weekend[{person.id},w{week}]")
            for week, days in sorted(weekends.items())
        ]
        if _has_vars(worked) and len(worked) > limit:
            m.cp.add(sum(worked) <= limit).with_name(f"max_weekends[{person.id}]")


def max_shifts_by_type(m: Model) -> None:
    """At most the given number of shifts of each type over the horizon."""
    for p, person in enumerate(m.people):
        by_type: dict[str, list] = defaultdict(list)
        for s, var in m.assign[p].items():
            by_type[m.shifts[s].type].append(var)
        for shift_type, limit in sorted(person.rules.max_shifts_by_type.items()):
            variables = by_type.get(shift_type, [])
            if len(variables) > limit:
                m.cp.add(sum(variables) <= limit).with_name(f"max_shifts_by_type[{person.id},{shift_type}]")


def forbidden_succession(m: Model) -> None:
    """A shift of type b never follows a shift of type a on the next day, for each forbidden (a, b)
    (short visits are neither)."""
    forbidden = m.problem.forbidden_successions
    if not forbidden:
        return
    following: dict[str, list[str]] = defaultdict(list)  # type -> the types that may not follow it
    for first, second in sorted(forbidden):
        following[first].append(second)
    for p, person in enumerate(m.people):
        a = m.assign[p]
        if not a:
            continue  # outside a neighbourhood: constants
        # the person's variables by day and type, once (looked up for every forbidden pair and day)
        typed: dict[tuple[int, str], list] = defaultdict(list)
        for s, var in a.items():
            shift = m.shifts[s]
            if not shift.visit:
                typed[shift.day, shift.type].append((s, var))
        ordered = {key: [var for _, var in sorted(row, key=lambda sv: sv[0])] for key, row in typed.items()}
        for first in sorted(person.history.day(-1).types & set(following)):
            for second in following[first]:
                for var in ordered.get((0, second), []) if m.problem.days else []:
                    m.cp.add(var == 0)
        # only the days and types the person has variables on (a neighbourhood's window, in a long
        # horizon: looping over every day and pair took 34 s of a 39 s build on Curtois 24)
        for d, first in sorted(k for k in ordered if k[0] < m.problem.days - 1 and k[1] in following):
            before = ordered[d, first]
            afters = [ordered[d + 1, second] for second in following[first] if (d + 1, second) in ordered]
            if afters:
                worked = m.same_day_any(p, before, f"type[{person.id},d{d},{first}]")
                for after in afters:
                    for var in after:
                        m.cp.add(worked + var <= 1)


def rest_after_nights(m: Model) -> None:
    """Compensatory rest: after a run of at least ``rest_after_nights`` consecutive nights (history
    included), no shift starts within ``rest_after_nights_minutes`` of the end of the run's last night.
    A night on the next day continues the run instead (``max_consecutive_nights`` limits runs)."""
    for p, person in enumerate(m.people):
        _rest_after_run(
            m, p, person.rules.rest_after_nights, person.rules.rest_after_nights_minutes,
            m.night, lambda shift: shift.night, person.history.night_end, "rest_after_nights", "night",
        )


def rest_after_heavy(m: Model) -> None:
    """Compensatory rest after heavy duty: after a run of at least ``rest_after_heavy`` consecutive days
    with a heavy shift (history included), no shift starts within ``rest_after_heavy_minutes`` of the
    end of the run's last heavy shift. A heavy shift on the next day continues the run instead
    (``max_consecutive_heavy_days`` limits runs)."""
    for p, person in enumerate(m.people):
        _rest_after_run(
            m, p, person.rules.rest_after_heavy, person.rules.rest_after_heavy_minutes,
            m.heavy, lambda shift: shift.intensity is Intensity.HEAVY, person.history.heavy_end,
            "rest_after_heavy", "heavy",
        )


def _rest_after_run(
    m: Model, p: int, least: int | None, rest: int, flag: Callable[[int, int], object],
    of_kind: Callable[[Shift], bool], history_end: Callable[[int], int], name: str, kind: str,
) -> None:
    """After a run of at least ``least`` days flagged by ``flag(p, day)`` (history included), block
    every shift that starts within ``rest`` minutes of the end of the run's last shift ``of_kind``."""
    if not least or rest <= 0 or not m.assign[p]:
        return
    problem = m.problem
    person = m.people[p]
    a = m.assign[p]
    first = -max(len(person.history.days), 1)
    for d in range(first, problem.days - 1):
        before = [flag(p, d - k) for k in range(1, least)]
        if any(isinstance(v, int) and v == 0 for v in before):
            continue
        if d < 0:
            if not flag(p, d):
                continue
            ends = {history_end(d): 1}
        else:
            ends = {}
            for s in m.shifts_on_day[d]:
                if s in a and of_kind(m.shifts[s]) and not m.shifts[s].visit:
                    ends.setdefault(m.shifts[s].end, []).append(a[s])
        following = flag(p, d + 1)
        for end, last_ones in sorted(ends.items()):
            # a run that ended in the history blocks everything before its end + rest (its end may be
            # only an upper bound); one in the horizon what starts from its end on
            since = end if d >= 0 else None
            blocked = [
                var
                for t, var in a.items()
                if (since is None or since <= m.shifts[t].start) and m.shifts[t].start < end + rest
                and m.shifts[t].day > d
            ]
            if not blocked:
                continue
            last = last_ones if isinstance(last_ones, int) else m.same_day_any(
                p, last_ones, f"{kind}_end[{person.id},d{d},t{end}]"
            )
            ending = [last, *before, 1 - following]  # the run ends with this shift
            if all(isinstance(v, int) for v in ending):
                if all(ending):
                    for var in blocked:
                        m.cp.add(var == 0).with_name(f"{name}[{person.id},d{d},history]")
                continue
            needs = m.new_derived(
                0, 1, f"{name}_needed[{person.id},d{d},t{end}]",
                lambda ev, xs=ending: int(all(ev(x) for x in xs)),
            )
            m.cp.add(needs >= sum(ending) - (len(ending) - 1))
            for var in blocked:
                m.cp.add(var + needs <= 1).with_name(f"{name}[{person.id},d{d}]")


def max_consecutive_heavy_days(m: Model) -> None:
    """No run of days with a heavy shift (history included) longer than the limit: people rotate
    from high-stress posts to lighter ones."""
    for p, person in enumerate(m.people):
        _limit_runs(m, p, person.rules.max_consecutive_heavy_days, m.heavy, "max_consecutive_heavy_days")


def max_heavy_share_28_days(m: Model) -> None:
    """In every window of ``solver.problem.heavy_windows`` (28 days, history included), days with a
    heavy shift are at most ``max_heavy_per_mille_28_days`` per mille of the days worked, wherever the
    horizon adds a heavy day to the window (a history that alone breaks it adds no obligation)."""
    for p, person in enumerate(m.people):
        limit = person.rules.max_heavy_per_mille_28_days
        if limit is None or not m.assign[p]:
            continue
        for first, last in heavy_windows(len(person.history.days), m.problem.days):
            span = range(first, last + 1)
            heavy = [m.heavy(p, d) for d in span]
            new_heavy = [h for d, h in zip(span, heavy, strict=True) if d >= 0 and not isinstance(h, int)]
            if not new_heavy:
                continue
            worked = [m.works(p, d) for d in span]
            excess = PER_MILLE * sum(heavy) - limit * sum(worked)
            if len(new_heavy) == 1:
                m.cp.add(excess <= 0).only_enforce_if(new_heavy[0])
                continue
            person_id = person.id
            any_heavy = m.new_derived(
                0, 1, f"heavy_in[{person_id},d{first}]", lambda ev, xs=new_heavy: max(ev(x) for x in xs)
            )
            for h in new_heavy:
                m.cp.add(any_heavy >= h)
            m.cp.add(excess <= 0).only_enforce_if(any_heavy).with_name(
                f"max_heavy_share_28_days[{person_id},d{first}]"
            )


HARD_RULES: dict[str, Callable[[Model], None]] = {
    "eligibility": eligibility,
    "pinned": pinned,
    "frozen": frozen,
    "max_staff": max_staff,
    "pairs": pairs,
    "no_double_booking": no_double_booking,
    "min_rest": min_rest,
    "visit_gap": visit_gap,
    "max_shifts_per_day": max_shifts_per_day,
    "max_consecutive_days": max_consecutive_days,
    "min_consecutive_days": min_consecutive_days,
    "min_consecutive_days_off": min_consecutive_days_off,
    "min_days_off_per_7": min_days_off_per_7,
    "max_minutes_per_7_days": max_minutes_per_7_days,
    "max_consecutive_nights": max_consecutive_nights,
    "total_minutes": total_minutes,
    "max_weekends": max_weekends,
    "max_shifts_by_type": max_shifts_by_type,
    "forbidden_succession": forbidden_succession,
    "rest_after_nights": rest_after_nights,
    "rest_after_heavy": rest_after_heavy,
    "max_consecutive_heavy_days": max_consecutive_heavy_days,
    "max_heavy_share_28_days": max_heavy_share_28_days,
}


# --- helpers ---------------------------------------------------------------------------------------


def _at_most_one_per_clique(m: Model, p: int, gap: int, name: str, visits: bool = True) -> None:
    """Shifts whose intervals [start, end + gap) overlap exclude each other (with ``visits=False``,
    among the shifts that are not short visits).

    Those intervals form an interval graph, whose maximal cliques are the sets of intervals alive at
    some start point; one at-most-one constraint per maximal clique states all pairwise exclusions.
    A sweep over the start points finds them in O(n log n).
    """
    items = sorted(
        (m.shifts[s].start, m.shifts[s].end + gap, s) for s in m.assign[p] if visits or not m.shifts[s].visit
    )
    alive: list[tuple[int, int]] = []  # (end, shift) heap of the intervals alive at the sweep point
    i = 0
    while i < len(items):
        start = items[i][0]
        while alive and alive[0][0] <= start:
            heapq.heappop(alive)
        while i < len(items) and items[i][0] == start:
            heapq.heappush(alive, (items[i][1], items[i][2]))
            i += 1
        next_start = items[i][0] if i < len(items) else None
        if len(alive) >= 2 and (next_start is None or alive[0][0] <= next_start):
            # maximal: some interval ends before the next start, so the next clique differs
            m.cp.add_at_most_one(m.assign[p][s] for _, s in alive).with_name(
                f"{name}[{m.people[p].id},t{start}]"
            )


def _limit_runs(m: Model, p: int, limit: int | None, literal, name: str) -> None:
    """No ``limit + 1`` consecutive days with ``literal(p, day)`` true (history included)."""
    if limit is None or not m.assign[p]:
        return  # (a person outside a neighbourhood is a constant)
    length = limit + 1
    for start in range(-limit, m.problem.days - limit):
        window = [literal(p, d) for d in range(start, start + length)]
        if _has_vars(window):
            m.cp.add(sum(window) <= limit).with_name(f"{name}[{m.people[p].id},d{start}]")


def _weekly_windows(m: Model) -> range:
    """Start days of the 7-day windows that contain a horizon day and lie in known days."""
    return range(-(WEEK - 1), m.problem.days - WEEK + 1)


def _day_vars(m: Model, p: int, day: int) -> list[tuple[int, object]]:
    a = m.assign[p]
    return [(s, a[s]) for s in m.shifts_on_day[day] if s in a]


def _has_vars(literals) -> bool:
    return any(not isinstance(v, int) for v in literals)


def _not(value):
    """The negation of a 0/1 value (a constant, a Boolean or a 0/1 expression)."""
    return 1 - value


def _clause(m: Model, literals) -> None:
    """At least one of the given 0/1 values is 1 (constants simplified)."""
    if any(isinstance(v, int) and v == 1 for v in literals):
        return
    m.cp.add(sum(v for v in literals if not isinstance(v, int)) >= 1)
