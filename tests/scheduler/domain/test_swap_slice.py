"""A swap, give-away or claim checked on a slice of the site (scheduler.domain.swaps.slice_of: the people
involved and everyone on the slots touched) gets the same verdict, with the same reasons, as checked on
the whole site: random changes on generated sites, against schedules that already break rules here and
there (so that what was wrong before is not blamed on the change either way)."""

from __future__ import annotations

import random

import pytest

from scheduler.domain import swaps
from scheduler.domain.compile import compile_scenario
from scheduler.domain.generate import generate
from scheduler.domain.report import build_schedule
from scheduler.domain.schedule import Schedule
from solver import validate as checker
from solver.problem import Solution, Status


def _schedule(compiled, rng: random.Random) -> Schedule:
    """A schedule with most slots staffed by people who may work them, a few by anyone (rules broken
    before any change) and some left short (open shifts)."""
    people = list(compiled.problem.people)
    pairs = []
    for shift in compiled.problem.shifts:
        if rng.random() < 0.15:
            continue  # left open
        able = [p for p in people if p.may_work(shift.id)] if rng.random() < 0.9 else people
        if not able:
            continue
        count = rng.randint(max(1, shift.required - 1), shift.required)
        pairs += [(p.id, shift.id) for p in rng.sample(able, min(count, len(able)))]
    uncovered = checker.expected_shortfalls(compiled.problem, pairs)
    solution = Solution(Status.FEASIBLE, assignments=tuple(pairs), uncovered=tuple(uncovered), objective=0)
    return Schedule.model_validate_json(build_schedule(compiled, solution).model_dump_json())


def _crew(compiled, sid: str) -> tuple:
    slot = compiled.slots[sid]
    return (slot.post, slot.template, slot.date)


def _verdict(breaches) -> list[tuple]:
    return [(b.rule, b.volunteer, b.shift, b.message) for b in breaches]


def _random_change(compiled, pairs, schedule, rng: random.Random):
    """(kind, remove, add): a give-away, a swap or a claim of an open slot."""
    people = [p.id for p in compiled.problem.people]
    kind = rng.choice(["give", "swap", "claim"])
    if kind == "claim" and schedule.uncovered:
        u = rng.choice(schedule.uncovered)
        return kind, [], [(rng.choice(people), f"{u.post}/{u.shift}/{u.date.isoformat()}")]
    offerer, sid = rng.choice(pairs)
    taker = rng.choice([p for p in people if p != offerer])
    if kind == "swap":
        theirs = [s for p, s in pairs if p == taker and s != sid]
        if theirs:
            back = rng.choice(theirs)
            return kind, [(offerer, sid), (taker, back)], [(taker, sid), (offerer, back)]
    return "give", [(offerer, sid)], [(taker, sid)]


def site_with_schedule(seed: int, volunteers: int, days: int, residents: int):
    """A generated site (its residents given guardians), compiled, and a random schedule of it."""
    rng = random.Random(seed)
    scenario = generate(volunteers, days, seed, residents=residents)
    ids = [v.id for v in scenario.volunteers]
    matched = []
    for r in scenario.residents:  # guardians, so that visits are open to two people each
        primary, backup = rng.sample(ids, 2)
        matched.append(r.model_copy(update={"primary": primary, "backup": backup}))
    scenario = scenario.model_copy(update={"residents": matched})
    whole = compile_scenario(scenario)
    return rng, scenario, whole, _schedule(whole, rng)


@pytest.mark.parametrize("seed, volunteers, days, residents", [(1, 40, 14, 0), (2, 60, 7, 8), (3, 30, 21, 0)])
def test_a_change_checked_on_the_slice_gets_the_whole_sites_verdict(seed, volunteers, days, residents):
    rng, scenario, whole, schedule = site_with_schedule(seed, volunteers, days, residents)
    pairs = swaps.pairs_of(whole, schedule)
    clean = broken = 0
    for _ in range(120):
        kind, remove, add = _random_change(whole, pairs, schedule, rng)
        expected = swaps.change_problems(whole, schedule, remove, add)
        movers = {p for p, _ in (*remove, *add)}
        crews = {_crew(whole, s) for _, s in (*remove, *add)}
        included = swaps.involved(schedule, movers, crews)
        assert len(included) < volunteers  # a slice, not the site
        sliced_scenario, sliced_schedule = swaps.slice_of(scenario, schedule, included)
        part = compile_scenario(sliced_scenario)
        assert len(part.problem.people) == len(included)
        got = swaps.change_problems(part, sliced_schedule, remove, add)
        assert _verdict(got) == _verdict(expected), (kind, remove, add)
        if kind == "claim":  # and whether the slot is open to the claimant, asked of that slot alone
            pid, sid = add[0]
            only = [u for u in sliced_schedule.uncovered if f"{u.post}/{u.shift}/{u.date.isoformat()}" == sid]
            on_slice = {o.shift for o in swaps.open_shifts(
                part, sliced_schedule.model_copy(update={"uncovered": only}), pid)}
            on_site = {o.shift for o in swaps.open_shifts(whole, schedule, pid)}
            assert (sid in on_slice) == (sid in on_site), (remove, add)
        clean += not expected
        broken += bool(expected)
    assert clean >= 10 and broken >= 10  # both verdicts were compared
