"""Swaps, give-aways and open shifts, decided by the independent checker.

A volunteer offers one of their published shifts: who could take it (a give-away), or which of
someone else's shifts could be exchanged for it (a swap), without breaking a hard rule? And which
uncovered slots could a volunteer pick up? Every answer here is the checker's
(:mod:`solver.validate`), not a second copy of the rules: the change is applied to the schedule's
``(person, shift id)`` pairs and the checker is run on the people it touches (rest, 7-day hours,
consecutive days and nights, health, availability, limited duty, every per-person rule) and on the
slots it touches (headcount cap, pairs, and the skills the slot still has: a change may not leave a
slot short of a skill it had).

A change is *clean* when it adds no violation: what was already wrong before (a shift under way when
a health record was recorded, kept by a re-solve) is not blamed on it.

:func:`changed_schedule` writes the changed schedule file (the touched slots' coverage, the touched
volunteers' totals and the objective recomputed) so it can be published as a new version and checked
once more, in full, by :func:`scheduler.domain.check.validate`.

Pure: no DB, no HTTP.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace

from scheduler.domain.clock import utc
from scheduler.domain.compile import Compiled, shift_id
from scheduler.domain.forecast import weekly_hours
from scheduler.domain.report import assignments_of, load_per_mille, schedule_weeks, volunteer_totals
from scheduler.domain.scenario import Preferences, Scenario
from scheduler.domain.schedule import Assignment, ObjectiveTerm, Schedule, Uncovered, VolunteerTotals
from solver import validate as checker
from solver.problem import Shift

Pair = tuple[str, str]  # (volunteer id, shift id)

#: Why a volunteer cannot take a change that is not about a rule.
NOT_IN_SCHEDULE = "not_in_schedule"
#: A change naming a shift or a volunteer the site no longer has.
UNKNOWN = "unknown_reference"


@dataclass(frozen=True)
class Breach:
    """One reason a change is not clean: a rule the checker says it breaks, for whom, on which slot."""

    rule: str
    volunteer: str | None
    shift: str | None  # shift id
    message: str


@dataclass(frozen=True)
class Taker:
    """Someone who could take an offered shift: alone (a give-away) or giving ``gives`` back (a swap)."""

    volunteer: str
    name: str
    load: int  # in the site's load measure, before the change
    hours: float  # hours in the schedule, before the change
    gives: str | None = None  # shift id of the taker's own shift the offerer takes in exchange


@dataclass(frozen=True)
class OpenShift:
    """An uncovered slot a volunteer could work."""

    shift: str  # shift id
    post: str
    template: str
    date: dt.date
    start: dt.datetime
    end: dt.datetime
    hours: float
    missing: int


# --------------------------------------------------------------------------------------------------
# the slice of the site a change needs


def involved(
    schedule: Schedule, people: Iterable[str], crews: Iterable[tuple[str, str, dt.date]]
) -> frozenset[str]:
    """``people`` and everyone ``schedule`` has on the ``crews`` ((post, shift template, date) slots):
    who the checker must know to judge a change among ``people`` on those slots."""
    wanted = set(crews)
    on = {a.volunteer for a in schedule.assignments if (a.post, a.shift, a.date) in wanted}
    return frozenset(people) | on


def slice_of(scenario: Scenario, schedule: Schedule, people: Iterable[str]) -> tuple[Scenario, Schedule]:
    """The scenario with only ``people`` of its volunteers (their pins; a resident's primary or backup
    who is not among them left out), and the schedule with only their assignments (its uncovered list
    as it is): compiled, it has every slot of the site but only those people, so checking a change
    among them costs their share of a compile, not the site's. (``scheduler.store.sites.export_slice``
    reads the same slice straight from the site's rows.)

    What the checker says of a change is the same on the slice as on the whole site, provided
    ``people`` holds everyone the change moves and everyone on the slots it touches (:func:`involved`):
    a person's rules read only their own shifts, history, availability and health (and whether they
    are a visit's primary or backup), and a slot's rules (headcount cap, pairs, skills) only who is on
    it. The rest of the site is neither compiled nor checked (a whole-site property, such as the
    objective or the fairness between all volunteers, is not computed from a slice)."""
    keep = set(people)
    residents = [
        r.model_copy(update={
            "primary": r.primary if r.primary in keep else None,
            "backup": r.backup if r.backup in keep else None,
        })
        for r in scenario.residents
    ]
    sliced = scenario.model_copy(
        update={
            "volunteers": [v for v in scenario.volunteers if v.id in keep],
            "pinned": [p for p in scenario.pinned if p.volunteer in keep],
            "residents": residents,
        }
    )
    return sliced, schedule_slice(schedule, keep)


def schedule_slice(schedule: Schedule, people: Iterable[str]) -> Schedule:
    """``schedule`` with only the assignments of ``people`` (its uncovered list as it is)."""
    keep = set(people)
    kept = [a for a in schedule.assignments if a.volunteer in keep]
    return schedule.model_copy(update={"assignments": kept})


# --------------------------------------------------------------------------------------------------
# applying a change and asking the checker


def pairs_of(compiled: Compiled, schedule: Schedule) -> list[Pair]:
    """The schedule's assignments as checker pairs (entries that no longer map are left out)."""
    return assignments_of(compiled, schedule)[0]


def apply_change(pairs: Iterable[Pair], remove: Iterable[Pair], add: Iterable[Pair]) -> list[Pair]:
    gone = set(remove)
    out = [p for p in pairs if p not in gone]
    have = set(out)
    out.extend(p for p in add if p not in have)
    return out


def _key(v: checker.Violation) -> tuple:
    return (v.rule, v.person, v.shifts, v.day)


class _Checker:
    """The checker on one schedule, asked about many small changes: each person's pairs are grouped
    once and each person's violations before any change are computed once."""

    def __init__(self, compiled: Compiled, pairs: Iterable[Pair]):
        self.compiled = compiled
        self.problem = compiled.problem
        self.pairs = list(pairs)
        self.by_person: dict[str, list[Pair]] = {}
        self.by_shift: dict[str, list[str]] = {}
        for pid, sid in self.pairs:
            self.by_person.setdefault(pid, []).append((pid, sid))
            self.by_shift.setdefault(sid, []).append(pid)
        self._before: dict[str, set[tuple]] = {}
        self._shortfalls = {sf.shift: sf for sf in checker.expected_shortfalls(self.problem, self.pairs)}
        self._order = {s.id: i for i, s in enumerate(self.problem.shifts)}
        self._clean: dict[tuple[str, frozenset[Pair]], bool] = {}

    def before(self, person: str) -> set[tuple]:
        known = self._before.get(person)
        if known is None:
            mine = self.by_person.get(person, [])
            known = {_key(v) for v in checker.person_violations(self.problem, mine, person)}
            self._before[person] = known
        return known

    def problems(self, remove: Iterable[Pair], add: Iterable[Pair]) -> list[Breach]:
        """What the change breaks that was not broken before: per-person rules of everyone it touches,
        and the headcount cap, pairs and skills of every slot it touches."""
        remove, add = list(remove), list(add)
        unknown = self._unknown(remove, add)
        if unknown:
            return unknown
        return self._person_problems(remove, add) + self._slot_problems(remove, add)

    def person_problems(self, remove: Iterable[Pair], add: Iterable[Pair]) -> list[Breach]:
        """The per-person part of :meth:`problems`: the rules of everyone the change moves."""
        remove, add = list(remove), list(add)
        return self._unknown(remove, add) or self._person_problems(remove, add)

    def _unknown(self, remove: list[Pair], add: list[Pair]) -> list[Breach]:
        people = {p for p, _ in (*remove, *add)}
        slots = {s for _, s in (*remove, *add)}
        index, known = self.problem.shift_index(), self.problem._person_index()
        unknown = [s for s in sorted(slots) if s not in index] + [p for p in sorted(people) if p not in known]
        return [Breach(UNKNOWN, None, None, f"{what} is not in the schedule's site") for what in unknown]

    def _person_problems(self, remove: list[Pair], add: list[Pair]) -> list[Breach]:
        gone = set(remove)
        out: list[Breach] = []
        for person in sorted({p for p, _ in (*remove, *add)}):
            out += self._new_for(person, self._after(person, gone, add))
        return out

    def _after(self, person: str, gone: set[Pair], add: list[Pair]) -> list[Pair]:
        mine = [p for p in self.by_person.get(person, []) if p not in gone]
        mine += [p for p in add if p[0] == person and p not in mine]
        return mine

    def _new_for(self, person: str, mine: list[Pair]) -> list[Breach]:
        before = self.before(person)
        return [
            Breach(v.rule, v.person, v.shifts[0] if v.shifts else None, v.message)
            for v in checker.person_violations(self.problem, mine, person)
            if _key(v) not in before
        ]

    def clean(self, remove: Iterable[Pair], add: Iterable[Pair], *, slots: bool = True) -> bool:
        """Whether :meth:`problems` (or, without ``slots``, :meth:`person_problems`) is empty, asked
        cheapest first and stopping at the first breach; a person's verdict on one set of shifts is
        remembered (the offerer's side of every give-away of one shift is the same)."""
        remove, add = list(remove), list(add)
        if self._unknown(remove, add) or (slots and self._slot_problems(remove, add)):
            return False
        gone = set(remove)
        for person in sorted({p for p, _ in (*remove, *add)}):
            mine = self._after(person, gone, add)
            key = (person, frozenset(mine))
            verdict = self._clean.get(key)
            if verdict is None:
                verdict = self._clean[key] = not self._new_for(person, mine)
            if not verdict:
                return False
        return True

    def _slot_problems(self, remove: list[Pair], add: list[Pair]) -> list[Breach]:
        out: list[Breach] = []
        gone = set(remove)
        slots = {s for _, s in (*remove, *add)}
        index = self.problem.shift_index()
        on = {s: [p for p in self.by_shift.get(s, []) if (p, s) not in gone] for s in slots}
        for pid, sid in add:
            if pid not in on[sid]:
                on[sid].append(pid)
        before_on = {s: self.by_shift.get(s, []) for s in slots}
        # the slot rules go over every shift of the problem; asked of the touched ones only (in the
        # problem's order), they say the same of them without a pass over the site per change
        ordered = sorted((index[s] for s in slots), key=lambda shift: self._order[shift.id])
        touched = SimpleNamespace(shifts=tuple(ordered))
        for rule in (checker.max_staff, checker.pairs):
            was = {_key(v) for v in rule(touched, before_on)}
            for v in rule(touched, on):
                if _key(v) not in was:
                    out.append(Breach(v.rule, v.person, v.shifts[0] if v.shifts else None, v.message))
        people_ix = self.problem._person_index()
        for sid in sorted(slots):
            shift = self.problem.shift(sid)
            old = self._shortfalls.get(sid)
            for skill, need in sorted(shift.skills.items()):
                have = sum(1 for pid in on[sid] if pid in people_ix and skill in people_ix[pid].skills)
                short, was_short = max(0, need - have), (old.missing_skills.get(skill, 0) if old else 0)
                if short > was_short:
                    out.append(
                        Breach(
                            "skills", None, sid, f"{sid} would be short of {short} people with skill {skill}"
                        )
                    )
        return out

    def load(self, person: str) -> int:
        index = self.problem.shift_index()
        shifts = [index[s] for _, s in self.by_person.get(person, [])]
        return load_per_mille(self.problem, self.problem.person(person), shifts)

    def hours(self, person: str) -> float:
        index = self.problem.shift_index()
        return sum(index[s].minutes for _, s in self.by_person.get(person, [])) / 60


def change_problems(
    compiled: Compiled, schedule: Schedule, remove: Iterable[Pair], add: Iterable[Pair]
) -> list[Breach]:
    """What applying the change (``remove`` these pairs, ``add`` those) to ``schedule`` breaks that was
    not broken before; empty = the change is clean."""
    remove, add = list(remove), list(add)
    pairs = pairs_of(compiled, schedule)
    have = set(pairs)
    missing = [p for p in remove if p not in have]
    if missing:
        return [Breach(NOT_IN_SCHEDULE, p, s, f"{p} is not on {s} in this schedule") for p, s in missing]
    return _Checker(compiled, pairs).problems(remove, add)


# --------------------------------------------------------------------------------------------------
# who could take an offered shift


def _starts_after(shift: Shift, compiled: Compiled, after: dt.datetime | None) -> bool:
    return after is None or utc(compiled.instant(shift.start)) > utc(after)


def takers(
    compiled: Compiled,
    schedule: Schedule,
    volunteer: str,
    shift: str,
    *,
    swap: bool = False,
    after: dt.datetime | None = None,
    only: Iterable[str] | None = None,
) -> list[Taker]:
    """Who could take ``volunteer``'s ``shift`` without breaking a hard rule, least loaded first.

    A give-away: each other volunteer alone. A swap (``swap``): each other volunteer with each of their
    own shifts the offerer would take instead, both sides checked. Only shifts starting after ``after``
    are given back in a swap. ``only`` limits the people asked (an offer made to one person)."""
    pairs = pairs_of(compiled, schedule)
    if (volunteer, shift) not in set(pairs):
        return []
    check = _Checker(compiled, pairs)
    names = {v.id: v.name for v in compiled.scenario.volunteers}
    out = [
        Taker(pid, names.get(pid, pid), check.load(pid), check.hours(pid), gives=gives)
        for pid, gives in _clean_takes(check, volunteer, shift, swap=swap, after=after, only=only)
    ]
    return _least_loaded_first(compiled, out)


def _changes(volunteer: str, shift: str, pid: str, gives: str | None) -> tuple[list[Pair], list[Pair]]:
    if gives is None:
        return [(volunteer, shift)], [(pid, shift)]
    return [(volunteer, shift), (pid, gives)], [(pid, shift), (volunteer, gives)]


def _clean_takes(
    check: _Checker, volunteer: str, shift: str, *, swap: bool, after: dt.datetime | None,
    only: Iterable[str] | None = None,
) -> list[tuple[str, str | None]]:
    """(taker, the shift they give back or None) for every take of ``volunteer``'s ``shift`` the checker
    finds clean, in the problem's order of people."""
    compiled, problem = check.compiled, check.problem
    on_shift = set(check.by_shift.get(shift, []))
    wanted = None if only is None else set(only)
    mine = {s for _, s in check.by_person.get(volunteer, [])}
    out: list[tuple[str, str | None]] = []
    for person in problem.people:
        pid = person.id
        if pid == volunteer or pid in on_shift or (wanted is not None and pid not in wanted):
            continue
        if not swap:
            if check.clean(*_changes(volunteer, shift, pid, None)):
                out.append((pid, None))
            continue
        for _, theirs in check.by_person.get(pid, []):
            if theirs in mine or not _starts_after(problem.shift(theirs), compiled, after):
                continue
            if check.clean(*_changes(volunteer, shift, pid, theirs)):
                out.append((pid, theirs))
    return out


def _least_loaded_first(compiled: Compiled, found: list[Taker]) -> list[Taker]:
    index = compiled.problem.shift_index()
    return sorted(found, key=lambda t: (t.load, t.hours, t.volunteer, index[t.gives].start if t.gives else 0))


def without_access_limits(scenario: Scenario) -> Scenario:
    """The scenario with no volunteer's availability, dated absences, health records or preferences:
    compiled, it has every person and every slot as the whole site's compile has them (rules, skills,
    history, pins, a home visit's guardians), but nobody is kept off a slot by when they are available
    or by their health, so the compile costs a pass over the people plus one over the slots instead of
    people x slots. Only the ``eligibility`` rule reads what is left out (``Person.unavailable``: no
    other hard rule, of a person or of a slot, does), and only the load terms read the capacity that
    availability makes; so a change it finds clean of every other rule is clean on the whole site iff
    it also is for the people it moves, compiled in full (:func:`takers_in_two_steps`)."""
    volunteers = [
        v.model_copy(update={"availability": None, "unavailable": [], "health": [],
                             "preferences": Preferences()})
        for v in scenario.volunteers
    ]
    return scenario.model_copy(update={"volunteers": volunteers})


def takers_in_two_steps(
    open_site: Compiled,
    schedule: Schedule,
    exact: Callable[[set[str]], tuple[Compiled, Schedule]],
    volunteer: str,
    shift: str,
    *,
    swap: bool = False,
    after: dt.datetime | None = None,
) -> list[Taker]:
    """:func:`takers` on the whole site, without compiling the whole site.

    ``open_site`` is the site compiled :func:`without_access_limits`: on it every take (a give-away, or
    a swap for each of the taker's shifts) is checked against every rule but eligibility, for everyone
    at once. ``exact(people)`` compiles the slice of the site with only those people, in full
    (``slice_of``; their own assignments in its schedule): on it the takes left are checked again
    against the rules of the two people they move (eligibility included, and every other per-person
    rule, which says the same there), and their load and hours are read. The list is the one
    :func:`takers` gives on the whole site: same people, same order, same shifts given back
    (tests/scheduler/domain/test_swap_candidates.py)."""
    pairs = pairs_of(open_site, schedule)
    if (volunteer, shift) not in set(pairs):
        return []
    found = _clean_takes(_Checker(open_site, pairs), volunteer, shift, swap=swap, after=after)
    if not found:
        return []
    compiled, part = exact({volunteer} | {pid for pid, _ in found})
    check = _Checker(compiled, pairs_of(compiled, part))
    names = {v.id: v.name for v in compiled.scenario.volunteers}
    out = [
        Taker(pid, names.get(pid, pid), check.load(pid), check.hours(pid), gives=gives)
        for pid, gives in found
        if check.clean(*_changes(volunteer, shift, pid, gives), slots=False)
    ]
    return _least_loaded_first(compiled, out)


# --------------------------------------------------------------------------------------------------
# open shifts


def open_shifts(
    compiled: Compiled, schedule: Schedule, volunteer: str, *, after: dt.datetime | None = None
) -> list[OpenShift]:
    """The uncovered slots of ``schedule`` (starting after ``after``) that ``volunteer`` could work
    without breaking a rule, soonest first. A slot short only of a skill is open to those with it."""
    if volunteer not in {p.id for p in compiled.problem.people}:
        return []
    check = _Checker(compiled, pairs_of(compiled, schedule))
    person = compiled.problem.person(volunteer)
    out: list[OpenShift] = []
    for u in schedule.uncovered:
        sid = shift_id(u.post, u.shift, u.date)
        slot = compiled.slots.get(sid)
        if slot is None or volunteer in check.by_shift.get(sid, []):
            continue
        shift = compiled.problem.shift(sid)
        if not _starts_after(shift, compiled, after):
            continue
        if u.missing <= 0 and not any(skill in person.skills for skill in u.missing_skills):
            continue
        if check.problems([], [(volunteer, sid)]):
            continue
        out.append(
            OpenShift(
                shift=sid,
                post=slot.post,
                template=slot.template,
                date=slot.date,
                start=slot.start,
                end=slot.end,
                hours=slot.hours,
                missing=max(u.missing, 1),
            )
        )
    out.sort(key=lambda o: (utc(o.start), o.shift))
    return out


# --------------------------------------------------------------------------------------------------
# the changed schedule


def _assignment(compiled: Compiled, volunteer: str, sid: str) -> Assignment:
    slot = compiled.slots[sid]
    return Assignment(
        volunteer=volunteer,
        post=slot.post,
        shift=slot.template,
        date=slot.date,
        start=slot.start,
        end=slot.end,
        hours=slot.hours,
        night=slot.night,
        intensity=slot.intensity.value,
    )


def _totals(
    compiled: Compiled, volunteer: str, name: str, sids: list[str], per_week: dict[str, list[float]]
) -> VolunteerTotals:
    return volunteer_totals(compiled, volunteer, name, [compiled.problem.shift(s) for s in sids], per_week)


def changed_schedule(
    compiled: Compiled, schedule: Schedule, remove: Iterable[Pair], add: Iterable[Pair], *, reason: str = ""
) -> Schedule:
    """``schedule`` with the change applied: the assignments, the coverage of the touched slots (a
    slot still short keeps its reason, a newly short one gets ``reason``), the totals of the touched
    volunteers and the objective terms, recomputed. Everything else is as it was."""
    remove, add = list(remove), list(add)
    gone = {
        (p, compiled.slots[s].post, compiled.slots[s].template, compiled.slots[s].date) for p, s in remove
    }
    assignments = [a for a in schedule.assignments if (a.volunteer, a.post, a.shift, a.date) not in gone]
    assignments += [_assignment(compiled, p, s) for p, s in add]
    assignments.sort(key=lambda a: (utc(a.start), a.post, a.volunteer, a.shift))
    new = schedule.model_copy(deep=True, update={"assignments": assignments})
    pairs = pairs_of(compiled, new)

    touched = {s for _, s in (*remove, *add)}
    shortfalls = {sf.shift: sf for sf in checker.expected_shortfalls(compiled.problem, pairs)}
    staffed: dict[str, int] = {}
    for _, sid in pairs:
        staffed[sid] = staffed.get(sid, 0) + 1
    uncovered: list[Uncovered] = []
    seen: set[str] = set()
    for u in new.uncovered:
        sid = shift_id(u.post, u.shift, u.date)
        if sid not in touched:
            uncovered.append(u)
            continue
        seen.add(sid)
        sf = shortfalls.get(sid)
        if sf is not None:
            uncovered.append(
                u.model_copy(
                    update={
                        "assigned": staffed.get(sid, 0),
                        "missing": sf.missing,
                        "missing_skills": dict(sf.missing_skills),
                    }
                )
            )
    for sid in sorted(touched - seen):
        sf = shortfalls.get(sid)
        if sf is None:
            continue
        slot = compiled.slots[sid]
        uncovered.append(
            Uncovered(
                post=slot.post,
                shift=slot.template,
                date=slot.date,
                start=slot.start,
                end=slot.end,
                required=compiled.problem.shift(sid).required,
                assigned=staffed.get(sid, 0),
                missing=sf.missing,
                missing_skills=dict(sf.missing_skills),
                reason=reason,
            )
        )
    uncovered.sort(key=lambda u: (utc(u.start), shift_id(u.post, u.shift, u.date)))
    new.uncovered = uncovered

    people = {p for p, _ in (*remove, *add)}
    by_person: dict[str, list[str]] = {}
    for pid, sid in pairs:
        by_person.setdefault(pid, []).append(sid)
    names = {v.id: v.name for v in compiled.scenario.volunteers}
    horizon = compiled.scenario.horizon
    per_week = weekly_hours(horizon.start, horizon.days, new.assignments)
    new.volunteers = [
        _totals(compiled, t.volunteer, t.name, by_person.get(t.volunteer, []), per_week)
        if t.volunteer in people else t
        for t in new.volunteers
    ]
    listed = {t.volunteer for t in new.volunteers}
    new.volunteers += [
        _totals(compiled, p, names.get(p, p), by_person.get(p, []), per_week) for p in sorted(people - listed)
    ]
    new.weeks = schedule_weeks(compiled, new.assignments, new.uncovered, per_week)
    new.objective_terms = _terms(compiled, pairs)
    new.solver.objective = sum(t.weighted for t in new.objective_terms)
    return new


def _terms(compiled: Compiled, pairs: list[Pair]) -> list[ObjectiveTerm]:
    weights = compiled.problem.weights
    values: Mapping[str, int] = checker.evaluate_terms(compiled.problem, pairs)
    return [
        ObjectiveTerm(
            name=name, value=value, weight=getattr(weights, name), weighted=value * getattr(weights, name)
        )
        for name, value in values.items()
    ]
