"""One person's roster over a long horizon, fast: which days they work by dynamic programming over the
days, then which shift on each of those days by a small CP-SAT model.

CP-SAT finds a one-person roster of Curtois 22 (364 days, runs of 2-5 days, at least 2 days off,
232-234 shifts, at most 26 weekends) only after 15-30 s: its propagation threads the runs and the
count over the year poorly. A path through the days does it directly: the state is the current run
(working or off, and its length) and the number of days worked so far; each working day earns what
its best shift is worth (the cover the others left, the person's wishes); the weekends are priced
(a Lagrangian price, the lowest at which the limit holds, each weekend dearer than it by an amount
of its own so that weekends worth alike are not all taken or all left). The shifts on the chosen
days then only have to respect the caps per type, the forbidden successions and the total minutes:
an easy model.

Only for the rules the path knows (see :func:`supported`); the caller checks the result with
``solver.validate`` and falls back on the person's full model otherwise.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Mapping

import numpy as np
from ortools.sat.python import cp_model

from solver.problem import SATURDAY, Person, Problem, Shift

NONE = np.iinfo(np.int64).min // 4  # an unreachable state
MAX_PRICE_STEPS = 24  # weekend prices tried at most
LENGTH_STEPS = 4  # prices tried at most on a length of shift the path takes more of than the caps allow
SHIFTS_TIME = 0.3  # seconds at most for the shifts on the chosen days (the search improves them later)
UNHINTED_SHIFTS_TIME = 2.0  # the same where the greedy shifts dead-end (no hint for CP-SAT)
SWEEPS = 4  # passes over the days at most, changing a day's shift for one worth more
RUN_TRIES = 2_000  # shifts tried at most for one run of working days (search with backtracking)


def supported(problem: Problem, person: Person) -> bool:
    """Are all of ``person``'s hard rules ones the path and the shift model state? (Runs of working
    days and days off, total minutes, weekends, caps per type, forbidden successions; no history,
    no rest rules, no weekly windows, no pins, no short visits, one shift a day.)"""
    r = person.rules
    if person.history.days or person.history.last_shift_end is not None:
        return False
    if r.min_rest_minutes or r.max_shifts_per_day != 1:
        return False
    if any(v is not None for v in (
        r.min_days_off_per_7, r.max_minutes_per_7_days, r.max_consecutive_nights, r.rest_after_nights,
        r.rest_after_heavy, r.max_consecutive_heavy_days, r.max_heavy_per_mille_28_days,
    )):
        return False
    if any(p == person.id for p, _ in problem.pinned):
        return False
    return not any(s.visit for s in problem.shifts)


def plan(
    problem: Problem, person: Person, gains: Mapping[str, int], seconds: float, seed: int = 0,
    polish: bool = True, prices: dict[str, int] | None = None, model: bool = True,
) -> list[tuple[str, str]] | None:
    """``person``'s shifts in ``problem`` (a one-person problem: only the shifts they may work),
    worth as much of ``gains`` (shift id -> value of working it) as the path finds, or None. Without
    ``polish`` the shifts on the chosen days are the greedy ones where it finds them (faster).
    ``prices`` (person id -> weekend price) keeps the price each person's path last needed, tried
    first the next time (planning the same person again: a path or two instead of six or so).
    Without ``model``, None where the greedy shifts find none (no CP-SAT shift model: fast, for
    planning someone again who has a roster already)."""
    r = person.rules
    caps = dict(r.max_shifts_by_type)
    by_day: dict[int, list[Shift]] = defaultdict(list)
    for shift in problem.shifts:
        if person.may_work(shift.id) and caps.get(shift.type, 1) > 0:
            by_day[shift.day].append(shift)
    if not by_day:
        return None if r.min_total_minutes else []
    lengths = sorted({s.minutes for shifts in by_day.values() for s in shifts})
    unit = math.gcd(*lengths)
    options = [_options(by_day.get(d, ()), gains, unit) for d in range(problem.days)]
    low = -(-(r.min_total_minutes or 0) // unit)
    high = (problem.days * lengths[-1] if r.max_total_minutes is None else r.max_total_minutes) // unit
    if low > high:
        return None
    hint = None if prices is None else prices.get(person.id)
    spread = _spread(problem, seed)
    # the shifts of each length the caps per type allow (the path counts lengths, not types)
    room: dict[int, int] = defaultdict(int)
    for t, minutes in {s.type: s.minutes for shifts in by_day.values() for s in shifts}.items():
        room[minutes // unit] += min(caps.get(t, problem.days), problem.days)
    charge: dict[int, int] = {}  # a price per day on the lengths the path took more of than that
    for step in range(LENGTH_STEPS + 1):
        found, price = _days(problem, options, (low, high), r.min_consecutive_days or 1,
                             r.max_consecutive_days or problem.days, r.min_consecutive_days_off or 1,
                             r.max_weekends, hint, spread)
        if found is None:
            return None
        used = Counter(found.values())
        over = [u for u, n in used.items() if n > room[u]]
        if not over:
            break
        first = max(1, max(map(abs, gains.values()), default=0) // 4)
        for u in over:  # raised fourfold each time; the last time, that length is left out
            charge[u] = 4 * charge[u] if u in charge else first
        options = [
            [(u, g - charge.get(u, 0)) for u, g in _options(by_day.get(d, ()), gains, unit)
             if step < LENGTH_STEPS - 1 or u not in charge]
            for d in range(problem.days)
        ]
        hint = price
    else:
        return None
    if prices is not None:
        prices[person.id] = price
    days = sorted(found)
    planned = {d: u * unit for d, u in found.items()}  # the length of shift the path chose each day
    if not polish:
        greedy = _greedy_shifts(problem, person, days, by_day, gains, planned, safe=False)
        if greedy is None:  # a dead end: the path's lengths first, then the total minutes mended
            greedy = _mended_shifts(problem, person, days, by_day, gains, planned)
        if greedy is not None:
            better = _better_shifts(problem, person, {problem.shift(s).day: problem.shift(s) for s in greedy},
                                    by_day, gains)
            return [(person.id, s.id) for _, s in sorted(better.items())]
    if not model:
        return None
    return _shifts(problem, person, days, by_day, gains, planned, seconds, seed)


def _options(shifts, gains: Mapping[str, int], unit: int) -> list[tuple[int, int]]:
    """(length in units, the most a shift of that length is worth) for one day."""
    best: dict[int, int] = {}
    for s in shifts:
        u = s.minutes // unit
        best[u] = max(best.get(u, gains.get(s.id, 0)), gains.get(s.id, 0))
    return sorted(best.items())


def _reach(supply: list[tuple[int, int]], k: int) -> tuple[int, int] | None:
    """The fewest and most minutes ``k`` shifts of ``supply`` can make (None: not that many)."""
    if k > sum(n for _, n in supply):
        return None

    def fill(order):
        left, total = k, 0
        for length, n in order:
            take = min(n, left)
            total, left = total + take * length, left - take
        return total

    return fill(supply), fill(reversed(supply))


def _spread(problem: Problem, seed: int) -> list[int]:
    """Per day, what a weekend costs beyond the weekend price: 0 to the number of weekends less one,
    a different amount for each weekend, in an order drawn from ``seed`` (0 on weekdays). Weekends
    that gain alike would all cost the same otherwise, and a path at one price works all of them or
    none: the price at which the limit holds then left people with half their weekends unworked
    while the cover went short on every weekend (Curtois 21, 23, 24)."""
    weeks = sorted({(problem.first_weekday + d) // 7 for d in range(problem.days) if problem.is_weekend(d)})
    order = list(range(len(weeks)))
    random.Random(seed).shuffle(order)
    extra = dict(zip(weeks, order, strict=True))
    return [
        extra[(problem.first_weekday + d) // 7] if problem.is_weekend(d) else 0 for d in range(problem.days)
    ]


def _days(
    problem: Problem, options: list[list[tuple[int, int]]], counts: tuple[int, int],
    min_on: int, max_on: int, min_off: int, max_weekends: int | None, hint: int | None = None,
    spread: list[int] | None = None,
) -> tuple[dict[int, int] | None, int]:
    """The working days (day -> length of its shift, in units): the most valuable path within the
    runs, the total minutes and the weekends; and the weekend price it was found at: the lowest
    price at which the limit holds (each weekend costing that and its own ``spread``, so that the
    weekends worked fall one at a time as the price rises); a path that works exactly the weekends
    allowed ends the search (it is the best within the limit). Searched from ``hint`` (the price that
    held last time), in steps away from it, or from 0."""
    spread = spread or [0] * problem.days
    low_price: int | None = None  # the highest price tried at which the limit did not hold
    high_price: int | None = None  # the lowest price tried at which it held
    low_worked = high_worked = 0  # the weekends worked at those prices
    best = None
    price = hint or 0
    # from a hint: steps away from it, doubled while on the same side (at least a quarter of what a
    # day may gain: the price is of the order of a weekend's worth)
    top = max((abs(g) for row in options for _, g in row), default=1)
    step = max(1, price // 8, top // 4)
    for _ in range(MAX_PRICE_STEPS):
        found = _path(problem, options, counts, min_on, max_on, min_off, _costs(problem, price, spread))
        if found is None:
            break
        worked = 0 if max_weekends is None else _weekends(problem, list(found))
        if max_weekends is None or worked <= max_weekends:
            best, high_price, high_worked = found, price, worked
            if price == 0 or worked == max_weekends:  # the limit met exactly: no better path within it
                break
        else:
            low_price, low_worked = price, worked
        if high_price is not None and low_price is not None:
            if high_price - low_price <= 1:  # the lowest
                break
            # where the weekends worked would meet the limit, were they to fall evenly with the price
            # (kept a little inside the interval, so that it always narrows)
            share = (low_worked - max_weekends) / max(1, low_worked - high_worked)
            price = low_price + round(share * (high_price - low_price))
            price = min(high_price - 1, max(low_price + 1, price))
        elif high_price is not None:  # lower it
            price = max(0, high_price - step)
            step *= 2
        elif hint:  # raise it
            price = low_price + step
            step *= 2
        else:  # raise it, from scratch: fourfold
            price = max(1, price * 4)
    return best, high_price or 0


def _costs(problem: Problem, price: int, spread: list[int]) -> list[int]:
    """What a weekend counted on each day costs the path at ``price`` (nothing at price 0: the limit
    holds without it)."""
    if price <= 0:
        return [0] * problem.days
    return [price + spread[d] if problem.is_weekend(d) else 0 for d in range(problem.days)]


def _weekends(problem: Problem, days: list[int]) -> int:
    return len({(problem.first_weekday + d) // 7 for d in days if problem.is_weekend(d)})


def _path(
    problem: Problem, options: list[list[tuple[int, int]]], counts: tuple[int, int],
    min_on: int, max_on: int, min_off: int, price: list[int],
) -> dict[int, int] | None:
    """The best path over the days at these weekend costs (``price``: what a weekend counted on each
    day costs; see the module's docstring). States: working runs of length 1..max_on (exempt from
    the minimum when the run began on day 0), runs of days off of length 1..min_off (min_off: long
    enough), and off since day 0. Values per minutes worked so far (in units of the shifts' common
    divisor); None where no path reaches the state."""
    size = counts[1] + 1
    states = [
        *(("on", n, False) for n in range(1, max_on + 1)),
        *(("on", n, True) for n in range(1, max_on + 1)),
        *(("off", n, False) for n in range(1, min_off + 1)),
        ("off", 0, True),
    ]
    index = {s: i for i, s in enumerate(states)}
    start = np.full(size, NONE, dtype=np.int64)
    start[0] = 0
    history: list[list[np.ndarray | None]] = []
    current: list[np.ndarray | None] = [None] * len(states)
    for day in range(problem.days):
        works = bool(options[day])
        weekend = problem.is_weekend(day)
        saturday = problem.weekday(day) == SATURDAY
        nxt: list[np.ndarray | None] = [None] * len(states)

        def reach(state, values, earn=None, nxt=nxt, today=options[day]):
            i = index[state]
            if earn is None:
                nxt[i] = values.copy() if nxt[i] is None else np.maximum(nxt[i], values, out=nxt[i])
                return
            for units, gain in today:  # one more working day, a shift of ``units`` worth ``gain``
                if units >= size:
                    continue
                if nxt[i] is None:
                    nxt[i] = np.full(size, NONE, dtype=np.int64)
                target = nxt[i][units:]
                np.maximum(target, values[:-units] + (gain + earn), out=target)

        fresh = -(price[day] if weekend else 0)  # a run that starts today
        if day == 0:
            if works:
                reach(("on", 1, True), start, fresh)
            reach(("off", 0, True), start)
        for (kind, length, exempt), values in zip(states, current, strict=True):
            if values is None:
                continue
            if kind == "on":
                if works and length < max_on:
                    # a Sunday after a worked Saturday: that weekend is counted already
                    reach(("on", length + 1, exempt), values, -(price[day] if saturday else 0))
                if exempt or length >= min_on:
                    reach(("off", 1, False), values)
            elif exempt:  # off since day 0
                if works:
                    reach(("on", 1, False), values, fresh)
                reach(("off", 0, True), values)
            else:
                if works and length >= min_off:
                    reach(("on", 1, False), values, fresh)
                reach(("off", min(min_off, length + 1), False), values)
        history.append(nxt)
        current = nxt
    # the end: any state (a run that touches the last day needs no minimum length)
    low = counts[0]
    best = None
    for i, values in enumerate(current):
        if values is None:
            continue
        k = int(np.argmax(values[low:])) + low
        if values[k] > NONE // 2 and (best is None or values[k] > best[0]):
            best = (int(values[k]), i, k)
    if best is None:
        return None
    return _back(problem, history, states, best, options, price, min_on, min_off)


def _back(problem, history, states, best, options, price, min_on, min_off) -> dict[int, int] | None:
    """Walk the path back from the last day: at each day, a state before it that leads here with the
    value found."""
    value, state, count = best
    days: dict[int, int] = {}
    for day in range(problem.days - 1, 0, -1):
        kind, length, exempt = states[state]
        weekend = problem.is_weekend(day)
        saturday = problem.weekday(day) == SATURDAY
        found = None
        for j, (pkind, plength, pexempt) in enumerate(states):
            before = history[day - 1][j]
            if before is None:
                continue
            if kind == "on":
                if length == 1:
                    ok = pkind == "off" and (pexempt or plength >= min_off) and not exempt
                    earn = -(price[day] if weekend else 0)
                else:
                    ok = pkind == "on" and plength == length - 1 and pexempt == exempt
                    earn = -(price[day] if saturday else 0)
                if ok:
                    for units, gain in options[day]:
                        if count >= units and int(before[count - units]) + gain + earn == value:
                            found = (j, count - units, units)
                            break
            else:
                if exempt:
                    ok = pkind == "off" and pexempt
                elif length == 1:  # a run that ended, or (at least one day off asked) a day off more
                    ok = (pkind == "on" and (pexempt or plength >= min_on)) or (
                        min_off == 1 and pkind == "off" and not pexempt and plength == 1
                    )
                else:
                    ok = pkind == "off" and not pexempt and (
                        plength == length - 1 or (length == min_off and plength == min_off)
                    )
                if ok and int(before[count]) == value:
                    found = (j, count, 0)
            if found is not None:
                break
        if found is None:
            return None  # cannot happen: every value came from a state before it
        state, count, units = found
        if kind == "on":
            days[day] = units
        value = int(history[day - 1][state][count])
    if states[state][0] == "on":
        days[0] = count  # the minutes of day 0 are all that is left
    return days


def _shifts(
    problem: Problem, person: Person, days: list[int], by_day: dict[int, list[Shift]],
    gains: Mapping[str, int], planned: Mapping[int, int], seconds: float, seed: int,
) -> list[tuple[str, str]] | None:
    """A shift on each of ``days``: caps per type, forbidden successions and the total minutes held,
    as much of ``gains`` as CP-SAT finds in a short while (``seconds`` is kept for the callers)."""
    r = person.rules
    cp = cp_model.CpModel()
    x: dict[str, cp_model.IntVar] = {}
    on_day: dict[int, list[tuple[Shift, cp_model.IntVar]]] = {}
    for d in days:
        row = [(s, cp.new_bool_var(s.id)) for s in by_day[d]]
        on_day[d] = row
        cp.add_exactly_one(v for _, v in row)
        x.update((s.id, v) for s, v in row)
    forbidden = problem.forbidden_successions
    if forbidden:
        for d in days:
            after = on_day.get(d + 1, ())
            for a, va in on_day[d]:
                # one linear row per shift rather than a clause per pair: a then none of what may not follow
                barred = [vb for b, vb in after if (a.type, b.type) in forbidden]
                if barred:
                    cp.add(va + sum(barred) <= 1)
    by_type: dict[str, list[cp_model.IntVar]] = defaultdict(list)
    minutes = []
    for row in on_day.values():
        for s, v in row:
            by_type[s.type].append(v)
            minutes.append(s.minutes * v)
    for t, cap in r.max_shifts_by_type.items():
        if len(by_type.get(t, ())) > cap:
            cp.add(sum(by_type[t]) <= cap)
    if r.max_total_minutes is not None:
        cp.add(sum(minutes) <= r.max_total_minutes)
    if r.min_total_minutes:
        cp.add(sum(minutes) >= r.min_total_minutes)
    cp.maximize(sum(gains.get(sid, 0) * v for sid, v in x.items()))
    greedy = _greedy_shifts(problem, person, days, by_day, gains, planned, safe=False)
    if greedy is None:  # a dead end: the path's lengths first, then the total minutes mended
        greedy = _mended_shifts(problem, person, days, by_day, gains, planned)
    if greedy is None:  # the shifts whose types have most left first
        greedy = _greedy_shifts(problem, person, days, by_day, gains, planned, safe=True)
    if greedy is not None:
        for sid, v in x.items():
            cp.add_hint(v, sid in greedy)
    solver = cp_model.CpSolver()
    # polishing the greedy shifts: a short while; finding shifts where the greedy step dead-ends: longer
    # (measured on Curtois 23: 0.7-1 s under load, none in 0.3 s)
    solver.parameters.max_time_in_seconds = SHIFTS_TIME if greedy is not None else UNHINTED_SHIFTS_TIME
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    code = solver.solve(cp)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None if greedy is None else [(person.id, sid) for sid in greedy]
    return [(person.id, sid) for sid, v in x.items() if solver.value(v)]


def _greedy_shifts(
    problem: Problem, person: Person, days: list[int], by_day: dict[int, list[Shift]],
    gains: Mapping[str, int], planned: Mapping[int, int], safe: bool,
) -> set[str] | None:
    """A shift on each of ``days`` day by day, the most valuable (``safe``: of the type with most left
    under its cap) that keeps the caps, the successions (the rest of its run can still follow, with
    the caps left after it) and the total minutes within reach; None at a dead end."""
    r = person.rules
    forbidden = problem.forbidden_successions
    left = dict(r.max_shifts_by_type)
    low, high = r.min_total_minutes or 0, r.max_total_minutes
    worked = set(days)
    length_of = {s.type: s.minutes for d in days for s in by_day[d]}
    days_left: dict[str, int] = defaultdict(int)  # chosen days still to come with a shift of the type
    for d in days:
        for t in {s.type for s in by_day[d]}:
            days_left[t] += 1
    chosen: set[str] = set()
    minutes = 0
    previous: Shift | None = None
    onward: dict[int, set[str]] = {}  # day of the current run -> types from which the run can be finished
    for i, d in enumerate(days):
        after = len(days) - i - 1  # working days still to fill
        follows = previous if previous is not None and previous.day == d - 1 else None
        # which types lead on to the end of the run (successions, the caps left today)
        onward = _onward(d, worked, by_day, left, forbidden)
        for t in {s.type for s in by_day[d]}:
            days_left[t] -= 1

        base: dict[int, int] = defaultdict(int)  # shifts of each length the days after this one offer
        for t, n in days_left.items():
            base[length_of[t]] += min(n, left.get(t, n))

        def reach(taken: str, after=after, base=base) -> tuple[int, int] | None:
            """The minutes the days after this one can still make, a shift of type ``taken`` today."""
            n = days_left.get(taken, 0)
            if n and taken in left and left[taken] - 1 < n:  # one fewer of that type later
                most = dict(base)
                most[length_of[taken]] -= 1
                return _reach(sorted(most.items()), after)
            return _reach(sorted(base.items()), after)

        def fits(s: Shift, follows=follows, d=d, minutes=minutes, onward=onward) -> bool:
            if left.get(s.type, 1) <= 0 or (follows is not None and (follows.type, s.type) in forbidden):
                return False
            if s.type not in onward[d]:  # the rest of the run could not follow it
                return False
            if left.get(s.type, 2) == 1 and d + 1 in onward and not any(
                (s.type, u) not in forbidden for u in onward[d + 1] if u != s.type
            ):  # only its own type could follow, and this is the last of it
                return False
            total, later = minutes + s.minutes, reach(s.type)
            return not (
                later is None or (high is not None and total + later[0] > high) or total + later[1] < low
            )

        options = [s for s in by_day[d] if fits(s)]
        if not options:
            return None
        length = planned.get(d)  # the path's length for the day first
        if safe:
            best = max(options, key=lambda s: (left.get(s.type, len(days)), gains.get(s.id, 0)))
        else:
            best = max(options, key=lambda s: (s.minutes == length, gains.get(s.id, 0)))
        chosen.add(best.id)
        minutes += best.minutes
        if best.type in left:
            left[best.type] -= 1
        previous = best
    return chosen


def _mended_shifts(
    problem: Problem, person: Person, days: list[int], by_day: dict[int, list[Shift]],
    gains: Mapping[str, int], planned: Mapping[int, int],
) -> set[str] | None:
    """A shift on each of ``days`` where the greedy step dead-ends on the total minutes: the greedy
    shifts without the total (caps and successions kept), then one day's shift at a time changed for
    one of another length, the change that brings the total nearest its window (then the most
    valuable) first, until it is within; None if no change brings it nearer."""
    r = person.rules
    forbidden = problem.forbidden_successions
    low, high = r.min_total_minutes or 0, r.max_total_minutes
    left = dict(r.max_shifts_by_type)
    chosen = _run_shifts(days, by_day, gains, planned, left, forbidden)
    if chosen is None:
        return None
    total = sum(s.minutes for s in chosen.values())

    def off(minutes: int) -> int:  # how far a total is from the window
        return max(0, low - minutes) + (max(0, minutes - high) if high is not None else 0)

    for _ in range(len(days)):
        now = off(total)
        if now == 0:
            return {s.id for s in chosen.values()}
        best = None
        for d, a in chosen.items():
            before, after = chosen.get(d - 1), chosen.get(d + 1)
            for b in by_day[d]:
                if b.minutes == a.minutes or (b.type != a.type and left.get(b.type, 1) <= 0):
                    continue
                if (before is not None and (before.type, b.type) in forbidden) or (
                    after is not None and (b.type, after.type) in forbidden
                ):
                    continue
                nearer = off(total - a.minutes + b.minutes)
                if nearer >= now:
                    continue
                key = (nearer == 0, gains.get(b.id, 0) - gains.get(a.id, 0), -nearer)
                if best is None or key > best[0]:
                    best = (key, a, b)
        if best is None:
            return None
        _, a, b = best
        chosen[a.day] = b
        total += b.minutes - a.minutes
        if a.type in left:
            left[a.type] += 1
        if b.type in left:
            left[b.type] -= 1
    return None


def improve(
    problem: Problem, person: Person, shifts: list[str], gains: Mapping[str, int]
) -> list[str]:
    """``person``'s roster ``shifts`` (valid in the one-person ``problem``) with, day by day, a shift
    worth more in ``gains`` on the same day where that keeps their rules (see ``_better_shifts``):
    the same days, never worth less."""
    by_day: dict[int, list[Shift]] = defaultdict(list)
    caps = person.rules.max_shifts_by_type
    for shift in problem.shifts:
        if person.may_work(shift.id) and caps.get(shift.type, 1) > 0:
            by_day[shift.day].append(shift)
    chosen = {problem.shift(s).day: problem.shift(s) for s in shifts}
    return [s.id for _, s in sorted(_better_shifts(problem, person, chosen, by_day, gains).items())]


def _better_shifts(
    problem: Problem, person: Person, chosen: dict[int, Shift], by_day: Mapping[int, list[Shift]],
    gains: Mapping[str, int],
) -> dict[int, Shift]:
    """``chosen`` (day -> shift) with a day's shift changed for one worth more on the same day while
    one is found: the caps per type, the successions with the days before and after and the total
    minutes kept (the greedy shifts look one run ahead only; this is what CP-SAT's polish gained)."""
    r = person.rules
    forbidden = problem.forbidden_successions
    low, high = r.min_total_minutes or 0, r.max_total_minutes
    left = dict(r.max_shifts_by_type)
    for s in chosen.values():
        if s.type in left:
            left[s.type] -= 1
    total = sum(s.minutes for s in chosen.values())
    for _ in range(SWEEPS):
        changed = False
        for d in sorted(chosen):
            a = chosen[d]
            before, after = chosen.get(d - 1), chosen.get(d + 1)
            best, value = None, gains.get(a.id, 0)
            for b in by_day.get(d, ()):
                worth = gains.get(b.id, 0)
                if worth <= value or (b.type != a.type and left.get(b.type, 1) <= 0):
                    continue
                minutes = total - a.minutes + b.minutes
                if minutes < low or (high is not None and minutes > high):
                    continue
                if (before is not None and (before.type, b.type) in forbidden) or (
                    after is not None and (b.type, after.type) in forbidden
                ):
                    continue
                best, value = b, worth
            if best is not None:
                chosen[d] = best
                total += best.minutes - a.minutes
                if a.type in left:
                    left[a.type] += 1
                if best.type in left:
                    left[best.type] -= 1
                changed = True
        if not changed:
            break
    return chosen


def _run_shifts(
    days: list[int], by_day: dict[int, list[Shift]], gains: Mapping[str, int], planned: Mapping[int, int],
    left: dict[str, int], forbidden: frozenset[tuple[str, str]], tries: int = RUN_TRIES,
) -> dict[int, Shift] | None:
    """A shift on each of ``days`` (day -> shift), one run of working days at a time by a search with
    backtracking over the run's days: the caps per type (``left``, updated) and the successions held,
    the path's length (``planned``) and then the most valuable shift first; None where a run finds
    none within ``tries`` steps."""
    chosen: dict[int, Shift] = {}
    runs: list[list[int]] = []
    for d in days:
        if runs and runs[-1][-1] == d - 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    for run in runs:
        ranked = [sorted(by_day[d], key=lambda s, d=d: (s.minutes != planned.get(d), -gains.get(s.id, 0)))
                  for d in run]
        picks: list[Shift] = []
        at = [0] * len(run)  # the next option to try on each day of the run
        steps = 0
        while len(picks) < len(run):
            i = len(picks)
            previous = picks[-1] if picks else None
            while at[i] < len(ranked[i]):
                s = ranked[i][at[i]]
                at[i] += 1
                steps += 1
                if left.get(s.type, 1) > 0 and (previous is None or (previous.type, s.type) not in forbidden):
                    picks.append(s)
                    if s.type in left:
                        left[s.type] -= 1
                    break
            else:  # no shift fits day i: back to the day before
                if not picks or steps > tries:
                    return None
                at[i] = 0
                undone = picks.pop()
                if undone.type in left:
                    left[undone.type] += 1
        chosen.update(zip(run, picks, strict=True))
    return chosen


def _onward(
    first: int, worked: set[int], by_day: dict[int, list[Shift]], left: Mapping[str, int],
    forbidden: frozenset[tuple[str, str]],
) -> dict[int, set[str]]:
    """For each day of the run of working days from ``first``: the types (with some of their cap left)
    from which the run can be finished without a forbidden succession, from its last day back."""
    last = first
    while last + 1 in worked:
        last += 1
    onward: dict[int, set[str]] = {}
    later: set[str] | None = None
    for d in range(last, first - 1, -1):
        types = {s.type for s in by_day[d] if left.get(s.type, 1) > 0}
        if later is not None:
            types = {t for t in types if any((t, u) not in forbidden for u in later)}
        onward[d] = later = types
    return onward
