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
4. The search, fastest first (:func:`_search_problem`, :func:`_relieve`): the places the disruption
   left short are given to people who can take them without breaking a rule (one change each, the
   least loaded first); a place nobody free can take is filled by a short chain (someone moves over
   from another of their shifts, a free person takes that one). Only while a place is still short and
   someone eligible could work it does the CP-SAT search run, on the problem restricted to a window
   after the last short place, starting from that schedule. The best of the search's and the
   repair's schedules by the full objective is kept: the repair alone is optimal on coverage and
   changes whenever every place was filled by one person added.
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
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from scheduler.compile import Compiled, Slot, compile_scenario, shift_id
from scheduler.errors import FieldProblem, InputError, parse_model
from scheduler.report import assignments_of, build_schedule, uncovered_of
from scheduler.scenario import (
    HealthRecord,
    HealthStatus,
    Id,
    Period,
    Pin,
    Post,
    Scenario,
    ShiftTemplate,
    Volunteer,
    When,
    _check_order,
)
from scheduler.schedule import Schedule, Uncovered

if TYPE_CHECKING:
    from scheduler.check import Violation as CheckViolation
from solver import validate as solver_validate
from solver.greedy import greedy
from solver.options import Progress, SolveOptions
from solver.problem import MINUTES_PER_DAY, Problem, Shortfall, Solution, Status, Term
from solver.solve import solve
from solver.validate import change_cost

#: Default of ``Weights.change`` in a scenario (see :func:`resolve` for why 1000).
DEFAULT_CHANGE_WEIGHT = 1000

_EXTRA = re.compile(r"^(?P<base>.+)\.extra(?P<n>[1-9][0-9]*)$")
_DAY = dt.timedelta(days=1)


# --------------------------------------------------------------------------------------------------
# Disruptions


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SickCall(_Model):
    """A health change of one volunteer: ``sick``/``isolating`` (never scheduled), ``limited`` (light day
    posts only) or back to ``fit``, from ``from`` until ``until`` (a date is the whole local day and
    inclusive, a date-time exclusive; no ``until`` is open-ended). Appended to the health history."""

    kind: Literal["sick_call"] = "sick_call"
    volunteer: Id
    status: HealthStatus = HealthStatus.sick
    start: When = Field(alias="from")
    until: When | None = None
    infectious: bool = Field(default=False, description="List the people who shared a shift with them")
    note: str | None = Field(default=None, max_length=200, description="Short note; never a diagnosis")

    @model_validator(mode="after")
    def _ordered(self) -> SickCall:
        _check_order(self.start, self.until)
        return self


class Withdrawal(_Model):
    """A volunteer withdrawing for some dates: a dated absence."""

    kind: Literal["withdrawal"] = "withdrawal"
    volunteer: Id
    start: When = Field(alias="from")
    until: When | None = None
    reason: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _ordered(self) -> Withdrawal:
        _check_order(self.start, self.until)
        return self


class DemandChange(_Model):
    """More people wanted on shift template ``shift`` of ``post`` on some dates: ``required`` is the new
    headcount on each of them (at least the current one)."""

    kind: Literal["demand_change"] = "demand_change"
    post: Id
    shift: Id = Field(description="Shift template id")
    dates: list[dt.date] = Field(min_length=1, description="Local dates on which the shift starts")
    required: int = Field(ge=0, le=1000)


class NewPost(_Model):
    """A post added (give its templates ``dates`` to run it on some days only)."""

    kind: Literal["new_post"] = "new_post"
    post: Post


class NewVolunteer(_Model):
    """A volunteer joining."""

    kind: Literal["new_volunteer"] = "new_volunteer"
    volunteer: Volunteer


class MarkIsolating(_Model):
    """Contacts marked isolating in the same step as the sick call (one re-solve, not a chain)."""

    kind: Literal["mark_isolating"] = "mark_isolating"
    volunteers: list[Id] = Field(min_length=1)
    start: When = Field(alias="from")
    until: When | None = None
    note: str | None = Field(default="contact of an infectious case", max_length=200)

    @model_validator(mode="after")
    def _ordered(self) -> MarkIsolating:
        _check_order(self.start, self.until)
        return self


Disruption = Annotated[
    SickCall | Withdrawal | DemandChange | NewPost | NewVolunteer | MarkIsolating,
    Field(discriminator="kind"),
]
AnyDisruption = SickCall | Withdrawal | DemandChange | NewPost | NewVolunteer | MarkIsolating


def describe(d: AnyDisruption) -> str:
    """One line for people, e.g. 'v017 sick from 2026-12-09T06:40 until 2026-12-12 (infectious)'."""
    if isinstance(d, SickCall):
        text = f"{d.volunteer} {d.status.value}{_span(d.start, d.until)}"
        return text + (" (infectious)" if d.infectious else "")
    if isinstance(d, Withdrawal):
        return f"{d.volunteer} withdraws{_span(d.start, d.until)}" + (f": {d.reason}" if d.reason else "")
    if isinstance(d, MarkIsolating):
        return f"{', '.join(d.volunteers)} isolating{_span(d.start, d.until)}"
    if isinstance(d, DemandChange):
        dates = ", ".join(x.isoformat() for x in d.dates)
        return f"{d.post}/{d.shift} needs {d.required} on {dates}"
    if isinstance(d, NewPost):
        return f"new post {d.post.id} ({d.post.name})"
    return f"new volunteer {d.volunteer.id} ({d.volunteer.name})"


def _span(start: dt.date | dt.datetime | None, until: dt.date | dt.datetime | None) -> str:
    text = f" from {start.isoformat()}" if start is not None else ""
    return text + (f" until {until.isoformat()}" if until is not None else "")


# --------------------------------------------------------------------------------------------------
# apply


def apply(scenario: Scenario, disruptions: Iterable[AnyDisruption]) -> Scenario:
    """A new scenario with the disruptions recorded (``scenario`` is not changed).

    Health records are appended (the history is never overwritten; the later ``from`` wins), a
    withdrawal becomes a dated absence, a raised headcount extra templates (see the module docstring).
    Pins of the volunteers concerned that they may no longer work are released. Raises
    :class:`~scheduler.errors.InputError` naming the field (``disruptions[i]....``) for what does not
    fit the scenario."""
    return _apply(scenario, list(disruptions))[0]


def _apply(scenario: Scenario, disruptions: Sequence[AnyDisruption]) -> tuple[Scenario, list[Pin]]:
    new = scenario.model_copy(deep=True)
    problems: list[FieldProblem] = []
    volunteers = {v.id: v for v in new.volunteers}
    touched: set[str] = set()

    def volunteer(vid: str, where: str) -> Volunteer | None:
        found = volunteers.get(vid)
        if found is None:
            problems.append(FieldProblem(where, f"no volunteer {vid!r} in the scenario"))
        return found

    for i, d in enumerate(disruptions):
        where = f"disruptions[{i}]"
        if isinstance(d, SickCall):
            v = volunteer(d.volunteer, f"{where}.volunteer")
            if v is not None:
                v.health.append(HealthRecord(
                    status=d.status, start=d.start, until=d.until, infectious=d.infectious, note=d.note
                ))
                touched.add(v.id)
        elif isinstance(d, Withdrawal):
            v = volunteer(d.volunteer, f"{where}.volunteer")
            if v is not None:
                v.unavailable.append(Period(start=d.start, until=d.until, reason=d.reason))
                touched.add(v.id)
        elif isinstance(d, MarkIsolating):
            for j, vid in enumerate(d.volunteers):
                v = volunteer(vid, f"{where}.volunteers[{j}]")
                if v is not None:
                    v.health.append(HealthRecord(
                        status=HealthStatus.isolating, start=d.start, until=d.until, note=d.note
                    ))
                    touched.add(v.id)
        elif isinstance(d, NewVolunteer):
            if d.volunteer.id in volunteers:
                problems.append(FieldProblem(f"{where}.volunteer.id", f"volunteer {d.volunteer.id!r} exists"))
            else:
                v = d.volunteer.model_copy(deep=True)
                new.volunteers.append(v)
                volunteers[v.id] = v
        elif isinstance(d, NewPost):
            if any(p.id == d.post.id for p in new.posts):
                problems.append(FieldProblem(f"{where}.post.id", f"post {d.post.id!r} exists"))
            else:
                new.posts.append(d.post.model_copy(deep=True))
        elif isinstance(d, DemandChange):
            _raise_headcount(new, d, where, problems)
        else:  # pragma: no cover - the union is closed
            raise TypeError(f"unknown disruption {d!r}")
    if problems:
        raise InputError("disruptions", problems)
    _mirror_extras(new)
    new = parse_model(Scenario, new.model_dump(by_alias=True), "the scenario with the disruptions")
    return _release_pins(new, touched)


def _raise_headcount(scenario: Scenario, d: DemandChange, where: str, problems: list[FieldProblem]) -> None:
    post = next((p for p in scenario.posts if p.id == d.post), None)
    if post is None:
        problems.append(FieldProblem(f"{where}.post", f"no post {d.post!r}"))
        return
    templates = {t.id: t for t in post.shifts}
    base = templates.get(d.shift)
    if base is None or _EXTRA.match(d.shift):
        problems.append(FieldProblem(f"{where}.shift", f"post {d.post!r} has no shift {d.shift!r}"))
        return
    extras: dict[int, ShiftTemplate] = {}
    for t in post.shifts:
        m = _EXTRA.match(t.id)
        if m and m["base"] == base.id:
            extras[int(m["n"])] = t
    horizon = scenario.horizon
    want = d.required - base.required
    for k, date in enumerate(d.dates):
        field = f"{where}.dates[{k}]"
        if not horizon.start <= date < horizon.end:
            problems.append(
                FieldProblem(field, f"{date} is outside the horizon {horizon.start}..{horizon.end}")
            )
            continue
        runs = date.weekday() in {w.index for w in base.weekdays} and (
            base.dates is None or date in base.dates
        )
        if not runs:
            problems.append(
                FieldProblem(field, f"shift {base.id!r} at post {post.id!r} does not run on {date}")
            )
            continue
        now = base.required + sum(1 for t in extras.values() if t.dates and date in t.dates)
        if d.required < now:
            problems.append(FieldProblem(
                f"{where}.required",
                f"{post.id}/{base.id} needs {now} on {date}; a re-solve can raise a headcount, not lower it",
            ))
            continue
        for n in range(1, want + 1):
            extra = extras.get(n)
            if extra is None:
                extra = base.model_copy(
                    deep=True, update={"id": f"{base.id}.extra{n}", "required": 1, "skills": {}, "dates": []}
                )
                extras[n] = extra
                post.shifts.append(extra)
            if date not in extra.dates:
                extra.dates.append(date)
                extra.dates.sort()


def _mirror_extras(scenario: Scenario) -> None:
    """Extend forbidden successions and shift preferences naming a template to its extra templates."""
    family: dict[str, set[str]] = {}
    for post in scenario.posts:
        for t in post.shifts:
            m = _EXTRA.match(t.id)
            if m:
                family.setdefault(m["base"], set()).add(t.id)
    if not family:
        return

    def members(tid: str) -> list[str]:
        return [tid, *sorted(family.get(tid, ()))]

    rules = scenario.rules
    pairs: list[tuple[str, str]] = []
    for a, b in rules.forbidden_successions:
        for pair in ((x, y) for x in members(a) for y in members(b)):
            if pair not in pairs:
                pairs.append(pair)
    rules.forbidden_successions = pairs
    for v in scenario.volunteers:
        prefs = v.preferences
        for name in ("preferred_shifts", "unwanted_shifts"):
            ids = getattr(prefs, name)
            setattr(prefs, name, list(dict.fromkeys(x for tid in ids for x in members(tid))))


def _release_pins(scenario: Scenario, touched: set[str]) -> tuple[Scenario, list[Pin]]:
    """Drop the pins of ``touched`` volunteers that they may no longer work."""
    candidates = [i for i, pin in enumerate(scenario.pinned) if pin.volunteer in touched]
    if not candidates:
        return scenario, []
    probe = compile_scenario(scenario.model_copy(update={"pinned": []}))
    released = []
    for i in candidates:
        pin = scenario.pinned[i]
        sid = shift_id(pin.post, pin.shift, pin.date)
        if sid in probe.slots and not probe.problem.person(pin.volunteer).may_work(sid):
            released.append(i)
    if not released:
        return scenario, []
    kept = [pin for i, pin in enumerate(scenario.pinned) if i not in released]
    return scenario.model_copy(update={"pinned": kept}), [scenario.pinned[i] for i in released]


# --------------------------------------------------------------------------------------------------
# The change set


class ShiftRef(_Model):
    post: str
    shift: str = Field(description="Shift template id")
    date: dt.date
    start: dt.datetime
    end: dt.datetime
    reason: str | None = Field(
        default=None, description="For a removal the person may no longer work: why (e.g. 'sick')"
    )


class VolunteerChange(_Model):
    """What changed for one volunteer after the cut-off."""

    volunteer: str
    name: str
    phone: str | None = None
    email: str | None = None
    subject: str | None = Field(
        default=None,
        description="Why this volunteer is concerned themselves: 'sick', 'withdrawn', 'isolating (contact)', "
        "'new volunteer'; None for everyone else",
    )
    removed: list[ShiftRef] = Field(default_factory=list)
    added: list[ShiftRef] = Field(default_factory=list)
    first_change: dt.datetime = Field(description="Start of the soonest changed shift")

    @property
    def forced_only(self) -> bool:
        """Only shifts they may no longer work were removed: nothing asked of them."""
        return not self.added and all(r.reason for r in self.removed)


class UnderWay(_Model):
    """A shift under way at the cut-off of someone who may no longer work it: frozen, so it stays in
    the schedule; relief has to be arranged by hand."""

    volunteer: str
    name: str
    phone: str | None = None
    shift: ShiftRef


class UncoveredSlot(_Model):
    post: str
    shift: str
    date: dt.date
    start: dt.datetime
    end: dt.datetime
    required: int
    assigned: int
    missing: int
    missing_skills: dict[str, int] = Field(default_factory=dict)
    reason: str = ""
    detail: str = ""
    new: bool = Field(description="Not short (or less short) in the previous schedule")
    missing_before: int = Field(description="People missing in the previous schedule (0 = it was staffed)")


class ContactPerson(_Model):
    """Someone who shared a shift at the same post with an infectious volunteer before the cut-off."""

    volunteer: str
    name: str
    phone: str | None = None
    email: str | None = None
    of: str = Field(description="The infectious volunteer")
    shared: list[ShiftRef] = Field(description="Their shifts that overlapped, at the same post")
    last_shared: dt.datetime = Field(description="End of the latest shared shift")
    isolating: bool = Field(description="Marked isolating in this re-solve")


class ChangeSet(_Model):
    site: str
    timezone: str
    cutoff: dt.datetime = Field(description="Nothing starting before this changed")
    disruptions: list[str]
    volunteers: list[VolunteerChange] = Field(description="Every volunteer with a change, soonest first")
    changed_others: int = Field(
        description="Assignments changed (added or removed) after the cut-off that the person could still "
        "work: the disruption to everyone else (the people a disruption concerns only lose what they can "
        "no longer work)"
    )
    changed_own: int = Field(description="Assignments removed because the person may no longer work them")
    restaffed: int = Field(
        description="Places after the cut-off vacated by people who may no longer work them"
    )
    new_places: int = Field(
        default=0, description="Places added after the cut-off (raised headcount, new post)"
    )
    under_way: list[UnderWay] = Field(default_factory=list)
    uncovered: list[UncoveredSlot] = Field(default_factory=list, description="Short slots after the cut-off")
    covered_again: int = Field(default=0, description="Slots after the cut-off short before, staffed now")
    contacts: list[ContactPerson] = Field(default_factory=list)
    contact_days: int | None = None
    released_pins: list[Pin] = Field(default_factory=list)
    method: str = Field(
        default="solver",
        description="'repair': people added to the short places, or short chains of changes (the CP-SAT "
        "search is only run while a place could still be filled, or on request, and had nothing better); "
        "'solver': the CP-SAT search found a better schedule; 'previous': the previous schedule minus "
        "what may no longer be worked was best",
    )
    searched: bool = Field(default=False, description="Whether the CP-SAT search ran")
    seconds: float = Field(description="Wall time of the whole re-solve")


class Resolution(_Model):
    scenario: Scenario = Field(description="The scenario with the disruptions recorded")
    schedule: Schedule = Field(description="The new full schedule, same horizon as the previous one")
    changes: ChangeSet


class ResolveFailed(RuntimeError):
    """No schedule: the frozen past of the previous schedule breaks a hard rule of the new scenario."""


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

    How (see :func:`_search_problem`): the places the disruption left short ("hot" slots) are first
    given to people who can take them without breaking a rule, then filled by short chains (someone
    moves over, a free person takes their place). The CP-SAT search on the restricted problem (the
    ``window`` days after the last hot slot; None: the rest of the horizon) runs only while a hot place
    is still short that someone eligible could fill, or with ``polish``; it starts from that schedule
    and stops after ``patience`` seconds without a better one (None: at ``time_limit``). Of the
    search's and the repair's schedules the better one in the issue's order is kept: coverage, then
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

    Raises :class:`~scheduler.errors.InputError` for disruptions or a schedule that do not fit the
    scenario, :class:`~scheduler.compile.ScenarioError` if the new scenario cannot be planned, and
    :class:`ResolveFailed` if the frozen past itself breaks a hard rule of the new scenario."""
    started = time.monotonic()
    disruptions = list(disruptions)
    zone = scenario.site.zone
    cut_at = _aware(cutoff if cutoff is not None else dt.datetime.now(dt.UTC), zone)
    _check_header(scenario, previous)

    new_scenario, released = _apply(scenario, disruptions)
    compiled = compile_scenario(new_scenario)
    reference, problems = _pairs_of(compiled, previous)
    if problems:
        raise InputError("previous schedule", [FieldProblem("", p) for p in problems])
    previous_short = {sf.shift: sf for sf in uncovered_of(compiled, previous)[0]}
    cut = compiled.minutes(cut_at)
    problem = replace(compiled.problem, reference=frozenset(reference), freeze_before=cut)
    compiled = replace(compiled, problem=problem)

    kept = _kept(problem)
    kept_violations = solver_validate.validate(problem, kept)
    if any(_is_frozen(problem, v) for v in kept_violations):
        raise ResolveFailed(
            "the frozen part of the previous schedule breaks the new scenario: "
            + "; ".join(v.message for v in kept_violations[:5])
        )

    locked = {vid for d in disruptions for vid in _locks(d)}
    searched, start, hot, old = _search_problem(problem, kept, previous_short, window, old_gaps, locked)
    start = _relieve(searched, start, hot)
    found: Solution | None = None
    if polish or _open(searched, start, hot, previous_short):
        watch = _Patience(patience, on_progress, stop)
        options = SolveOptions(
            time_limit=time_limit, workers=workers, seed=seed, on_progress=watch, stop=watch.stop,
            coverage_first=coverage_first, hint=start,
        )
        try:
            found = solve(searched, options)
        finally:
            watch.close()
    best = _best(problem, found, start, kept, kept_violations, time.monotonic() - started)
    if best is None:
        raise ResolveFailed(f"no schedule found within {time_limit:g} s")
    solution, method = best

    schedule = _schedule(compiled, solution, previous, time_limit=time_limit, workers=workers, seed=seed)
    days = contact_days if contact_days is not None else new_scenario.rules.contact_tracing_days
    changes = _change_set(
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


def _aware(instant: dt.datetime, zone) -> dt.datetime:
    """``instant`` in the site zone (naive = site-local wall clock)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=zone, fold=0)
    return instant.astimezone(zone)


def _utc(instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(dt.UTC)


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


def _kept(problem: Problem) -> list[tuple[str, str]]:
    """The previous schedule minus the pairs after the cut-off that may no longer be worked."""
    cut = problem.freeze_before
    out = []
    for pid, sid in sorted(problem.reference):
        shift = problem.shift(sid)
        if (cut is not None and shift.start < cut) or problem.person(pid).may_work(sid):
            out.append((pid, sid))
    return out


def _is_frozen(problem: Problem, v: solver_validate.Violation) -> bool:
    """Whether a violation lies wholly in the frozen past (a re-solve cannot repair it)."""
    cut = problem.freeze_before
    return cut is not None and bool(v.shifts) and all(problem.shift(s).start < cut for s in v.shifts)


def _on(problem: Problem, solution: Solution) -> Solution:
    """``solution`` with its coverage, terms and objective computed on ``problem`` by the checker."""
    terms = solver_validate.evaluate_terms(problem, solution.assignments)
    return replace(
        solution,
        uncovered=tuple(solver_validate.expected_shortfalls(problem, solution.assignments)),
        objective=sum(value * getattr(problem.weights, name) for name, value in terms.items()),
        terms=tuple(Term(name, value, getattr(problem.weights, name)) for name, value in terms.items()),
    )


def _worse(sf: Shortfall, previous_short: dict[str, Shortfall]) -> bool:
    """Whether the slot is shorter (in people or a skill) than in the previous schedule."""
    was = previous_short.get(sf.shift)
    return was is None or sf.missing > was.missing or any(
        n > was.missing_skills.get(k, 0) for k, n in sf.missing_skills.items()
    )


REASON_FROZEN = "before the re-solve's cut-off"
REASON_OUTSIDE = "outside the re-solve's window"
REASON_LOCKED = "concerned by the disruption: loses what they can no longer work, nothing else"


def _search_problem(
    problem: Problem,
    kept: list[tuple[str, str]],
    previous_short: dict[str, Shortfall],
    window: float | None,
    old_gaps: bool,
    locked: set[str] = frozenset(),
) -> tuple[Problem, list[tuple[str, str]], set[str], set[str]]:
    """The problem the solver searches, and the schedule it starts from.

    *Hot* slots are those the disruption left short after the cut-off: places vacated by people who
    may no longer work them, new or raised demand. The *window* runs from the cut-off to ``window``
    days after the end of the last hot slot (None: to the end of the horizon). Inside it anyone
    eligible may be added to any slot; outside it the previous schedule is pinned and nobody else may
    be added. Slots before the cut-off keep exactly their people (``freeze_before``), so nobody else is
    modelled on them at all. Changes far from the disruption would only buy fairness, which ranks below
    changing little. The ``locked`` volunteers (the ill person, whoever withdraws or is marked
    isolating) keep every shift they can still work and get no new one.

    The start: the previous schedule minus what may no longer be worked, with the short places after
    the cut-off (hot ones and those already short before) given in time order to people who can take
    them without breaking a rule (the solver's greedy with everything else pinned): one change per
    place where a free person exists. Unless ``old_gaps``, a slot that was already short keeps the
    staffing of the start in the search (its headcount and skill demand capped at it): nobody else's
    shifts are rearranged to fill a gap the disruption did not make."""
    cut = problem.freeze_before
    assert cut is not None
    shifts = problem.shifts
    reference = problem.reference
    hot = {
        sid for pid, sid in reference
        if problem.shift(sid).start >= cut and not problem.person(pid).may_work(sid)
    }
    old: set[str] = set()
    for sf in solver_validate.expected_shortfalls(problem, kept):
        if problem.shift(sf.shift).start < cut:
            continue
        if _worse(sf, previous_short):
            hot.add(sf.shift)
        else:
            old.add(sf.shift)
    if window is None:
        play = {s.id for s in shifts if s.start >= cut}
    else:
        end = max((problem.shift(sid).end for sid in hot), default=cut) + round(window * MINUTES_PER_DAY)
        play = {s.id for s in shifts if cut <= s.start < end} | hot | old

    closed = {s.id: REASON_FROZEN if s.start < cut else REASON_OUTSIDE for s in shifts if s.id not in play}
    by_person: dict[str, set[str]] = {}
    for pid, sid in reference:
        by_person.setdefault(pid, set()).add(sid)
    people = []
    for person in problem.people:
        mine = by_person.get(person.id, set())
        if person.id in locked:
            shut = {s.id: REASON_LOCKED for s in shifts if s.start >= cut} | closed
        else:
            shut = closed
        blocked = {sid: why for sid, why in shut.items() if sid not in mine and sid not in person.unavailable}
        people.append(replace(person, unavailable={**person.unavailable, **blocked}) if blocked else person)
    pins = {
        (pid, sid) for pid, sid in reference
        if (sid in closed or pid in locked)
        and problem.shift(sid).start >= cut
        and problem.person(pid).may_work(sid)
    }
    searched = replace(problem, people=tuple(people), pinned=problem.pinned | frozenset(pins))

    after = {(pid, sid) for pid, sid in kept if problem.shift(sid).start >= cut}
    start = greedy(replace(searched, pinned=searched.pinned | frozenset(after)))
    if old_gaps or not old:
        return searched, start, hot, old
    staffed: dict[str, list[str]] = {}
    for pid, sid in start:
        if sid in old:
            staffed.setdefault(sid, []).append(pid)
    capped = []
    for shift in shifts:
        if shift.id in old:
            on = staffed.get(shift.id, [])
            have = len(on)
            skills = {
                k: min(n, sum(1 for pid in on if k in problem.person(pid).skills))
                for k, n in shift.skills.items()
            }
            shift = replace(
                shift,
                required=min(shift.required, have),
                max_staff=have if shift.max_staff is None else min(shift.max_staff, have),
                skills=skills,
            )
        capped.append(shift)
    return replace(searched, shifts=tuple(capped)), start, hot, old


def _best(
    problem: Problem,
    found: Solution | None,
    start: list[tuple[str, str]],
    kept: list[tuple[str, str]],
    kept_violations: list,
    wall_time: float,
) -> tuple[Solution, str] | None:
    """The best valid schedule of the solver's and the repair's (or, if that is broken, the previous
    one's), in the issue's order: coverage, then changes, then the rest of the objective of
    ``problem`` (the solver searched a restricted copy of it, on the weighted sum, where a clearly better
    balance can buy a change a week away: that is not taken here)."""
    candidates: list[tuple[Solution, str]] = []
    # the repair start is the previous schedule plus people on short places: better unless broken
    for pairs, method in ((start, "repair"), (None if kept_violations else kept, "previous")):
        if pairs is not None and not solver_validate.validate(problem, pairs):
            base = Solution(status=Status.FEASIBLE, assignments=tuple(pairs), wall_time=wall_time)
            candidates.append((_on(problem, base), method))
            break
    if found is not None and found.has_schedule and not solver_validate.validate(problem, found.assignments):
        candidates.append((_on(problem, found), "solver"))
    # ties go to the earliest candidate: the repair start over the solver's equal schedule
    return min(candidates, key=lambda c: _order(c[0]), default=None)


def _order(solution: Solution) -> tuple[int, int, int]:
    """(coverage, change, everything else), each weighted as in the objective."""
    terms = {t.name: t.weighted for t in solution.terms}
    coverage = terms.get("uncovered", 0) + terms.get("skill_shortfall", 0)
    change = terms.get("change", 0)
    return coverage, change, sum(terms.values()) - coverage - change


def _relieve(problem: Problem, start: list[tuple[str, str]], hot: set[str]) -> list[tuple[str, str]]:
    """Fill hot places the greedy start left short with a short chain, soonest first: someone moves
    from one of their shifts after the cut-off to the short slot, and a free person takes their place
    (three changes, two people). The cheapest chain by change cost is taken; among equal candidates,
    people who already have a change come first (one call instead of two)."""
    cut = problem.freeze_before
    assert cut is not None
    mine: dict[str, set[str]] = {}
    on: dict[str, set[str]] = {}
    for pid, sid in start:
        mine.setdefault(pid, set()).add(sid)
        on.setdefault(sid, set()).add(pid)
    pinned = problem.pinned
    called = {pid for pid, sid in set(start) ^ problem.reference if problem.person(pid).may_work(sid)}

    def broken(pid: str, sids: Iterable[str]) -> list[solver_validate.Violation]:
        return solver_validate.person_violations(problem, [(pid, s) for s in sids], pid)

    def takers(sid: str, skills: set[str], exclude: set[str]) -> list[str]:
        shift = problem.shift(sid)
        out = [
            p.id for p in problem.people
            if p.id not in exclude and p.may_work(sid) and skills <= p.skills
        ]
        load = {pid: sum(problem.shift(x).minutes for x in mine.get(pid, ())) for pid in out}
        return sorted(
            out,
            key=lambda pid: (pid not in called, problem.person(pid).avoids.get(shift.id, 0), load[pid], pid),
        )

    for sid in sorted(hot, key=lambda x: (problem.shift(x).start, x)):
        shift = problem.shift(sid)
        while len(on.get(sid, ())) < shift.required and (
            shift.max_staff is None or len(on.get(sid, ())) < shift.max_staff
        ):
            here = on.get(sid, set())
            need = {
                k for k, n in shift.skills.items() if sum(k in problem.person(p).skills for p in here) < n
            }
            chain = _chain(problem, sid, need, here, mine, on, pinned, broken, takers)
            if chain is None:
                break
            mover, gave_up, taker = chain
            called.add(mover)
            if gave_up is not None:
                called.add(taker)
                mine[mover].discard(gave_up)
                on[gave_up].discard(mover)
                mine.setdefault(taker, set()).add(gave_up)
                on[gave_up].add(taker)
            mine.setdefault(mover, set()).add(sid)
            on.setdefault(sid, set()).add(mover)
    return sorted((pid, sid) for pid, sids in mine.items() for sid in sids)


def _chain(problem, sid, need, here, mine, on, pinned, broken, takers):
    """(mover, the shift they give up or None, who takes it) for short slot ``sid``, or None.

    A mover only gives up a shift that every rule they would break by taking ``sid`` names (a
    violation lists the shifts involved): removing any other could not make room."""
    cut = problem.freeze_before
    options = []
    for pid in takers(sid, set(), here):
        if need and not (need & problem.person(pid).skills):
            continue
        own = mine.get(pid, set())
        violations = broken(pid, own | {sid})
        if not violations:
            return pid, None, None
        culprits = set(own)
        for v in violations:
            culprits &= set(v.shifts)
        for other in sorted(culprits):
            shift = problem.shift(other)
            if shift.start < cut or (pid, other) in pinned:
                continue
            if not broken(pid, (own - {other}) | {sid}):
                options.append((change_cost(problem, shift), shift.start, pid, other))
    for _, _, pid, other in sorted(options):
        shift = problem.shift(other)
        rest = on.get(other, set()) - {pid}
        lost = {k for k, n in shift.skills.items() if sum(k in problem.person(p).skills for p in rest) < n}
        for taker in takers(other, lost, rest | {pid}):
            if not broken(taker, mine.get(taker, set()) | {other}):
                return pid, other, taker
    return None


def _open(
    problem: Problem, start: list[tuple[str, str]], hot: set[str], previous_short: dict[str, Shortfall]
) -> bool:
    """Whether a hot slot is shorter in ``start`` than in the previous schedule while someone eligible
    could work it (a longer chain of changes might free them): only then is the CP-SAT search worth
    its start-up time."""
    cut = problem.freeze_before
    for sf in solver_validate.expected_shortfalls(problem, start):
        if sf.shift not in hot or problem.shift(sf.shift).start < cut or not _worse(sf, previous_short):
            continue
        here = {pid for pid, s in start if s == sf.shift}
        need = {k for k, n in sf.missing_skills.items() if n > 0}
        for person in problem.people:
            if person.id in here or not person.may_work(sf.shift):
                continue
            if sf.missing > 0 or need & person.skills:
                return True
    return False


class _Patience:
    """Stops the search once it has gone ``patience`` seconds without a better schedule after the
    coverage phase; passes progress on and honours the caller's stop event."""

    def __init__(self, patience: float | None, on_progress, stop: threading.Event | None):
        self.patience = patience
        self.on_progress = on_progress
        self.outer = stop
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._last = time.monotonic()
        self._best: float | None = None
        self._phase = ""
        self._done = threading.Event()
        if patience is not None or stop is not None:
            threading.Thread(target=self._watch, name="rota-resolve-patience", daemon=True).start()

    def __call__(self, progress: Progress) -> None:
        with self._lock:
            if progress.phase != self._phase:
                self._phase, self._best = progress.phase, None
                self._last = time.monotonic()
            if progress.objective is not None and (self._best is None or progress.objective < self._best):
                self._best = progress.objective
                self._last = time.monotonic()
        if self.on_progress is not None:
            self.on_progress(progress)

    def _watch(self) -> None:
        while not self._done.wait(0.05):
            if self.outer is not None and self.outer.is_set():
                self.stop.set()
                return
            if self.patience is None:
                continue
            with self._lock:
                idle = time.monotonic() - self._last
                ready = self._phase != "coverage" and self._best is not None
            if ready and idle >= self.patience:
                self.stop.set()
                return

    def close(self) -> None:
        self._done.set()


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
            schedule.uncovered + reused, key=lambda u: (_utc(u.start), shift_id(u.post, u.shift, u.date))
        )
    if cut is not None:
        schedule.cutoff = compiled.instant(cut)
    return schedule


# --------------------------------------------------------------------------------------------------
# building the change set


def _ref(slot: Slot, reason: str | None = None) -> ShiftRef:
    return ShiftRef(
        post=slot.post, shift=slot.template, date=slot.date, start=slot.start, end=slot.end, reason=reason
    )


def _subjects(disruptions: Sequence[AnyDisruption]) -> dict[str, str]:
    out: dict[str, str] = {}
    for d in disruptions:
        if isinstance(d, SickCall):
            out.setdefault(d.volunteer, d.status.value)
        elif isinstance(d, Withdrawal):
            out.setdefault(d.volunteer, "withdrawn")
        elif isinstance(d, MarkIsolating):
            for vid in d.volunteers:
                out.setdefault(vid, "isolating (contact)")
        elif isinstance(d, NewVolunteer):
            out.setdefault(d.volunteer.id, "new volunteer")
    return out


def _change_set(
    old_scenario: Scenario,
    scenario: Scenario,
    compiled: Compiled,
    previous: Schedule,
    schedule: Schedule,
    solution: Solution,
    disruptions: Sequence[AnyDisruption],
    cut_at: dt.datetime,
    contact_days: int,
    released: list[Pin],
) -> ChangeSet:
    problem = compiled.problem
    cut = problem.freeze_before
    assert cut is not None
    slots = compiled.slots
    before = set(problem.reference)
    after = set(solution.assignments)
    volunteers = {v.id: v for v in scenario.volunteers}
    subjects = _subjects(disruptions)

    removed: dict[str, list[ShiftRef]] = {}
    added: dict[str, list[ShiftRef]] = {}
    changed_own = changed_others = 0
    for pid, sid in sorted(before - after):
        if problem.shift(sid).start < cut:
            continue
        reason = problem.person(pid).unavailable.get(sid)
        removed.setdefault(pid, []).append(_ref(slots[sid], reason))
        if reason is None:
            changed_others += 1
        else:
            changed_own += 1
    for pid, sid in sorted(after - before):
        if problem.shift(sid).start < cut:
            continue
        added.setdefault(pid, []).append(_ref(slots[sid]))
        changed_others += 1

    people = []
    for pid in sorted(set(removed) | set(added)):
        v = volunteers[pid]
        rem = sorted(removed.get(pid, []), key=lambda r: _utc(r.start))
        add = sorted(added.get(pid, []), key=lambda r: _utc(r.start))
        first = min((r.start for r in rem + add), key=_utc)
        people.append(VolunteerChange(
            volunteer=pid, name=v.name, phone=v.contact.phone, email=v.contact.email,
            subject=subjects.get(pid), removed=rem, added=add, first_change=first,
        ))
    people.sort(key=lambda c: (_utc(c.first_change), c.name, c.volunteer))

    under_way = []
    for pid, sid in sorted(before & after):
        shift = problem.shift(sid)
        reason = problem.person(pid).unavailable.get(sid)
        if reason is not None and shift.start < cut < shift.end:
            v = volunteers[pid]
            under_way.append(UnderWay(volunteer=pid, name=v.name, phone=v.contact.phone,
                                      shift=_ref(slots[sid], reason)))

    uncovered, covered_again = _uncovered(previous, schedule, cut_at)
    new_places = _new_places(old_scenario, compiled, cut, disruptions)
    contacts = _contacts_of(previous, disruptions, volunteers, cut_at, contact_days)
    return ChangeSet(
        site=scenario.site.name,
        timezone=scenario.site.timezone,
        cutoff=cut_at,
        disruptions=[describe(d) for d in disruptions],
        volunteers=people,
        changed_others=changed_others,
        changed_own=changed_own,
        restaffed=changed_own,
        new_places=new_places,
        under_way=under_way,
        uncovered=uncovered,
        covered_again=covered_again,
        contacts=contacts,
        contact_days=contact_days if any(_infectious(d) for d in disruptions) else None,
        released_pins=released,
        seconds=0.0,
    )


def _uncovered(
    previous: Schedule, schedule: Schedule, cut_at: dt.datetime
) -> tuple[list[UncoveredSlot], int]:
    cut = _utc(cut_at)
    old = {(u.post, u.shift, u.date): u for u in previous.uncovered if _utc(u.start) >= cut}
    out = []
    seen = set()
    for u in schedule.uncovered:
        if _utc(u.start) < cut:
            continue
        key = (u.post, u.shift, u.date)
        seen.add(key)
        was: Uncovered | None = old.get(key)
        missing_before = 0 if was is None else was.missing
        worse = was is None or u.missing > was.missing or any(
            n > was.missing_skills.get(k, 0) for k, n in u.missing_skills.items()
        )
        out.append(UncoveredSlot(
            post=u.post, shift=u.shift, date=u.date, start=u.start, end=u.end, required=u.required,
            assigned=u.assigned, missing=u.missing, missing_skills=dict(u.missing_skills), reason=u.reason,
            detail=u.detail, new=worse, missing_before=missing_before,
        ))
    return out, sum(1 for key in old if key not in seen)


def _new_places(old: Scenario, compiled: Compiled, cut: int, disruptions: Sequence[AnyDisruption]) -> int:
    if not any(isinstance(d, DemandChange | NewPost) for d in disruptions):
        return 0
    before = compile_scenario(old).slots
    return sum(s.required for s in compiled.problem.shifts if s.id not in before and s.start >= cut)


def _infectious(d: AnyDisruption) -> bool:
    hard = (HealthStatus.sick, HealthStatus.isolating)
    return isinstance(d, SickCall) and d.infectious and d.status in hard


def _contacts_of(
    previous: Schedule,
    disruptions: Sequence[AnyDisruption],
    volunteers: dict[str, Volunteer],
    cut_at: dt.datetime,
    days: int,
) -> list[ContactPerson]:
    isolating = {vid for d in disruptions if isinstance(d, MarkIsolating) for vid in d.volunteers}
    out: list[ContactPerson] = []
    seen: set[str] = set()
    for d in disruptions:
        if not _infectious(d):
            continue
        for c in contacts(previous, d.volunteer, cut_at, days, volunteers=volunteers):
            if c.volunteer in seen:
                continue
            seen.add(c.volunteer)
            out.append(c.model_copy(update={"isolating": c.volunteer in isolating}))
    return out


def contacts(
    previous: Schedule,
    volunteer: str,
    cutoff: dt.datetime,
    days: int,
    *,
    volunteers: dict[str, Volunteer] | Scenario | None = None,
) -> list[ContactPerson]:
    """The people who shared a shift at the same post with ``volunteer`` (overlapping in time) in the
    ``days`` days before ``cutoff`` (aware), by the previous schedule; latest contact first. Pass the
    scenario (or its volunteers by id) for names and contacts."""
    if isinstance(volunteers, Scenario):
        volunteers = {v.id: v for v in volunteers.volunteers}
    volunteers = volunteers or {}
    cut = _utc(cutoff)
    since = cut - days * _DAY
    mine = [
        a for a in previous.assignments
        if a.volunteer == volunteer and _utc(a.start) < cut and _utc(a.end) > since
    ]
    shared: dict[str, list[ShiftRef]] = {}
    for a in mine:
        a_start, a_end = _utc(a.start), _utc(a.end)
        for b in previous.assignments:
            if b.volunteer == volunteer or b.post != a.post:
                continue
            if _utc(b.start) < a_end and _utc(b.end) > a_start and _utc(b.start) < cut:
                ref = ShiftRef(post=b.post, shift=b.shift, date=b.date, start=b.start, end=b.end)
                if ref not in shared.setdefault(b.volunteer, []):
                    shared[b.volunteer].append(ref)
    out = []
    for vid, refs in shared.items():
        refs.sort(key=lambda r: _utc(r.start))
        v = volunteers.get(vid)
        out.append(ContactPerson(
            volunteer=vid,
            name=v.name if v is not None else vid,
            phone=v.contact.phone if v is not None else None,
            email=v.contact.email if v is not None else None,
            of=volunteer,
            shared=refs,
            last_shared=max((r.end for r in refs), key=_utc),
            isolating=False,
        ))
    out.sort(key=lambda c: (-_utc(c.last_shared).timestamp(), c.volunteer))
    return out


# --------------------------------------------------------------------------------------------------
# checking a re-solve


def check(
    scenario: Scenario, schedule: Schedule, previous: Schedule, cutoff: dt.datetime
) -> list[CheckViolation]:
    """The independent checker (``scheduler.check.validate``) on a re-solved ``schedule`` of the new
    ``scenario``, accepting the frozen past, plus a ``frozen`` violation for every assignment starting
    before ``cutoff`` that differs from ``previous``.

    The checker does not know the cut-off: a health record or absence recorded now that covers a shift
    already worked (or under way) is reported as ``health``/``unavailable``/``eligibility``. Exactly
    those reports are dropped, and only for assignments identical to the previous schedule's that
    start before the cut-off."""
    from scheduler.check import Violation, validate

    cut = _utc(_aware(cutoff, scenario.site.zone))

    def key(a) -> tuple[str, str, str, dt.date]:
        return (a.volunteer, a.post, a.shift, a.date)

    frozen_before = {key(a) for a in previous.assignments if _utc(a.start) < cut}
    frozen_now = {key(a) for a in schedule.assignments if _utc(a.start) < cut}
    exempt = {(v, p, d) for v, p, _, d in frozen_before & frozen_now}
    out = [
        v for v in validate(scenario, schedule)
        if not (
            v.rule in ("health", "unavailable", "eligibility") and (v.volunteer, v.post, v.date) in exempt
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


# --------------------------------------------------------------------------------------------------
# text


def _when(r: ShiftRef, zone) -> str:
    start, end = r.start.astimezone(zone), r.end.astimezone(zone)
    return f"{start:%a %m-%d %H:%M}-{end:%H:%M}"


def changeset_text(changes: ChangeSet) -> str:
    """The change set for the coordinator: whom to call first (soonest change first), their phone,
    what changed; then what stays uncovered and, for an infectious illness, the contacts."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(changes.timezone)
    cut = changes.cutoff.astimezone(zone)
    lines = [f"{changes.site}: re-solved from {cut:%Y-%m-%d %H:%M} ({changes.timezone})"]
    lines.extend(f"  {d}" for d in changes.disruptions)
    summary = (
        f"{changes.restaffed} place(s) to re-staff, {changes.new_places} new; "
        f"{changes.changed_others} change(s) for other volunteers; {changes.seconds:.1f} s"
    )
    if changes.method == "previous":
        summary += " (no better schedule found in time: the previous one, minus what cannot be worked)"
    lines.append(summary)

    calls = [c for c in changes.volunteers if not (c.forced_only and c.subject in ("sick", "limited",
                                                                                  "withdrawn", "fit"))]
    told = [c for c in changes.volunteers if c not in calls]
    lines.append("")
    if calls:
        lines.append("Call, soonest change first:")
        width = len(str(len(calls)))
        for n, c in enumerate(calls, 1):
            reach = "  ".join(x for x in (c.phone, c.email) if x) or "no contact on file"
            role = f" [{c.subject}]" if c.subject else ""
            lines.append(f"  {n:>{width}}. {c.name} ({c.volunteer}){role}  {reach}")
            for r in sorted(c.added + c.removed, key=lambda r: _utc(r.start)):
                sign = "+" if r in c.added else "-"
                why = f"  ({r.reason})" if r.reason else ""
                lines.append(f"  {'':>{width}}    {sign} {_when(r, zone)}  {r.post}/{r.shift}{why}")
    else:
        lines.append("Nobody else's shifts changed.")
    if told:
        lines.append("")
        lines.append("Taken off (they reported it; nothing to ask of them):")
        for c in told:
            lines.append(f"  {c.name} ({c.volunteer}): {len(c.removed)} shift(s) removed")
            for r in c.removed:
                lines.append(f"      - {_when(r, zone)}  {r.post}/{r.shift}  ({r.reason})")
    if changes.under_way:
        lines.append("")
        lines.append("Under way at the cut-off (left as they are; arrange relief by hand):")
        for u in changes.under_way:
            lines.append(
                f"  {u.name} ({u.volunteer}) {u.phone or ''}  {_when(u.shift, zone)}  "
                f"{u.shift.post}/{u.shift.shift}  ({u.shift.reason})"
            )
    if changes.released_pins:
        lines.append("")
        lines.append("Pins released:")
        for p in changes.released_pins:
            lines.append(f"  {p.volunteer} on {p.post}/{p.shift} {p.date}")
    lines.append("")
    if changes.uncovered:
        new = sum(1 for u in changes.uncovered if u.new)
        lines.append(f"Uncovered after the cut-off: {len(changes.uncovered)} slot(s), {new} new:")
        for u in changes.uncovered:
            skills = ", ".join(f"{k} {v}" for k, v in sorted(u.missing_skills.items()))
            what = f"missing {u.missing}" + (f" (skills: {skills})" if skills else "")
            flag = "NEW " if u.new else "    "
            ref = ShiftRef(post=u.post, shift=u.shift, date=u.date, start=u.start, end=u.end)
            lines.append(f"  {flag}{_when(ref, zone)}  {u.post}/{u.shift}  {what}: {u.reason}")
    else:
        lines.append("Every slot after the cut-off is staffed.")
    if changes.covered_again:
        lines.append(f"({changes.covered_again} slot(s) short before are staffed now.)")
    if changes.contact_days is not None:
        lines.append("")
        if changes.contacts:
            lines.append(
                f"Contacts (shared a shift at the same post in the {changes.contact_days} days before the "
                f"cut-off), latest first:"
            )
            for c in changes.contacts:
                reach = "  ".join(x for x in (c.phone, c.email) if x) or "no contact on file"
                mark = "  marked isolating" if c.isolating else ""
                last = c.shared[-1]
                lines.append(
                    f"  {c.name} ({c.volunteer})  {reach}  {len(c.shared)} shared shift(s), last "
                    f"{_when(last, zone)} {last.post}/{last.shift}{mark}"
                )
        else:
            lines.append(
                f"No contacts: nobody shared a shift with them in the last {changes.contact_days} days."
            )
    return "\n".join(lines) + "\n"
