"""Large neighbourhood search around CP-SAT, for problems too big to solve as one model in time.

Start from a valid schedule (the previous one, a given hint, or the greedy one), then repeat until the
time is up: pick a *neighbourhood* — some people over a window of days — keep every other assignment
as it is (pinned), let CP-SAT re-plan the neighbourhood under the full objective, and keep the result
if the whole schedule got better. Neighbourhoods aim at what costs most: days with uncovered places,
the most and least loaded people, or a random slice. Their size adapts: a neighbourhood solved to
optimality quickly grows, one that times out shrinks. The places left short are re-staffed first, and
again as the neighbourhoods change the schedule, by the exact local model of the chains around them
(``solver.restaff``): a neighbourhood of days mends about one such place, a chain model dozens.

Every accepted schedule is checked by ``solver.validate`` against the full problem, so a bug in a
neighbourhood can never let a broken schedule through.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections import defaultdict

from solver import validate
from solver.bounds import staffing_bound
from solver.greedy import greedy, repair_start
from solver.load import load
from solver.one_by_one import chosen as one_by_one_chosen
from solver.one_by_one import plan_one_by_one, replan, sets_minimums
from solver.options import Progress, SolveOptions
from solver.problem import Intensity, Problem, Solution, Status, Term
from solver.restaff import restaff
from solver.rolling import rolling_start
from solver.search import solve_model
from solver.start import FIRST_SCHEDULE_SHARE, GREEDY_SHARE, stopped, sub_options, valid_start

TARGET_PAIRS = 8_000  # decision variables in a neighbourhood to start with
MIN_PAIRS, MAX_PAIRS = 3_000, 40_000
SUB_TIME = 3.0  # seconds per neighbourhood
MIN_SUB_TIME = 1.0  # no new neighbourhood with less time left
WINDOW_DAYS = (3, 7)  # shortest and longest window of days
ROLLING_SHARE = 0.5  # at most this share of the time limit goes to the block-by-block first schedule
# at most this share of the time limit goes to planning people one at a time (anyone left then is
# repaired by their whole one-person model, much slower: a valid schedule first)
ONE_BY_ONE_SHARE = 0.9
# at most this share of the time left then goes to planning each person again; the neighbourhoods
# get the rest. Measured once the neighbourhoods worked (e7e22e3), one run each: Curtois 13 at 120 s
# 4,205 with 0.8, 3,583 with 0.3, 3,820 with 0.1; 20 at 240 s 7,113 with 0.8, 6,471 with 0.3
REPLAN_SHARE = 0.3
# The places a start leaves short are first re-staffed by the exact local model of the chains around
# them (solver.restaff: who could take each one, as they are or by giving up shifts others take over),
# in rounds while a round covers more; each round has at most this share of the time left and
# RESTAFF_TIME seconds. A neighbourhood of days closes about one place in its 3 s; a round closes
# dozens (a 400 x 14 site's greedy start: 45 people and skills short, 11 after one round, 0 after two)
RESTAFF_SHARE, RESTAFF_TIME, RESTAFF_ROUNDS = 0.25, 10.0, 4


@dataclasses.dataclass
class _Neighbourhood:
    kind: str
    people: list[str]
    days: range


def solve_large(problem: Problem, options: SolveOptions) -> Solution:
    started = time.monotonic()
    deadline = options.deadline_from(started)
    options = dataclasses.replace(options, deadline=deadline)  # every sub-search ends by then
    rng = random.Random(options.seed)
    first_schedule, origin, replanned = None, "greedy", 0
    first_valid: float | None = None  # seconds to a valid first schedule, where known before the repair
    replan_stats: dict[str, int] = {}  # passes and rounds of planning people again (one_by_one.replan)
    if one_by_one_chosen(problem, options):
        # every hard rule binds one person: plan each alone, wanting the cover the others left
        # (solver.one_by_one); whoever is still left without a valid roster is repaired below
        planned_until = started + ONE_BY_ONE_SHARE * (deadline - started)
        prices: dict[str, int] = {}  # each person's weekend price, from the first plan to the replanning
        first_schedule, failed = plan_one_by_one(problem, options, planned_until, prices)
        origin = "people one by one"
        if not failed and not validate.validate(problem, first_schedule):
            # valid already: that is the first schedule found; then each person is planned again given
            # all the others, while that gains
            first_valid = time.monotonic() - started
            planned = validate.objective(problem, first_schedule)
            _report(options, started, planned, 1)
            replan_until = time.monotonic() + REPLAN_SHARE * (deadline - time.monotonic())
            again, replanned = replan(problem, first_schedule, options, replan_until, replan_stats, prices)
            # kept where the whole objective agrees (the terms across people were left out of it)
            if replanned and validate.objective(problem, again) < planned:
                first_schedule = again
            else:
                replanned = 0
    elif options.rolling_start and sets_minimums(problem) and options.hint is None and not problem.reference:
        # the greedy start would break the minimums (runs of days, hours over the horizon): plan the
        # horizon a block of weeks at a time instead (solver.rolling), then repair who is still short
        rolled_until = started + ROLLING_SHARE * (deadline - started)
        first_schedule = rolling_start(problem, options, deadline, until=rolled_until)
        origin = "blocks of weeks"
    if first_schedule is None:
        origin = "greedy"
        greedy_until = time.monotonic() + GREEDY_SHARE * (deadline - time.monotonic())
        first_schedule = _start(problem, options, greedy_until)
    current, broken = valid_start(problem, first_schedule, options, deadline)
    if broken and origin == "people one by one":
        # the whole model is what planning people one at a time stands in for: too large to build in
        # time (measured: Curtois 23's rules took 100 s past a 120 s limit), so no schedule this time
        return Solution(
            status=Status.NO_SOLUTION,
            wall_time=time.monotonic() - started,
            stats={"method": "large neighbourhood search", "first_schedule": origin,
                   "people_left": len({v.person for v in broken})},
        )
    if broken:
        # Rules that set a minimum (blocks, total hours) defeat the greedy start: let CP-SAT find a
        # valid schedule on the whole model first, from the greedy one as a hint (within the deadline,
        # model building included).
        left = deadline - time.monotonic()
        budget = max(0.01, min(left, max(MIN_SUB_TIME, options.time_limit * FIRST_SCHEDULE_SHARE)))
        first = solve_model(
            problem,
            dataclasses.replace(
                options,
                time_limit=budget,
                hint=current,
                parameters={**options.parameters, "stop_after_first_solution": True},
            ),
        )
        if not first.has_schedule:
            return dataclasses.replace(first, wall_time=time.monotonic() - started)
        current, origin = list(first.assignments), "whole model"
    scoring = time.monotonic()
    best = validate.objective(problem, current)
    scoring = time.monotonic() - scoring
    improvements = 2 if replanned else 1  # the replanning's schedule counts as an improvement
    first_solution_time = time.monotonic() - started if first_valid is None else first_valid
    _report(options, started, best, improvements)
    current, best, restaffed = _restaff_gaps(problem, current, best, options, deadline, RESTAFF_ROUNDS)
    if restaffed:
        improvements += restaffed
        _report(options, started, best, improvements)

    eligible_by_day = _eligible_by_day(problem)
    bound = staffing_bound(problem)  # the neighbourhoods prove nothing about the whole problem
    total = sum(sum(row) for row in eligible_by_day.values())
    # a neighbourhood is at most a third of the problem: re-solving all of it is not a neighbourhood
    most = max(1, min(MAX_PAIRS, total // 3))
    target, sub_time = min(TARGET_PAIRS, most), SUB_TIME
    tried = accepted = 0
    # seconds the bookkeeping after a neighbourhood takes (scoring it, then checking and scoring the
    # whole schedule, a few times what scoring the start took; then measured as it goes)
    reserve = max(0.05, 4 * scoring)
    # the chains are tried again once neighbourhoods have changed the schedule: after the next
    # improvement, and after twice as many each time a try gains nothing
    retry_after, patience = improvements + 1, 1
    while not stopped(options):
        remaining = deadline - time.monotonic() - reserve
        if remaining < MIN_SUB_TIME:
            break
        if improvements >= retry_after:
            current, best, gained = _restaff_gaps(
                problem, current, best, options, deadline, rounds=1, most=min(SUB_TIME, remaining)
            )
            if gained:
                restaffed += gained
                improvements += gained
                _report(options, started, best, improvements)
            else:
                patience *= 2
            retry_after = improvements + patience
            continue
        hood = _choose(problem, current, rng, eligible_by_day, target, tried)
        tried += 1
        sub, fixed = _pin_outside(problem, current, hood)
        window = {s.id for s in problem.shifts if s.day in hood.days}
        candidates = dict.fromkeys(hood.people, window)

        hood_started, hood_budget = time.monotonic(), min(sub_time, remaining)
        hood_options = sub_options(options, hood_budget, options.seed + tried, current)
        hood_options = dataclasses.replace(hood_options, portfolio=options.hood_portfolio)
        result = solve_model(sub, hood_options, candidates=candidates, fixed=fixed)
        checked = time.monotonic()
        improved = False
        if result.has_schedule:
            value = validate.objective(problem, result.assignments)
            if value < best and not validate.validate(problem, result.assignments):
                current, best = list(result.assignments), value
                improved = True
                accepted += 1
                improvements += 1
                _report(options, started, best, improvements)
        # what came after the neighbourhood's own budget (scoring it, checking the whole schedule)
        beyond = time.monotonic() - hood_started - hood_budget
        reserve = max(reserve, 2 * (time.monotonic() - checked), 1.5 * beyond)
        # adapt: easy neighbourhoods grow, hard ones shrink
        if result.status is Status.OPTIMAL:
            target = min(most, int(target * 1.25))
        elif not improved:
            target = max(min(MIN_PAIRS, most), int(target * 0.85))

    terms = validate.evaluate_terms(problem, current)
    return Solution(
        status=Status.FEASIBLE,
        assignments=tuple(current),
        uncovered=tuple(validate.expected_shortfalls(problem, current)),
        objective=best,
        best_bound=bound,
        wall_time=time.monotonic() - started,
        first_solution_time=first_solution_time,
        terms=tuple(Term(name, value, getattr(problem.weights, name)) for name, value in terms.items()),
        stats={
            "method": "large neighbourhood search",
            "first_schedule": origin,  # greedy, blocks of weeks, people one by one, or the whole model
            "first_schedule_seconds": round(first_solution_time, 3),
            "replanned_people": replanned,  # rosters the people-one-by-one start changed on its passes
            "restaff_rounds": restaffed,  # rounds of the chains around the places short that gained
            **{f"replan_{k}": v for k, v in replan_stats.items()},  # its passes, rounds, rounds kept
            "bound": "staffing (slots short of everyone who may work them)",
            "gap": round(max(0.0, (best - bound) / best), 4) if best else 0.0,
            "neighbourhoods": tried,
            "improving_neighbourhoods": accepted,
            "final_neighbourhood_size": target,
            "cancelled": stopped(options),
        },
    )


def _restaff_gaps(
    problem: Problem, current: list[tuple[str, str]], best: int, options: SolveOptions, deadline: float,
    rounds: int = RESTAFF_ROUNDS, most: float = RESTAFF_TIME,
) -> tuple[list[tuple[str, str]], int, int]:
    """The places ``current`` leaves short, re-staffed by the exact local model of the chains around
    them (``solver.restaff``), in rounds while a round gains. A round's schedule is kept only if it is
    valid and the whole objective is lower (the local model weighs coverage alone). Returns the
    schedule, its objective and the rounds kept (``rounds`` at most, ``most`` seconds each)."""
    kept = 0
    for rnd in range(rounds):
        if stopped(options):
            break
        short = sorted({u.shift for u in validate.expected_shortfalls(problem, current)})
        left = deadline - time.monotonic()
        budget = min(most, RESTAFF_SHARE * left)
        if not short or budget < MIN_SUB_TIME:
            break
        local = dataclasses.replace(
            sub_options(options, budget, options.seed + 10_000 + rnd, current), portfolio="max_lp"
        )
        found, _ = restaff(problem, current, short, local, until=time.monotonic() + budget / 2)
        if not found.has_schedule:
            break
        value = validate.objective(problem, found.assignments)
        if value >= best or validate.validate(problem, found.assignments):
            break
        current, best = list(found.assignments), value
        kept += 1
    return current, best, kept


def _start(problem: Problem, options: SolveOptions, deadline: float) -> list[tuple[str, str]]:
    """A valid schedule to start from: the hint or previous schedule without what is no longer allowed
    (e.g. the shifts of someone who fell ill), or the greedy one."""
    if options.hint is not None or problem.reference:
        base = list(options.hint) if options.hint is not None else sorted(problem.reference)
        frozen = set()
        if problem.freeze_before is not None:
            frozen = {s.id for s in problem.shifts if s.start < problem.freeze_before}
        people = {p.id: p for p in problem.people}
        kept = [(p, s) for p, s in base if p in people and (s in frozen or people[p].may_work(s))]
        return repair_start(problem, kept)
    return greedy(problem, seed=options.seed, deadline=deadline)


def _eligible_by_day(problem: Problem) -> dict[str, list[int]]:
    """Per person, how many shifts of each day they may work."""
    counts: dict[str, list[int]] = {}
    for person in problem.people:
        row = [0] * problem.days
        for shift in problem.shifts:
            if person.may_work(shift.id):
                row[shift.day] += 1
        counts[person.id] = row
    return counts


_MEASURES = (
    load,
    lambda problem, person, shifts: sum(1 for s in shifts if s.night),
    lambda problem, person, shifts: sum(1 for s in shifts if problem.is_weekend(s.day)),
    lambda problem, person, shifts: sum(1 for s in shifts if s.intensity is Intensity.HEAVY),
)


_MEASURE_TERMS = (("load_max", "load_spread"), ("nights_spread",), ("weekends_spread",), ("heavy_spread",))


def _measure_weights(problem: Problem, current: list[tuple[str, str]]) -> list[float]:
    """How often to aim at each fairness measure: in proportion to what its terms cost now (each at
    least a little, so none is forgotten)."""
    terms = validate.evaluate_terms(problem, current)
    w = problem.weights
    costs = [sum(terms[t] * getattr(w, t) for t in names) for names in _MEASURE_TERMS]
    floor = max(1.0, 0.1 * sum(costs) / len(costs))
    return [c + floor for c in costs]


def _choose(
    problem: Problem,
    current: list[tuple[str, str]],
    rng: random.Random,
    eligible_by_day: dict[str, list[int]],
    target: int,
    tried: int,
) -> _Neighbourhood:
    """Pick the next neighbourhood, in turn: the gaps (while there are any), the people at both ends of
    a fairness measure, a few people over the whole horizon (swaps across weeks), everyone over a few
    days (swaps within days), or a random slice."""
    shortfalls = validate.expected_shortfalls(problem, current)
    kinds = ["load", "people", "random", "days"]
    if shortfalls:  # coverage dominates the objective: most neighbourhoods go to the gaps
        kinds = ["gaps", "gaps", "load", "gaps", "people", "gaps", "days", "random"]
    kind = kinds[tried % len(kinds)]
    people_ids = [p.id for p in problem.people]

    per_day = sum(sum(row) for row in eligible_by_day.values()) / max(1, problem.days)
    whole_days = int(target / per_day) if per_day else problem.days
    if kind == "people":
        length = problem.days
    elif kind == "days" or whole_days > WINDOW_DAYS[1]:
        # everyone over as many days as fit (at least the shortest window)
        length = min(problem.days, max(WINDOW_DAYS[0], whole_days))
    else:
        length = min(problem.days, rng.randint(*WINDOW_DAYS))

    if kind == "gaps":
        gap = problem.shift(rng.choice(shortfalls).shift)
        first = max(0, min(problem.days - length, gap.day - length // 2))
        days = range(first, first + length)
        able = [p.id for p in problem.people if p.may_work(gap.id)]
        rng.shuffle(able)
        others = [p for p in people_ids if p not in set(able)]
        rng.shuffle(others)
        order = able + others
    else:
        first = rng.randint(0, problem.days - length)
        days = range(first, first + length)
        order = list(people_ids)
        rng.shuffle(order)
        if kind == "load":
            # the people at both ends of one of the fairness measures, chosen at random
            by_person: dict[str, list] = defaultdict(list)
            for person_id, shift_id in current:
                by_person[person_id].append(problem.shift(shift_id))
            measure = rng.choices(_MEASURES, weights=_measure_weights(problem, current))[0]
            score = {p.id: measure(problem, p, by_person[p.id]) for p in problem.people}
            ranked = sorted(order, key=lambda pid: score[pid])
            # interleave the lightest and the heaviest, then the rest at random
            ends = [pid for pair in zip(ranked, reversed(ranked), strict=True) for pid in pair]
            order = list(dict.fromkeys(ends[: len(ends) // 4] + order))
    chosen: list[str] = []
    pairs = 0
    for person_id in order:
        size = sum(eligible_by_day[person_id][d] for d in days)
        if size == 0:
            continue
        if pairs + size > target and chosen:
            break
        chosen.append(person_id)
        pairs += size
    return _Neighbourhood(kind, chosen, days)


def _pin_outside(
    problem: Problem, current: list[tuple[str, str]], hood: _Neighbourhood
) -> tuple[Problem, set[tuple[str, str]]]:
    """The neighbourhood's problem: the free people's assignments outside the window pinned, and
    everyone else's assignments as fixed constants."""
    free = set(hood.people)
    inside = {s.id for s in problem.shifts if s.day in hood.days}
    pinned = {(p, s) for p, s in current if p in free and s not in inside}
    fixed = {(p, s) for p, s in current if p not in free}
    return dataclasses.replace(problem, pinned=frozenset(problem.pinned | pinned)), fixed


def _report(options: SolveOptions, started: float, objective: int, solutions: int) -> None:
    if options.on_progress is not None:
        options.on_progress(
            Progress(
                elapsed=time.monotonic() - started,
                objective=objective,
                bound=None,
                solutions=solutions,
                phase="neighbourhoods",
            )
        )


