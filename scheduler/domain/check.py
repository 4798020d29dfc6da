"""``rota check``: verify a schedule file against its scenario, without the solver.

Nothing on this module's import path imports OR-Tools, so checking is cheap and independent of the
engine that produced the schedule. The checks:

1. the schedule's header matches the scenario (``mismatch``), and a solve that found no plan at all
   (infeasible, no solution, cancelled; nothing assigned or reported) is one ``no_schedule``;
2. every assignment and uncovered entry names a real slot (``unknown_slot``) and every assignment
   carries that slot's exact start and end instants and length (``wrong_times``);
3. ``solver.validate`` on the compiled problem: every hard rule, and that the uncovered list is the
   honest coverage report (rules named as there, e.g. ``min_rest``, ``uncovered_report``);
4. a second, independent line of defence against compile bugs: health records (``health``) and dated
   absences (``unavailable``) are re-read straight from the scenario and tested against each
   assignment's own start/end instants, with code that shares nothing with ``scheduler.domain.compile``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from scheduler.domain.compile import Compiled, compile_scenario, shift_id
from scheduler.domain.report import assignment_problem, assignments_of, uncovered_of, uncovered_problem
from scheduler.domain.scenario import HealthStatus, NightDefinition, Scenario, Volunteer
from scheduler.domain.schedule import Assignment, Schedule
from scheduler.domain.visits import all_posts, guardians_by_post
from solver import validate as solver_validate


@dataclass(frozen=True, order=True)
class Violation:
    """One problem with a schedule, in the scenario's terms."""

    rule: str
    volunteer: str | None
    post: str | None
    date: dt.date | None
    message: str


_WITH_PLAN = ("optimal", "feasible")


def _sort_key(v: Violation) -> tuple:
    return (v.date or dt.date.min, v.volunteer or "", v.post or "", v.rule, v.message)


def validate(scenario: Scenario, schedule: Schedule, *, compiled: Compiled | None = None) -> list[Violation]:
    """Every problem of ``schedule`` as a plan for ``scenario``, sorted by date, volunteer, post, rule.
    ``compiled``: ``compile_scenario(scenario)`` when the caller has it already (checking several
    schedules of one scenario compiles it once).

    Raises :class:`scheduler.domain.compile.ScenarioError` if the scenario itself cannot be compiled."""
    if compiled is None:
        compiled = compile_scenario(scenario)
    out: list[Violation] = []
    out.extend(_header(scenario, schedule))
    if schedule.status not in _WITH_PLAN and not schedule.assignments and not schedule.uncovered:
        out.append(Violation("no_schedule", None, None, None, f"the solve ended {schedule.status}: no plan"))
        return sorted(out, key=_sort_key)

    for i, a in enumerate(schedule.assignments):
        why = assignment_problem(compiled, a)
        if why is not None:
            out.append(Violation(
                "unknown_slot", a.volunteer, a.post, a.date,
                f"assignments[{i}] ({a.volunteer} on {a.post}/{a.shift} {a.date}): {why}",
            ))
    for i, u in enumerate(schedule.uncovered):
        why = uncovered_problem(compiled, u)
        if why is not None:
            out.append(Violation(
                "unknown_slot", None, u.post, u.date, f"uncovered[{i}] ({u.post}/{u.shift} {u.date}): {why}"
            ))
    pairs, _ = assignments_of(compiled, schedule)
    shortfalls, _ = uncovered_of(compiled, schedule)

    out.extend(_wrong_times(compiled, schedule))
    for v in solver_validate.validate(compiled.problem, pairs, uncovered=shortfalls):
        out.append(_from_solver(compiled, v))

    volunteers = {v.id: v for v in scenario.volunteers}
    for a in schedule.assignments:
        volunteer = volunteers.get(a.volunteer)
        if volunteer is not None:
            out.extend(_health(scenario, volunteer, a))
            out.extend(_absences(scenario, volunteer, a))
    out.extend(_guardians(scenario, schedule))
    if schedule.cutoff is not None:
        # a re-solve: what started before its cut-off was worked (or is under way) as it was planned,
        # whatever health record or absence has been recorded since
        past = {(a.volunteer, a.post, a.date) for a in schedule.assignments if a.start < schedule.cutoff}
        exempt = ("health", "unavailable", "eligibility", "guardian")
        out = [v for v in out if not (v.rule in exempt and (v.volunteer, v.post, v.date) in past)]
    return sorted(out, key=_sort_key)


def _guardians(scenario: Scenario, schedule: Schedule) -> list[Violation]:
    """A home visit is made by the resident's primary or backup, re-read from the residents (``guardian``)."""
    pairs = guardians_by_post(scenario)
    out = []
    for a in schedule.assignments:
        pair = pairs.get(a.post)
        if pair is not None and a.volunteer not in pair:
            out.append(Violation(
                "guardian", a.volunteer, a.post, a.date,
                f"{a.volunteer} makes the visit {a.post}/{a.shift} {a.date} but is neither the resident's "
                "primary nor backup",
            ))
    return out


def _header(scenario: Scenario, schedule: Schedule) -> list[Violation]:
    out = []
    for what, mine, theirs in (
        ("timezone", schedule.timezone, scenario.site.timezone),
        ("start", schedule.start, scenario.horizon.start),
        ("days", schedule.days, scenario.horizon.days),
    ):
        if mine != theirs:
            out.append(Violation(
                "mismatch", None, None, None, f"schedule {what} is {mine}, the scenario's is {theirs}"
            ))
    return out


def _utc(value: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(dt.UTC)


def _wrong_times(compiled: Compiled, schedule: Schedule) -> list[Violation]:
    out = []
    zone = compiled.zone
    for a in schedule.assignments:
        slot = compiled.slots.get(shift_id(a.post, a.shift, a.date))
        if slot is None:
            continue
        wrong = []
        if _utc(a.start, zone) != _utc(slot.start, zone):
            wrong.append(f"start {a.start.isoformat()} (should be {slot.start.isoformat()})")
        if _utc(a.end, zone) != _utc(slot.end, zone):
            wrong.append(f"end {a.end.isoformat()} (should be {slot.end.isoformat()})")
        if abs(a.hours - slot.hours) > 1e-6:
            wrong.append(f"hours {a.hours:g} (should be {slot.hours:g})")
        if wrong:
            out.append(Violation(
                "wrong_times", a.volunteer, a.post, a.date,
                f"{a.volunteer} on {slot.shift_id}: " + ", ".join(wrong),
            ))
    return out


def _from_solver(compiled: Compiled, v: solver_validate.Violation) -> Violation:
    post = date = None
    for sid in v.shifts:
        slot = compiled.slots.get(sid)
        if slot is not None:
            post, date = slot.post, slot.date
            break
    if date is None and v.day is not None:
        date = compiled.local_date(v.day)
    return Violation(v.rule, v.person, post, date, v.message)


# --------------------------------------------------------------------------------------------------
# independent re-check of health and absences (shares no code with scheduler.domain.compile on purpose)


def _opening(value: dt.date | dt.datetime | None, zone: ZoneInfo) -> dt.datetime | None:
    """A ``from`` as a UTC instant; None = since the beginning of time."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return _utc(value, zone)
    return dt.datetime(value.year, value.month, value.day, tzinfo=zone).astimezone(dt.UTC)


def _closing(value: dt.date | dt.datetime | None, zone: ZoneInfo) -> dt.datetime | None:
    """An ``until`` as an exclusive UTC instant; a date is inclusive; None = open-ended."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return _utc(value, zone)
    return _opening(value + dt.timedelta(days=1), zone)


def _overlaps(start: dt.datetime, end: dt.datetime, since: dt.datetime | None,
              until: dt.datetime | None) -> bool:
    return (since is None or since < end) and (until is None or until > start)


def _night_hours(start: dt.datetime, end: dt.datetime, night: NightDefinition, zone: ZoneInfo) -> float:
    local_day = start.astimezone(zone).date() - dt.timedelta(days=1)
    last_day = end.astimezone(zone).date()
    seconds = 0.0
    while local_day <= last_day:
        ws = dt.datetime.combine(local_day, night.start, tzinfo=zone).astimezone(dt.UTC)
        end_day = local_day + dt.timedelta(days=1) if night.end <= night.start else local_day
        we = dt.datetime.combine(end_day, night.end, tzinfo=zone).astimezone(dt.UTC)
        seconds += max(0.0, (min(end, we) - max(start, ws)).total_seconds())
        local_day += dt.timedelta(days=1)
    return seconds / 3600


def _light_day(scenario: Scenario, a: Assignment, start: dt.datetime, end: dt.datetime) -> bool:
    """Whether the assignment is a light day post (what limited duty allows), from the raw scenario."""
    intensity = a.intensity
    for post in all_posts(scenario):
        if post.id == a.post:
            intensity = post.intensity.value
            for template in post.shifts:
                if template.id == a.shift and template.intensity is not None:
                    intensity = template.intensity.value
    rules = scenario.rules.night
    night = _night_hours(start, end, rules, scenario.site.zone) >= rules.min_hours
    return intensity == "light" and not night and not a.night


def _health(scenario: Scenario, volunteer: Volunteer, a: Assignment) -> list[Violation]:
    zone = scenario.site.zone
    start, end = _utc(a.start, zone), _utc(a.end, zone)
    if end <= start or not volunteer.health:
        return []
    records = []
    for index, r in enumerate(volunteer.health):
        since, until = _opening(r.start, zone), _closing(r.until, zone)
        if _overlaps(start, end, since, until):
            records.append((since, until, index, r))
    # cut [start, end) at every record boundary inside it; in each piece the covering record with the
    # latest ``from`` (ties: the later record) is the effective one
    cuts = sorted({start, end} | {t for s, u, _, _ in records for t in (s, u) if t and start < t < end})
    hard = limited = None
    for piece_start, piece_end in zip(cuts, cuts[1:], strict=False):
        covering = [
            (s, i, r) for s, u, i, r in records
            if (s is None or s <= piece_start) and (u is None or u >= piece_end)
        ]
        if not covering:
            continue
        _, _, record = max(covering, key=lambda c: (c[0] or dt.datetime.min.replace(tzinfo=dt.UTC), c[1]))
        if record.status in (HealthStatus.sick, HealthStatus.isolating):
            hard = hard or record
        elif record.status in (HealthStatus.limited, HealthStatus.recovering):
            limited = limited or record
    where = f"{a.volunteer} on {a.post}/{a.shift} {a.date}"
    if hard is not None:
        return [Violation("health", a.volunteer, a.post, a.date,
                          f"{where}: {hard.status.value} ({_record_text(hard)})")]
    if limited is not None and not _light_day(scenario, a, start, end):
        return [Violation("health", a.volunteer, a.post, a.date,
                          f"{where}: {limited.status.value}, light day posts only ({_record_text(limited)})")]
    return []


def _record_text(record) -> str:
    parts = [record.status.value if hasattr(record, "status") else "unavailable"]
    if record.start is not None:
        parts.append(f"from {record.start.isoformat()}")
    if record.until is not None:
        parts.append(f"until {record.until.isoformat()}")
    return " ".join(parts)


def _absences(scenario: Scenario, volunteer: Volunteer, a: Assignment) -> list[Violation]:
    zone = scenario.site.zone
    start, end = _utc(a.start, zone), _utc(a.end, zone)
    out = []
    for period in volunteer.unavailable:
        if _overlaps(start, end, _opening(period.start, zone), _closing(period.until, zone)):
            reason = f": {period.reason.value}" if period.reason else ""
            out.append(Violation(
                "unavailable", a.volunteer, a.post, a.date,
                f"{a.volunteer} on {a.post}/{a.shift} {a.date}: {_record_text(period)}{reason}",
            ))
    return out
