"""From a solver :class:`~solver.problem.Solution` to the schedule file, and back; the CLI summary.

* :func:`build_schedule` turns a solution of a compiled scenario into a :class:`Schedule` (site-local
  ISO times, the uncovered slots with the reason they could not be filled, per-volunteer totals, the
  objective by term and the solver's own report).
* :func:`assignments_of` / :func:`uncovered_of` map a schedule file back onto the compiled problem's
  ``(person, shift id)`` pairs and :class:`Shortfall` s, listing whatever does not map.
* :func:`summary_text` is the readable end-of-solve summary.

Nothing here imports OR-Tools: ``scheduler.domain.check`` relies on that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from scheduler.domain import forecast
from scheduler.domain.compile import Compiled, shift_id
from scheduler.domain.schedule import (
    Assignment,
    ObjectiveTerm,
    Schedule,
    SolverReport,
    Uncovered,
    VolunteerTotals,
    WeekForecast,
)
from scheduler.domain.visits import all_posts
from solver.explain import explain_shortfalls
from solver.problem import Intensity, Person, Problem, Shift, Shortfall, Solution
from solver.validate import load as _load

#: In the summary, the volunteer table shows the ``TOP`` heaviest and ``BOTTOM`` lightest loads when
#: there are more than ``TOP + BOTTOM`` volunteers; the uncovered list shows the first ``UNCOVERED``.
SUMMARY_TOP = 15
SUMMARY_BOTTOM = 5
SUMMARY_UNCOVERED = 20


def load_per_mille(problem: Problem, person: Person, shifts: Iterable[Shift]) -> int:
    """The person's intensity-weighted load, history included, in the problem's load measure (tenths
    of hours, or per mille of their capacity): the very function ``solver.validate`` (and through
    ``solver.load`` the model) uses for the load terms, so the file and the objective agree to the
    unit; 0 outside the balance (capacity 0 in the capacity measure)."""
    return _load(problem, person, shifts)


def build_schedule(
    compiled: Compiled,
    solution: Solution,
    *,
    time_limit: float | None = None,
    workers: int | None = None,
    seed: int | None = None,
) -> Schedule:
    """The schedule file for ``solution`` of ``compiled``."""
    problem = compiled.problem
    scenario = compiled.scenario
    slots = compiled.slots
    unknown = sorted({sid for _, sid in solution.assignments if sid not in slots})
    unknown_people = sorted({pid for pid, _ in solution.assignments} - {p.id for p in problem.people})
    if unknown or unknown_people:
        raise ValueError(f"solution names unknown shifts {unknown} or people {unknown_people}")

    pairs = sorted(
        set(solution.assignments), key=lambda a: (problem.shift(a[1]).start, slots[a[1]].post, a[0], a[1])
    )
    assignments = []
    for pid, sid in pairs:
        slot = slots[sid]
        assignments.append(Assignment(
            volunteer=pid, post=slot.post, shift=slot.template, date=slot.date, start=slot.start,
            end=slot.end, hours=slot.hours, night=slot.night, intensity=slot.intensity.value,
        ))

    staffed: dict[str, int] = {}
    for _, sid in pairs:
        staffed[sid] = staffed.get(sid, 0) + 1
    shortfalls = sorted(solution.uncovered, key=lambda sf: (problem.shift(sf.shift).start, sf.shift))
    explanations = explain_shortfalls(problem, solution.assignments, shortfalls)
    uncovered = []
    for shortfall, why in zip(shortfalls, explanations, strict=True):
        slot = slots[shortfall.shift]
        uncovered.append(Uncovered(
            post=slot.post, shift=slot.template, date=slot.date, start=slot.start, end=slot.end,
            required=problem.shift(shortfall.shift).required, assigned=staffed.get(shortfall.shift, 0),
            missing=shortfall.missing, missing_skills=dict(shortfall.missing_skills),
            reason=why.reason, blocked_by=dict(why.blocked_by), detail=why.detail,
        ))

    per_week = forecast.weekly_hours(scenario.horizon.start, scenario.horizon.days, assignments)
    by_person: dict[str, list[Shift]] = {}
    for pid, sid in pairs:
        by_person.setdefault(pid, []).append(problem.shift(sid))
    totals = [
        volunteer_totals(compiled, volunteer.id, volunteer.name, by_person.get(volunteer.id, []), per_week)
        for volunteer in scenario.volunteers
    ]
    weeks = schedule_weeks(compiled, assignments, uncovered, per_week)

    report = SolverReport(
        status=solution.status.value,
        objective=solution.objective,
        best_bound=solution.best_bound,
        gap=solution.gap,
        wall_time=solution.wall_time,
        first_solution_time=solution.first_solution_time,
        time_limit=time_limit,
        workers=workers,
        seed=seed,
    )
    return Schedule(
        site=scenario.site.name,
        timezone=scenario.site.timezone,
        start=scenario.horizon.start,
        days=scenario.horizon.days,
        status=solution.status.value,
        solver=report,
        assignments=assignments,
        uncovered=uncovered,
        volunteers=totals,
        load_measure=problem.load_measure.value,
        objective_terms=[
            ObjectiveTerm(name=t.name, value=t.value, weight=t.weight, weighted=t.weighted)
            for t in solution.terms
        ],
        weeks=weeks,
    )


def volunteer_totals(
    compiled: Compiled, volunteer: str, name: str, shifts: list[Shift], per_week: dict[str, list[float]]
) -> VolunteerTotals:
    """One volunteer's totals for their ``shifts``; ``per_week``: everyone's weekly hours
    (:func:`scheduler.domain.forecast.weekly_hours`)."""
    problem = compiled.problem
    weeks = (compiled.scenario.horizon.days + forecast.WEEK_DAYS - 1) // forecast.WEEK_DAYS
    return VolunteerTotals(
        volunteer=volunteer,
        name=name,
        shifts=len(shifts),
        hours=sum(s.minutes for s in shifts) / 60,
        nights=sum(1 for s in shifts if s.night),
        heavy_shifts=sum(1 for s in shifts if s.intensity == Intensity.HEAVY),
        weekend_shifts=sum(1 for s in shifts if problem.is_weekend(s.day)),
        load=load_per_mille(problem, problem.person(volunteer), shifts),
        weekly_hours=per_week.get(volunteer, [0.0] * weeks),
    )


def schedule_weeks(
    compiled: Compiled,
    assignments: list[Assignment],
    uncovered: list[Uncovered],
    per_week: dict[str, list[float]] | None = None,
) -> list[WeekForecast]:
    """The schedule's week-by-week view, with each volunteer's 7-day cap from the compiled rules;
    ``per_week``: everyone's weekly hours when the caller has worked them out already."""
    caps = {
        p.id: None if p.rules.max_minutes_per_7_days is None else p.rules.max_minutes_per_7_days / 60
        for p in compiled.problem.people
    }
    horizon = compiled.scenario.horizon
    everyone = [v.id for v in compiled.scenario.volunteers]
    return forecast.weekly(
        horizon.start, horizon.days, assignments, uncovered, everyone, caps, hours=per_week
    )


# --------------------------------------------------------------------------------------------------
# schedule -> problem


def _slot_problem(compiled: Compiled, post: str, template: str, date: dt.date) -> str | None:
    """Why (post, template, date) is not a slot of ``compiled``, or None if it is one."""
    scenario = compiled.scenario
    posts = {p.id: p for p in all_posts(scenario)}
    if post not in posts:
        return f"no post {post!r}"
    if template not in {s.id for s in posts[post].shifts}:
        return f"post {post!r} has no shift {template!r}"
    if not scenario.horizon.start <= date < scenario.horizon.end:
        return f"{date} is outside the horizon {scenario.horizon.start}..{scenario.horizon.end}"
    if shift_id(post, template, date) not in compiled.slots:
        return f"shift {template!r} at post {post!r} does not run on {date}"
    return None


def assignment_problem(compiled: Compiled, a: Assignment) -> str | None:
    """Why assignment ``a`` does not map onto ``compiled`` (without its position), or None."""
    if a.volunteer not in {p.id for p in compiled.problem.people}:
        return f"no volunteer {a.volunteer!r}"
    return _slot_problem(compiled, a.post, a.shift, a.date)


def uncovered_problem(compiled: Compiled, u: Uncovered) -> str | None:
    """Why uncovered entry ``u`` names no slot of ``compiled``, or None."""
    return _slot_problem(compiled, u.post, u.shift, u.date)


def assignments_of(compiled: Compiled, schedule: Schedule) -> tuple[list[tuple[str, str]], list[str]]:
    """The schedule's assignments as ``(person, shift id)`` pairs, and a problem string for each entry
    that does not map onto the compiled scenario (unknown volunteer, post, template or date)."""
    pairs: list[tuple[str, str]] = []
    problems: list[str] = []
    people = {p.id for p in compiled.problem.people}
    for i, a in enumerate(schedule.assignments):
        sid = shift_id(a.post, a.shift, a.date)
        if a.volunteer in people and sid in compiled.slots:  # a slot exists only for a known post and date
            pairs.append((a.volunteer, sid))
            continue
        why = assignment_problem(compiled, a)
        if why is not None:
            problems.append(f"assignments[{i}] ({a.volunteer} on {a.post}/{a.shift} {a.date}): {why}")
        else:
            pairs.append((a.volunteer, shift_id(a.post, a.shift, a.date)))
    return pairs, problems


def uncovered_of(compiled: Compiled, schedule: Schedule) -> tuple[list[Shortfall], list[str]]:
    """The schedule's uncovered entries as solver :class:`Shortfall` s, and a problem string for each
    entry that names no slot of the compiled scenario."""
    out: list[Shortfall] = []
    problems: list[str] = []
    for i, u in enumerate(schedule.uncovered):
        why = uncovered_problem(compiled, u)
        if why is not None:
            problems.append(f"uncovered[{i}] ({u.post}/{u.shift} {u.date}): {why}")
        else:
            out.append(Shortfall(shift_id(u.post, u.shift, u.date), u.missing, dict(u.missing_skills)))
    return out, problems


# --------------------------------------------------------------------------------------------------
# the summary


def _hm(value: dt.datetime) -> str:
    return value.strftime("%H:%M")


def _number(value: float | None, fmt: str = "{:,.0f}") -> str:
    return "-" if value is None else fmt.format(value)


def summary_text(schedule: Schedule) -> str:
    """The readable end-of-solve summary: status, coverage, uncovered slots, loads, objective terms.

    Coverage is read from the schedule alone: a slot that is not reported uncovered is taken to be
    staffed to exactly its headcount (compiled slots cap headcount at the requirement)."""
    s = schedule.solver
    lines = [f"{schedule.site} ({schedule.timezone}): {schedule.start} + {schedule.days} days"]
    gap = "-" if s.gap is None else f"{100 * s.gap:.2f}%"
    timing = f"{s.wall_time:.1f} s"
    if s.first_solution_time is not None:
        timing += f" (first schedule after {s.first_solution_time:.1f} s)"
    lines.append(
        f"Status: {schedule.status}   objective {_number(s.objective)}   bound {_number(s.best_bound)}   "
        f"gap {gap}   time {timing}"
    )

    # coverage
    assigned: dict[tuple[str, str, dt.date], int] = {}
    for a in schedule.assignments:
        key = (a.post, a.shift, a.date)
        assigned[key] = assigned.get(key, 0) + 1
    short = {(u.post, u.shift, u.date): u for u in schedule.uncovered}
    slots = set(assigned) | set(short)
    needed = sum(u.required for u in short.values()) + sum(n for k, n in assigned.items() if k not in short)
    missing = sum(u.missing for u in short.values())
    lines.append(
        f"Coverage: {len(slots) - len(short)}/{len(slots)} slots fully staffed, "
        f"{needed - missing}/{needed} people-shifts filled"
    )

    # uncovered
    if schedule.uncovered:
        lines.append("")
        lines.append(f"Uncovered slots ({len(schedule.uncovered)}):")
        for u in schedule.uncovered[:SUMMARY_UNCOVERED]:
            skills = ", ".join(f"{k} {v}" for k, v in sorted(u.missing_skills.items()))
            what = f"missing {u.missing}" + (f" (skills: {skills})" if skills else "")
            reason = f": {u.reason}" if u.reason else ""
            lines.append(
                f"  {u.date} {_hm(u.start)}-{_hm(u.end)}  {u.post}/{u.shift}  "
                f"{u.assigned}/{u.required} staffed, {what}{reason}"
            )
        if len(schedule.uncovered) > SUMMARY_UNCOVERED:
            lines.append(f"  ... and {len(schedule.uncovered) - SUMMARY_UNCOVERED} more")

    # volunteers
    if schedule.volunteers:
        lines.append("")
        ranked = sorted(schedule.volunteers, key=lambda v: (-v.load, v.volunteer))
        unit = "per mille of capacity" if schedule.load_measure == "capacity" else "tenths of weighted hours"
        lines.append(f"Volunteers ({len(ranked)}), by load ({unit}):")
        width = max(9, *(len(v.volunteer) for v in ranked))
        header = f"  {'volunteer':<{width}}  {'shifts':>6}  {'hours':>7}  {'nights':>6}  {'heavy':>5}  " \
                 f"{'weekend':>7}  {'load':>5}"
        lines.append(header)

        def row(v: VolunteerTotals) -> str:
            return (
                f"  {v.volunteer:<{width}}  {v.shifts:>6}  {v.hours:>7.1f}  {v.nights:>6}  "
                f"{v.heavy_shifts:>5}  {v.weekend_shifts:>7}  {v.load:>5}"
            )

        if len(ranked) > SUMMARY_TOP + SUMMARY_BOTTOM:
            lines.extend(row(v) for v in ranked[:SUMMARY_TOP])
            lines.append(f"  ... {len(ranked) - SUMMARY_TOP - SUMMARY_BOTTOM} more")
            lines.extend(row(v) for v in ranked[-SUMMARY_BOTTOM:])
        else:
            lines.extend(row(v) for v in ranked)

    # weeks (a long horizon: the first weeks to publish, then the forecast)
    if len(schedule.weeks) > 1:
        lines.append("")
        lines.append("Weeks (after the first weeks to publish, a forecast):")
        lines.append(f"  {'week':>4}  {'from':<10}  {'':<8}  {'short':>5}  {'skilled':>7}  {'busiest h':>9}  "
                     f"{'mean h':>6}  {'at cap':>6}")
        for w in schedule.weeks:
            lines.append(
                f"  {w.week:>4}  {w.start.isoformat():<10}  {'forecast' if w.forecast else 'publish':<8}  "
                f"{w.people_short:>5}  {w.skilled_short:>7}  {w.busiest_hours:>9.1f}  {w.mean_hours:>6.1f}  "
                f"{len(w.at_cap):>6}"
            )

    # objective
    if schedule.objective_terms:
        lines.append("")
        lines.append("Objective by term:")
        width = max(len(t.name) for t in schedule.objective_terms)
        for t in schedule.objective_terms:
            lines.append(f"  {t.name:<{width}}  {t.value:>10,} x {t.weight:>7,} = {t.weighted:>12,}")
        total = sum(t.weighted for t in schedule.objective_terms)
        lines.append(f"  {'total':<{width}}  {'':>10}   {'':>7}   {total:>12,}")
    return "\n".join(lines) + "\n"
