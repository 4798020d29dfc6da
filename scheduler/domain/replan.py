"""Re-solving a published schedule after a disruption, changing as little as possible.

At 06:40 a gate volunteer phones in sick; the coordinator needs a corrected schedule before 07:00 that
changes as little as possible for everyone else. :func:`resolve` does that:

1. :func:`apply` records the disruptions in a new scenario: a health record appended to the
   volunteer's health history (never overwritten), a dated absence, a raised headcount, a new post
   or volunteer, contacts marked isolating.
2. The new scenario is compiled, and the previous schedule becomes the solver's ``reference`` with
   ``freeze_before`` at the cut-off (default: now). Every shift that starts before the cut-off keeps
   exactly its people, a shift under way at the cut-off included, even if a new health record now
   covers it: that is what was (or is being) worked. Such a shift of someone who may no longer work it
   is listed in :attr:`ChangeSet.under_way`: relief has to be arranged by hand.
3. The objective, in order: coverage first; then the ``change`` term, ``weights.change`` per changed
   (person, shift) pair after the cut-off, times 8 for a shift within a day of the cut-off falling to
   1 a week or more away (``solver.validate.change_cost``); then the usual fairness and burnout terms.
   Pairs a person may no longer work (the ill person's shifts) cost nothing: removing them is not a
   disruption. The people a disruption concerns (the ill person, whoever withdraws or is marked
   isolating) lose exactly what they can no longer work and get nothing new.
4. The search, fastest first (:func:`search_problem`, :func:`relieve`): the places the disruption
   left short are given to people who can take them without breaking a rule (one change each, the
   least loaded first); a place nobody free can take is filled by a short chain (someone moves over
   from another of their shifts, a free person takes that one). Only while a place is still short and
   someone eligible could work it does CP-SAT run: on an exact local model of the chains around the
   short places (``solver.restaff``: who could take each one as they are or by giving up shifts that
   others could take over, everyone else fixed; coverage and changes only), which is proven optimal
   in a fraction of a second, and the call ends there. With ``polish`` the whole-window search runs
   instead (the problem restricted to a window after the last short place, starting from the
   repair's schedule, stopped by ``patience``). The best of CP-SAT's and the repair's schedules in
   the order coverage, changes, the rest is kept: the repair alone is optimal on coverage and changes
   whenever every place was filled by one person added.
5. The result is a :class:`Resolution`: the new scenario, the new full schedule and a
   :class:`ChangeSet` (for each affected volunteer the shifts removed and added with their contact,
   soonest first; the slots left short after the cut-off and why; and for an infectious illness, the
   people who shared a shift at the same post with the ill person in the last
   ``rules.contact_tracing_days`` days).

The previous schedule minus the pairs that may no longer be worked is always a valid schedule of the
new scenario (a disruption only takes people away or adds demand, people or posts), and the repair
only adds to it what the checker accepts, so a re-solve always answers, even if the search finds
nothing in time.

Headcounts: the scenario format has no per-date headcount, and a shift's id is its post, template and
date, so a raised headcount on some dates is recorded as *extra* templates at the same post
(``<template>.extra1``, ``.extra2``, ...: same times, one person each, no skill demand of their own,
running only on those dates), which keeps every existing assignment's id. Forbidden successions and
shift preferences that name the template are extended to its extras.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace

from pydantic import Field

from scheduler.domain.changes import ChangeSet, change_set
from scheduler.domain.check import Violation, validate
from scheduler.domain.clock import aware, utc
from scheduler.domain.compile import Compiled, compile_scenario, shift_id
from scheduler.domain.disruptions import (
    AnyDisruption,
    MarkIsolating,
    Model,
    SickCall,
    Withdrawal,
    apply_with_released_pins,
)
from scheduler.domain.errors import FieldProblem, InputError
from scheduler.domain.report import assignments_of, build_schedule, uncovered_of
from scheduler.domain.scenario import (
    HealthStatus,
    Scenario,
)
from scheduler.domain.schedule import Schedule, Uncovered
from solver import validate as solver_validate
from solver.options import Progress, SolveOptions
from solver.problem import Solution
from solver.repair import (
    Patience,
    best_schedule,
    fillable,
    is_frozen,
    kept_pairs,
    relieve,
    search_problem,
)
from solver.restaff import restaff
from solver.solve import solve

# the local model is proven optimal far sooner with CP-SAT's strong-LP worker (measured on the demo
# compound's sick calls, 2 workers: every one within 1.2 s, against 2 of 12 not proven in 3 s without)
LOCAL_PORTFOLIO = "max_lp"
# at most this long for the local model (it is proven optimal within a second on the benchmark's sick
# calls; on a very busy machine the best found by then is kept rather than make the coordinator wait)
LOCAL_SECONDS = 3.0


class Resolution(Model):
    scenario: Scenario = Field(description="The scenario with the disruptions recorded")
    schedule: Schedule = Field(description="The new full schedule, same horizon as the previous one")
    changes: ChangeSet


class ResolveFailed(RuntimeError):
    """No schedule: the frozen past of the previous schedule breaks a hard rule of the new scenario."""


#: what a re-solve of a published schedule that does not map onto the site any more is told
NO_LONGER_FITS = "no longer fits the site: publish a new full schedule instead"


class NoLongerFits(InputError):
    """The previous schedule's assignments do not map onto the new scenario (a shift template or post it
    staffs is gone, a volunteer it names was deleted): ``problems`` name ``assignments[i]`` each."""

    def __init__(self, problems: list[str]):
        self.texts = problems
        super().__init__("previous schedule", [FieldProblem("", p) for p in problems])



# --------------------------------------------------------------------------------------------------
# resolve


def resolve(
    scenario: Scenario,
    previous: Schedule,
    disruptions: Iterable[AnyDisruption],
    *,
    cutoff: dt.datetime | None = None,
    time_limit: float = 10.0,
    workers: int = 2,
    seed: int = 0,
    contact_days: int | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
    patience: float | None = 3.0,
    polish: bool = False,
    window: float | None = 2.0,
    old_gaps: bool = False,
    coverage_first: bool = False,
) -> Resolution:
    """Re-solve ``previous`` (a schedule of ``scenario``) after ``disruptions``, from ``cutoff``.

    ``cutoff`` is an aware date-time or a naive one in the site's zone; default now. ``contact_days``
    overrides ``rules.contact_tracing_days``.

    How (see :func:`search_problem`): the places the disruption left short ("hot" slots) are first
    given to people who can take them without breaking a rule, then filled by short chains (someone
    moves over, a free person takes their place). While a hot place is still short that someone
    eligible could fill, the exact local model of ``solver.restaff`` solves the chains around those
    places (within the ``window`` days after the last hot slot; None: the rest of the horizon) and the
    call ends at its proven optimum. With ``polish`` the CP-SAT search on the whole restricted problem
    runs instead, from the repair's schedule, and stops after ``patience`` seconds without a better
    one (None: at ``time_limit``). Either way ``time_limit`` counts from the call's start, and
    ``patience`` also stops a local model that is slow to prove its optimum. Of CP-SAT's and the
    repair's schedules the better one in the issue's order is kept: coverage, then
    changes, then the rest (the search minimises the weighted sum, in which a clearly better balance
    can buy a change a week away; such a trade is not taken). ``old_gaps``: let the search
    rearrange other people to fill slots that were short before the disruption too. ``coverage_first``:
    the solver's two-phase search (off by default: the search starts from a complete schedule, and a
    second phase would build and presolve the model twice).

    Weights: the ``change`` weight comes from the scenario (``rules.weights.change``, default 1000): one
    changed (person, shift) costs 1000 to 8000 with the recency factor, against 100 000 per uncovered
    place, so up to 12 changes near the cut-off (100 far from it) are worth one place covered. 1000 is
    the largest weight that keeps ``solver.solve``'s coverage-first search usable (each coverage weight
    at least 100 times every other weight). It outweighs a shift's effect on every fairness and burnout
    term but the load terms (20 and 10 per mille of capacity: one 8-hour shift moves a weekly-capped
    volunteer's load by 40-120 per mille, 800-2400 on ``load_max`` plus the spread): in the weighted
    sum a change a week away can be bought by a clearly better balance, one near the cut-off hardly
    ever; the final choice above is lexicographic anyway.

    Raises :class:`~scheduler.domain.errors.InputError` for disruptions or a schedule that do not fit the
    scenario, :class:`~scheduler.domain.compile.ScenarioError` if the new scenario cannot be planned, and
    :class:`ResolveFailed` if the frozen past itself breaks a hard rule of the new scenario."""
    started = time.monotonic()
    disruptions = list(disruptions)
    zone = scenario.site.zone
    cut_at = aware(cutoff if cutoff is not None else dt.datetime.now(dt.UTC), zone)
    _check_header(scenario, previous)

    new_scenario, released = apply_with_released_pins(scenario, disruptions)
    compiled = compile_scenario(new_scenario)
    reference, problems = _pairs_of(compiled, previous)
    if problems:
        raise NoLongerFits(problems)
    previous_short = {sf.shift: sf for sf in uncovered_of(compiled, previous)[0]}
    cut = compiled.minutes(cut_at)
    problem = replace(compiled.problem, reference=frozenset(reference), freeze_before=cut)
    compiled = replace(compiled, problem=problem)

    kept = kept_pairs(problem)
    kept_violations = solver_validate.validate(problem, kept)
    if any(is_frozen(problem, v) for v in kept_violations):
        raise ResolveFailed(
            "the frozen part of the previous schedule breaks the new scenario: "
            + "; ".join(v.message for v in kept_violations[:5])
        )

    locked = {vid for d in disruptions for vid in _locks(d)}
    searched, start, hot, old = search_problem(problem, kept, previous_short, window, old_gaps, locked)
    start = relieve(searched, start, hot)
    found: Solution | None = None
    short = fillable(searched, start, hot, previous_short)
    if polish or short:
        watch = Patience(patience, on_progress, stop)
        options = SolveOptions(
            time_limit=time_limit, workers=workers, seed=seed, on_progress=watch, stop=watch.stop,
            coverage_first=coverage_first, hint=start, deadline=started + time_limit,
        )
        try:
            if polish:
                found = solve(searched, options)
            else:
                # the chains around the places still short, solved exactly (a fraction of a second)
                local = replace(options, portfolio=LOCAL_PORTFOLIO, time_limit=min(time_limit, LOCAL_SECONDS))
                found, _ = restaff(searched, start, short, local)
        finally:
            watch.close()
    best = best_schedule(problem, found, start, kept, kept_violations, time.monotonic() - started)
    if best is None:
        raise ResolveFailed(f"no schedule found within {time_limit:g} s")
    solution, method = best

    schedule = _schedule(compiled, solution, previous, time_limit=time_limit, workers=workers, seed=seed)
    days = contact_days if contact_days is not None else new_scenario.rules.contact_tracing_days
    changes = change_set(
        scenario, new_scenario, compiled, previous, schedule, solution, disruptions, cut_at, days, released
    )
    changes.method = method
    changes.searched = found is not None
    changes.seconds = round(time.monotonic() - started, 3)
    return Resolution(scenario=new_scenario, schedule=schedule, changes=changes)


def _pairs_of(compiled: Compiled, schedule: Schedule) -> tuple[list[tuple[str, str]], list[str]]:
    """``report.assignments_of``, quickly when every assignment maps (the usual case)."""
    people = {p.id for p in compiled.problem.people}
    pairs = []
    for a in schedule.assignments:
        sid = shift_id(a.post, a.shift, a.date)
        if sid not in compiled.slots or a.volunteer not in people:
            return assignments_of(compiled, schedule)
        pairs.append((a.volunteer, sid))
    return pairs, []


def _locks(d: AnyDisruption) -> list[str]:
    """The volunteers a disruption concerns who should only lose shifts (not one returning to fit)."""
    if isinstance(d, SickCall):
        return [] if d.status == HealthStatus.fit else [d.volunteer]
    if isinstance(d, Withdrawal):
        return [d.volunteer]
    if isinstance(d, MarkIsolating):
        return list(d.volunteers)
    return []


def _check_header(scenario: Scenario, previous: Schedule) -> None:
    problems = []
    for what, mine, theirs in (
        ("timezone", previous.timezone, scenario.site.timezone),
        ("start", previous.start, scenario.horizon.start),
        ("days", previous.days, scenario.horizon.days),
    ):
        if mine != theirs:
            problems.append(FieldProblem(what, f"is {mine}, the scenario's is {theirs}"))
    if previous.status not in ("optimal", "feasible") and not previous.assignments:
        problems.append(FieldProblem("status", f"is {previous.status}: there is no schedule to re-solve"))
    if problems:
        raise InputError("previous schedule", problems)




def _schedule(compiled: Compiled, solution: Solution, previous: Schedule, **report) -> Schedule:
    """The schedule file. Slots before the cut-off were not re-staffed: a short one keeps the previous
    schedule's entry (the explainer, which knows nothing of the cut-off, would blame the solver), or,
    if it is new (a headcount raised on a day already begun), says so."""
    problem = compiled.problem
    cut = problem.freeze_before
    before = {(u.post, u.shift, u.date): u for u in previous.uncovered}
    reused: list[Uncovered] = []
    frozen: set[str] = set()
    for sf in solution.uncovered:
        if cut is None or problem.shift(sf.shift).start >= cut:
            continue
        slot = compiled.slots[sf.shift]
        old = before.get((slot.post, slot.template, slot.date))
        if old is not None and old.missing == sf.missing and old.missing_skills == dict(sf.missing_skills):
            reused.append(old.model_copy(deep=True))
            frozen.add(sf.shift)
    explained = replace(solution, uncovered=tuple(sf for sf in solution.uncovered if sf.shift not in frozen))
    schedule = build_schedule(compiled, explained, **report)
    for u in schedule.uncovered:
        if cut is not None and compiled.minutes(u.start) < cut:
            u.reason, u.blocked_by = "started before the re-solve's cut-off", {}
            u.detail = f"the slot started before the cut-off ({compiled.instant(cut):%Y-%m-%d %H:%M})"
    if reused:
        schedule.uncovered = sorted(
            schedule.uncovered + reused, key=lambda u: (utc(u.start), shift_id(u.post, u.shift, u.date))
        )
    if cut is not None:
        schedule.cutoff = compiled.instant(cut)
    return schedule



# --------------------------------------------------------------------------------------------------
# checking a re-solve


def check(
    scenario: Scenario, schedule: Schedule, previous: Schedule, cutoff: dt.datetime
) -> list[Violation]:
    """The independent checker (``scheduler.domain.check.validate``) on a re-solved ``schedule`` of the new
    ``scenario``, accepting the frozen past, plus a ``frozen`` violation for every assignment starting
    before ``cutoff`` that differs from ``previous``.

    The checker does not know the cut-off: a health record or absence recorded now that covers a shift
    already worked (or under way) is reported as ``health``/``unavailable``/``eligibility``. Exactly
    those reports are dropped, and only for assignments identical to the previous schedule's that
    start before the cut-off."""
    cut = utc(aware(cutoff, scenario.site.zone))

    def key(a) -> tuple[str, str, str, dt.date]:
        return (a.volunteer, a.post, a.shift, a.date)

    frozen_before = {key(a) for a in previous.assignments if utc(a.start) < cut}
    frozen_now = {key(a) for a in schedule.assignments if utc(a.start) < cut}
    exempt = {(v, p, d) for v, p, _, d in frozen_before & frozen_now}
    out = [
        v for v in validate(scenario, schedule)
        if not (
            v.rule in ("health", "unavailable", "eligibility", "guardian")
            and (v.volunteer, v.post, v.date) in exempt
        )
    ]
    changed = (("removed from", frozen_before - frozen_now), ("added to", frozen_now - frozen_before))
    for what, pairs in changed:
        for vid, post, shift, date in sorted(pairs):
            out.append(Violation(
                "frozen", vid, post, date,
                f"{vid} was {what} {post}/{shift} {date}, which starts before the cut-off",
            ))
    return out


