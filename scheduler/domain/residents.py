"""Vulnerable residents and their named volunteers: the scenario -> guardian matching -> scenario round
trip, the hand-overs a re-match makes and the register's view of who is at risk.

:func:`guardian_problem` builds the matching's :class:`~solver.guardian_problem.GuardianProblem` from a
scenario: a resident's needs decide the skills (``medical`` for medical care, plus any listed) and the
language; nearness is by building, then zone; a volunteer sick or isolating at any time of the horizon
(from ``since``) may not answer for anyone; the current pairs are the continuity reference. :func:`match`
solves it (:func:`solver.guardians.match`), runs the independent checker
(:func:`solver.guardians_check.check`) on the result and writes the pairs back into a new scenario,
listing every resident whose primary or backup changed and whom to tell.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from scheduler.domain.compile import off_duty
from scheduler.domain.scenario import (
    ALL_WEEKDAYS,
    VISIT_POST_PREFIX,
    AvailabilityWindow,
    Resident,
    Scenario,
    Weekday,
)
from scheduler.domain.schedule import Schedule
from scheduler.domain.visits import is_visit_post
from solver.guardian_greedy import greedy
from solver.guardian_problem import Guardian, GuardianProblem, GuardianSolution, Pair, Ward
from solver.guardians import ineligible
from solver.guardians import match as solve_matching
from solver.guardians_check import GuardianViolation, check, objective, score
from solver.problem import Status, Term


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Notify(_Model):
    """Someone to tell about a hand-over."""

    role: str = Field(description="new_primary, new_backup or kin")
    name: str
    volunteer: str | None = None
    phone: str | None = None
    email: str | None = None


class ResidentChange(_Model):
    """A resident whose primary or backup changed in a re-match."""

    resident: str
    name: str
    old_primary: str | None
    old_backup: str | None
    primary: str | None
    backup: str | None
    reason: str = Field(description="Why the pair changed (e.g. the primary is sick)")
    notify: list[Notify] = Field(default_factory=list)

    @property
    def changed_hands(self) -> bool:
        return self.old_primary != self.primary


@dataclass(frozen=True)
class Matching:
    scenario: Scenario  # with the new pairs
    solution: GuardianSolution
    changes: list[ResidentChange]
    violations: list[GuardianViolation]
    problem: GuardianProblem


def ward_of(resident: Resident) -> Ward:
    return Ward(
        id=resident.id,
        skills=resident.skills,
        language=resident.needs.language,
        building=resident.building,
        zone=resident.zone,
        close_contact=resident.is_close_contact,
        primary=resident.primary,
        backup=resident.backup,
    )


def guardian_problem(scenario: Scenario, since: dt.datetime | None = None) -> GuardianProblem:
    rules = scenario.rules.guardians
    guardians = tuple(
        Guardian(
            id=v.id,
            skills=frozenset(v.skills),
            languages=frozenset(v.languages),
            building=v.building,
            zone=v.zone,
            available=not off_duty(v, scenario, since),
            risk_group=v.risk_group,
        )
        for v in scenario.volunteers
    )
    return GuardianProblem(
        wards=tuple(ward_of(r) for r in scenario.residents),
        guardians=guardians,
        max_primary=rules.max_primary,
        max_backup=rules.max_backup,
        shield_risk_group=rules.shield_risk_group,
        misfit=misfits(scenario),
    )


_DAY = 24 * 60


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def visit_fits(
    windows: list[AvailabilityWindow] | None, weekday: Weekday, start: dt.time, minutes: int
) -> bool:
    """Whether a weekly visit (on ``weekday`` from ``start`` for ``minutes``) lies inside one of a
    volunteer's weekly availability windows (None: available at any time). A window whose end is not
    after its start runs past midnight into the next day."""
    if windows is None:
        return True
    day = ALL_WEEKDAYS.index(weekday)
    begin = _minutes(start)
    for window in windows:
        first, last = _minutes(window.start), _minutes(window.end)
        if last <= first:
            last += _DAY
        for w_day in window.weekdays:
            offset = (day - ALL_WEEKDAYS.index(w_day)) % 7 * _DAY  # the visit's start, from the window's day
            for at in (begin + offset, begin + offset - 7 * _DAY):
                if first <= at and at + minutes <= last:
                    return True
    return False


def misfits(scenario: Scenario) -> dict[tuple[str, str], int]:
    """(resident, volunteer) -> how many of the resident's weekly visits fall outside the volunteer's
    weekly availability; pairs where every visit fits are left out. What the matching's ``visit_fit``
    term weighs, so a guardian is chosen who can make the visits."""
    out: dict[tuple[str, str], int] = {}
    limited = [v for v in scenario.volunteers if v.availability is not None]
    for resident in scenario.residents:
        visits = [(day, visit) for visit in resident.visits for day in visit.weekdays]
        if not visits:
            continue
        for volunteer in limited:
            missed = sum(
                1 for day, visit in visits
                if not visit_fits(volunteer.availability, day, visit.start, visit.minutes)
            )
            if missed:
                out[resident.id, volunteer.id] = missed
    return out


def with_pairs(scenario: Scenario, pairs: tuple[Pair, ...] | list[Pair]) -> Scenario:
    """A copy of ``scenario`` whose residents have ``pairs`` as their primary and backup."""
    by_ward = {p.ward: p for p in pairs}
    residents = [
        r.model_copy(update={"primary": by_ward[r.id].primary, "backup": by_ward[r.id].backup})
        if r.id in by_ward else r
        for r in scenario.residents
    ]
    return scenario.model_copy(update={"residents": residents})


def _reason(problem: GuardianProblem, ward: Ward, guardian_id: str | None, role: str) -> str | None:
    if guardian_id is None:
        return None
    guardian = next((g for g in problem.guardians if g.id == guardian_id), None)
    if guardian is None:
        return f"the {role} is no longer a volunteer of the site"
    why = ineligible(problem, ward, guardian)
    return f"the {role} {why}" if why else None


def hand_overs(
    scenario: Scenario, problem: GuardianProblem, new_pairs: tuple[Pair, ...], before: Scenario | None = None
) -> list[ResidentChange]:
    """Every resident whose pair in ``new_pairs`` differs from the one in ``before`` (default: in
    ``scenario``), with why (by ``problem``, the matching of ``scenario``) and whom to tell."""
    volunteers = {v.id: v for v in scenario.volunteers}
    wards = {w.id: w for w in problem.wards}
    out = []
    for resident in (before or scenario).residents:
        if resident.id not in wards:
            continue
        pair = next((p for p in new_pairs if p.ward == resident.id), None)
        if pair is None or (pair.primary, pair.backup) == (resident.primary, resident.backup):
            continue
        ward = wards[resident.id]
        reason = (
            _reason(problem, ward, resident.primary, "primary")
            or _reason(problem, ward, resident.backup, "backup")
            or ("first match" if resident.primary is None and resident.backup is None else "re-matched")
        )
        notify = []
        for role, vid, old in (("new_primary", pair.primary, resident.primary),
                               ("new_backup", pair.backup, resident.backup)):
            if vid is not None and vid != old and vid in volunteers:
                v = volunteers[vid]
                notify.append(Notify(role=role, name=v.name, volunteer=vid, phone=v.contact.phone,
                                     email=v.contact.email))
        if pair.primary != resident.primary and resident.kin is not None:
            kin = resident.kin
            notify.append(Notify(role="kin", name=kin.name, phone=kin.phone, email=kin.email))
        out.append(ResidentChange(
            resident=resident.id, name=resident.name, old_primary=resident.primary,
            old_backup=resident.backup, primary=pair.primary, backup=pair.backup, reason=reason,
            notify=notify,
        ))
    return out


def match(
    scenario: Scenario,
    *,
    since: dt.datetime | None = None,
    time_limit: float = 5.0,
    workers: int = 1,
    seed: int = 0,
) -> Matching:
    """Match every resident of ``scenario`` to a primary and a distinct backup, keeping the current pairs
    unless they must change. Deterministic for a given scenario (one worker, a fixed seed)."""
    problem = guardian_problem(scenario, since)
    if not problem.wards:
        return Matching(scenario, GuardianSolution(status=Status.OPTIMAL, pairs=()), [], [], problem)
    start = greedy(problem)
    solution = solve_matching(problem, time_limit=time_limit, workers=workers, seed=seed, hint=start)
    if not solution.pairs or objective(problem, start) < objective(problem, solution.pairs):
        solution = _as_solution(problem, start)  # the search had nothing better in time (a loaded machine)
    violations = check(problem, solution.pairs)
    changes = hand_overs(scenario, problem, solution.pairs)
    return Matching(with_pairs(scenario, solution.pairs), solution, changes, violations, problem)


def _as_solution(problem: GuardianProblem, pairs: tuple[Pair, ...]) -> GuardianSolution:
    values = score(problem, pairs)
    terms = tuple(Term(name, values[name], getattr(problem.weights, name)) for name in values)
    return GuardianSolution(status=Status.FEASIBLE, pairs=pairs, objective=objective(problem, pairs),
                            terms=terms)


def current_pairs(scenario: Scenario) -> tuple[Pair, ...]:
    return tuple(Pair(r.id, r.primary, r.backup) for r in scenario.residents)


# --------------------------------------------------------------------------------------------------
# the register's view


class ResidentStatus(_Model):
    """One row of the register: a resident's pair, next visit and what puts them at risk."""

    resident: str
    name: str
    building: str | None = None
    zone: str | None = None
    primary: str | None = None
    primary_name: str | None = None
    backup: str | None = None
    backup_name: str | None = None
    next_visit: dt.datetime | None = None
    next_visitor: str | None = None
    risks: list[str] = Field(default_factory=list, description="Codes: no_primary, no_backup, "
                             "no_eligible_backup, ineligible_guardian, uncovered_visit, guardian_near_limit")

    @property
    def at_risk(self) -> bool:
        return bool(self.risks)


#: A guardian whose hours in the coming 7 days reach this share of their weekly cap is near their limit.
NEAR_LIMIT = 0.9


def visits_of(schedule: Schedule | None) -> list[tuple[str, dt.datetime, str | None]]:
    """(resident id, start, volunteer or None when uncovered) of every home visit of ``schedule``."""
    if schedule is None:
        return []
    out: list[tuple[str, dt.datetime, str | None]] = []
    for a in schedule.assignments:
        if is_visit_post(a.post):
            out.append((a.post.removeprefix(VISIT_POST_PREFIX), a.start, a.volunteer))
    for u in schedule.uncovered:
        if is_visit_post(u.post):
            out.append((u.post.removeprefix(VISIT_POST_PREFIX), u.start, None))
    return out


def _hours_ahead(schedule: Schedule | None, now: dt.datetime, days: int = 7) -> Counter[str]:
    hours: Counter[str] = Counter()
    if schedule is None:
        return hours
    end = now + dt.timedelta(days=days)
    for a in schedule.assignments:
        if a.end > now and a.start < end:
            hours[a.volunteer] += a.hours
    return hours


def register(
    scenario: Scenario, schedule: Schedule | None, now: dt.datetime, *, window_hours: int = 72
) -> list[ResidentStatus]:
    """Every resident with their pair and next visit (by ``schedule``, the published one), at-risk
    residents first.

    Risks: no primary or no backup; no eligible volunteer left to be the backup; a guardian no longer
    eligible (sick, isolating, ...); a visit uncovered within ``window_hours`` of ``now``; a guardian near a
    limit: their hours in the coming 7 days at 90 % of their weekly cap or more, or more residents than
    the site's cap."""
    problem = guardian_problem(scenario, now)
    volunteers = {v.id: v for v in scenario.volunteers}
    rules = scenario.rules.guardians
    as_primary = Counter(r.primary for r in scenario.residents if r.primary)
    as_backup = Counter(r.backup for r in scenario.residents if r.backup)
    hours = _hours_ahead(schedule, now)

    def near_limit(vid: str | None) -> bool:
        v = volunteers.get(vid or "")
        if v is None:
            return False
        cap = min(scenario.rules.max_hours_per_7_days, v.max_hours_per_week or math.inf)
        return (hours[v.id] >= NEAR_LIMIT * cap or as_primary[v.id] > rules.max_primary
                or as_backup[v.id] > rules.max_backup)

    horizon_end = now + dt.timedelta(hours=window_hours)
    by_resident: dict[str, list[tuple[dt.datetime, str | None]]] = {}
    for rid, start, vid in visits_of(schedule):
        by_resident.setdefault(rid, []).append((start, vid))
    out = []
    for resident in scenario.residents:
        ward = ward_of(resident)
        risks = []
        if resident.primary is None:
            risks.append("no_primary")
        if resident.backup is None:
            risks.append("no_backup")
        eligible = {g.id for g in problem.guardians if ineligible(problem, ward, g) is None}
        if not eligible - {resident.primary}:
            risks.append("no_eligible_backup")
        if any(g is not None and g not in eligible for g in (resident.primary, resident.backup)):
            risks.append("ineligible_guardian")
        upcoming = sorted(((s, v) for s, v in by_resident.get(resident.id, []) if s >= now),
                          key=lambda sv: sv[0])
        if any(v is None and s < horizon_end for s, v in upcoming):
            risks.append("uncovered_visit")
        if near_limit(resident.primary) or near_limit(resident.backup):
            risks.append("guardian_near_limit")
        nxt = upcoming[0] if upcoming else None
        out.append(ResidentStatus(
            resident=resident.id, name=resident.name, building=resident.building, zone=resident.zone,
            primary=resident.primary, primary_name=volunteers[resident.primary].name if resident.primary
            in volunteers else None,
            backup=resident.backup, backup_name=volunteers[resident.backup].name if resident.backup
            in volunteers else None,
            next_visit=nxt[0] if nxt else None, next_visitor=nxt[1] if nxt else None, risks=risks,
        ))
    severe = ("no_primary", "uncovered_visit", "ineligible_guardian", "no_backup", "no_eligible_backup")
    out.sort(key=lambda s: (not s.at_risk, -sum(r in severe for r in s.risks), s.resident))
    return out


# --------------------------------------------------------------------------------------------------
# after a disruption


def rematch(scenario: Scenario, touched: set[str], since: dt.datetime | None) -> Scenario:
    """After a disruption: the residents whose guardian among ``touched`` may no longer answer for them
    (sick or isolating from ``since``) are re-matched, so the backup takes over as primary and a new
    backup is found, while every other pair is kept as it is. Unchanged if no guardian is concerned.

    Only the residents concerned are matched, against the volunteers with room left under both caps
    beside the pairs that stay (each taking at most one of them in each role): a small model, solved to
    optimality at once, so the same disruption gives the same pairs whenever it is applied (the re-solve
    job applies it when queued and again in the worker)."""
    guardians = {g for r in scenario.residents for g in (r.primary, r.backup) if g}
    if not guardians & touched:
        return scenario
    problem = guardian_problem(scenario, since)
    affected = {
        r.id for r in scenario.residents
        if any(_reason(problem, ward_of(r), g, "g") for g in (r.primary, r.backup) if g in touched)
    }
    if not affected:
        return scenario
    kept = [r for r in scenario.residents if r.id not in affected]
    as_primary = Counter(r.primary for r in kept if r.primary)
    as_backup = Counter(r.backup for r in kept if r.backup)
    room = tuple(
        g for g in problem.guardians
        if as_primary[g.id] < problem.max_primary and as_backup[g.id] < problem.max_backup
    )
    sub = GuardianProblem(
        wards=tuple(w for w in problem.wards if w.id in affected), guardians=room,
        max_primary=min(1, problem.max_primary), max_backup=min(1, problem.max_backup),
        shield_risk_group=problem.shield_risk_group, weights=problem.weights,
    )
    start = greedy(sub)
    solution = solve_matching(sub, time_limit=10.0, workers=1, seed=0, hint=start)
    if not solution.pairs or objective(sub, start) < objective(sub, solution.pairs):
        solution = _as_solution(sub, start)
    return with_pairs(scenario, solution.pairs)


def changed_residents(old: Scenario, new: Scenario, since: dt.datetime | None) -> list[ResidentChange]:
    """The residents whose pair differs between ``old`` and ``new``, why, and whom to tell."""
    return hand_overs(new, guardian_problem(new, since), current_pairs(new), before=old)
