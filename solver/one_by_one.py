"""A valid first schedule for a large problem whose hard rules all bind one person: people planned one
at a time (Curtois 20-24).

Where the cover is soft and no hard rule ties two people together (no headcount cap, no shift worked
in pairs, no previous schedule to keep), any set of individually valid rosters is a valid schedule. So
each person in turn gets a roster of their own by a path through the days (solver.person_roster),
worth what the people before them left of each shift's cover (skills included) and their own wishes
(a weekend's open places worth more where weekends are scarce); where the path's days fit no greedy
shifts, other paths, then the CP-SAT shift model, the days the whole cover asks for; where the path
does not know their rules or finds nothing, their one-person CP-SAT model, then the same without the
objective. ``replan`` then plans people again given everyone else, alone and a few
together, while that gains. The neighbourhood search improves the result afterwards; the caller
checks it with ``solver.validate``.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections import Counter

from solver import person_roster, validate
from solver.objectives import SOFT_TERMS
from solver.options import SolveOptions
from solver.problem import Person, Problem
from solver.search import solve_model
from solver.start import stopped, sub_options

PERSON_TIME = 2.0  # seconds at most for one person's model with the residual cover
MIN_PERSON_TIME = 0.2  # seconds at least (the rules-only fallback usually needs far less)
RULES_ONLY_TIME = 2.0  # seconds at most for the rules-only fallback of one person
PATH_RETRIES = 3  # other paths tried for a new roster whose first path's days no shifts fit
QUICK_RETRIES = 1  # the same when planning someone again
RECREATE_PEOPLE = 4  # people planned again together at most, once planning each alone gains no more
# terms that compare people with each other: meaningless for one person alone (the neighbourhood
# search weighs them afterwards)
_ACROSS_PEOPLE = ("load_max", "load_spread", "nights_spread", "weekends_spread", "heavy_spread", "partners")
# where the weekends people may work are this near what the weekends' cover asks for (or below), a
# place still open on a weekend is worth this much more to the people planned first than a weekday's
# (Curtois 20-24: 0.95-1.03, every weekend worked by someone is needed). Otherwise the first people,
# who find every place open, avoid their weekends (each one counts against their limit and gains no
# more than a weekday), and the people after them cannot make up for it. Planning people again
# weighs the places as the objective does.
SCARCE_WEEKENDS = 0.8
WEEKEND_BONUS = 0.5


def per_person(problem: Problem) -> bool:
    """Does every hard rule bind a single person? Not where a shift has a headcount cap or is worked in
    pairs (rules across people), nor when re-solving (shifts before the cut-off keep their people)."""
    if problem.reference or problem.freeze_before is not None:
        return False
    return all(s.max_staff is None and not s.pair for s in problem.shifts)


def chosen(problem: Problem, options: SolveOptions) -> bool:
    """Is the first schedule of the neighbourhood search planned one person at a time?
    ``options.one_by_one`` True or False decides (True still needs rules that bind one person each);
    None: where the rules set minimums the greedy start cannot meet, unless ``options.rolling_start``
    asks for blocks of weeks instead. Measured on Curtois 13 (28 days,
    120 s, docs/BENCHMARKS.md): a valid schedule at 3 s instead of 34 s, and 4,736 instead of 5,967;
    on 20-24 (182 and 364 days) the greedy start and its repair give one late or never."""
    if options.hint is not None or not per_person(problem):
        return False
    if options.one_by_one is not None:
        return options.one_by_one
    return not options.rolling_start and sets_minimums(problem)


def sets_minimums(problem: Problem) -> bool:
    """Does anyone's rules ask for a minimum the greedy start cannot plan for (blocks of days, hours
    over the horizon)?"""
    return any(
        (p.rules.min_consecutive_days or 0) > 1 or (p.rules.min_consecutive_days_off or 0) > 1
        or p.rules.min_total_minutes for p in problem.people
    )


def weekend_scarcity(problem: Problem) -> float:
    """The places the weekends' shifts ask for, over the weekend days people may work (two a weekend,
    within each person's limit): 1 or more where every weekend day worked by anyone is needed."""
    weeks = {(problem.first_weekday + d) // 7 for d in range(problem.days) if problem.is_weekend(d)}
    wanted = sum(s.required for s in problem.shifts if problem.is_weekend(s.day))
    days = sum(2 * min(len(weeks), p.rules.max_weekends if p.rules.max_weekends is not None else len(weeks))
               for p in problem.people)
    return wanted / days if days else (1.0 if wanted else 0.0)


def plan_one_by_one(
    problem: Problem, options: SolveOptions, until: float, prices: dict[str, int] | None = None
) -> tuple[list[tuple[str, str]], list[str]]:
    """Everyone's shifts, planned one person at a time by ``until`` (``time.monotonic()``), and the
    people left without a valid roster of their own (out of time, or rules that contradict each other:
    the caller's to repair). ``prices``: the weekend prices of the people's paths (see
    ``person_roster.plan``), kept for ``replan``."""
    planner = _Planner(problem, options, prices)
    failed: list[str] = []
    order = _order(problem)
    scarce = weekend_scarcity(problem) >= SCARCE_WEEKENDS
    weekend = {s.id for s in problem.shifts if problem.is_weekend(s.day)}
    for done, person in enumerate(order):
        if stopped(options) or time.monotonic() >= until:
            failed.extend(p.id for p in order[done:])
            break
        share = (until - time.monotonic()) / (len(order) - done)
        budget = max(MIN_PERSON_TIME, min(PERSON_TIME, share))
        gains = planner.gains(person)
        if scarce:
            gains = {s: g + int(WEEKEND_BONUS * g) if g > 0 and s in weekend else g for s, g in gains.items()}
        mine = planner.by_path(person, gains, budget, options.seed + done)  # fast: a valid schedule first
        if mine is None:
            alone = _alone(problem, person, planner.taken, planner.skilled)
            found = _plan(alone, options, budget, options.seed + done, until)
            mine = None if found is None else [s for _, s in found]
        if mine is None:
            failed.append(person.id)
            continue
        planner.put(person, mine)
    return planner.schedule(), failed


def replan(
    problem: Problem, schedule: list[tuple[str, str]], options: SolveOptions, until: float,
    stats: dict[str, int] | None = None, prices: dict[str, int] | None = None,
) -> tuple[list[tuple[str, str]], int]:
    """``schedule`` improved by planning people again by the path, everyone else's shifts kept, where
    the new rosters are worth more to the objective than the old ones (given the others, a person's
    part of the cover and their wishes is exactly what the path values), until ``until``: passes of
    each person alone while they gain, then rounds of a few people at once (``RECREATE_PEOPLE``:
    people who may work a shift still short, their rosters taken out, then planned again one after
    the other in a random order, kept where they are worth more together), then a pass again.
    Returns the schedule and how many rosters changed; ``stats`` (if given) gets the counts of
    passes, rounds and rounds kept."""
    planner = _Planner(problem, options, prices)
    mine: dict[str, list[str]] = {p.id: [] for p in problem.people}
    for person_id, shift_id in schedule:
        mine[person_id].append(shift_id)
    for person in problem.people:
        planner.put(person, mine[person.id])
    rng = random.Random(options.seed)
    order = _order(problem)
    changed = passes = rounds = kept = 0
    seed = options.seed

    def out_of_time() -> bool:
        return stopped(options) or time.monotonic() >= until

    while not out_of_time():
        # a pass: each person alone, while that gains
        before, began = changed, time.monotonic()
        for person in order:
            if out_of_time():
                break
            seed += 1
            old = planner.take(person)
            gains = planner.gains(person)
            value = sum(gains.get(s, 0) for s in old)
            # the same days with shifts worth more, or a new path through the days
            best = old
            same_days = planner.improve(person, old, gains)
            for new in (same_days, planner.by_path(person, gains, PERSON_TIME, seed, quick=True)):
                worth = None if new is None else sum(gains[s] for s in new)
                if new is not None and worth is not None and worth > value:
                    best, value = new, worth
            changed += best is not old
            planner.put(person, best)
        passes += 1
        if changed > before:
            continue
        # stuck: rounds of a few people at once, for as long as a pass took, then a pass again
        spell = time.monotonic() + max(1.0, time.monotonic() - began)
        while not out_of_time() and time.monotonic() < spell:
            seed += 1
            rounds += 1
            group = planner.group(rng, rng.randint(2, RECREATE_PEOPLE))
            # the rosters taken out one by one, each worth what it brought given the others still there
            planner.last_taken_value = 0
            was = {p.id: planner.take(p) for p in group}
            lost = planner.last_taken_value
            rng.shuffle(group)
            new: dict[str, list[str]] = {}
            won = 0
            for person in group:
                gains = planner.gains(person)
                roster = planner.by_path(person, gains, PERSON_TIME, seed, quick=True)
                if roster is None:
                    break
                won += sum(gains[s] for s in roster)
                new[person.id] = roster
                planner.put(person, roster)
            if len(new) == len(group) and won > lost:
                kept += 1
                changed += len(group)
                continue
            for person in group:  # worth less: the rosters as they were
                if person.id in new:
                    planner.take(person)
                planner.put(person, was[person.id])
    if stats is not None:
        stats.update(passes=passes, rounds=rounds, rounds_kept=kept)
    return planner.schedule(), changed


class _Planner:
    """Everyone's rosters and what they cover, for planning people one at a time: each person's
    one-person problem (the shifts they may work, built once), the people on each shift and the
    skills they bring, the weekend price each person's path last needed."""

    def __init__(self, problem: Problem, options: SolveOptions, prices: dict[str, int] | None = None) -> None:
        self.problem = problem
        self.options = options
        self.taken: Counter[str] = Counter()  # people on each shift
        self.skilled: Counter[tuple[str, str]] = Counter()  # (shift, skill): people with it on the shift
        self.rosters: dict[str, list[str]] = {}
        self.prices: dict[str, int] = {} if prices is None else prices
        self._price: int | None = None  # the price the last path needed: the first guess for the next person
        self.last_taken_value = 0  # what the rosters taken out since the last ``put`` were worth
        self._alone: dict[str, Problem] = {}
        self._able: dict[str, list[str]] | None = None

    def alone(self, person: Person) -> Problem:
        """The person's one-person problem, each shift wanting its whole cover (the gains say what is
        left of it)."""
        if person.id not in self._alone:
            self._alone[person.id] = _alone(self.problem, person, Counter(), Counter())
        return self._alone[person.id]

    def gains(self, person: Person) -> dict[str, int]:
        """What working each of the person's shifts is worth, given everyone else's rosters."""
        return _gains(self.alone(person), person, self.taken, self.skilled)

    def by_path(
        self, person: Person, gains: dict[str, int], budget: float, seed: int, quick: bool = False
    ) -> list[str] | None:
        if person.id not in self.prices and self._price is not None:
            self.prices[person.id] = self._price
        found = _by_path(
            self.alone(person), budget, seed, gains, polish=False, prices=self.prices, quick=quick
        )
        self._price = self.prices.get(person.id, self._price)
        return None if found is None else [s for _, s in found]

    def improve(self, person: Person, shifts: list[str], gains: dict[str, int]) -> list[str] | None:
        """The person's roster with shifts worth more on the same days (None: not supported)."""
        alone = self.alone(person)
        if not person_roster.supported(alone, person):
            return None
        better = person_roster.improve(alone, alone.people[0], shifts, gains)
        return better if not validate.validate(alone, [(person.id, s) for s in better]) else None

    def put(self, person: Person, shifts: list[str]) -> None:
        self.rosters[person.id] = list(shifts)
        _count(self.taken, self.skilled, person, shifts, 1)
        self.last_taken_value = 0

    def take(self, person: Person) -> list[str]:
        """The person's roster taken out (and what it was worth given the others, added to
        ``last_taken_value``)."""
        shifts = self.rosters.pop(person.id, [])
        _count(self.taken, self.skilled, person, shifts, -1)
        gains = self.gains(person)
        self.last_taken_value += sum(gains.get(s, 0) for s in shifts)
        return shifts

    def group(self, rng: random.Random, size: int) -> list[Person]:
        """A few people to plan again together: some who may work a shift still short of its cover
        (any shift when none is), chosen at random."""
        if self._able is None:
            able: dict[str, list[str]] = {s.id: [] for s in self.problem.shifts}
            for person in self.problem.people:
                for shift in self.alone(person).shifts:
                    able[shift.id].append(person.id)
            self._able = able
        short = [s.id for s in self.problem.shifts if self.taken[s.id] < s.required and self._able[s.id]]
        pool = self._able[rng.choice(short)] if short else [p.id for p in self.problem.people]
        ids = rng.sample(pool, min(size, len(pool)))
        return [self.problem.person(i) for i in ids if i in self.rosters]

    def schedule(self) -> list[tuple[str, str]]:
        return [(p, s) for p, shifts in self.rosters.items() for s in shifts]


def _count(taken: Counter[str], skilled: Counter[tuple[str, str]], person: Person, shifts, sign: int) -> None:
    for shift_id in shifts:
        taken[shift_id] += sign
        for skill in person.skills:
            skilled[shift_id, skill] += sign


def _order(problem: Problem) -> list[Person]:
    """The people with the fewest shifts open to them first (their rosters are the hardest to fit to
    what is left); ties in the problem's order."""
    return sorted(problem.people, key=lambda p: len(problem.shifts) - len(p.unavailable))


def _by_path(
    alone: Problem, budget: float, seed: int, gains: dict[str, int] | None = None, polish: bool = True,
    prices: dict[str, int] | None = None, quick: bool = False,
) -> list[tuple[str, str]] | None:
    """The person's roster by a path through the days (solver.person_roster), where it knows their
    rules and what it finds breaks none of them. ``quick``: the path and the greedy shifts only
    (for someone who has a roster already)."""
    person = alone.people[0]
    if not person_roster.supported(alone, person):
        return None
    gains = _gains(alone, person) if gains is None else gains
    mine = person_roster.plan(alone, person, gains, budget, seed, polish=polish, prices=prices, model=False)
    for retry in range(1, 1 + (QUICK_RETRIES if quick else PATH_RETRIES)):
        if mine is not None:
            break
        # no greedy shifts fit the days the path chose: other days (the weekends' costs in another
        # order) before the CP-SAT shift model, which costs up to 2 s a person (Curtois 21: a third
        # of the construction's time went to it)
        mine = person_roster.plan(
            alone, person, gains, budget, seed + 7919 * retry, polish=polish, prices=prices, model=False
        )
    if quick and mine is None:
        return None
    if mine is None:
        mine = person_roster.plan(alone, person, gains, budget, seed, polish=polish, prices=prices)
    if mine is None:  # no shifts fit the days the cover asked for: any valid roster (no gains) instead
        mine = person_roster.plan(alone, person, {}, budget, seed)
    if mine is None:
        # nor any days at all (with every shift alike, the path's days are arbitrary; Curtois 21,
        # where one 12-hour type is capped and after a night only a night may follow): the days the
        # whole cover would ask for, as if no one else worked
        mine = person_roster.plan(alone, person, _gains(alone, person), budget, seed, polish=polish)
    if mine is None or validate.validate(alone, mine):
        return None
    return mine


def _gains(
    alone: Problem, person: Person, taken: Counter[str] | None = None,
    skilled: Counter[tuple[str, str]] | None = None,
) -> dict[str, int]:
    """What working each shift is worth to the objective, with ``taken`` people on it already (and
    ``skilled`` of them with each skill) besides what ``alone`` counts: a place still open (or a skill
    still missing) gained, one beyond the cover paid for, the person's wishes. Exactly what one more
    person changes in the objective's cover and wish terms."""
    w = alone.weights
    taken = taken or Counter()
    skilled = skilled or Counter()
    gains = {}
    for shift in alone.shifts:
        there = taken[shift.id]
        if shift.required > there:
            value = w.uncovered * shift.under_weight
        else:
            value = -w.overstaffed * shift.over_weight
        value += w.skill_shortfall * sum(
            1 for k, n in shift.skills.items() if k in person.skills and n > skilled[shift.id, k]
        )
        value += w.preference * (person.wants.get(shift.id, 0) - person.avoids.get(shift.id, 0))
        gains[shift.id] = value
    return gains


def _plan(
    alone: Problem, options: SolveOptions, budget: float, seed: int, until: float
) -> list[tuple[str, str]] | None:
    """One person's shifts: the best for the residual cover found within ``budget``, else any that meets
    their rules (the model without its objective), else None."""
    person_options = dataclasses.replace(
        sub_options(options, budget, seed, []), hint=None, deadline=min(until, options.deadline or until)
    )
    result = solve_model(alone, person_options)
    if result.has_schedule:
        return list(result.assignments)
    if not stopped(options) and result.status.value != "infeasible":
        rules_only = dataclasses.replace(
            person_options,
            time_limit=RULES_ONLY_TIME,
            parameters={**person_options.parameters, "stop_after_first_solution": True},
            deadline=options.deadline,  # the fallback may use the whole call's time
        )
        result = solve_model(alone, rules_only, skip=tuple(SOFT_TERMS))
        if result.has_schedule:
            return list(result.assignments)
    return None


def _alone(
    problem: Problem, person: Person, taken: Counter[str], skilled: Counter[tuple[str, str]]
) -> Problem:
    """The one-person problem of ``person``: only the shifts they may work (or are pinned to), each
    wanting what the people planned before left of its cover."""
    pinned = {s for p, s in problem.pinned if p == person.id}
    banned = {t for t, n in person.rules.max_shifts_by_type.items() if n <= 0}
    shifts = []
    for shift in problem.shifts:
        if shift.id not in pinned and (not person.may_work(shift.id) or shift.type in banned):
            continue
        there = taken.get(shift.id, 0)
        if there:
            need = {k: n - skilled.get((shift.id, k), 0) for k, n in shift.skills.items()}
            skills = {k: n for k, n in need.items() if n > 0}
            shift = dataclasses.replace(shift, required=max(0, shift.required - there), skills=skills)
        shifts.append(shift)
    kept = {s.id for s in shifts}
    weights = dataclasses.replace(problem.weights, **dict.fromkeys(_ACROSS_PEOPLE, 0))
    return dataclasses.replace(
        problem,
        shifts=tuple(shifts),
        people=(dataclasses.replace(
            person,
            unavailable={s: why for s, why in person.unavailable.items() if s in kept},
            wants={s: w for s, w in person.wants.items() if s in kept},
            avoids={s: w for s, w in person.avoids.items() if s in kept},
        ),),
        pinned=frozenset((person.id, s) for s in pinned),
        weights=weights,
        name=f"{problem.name}: {person.id} alone",
    )
